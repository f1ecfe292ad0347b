//! Repositories, events, artifacts, interactions and logs in SQL.

use super::error::PgResultExt;
use super::jobs;
use super::rows::{self, *};
use crate::body::StoredBody;
use crate::codec::*;
use kova_core::*;
use sqlx::postgres::PgRow;
use sqlx::PgPool;

/// A filter value for a dynamic list query.
pub(super) enum Val {
    Text(String),
    Int(i64),
}

/// A newest-first page of `table` whose rows match the `(column, value)` equalities, resuming
/// below the cursor. Each filter column has an index on `(column, id)`, so this is a backward
/// index range scan whatever the table's size.
pub(super) async fn page_desc<T>(
    pool: &PgPool,
    table: &str,
    cols: &str,
    filters: Vec<(&str, Val)>,
    opts: &ListOptions,
    f: impl Fn(&PgRow) -> Result<T>,
    id_of: impl Fn(&T) -> i64,
) -> Result<Page<T>> {
    let limit = opts.effective_limit();
    let below = opts.id_cursor()?.unwrap_or(i64::MAX);
    let sql = list_sql(table, cols, &filters);
    let mut q = sqlx::query(&sql).bind(below);
    for (_, v) in filters {
        q = match v {
            Val::Text(s) => q.bind(s),
            Val::Int(i) => q.bind(i),
        };
    }
    let rows = q.bind(limit as i64 + 1).fetch_all(pool).await.db()?;
    let items = rows.iter().map(f).collect::<Result<Vec<T>>>()?;
    Ok(Page::from_overfetch(items, limit, |t| {
        Page::<()>::id_cursor(id_of(t))
    }))
}

/// The SQL of a list query (also used by the EXPLAIN test).
pub(crate) fn list_sql(table: &str, cols: &str, filters: &[(&str, Val)]) -> String {
    let mut sql = format!("SELECT {cols} FROM {table} WHERE id < $1");
    for (i, (col, _)) in filters.iter().enumerate() {
        sql.push_str(&format!(" AND {col} = ${}", i + 2));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", filters.len() + 2));
    sql
}

fn text(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

pub(super) async fn upsert_repository(pool: &PgPool, r: &Repository) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO repositories ({REPO_COLS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (full_name) DO UPDATE SET
             description = excluded.description, default_branch = excluded.default_branch,
             kind = excluded.kind, enabled = excluded.enabled,
             sync_priority = excluded.sync_priority, features = excluded.features,
             topics = excluded.topics, language = excluded.language, status = excluded.status,
             last_synced_at = excluded.last_synced_at, head_sha = excluded.head_sha,
             etag = excluded.etag, updated_at = excluded.updated_at"
    ))
    .bind(r.repo.full_name())
    .bind(&r.description)
    .bind(&r.default_branch)
    .bind(r.kind.as_str())
    .bind(r.enabled)
    .bind(i64::from(r.sync_priority))
    .bind(to_json(&r.features)?)
    .bind(to_json(&r.topics)?)
    .bind(&r.language)
    .bind(r.status.as_str())
    .bind(r.last_synced_at)
    .bind(&r.head_sha)
    .bind(&r.etag)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(pool)
    .await
    .db()?;
    Ok(())
}

pub(super) async fn get_repository(pool: &PgPool, repo: &RepoRef) -> Result<Option<Repository>> {
    sqlx::query(&format!(
        "SELECT {REPO_COLS} FROM repositories WHERE full_name = $1"
    ))
    .bind(repo.full_name())
    .fetch_optional(pool)
    .await
    .db()?
    .as_ref()
    .map(rows::repository)
    .transpose()
}

pub(super) async fn list_repositories(
    pool: &PgPool,
    opts: &ListOptions,
) -> Result<Page<Repository>> {
    let limit = opts.effective_limit();
    let after = opts.key_cursor()?.unwrap_or_default();
    let rows = sqlx::query(&format!(
        "SELECT {REPO_COLS} FROM repositories WHERE full_name > $1 ORDER BY full_name LIMIT $2"
    ))
    .bind(after)
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await
    .db()?;
    let items = rows
        .iter()
        .map(rows::repository)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |r| {
        Page::<()>::key_cursor(&r.repo.full_name())
    }))
}

pub(super) async fn record_snapshot(pool: &PgPool, s: &RepoSnapshot) -> Result<()> {
    sqlx::query(
        "INSERT INTO snapshots (repo, stars, forks, watchers, open_issues, size_kb, pushed_at,
             recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(s.repo.full_name())
    .bind(u64_col("stars", s.stars)?)
    .bind(u64_col("forks", s.forks)?)
    .bind(u64_col("watchers", s.watchers)?)
    .bind(u64_col("open_issues", s.open_issues)?)
    .bind(u64_col("size_kb", s.size_kb)?)
    .bind(s.pushed_at)
    .bind(s.recorded_at)
    .execute(pool)
    .await
    .db()?;
    Ok(())
}

pub(super) async fn list_snapshots(
    pool: &PgPool,
    repo: &RepoRef,
    opts: &ListOptions,
) -> Result<Page<RepoSnapshot>> {
    let page = page_desc(
        pool,
        "snapshots",
        SNAPSHOT_COLS,
        vec![("repo", text(repo.full_name()))],
        opts,
        rows::snapshot,
        |(id, _)| *id,
    )
    .await?;
    Ok(Page {
        items: page.items.into_iter().map(|(_, s)| s).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Records one delivery (its body as `stored`) and its job in one round trip (the
/// `kova_record_delivery` function, PostgreSQL's implicit transaction): the path for jobs with
/// dedupe or coalescing keys (they take advisory locks), and the fallback when a batch fails.
pub(super) async fn record_delivery_one(
    pool: &PgPool,
    d: &WebhookDelivery,
    job: Option<&NewJob>,
    stored: &StoredBody,
) -> Result<DeliveryOutcome> {
    let payload = job.map(|j| crate::codec::to_json(&j.payload)).transpose()?;
    let (event_id, duplicate, deduplicated, job_id): (i64, bool, Option<bool>, Option<i64>) =
        sqlx::query_as(
            "SELECT * FROM kova_record_delivery($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                 $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(d.hook_id)
        .bind(&d.delivery_id)
        .bind(&d.event)
        .bind(&d.action)
        .bind(d.repo.as_ref().map(|r| r.full_name()))
        .bind(d.installation_id)
        .bind(&d.sender)
        .bind(&d.target_type)
        .bind(d.target_id)
        .bind(&d.user_agent)
        .bind(&stored.bytes[..])
        .bind(stored.codec)
        .bind(d.received_at)
        .bind(kova_core::store::initial_status(job).as_str())
        .bind(job.map(|j| j.kind.as_str()))
        .bind(payload)
        .bind(job.and_then(|j| j.dedupe_key.as_deref()))
        .bind(job.and_then(|j| j.coalesce_key.as_deref()))
        .bind(job.map(|j| i64::from(j.max_attempts)))
        .bind(job.and_then(|j| j.run_at))
        .fetch_one(pool)
        .await
        .db()?;
    let event_id = EventId(event_id);
    if duplicate {
        return Ok(DeliveryOutcome::Duplicate { event_id });
    }
    let job = match (deduplicated, job_id) {
        (Some(deduplicated), Some(id)) => Some(jobs::enqueue_outcome(deduplicated, id)),
        _ => None,
    };
    Ok(DeliveryOutcome::Inserted { event_id, job })
}

pub(super) async fn get_event(pool: &PgPool, id: EventId) -> Result<Option<WebhookEvent>> {
    sqlx::query(&format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .db()?
        .as_ref()
        .map(rows::event)
        .transpose()
}

pub(super) fn event_filters(filter: &EventFilter) -> Vec<(&'static str, Val)> {
    let mut f = Vec::new();
    if let Some(r) = &filter.repo {
        f.push(("repo", text(r.full_name())));
    }
    if let Some(e) = &filter.event {
        f.push(("event", text(e.as_str())));
    }
    if let Some(s) = filter.status {
        f.push(("status", text(s.as_str())));
    }
    f
}

pub(super) async fn list_events(
    pool: &PgPool,
    filter: &EventFilter,
    opts: &ListOptions,
) -> Result<Page<WebhookEvent>> {
    page_desc(
        pool,
        "events",
        EVENT_COLS,
        event_filters(filter),
        opts,
        rows::event,
        |e| e.id.0,
    )
    .await
}

pub(super) async fn set_event_status(
    pool: &PgPool,
    id: EventId,
    status: EventStatus,
) -> Result<()> {
    let n = sqlx::query("UPDATE events SET status = $2 WHERE id = $1")
        .bind(id.0)
        .bind(status.as_str())
        .execute(pool)
        .await
        .db()?
        .rows_affected();
    if n == 0 {
        return Err(Error::not_found("event", id));
    }
    Ok(())
}

pub(super) async fn get_job(pool: &PgPool, id: JobId) -> Result<Option<Job>> {
    sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .db()?
        .as_ref()
        .map(rows::job)
        .transpose()
}

pub(super) fn job_filters(filter: &JobFilter) -> Vec<(&'static str, Val)> {
    let mut f = Vec::new();
    if let Some(s) = filter.status {
        f.push(("status", text(s.as_str())));
    }
    if let Some(k) = &filter.kind {
        f.push(("kind", text(k.as_str())));
    }
    f
}

pub(super) async fn list_jobs(
    pool: &PgPool,
    filter: &JobFilter,
    opts: &ListOptions,
) -> Result<Page<Job>> {
    page_desc(
        pool,
        "jobs",
        JOB_COLS,
        job_filters(filter),
        opts,
        rows::job,
        |j| j.id.0,
    )
    .await
}

pub(super) async fn insert_artifact(
    pool: &PgPool,
    a: &NewArtifact,
    now: Timestamp,
) -> Result<ArtifactOutcome> {
    let repo = a.repo.as_ref().map(|r| r.full_name());
    let repo_key = repo.clone().unwrap_or_default();
    let mut tx = pool.begin().await.db()?;
    // Idempotency key first, then the version series: a fixed order, so no lock cycle.
    if let Some(key) = &a.idempotency_key {
        jobs::lock_key(&mut tx, "idempotency", key).await?;
        if let Some(existing) = find_artifact_by_key(&mut *tx, key).await? {
            return Ok(ArtifactOutcome::Existing(existing));
        }
    }
    jobs::lock_key(
        &mut tx,
        "artifact",
        &format!("{repo_key}\u{1f}{}\u{1f}{}", a.kind.as_str(), a.name),
    )
    .await?;
    let (source, validation, metadata) = artifact_json(&a.source, &a.validation, &a.metadata)?;
    let row = sqlx::query(&format!(
        "INSERT INTO artifacts (name, kind, content, language, repo, repo_key, source,
             source_event_id, validation, metadata, content_hash, version, idempotency_key,
             created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
             COALESCE(MAX(version), 0) + 1, $12, $13
         FROM artifacts WHERE repo_key = $6 AND kind = $2 AND name = $1
         RETURNING {ARTIFACT_COLS}"
    ))
    .bind(&a.name)
    .bind(a.kind.as_str())
    .bind(&a.content)
    .bind(&a.language)
    .bind(&repo)
    .bind(&repo_key)
    .bind(source)
    .bind(source_event(&a.source))
    .bind(validation)
    .bind(metadata)
    .bind(content_hash(&a.content))
    .bind(&a.idempotency_key)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let artifact = rows::artifact(&row)?;
    tx.commit().await.db()?;
    Ok(ArtifactOutcome::Inserted(artifact))
}

pub(super) async fn get_artifact(pool: &PgPool, id: ArtifactId) -> Result<Option<Artifact>> {
    sqlx::query(&format!(
        "SELECT {ARTIFACT_COLS} FROM artifacts WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .db()?
    .as_ref()
    .map(rows::artifact)
    .transpose()
}

/// By the unique index on `idempotency_key`.
pub(super) async fn find_artifact_by_key<'e>(
    conn: impl sqlx::PgExecutor<'e>,
    key: &str,
) -> Result<Option<Artifact>> {
    sqlx::query(&format!(
        "SELECT {ARTIFACT_COLS} FROM artifacts WHERE idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(conn)
    .await
    .db()?
    .as_ref()
    .map(rows::artifact)
    .transpose()
}

pub(super) async fn list_artifacts(
    pool: &PgPool,
    filter: &ArtifactFilter,
    opts: &ListOptions,
) -> Result<Page<Artifact>> {
    let mut f = Vec::new();
    if let Some(r) = &filter.repo {
        f.push(("repo", text(r.full_name())));
    }
    if let Some(k) = filter.kind {
        f.push(("kind", text(k.as_str())));
    }
    if let Some(e) = filter.event_id {
        f.push(("source_event_id", Val::Int(e.0)));
    }
    page_desc(
        pool,
        "artifacts",
        ARTIFACT_COLS,
        f,
        opts,
        rows::artifact,
        |a| a.id.0,
    )
    .await
}

pub(super) async fn record_interaction(pool: &PgPool, i: &LlmInteraction) -> Result<InteractionId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO interactions (purpose, provider, model, prompt_digest, prompt, response,
             input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd,
             duration_ms, success, error, repo, event_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         RETURNING id",
    )
    .bind(&i.purpose)
    .bind(&i.provider)
    .bind(&i.model)
    .bind(&i.prompt_digest)
    .bind(&i.prompt)
    .bind(&i.response)
    .bind(u64_col("input_tokens", i.usage.input_tokens)?)
    .bind(u64_col("output_tokens", i.usage.output_tokens)?)
    .bind(u64_col("cache_read_tokens", i.usage.cache_read_tokens)?)
    .bind(u64_col(
        "cache_creation_tokens",
        i.usage.cache_creation_tokens,
    )?)
    .bind(i.cost_usd)
    .bind(u64_col("duration_ms", i.duration_ms)?)
    .bind(i.success)
    .bind(&i.error)
    .bind(i.repo.as_ref().map(|r| r.full_name()))
    .bind(i.event_id.map(|e| e.0))
    .bind(i.created_at)
    .fetch_one(pool)
    .await
    .db()?;
    Ok(InteractionId(id))
}

fn interaction_filters(filter: &InteractionFilter) -> Vec<(&'static str, Val)> {
    let mut f = Vec::new();
    if let Some(r) = &filter.repo {
        f.push(("repo", text(r.full_name())));
    }
    if let Some(p) = &filter.purpose {
        f.push(("purpose", text(p.as_str())));
    }
    if let Some(m) = &filter.model {
        f.push(("model", text(m.as_str())));
    }
    if let Some(e) = filter.event_id {
        f.push(("event_id", Val::Int(e.0)));
    }
    f
}

pub(super) async fn list_interactions(
    pool: &PgPool,
    filter: &InteractionFilter,
    opts: &ListOptions,
) -> Result<Page<LlmInteraction>> {
    page_desc(
        pool,
        "interactions",
        INTERACTION_COLS,
        interaction_filters(filter),
        opts,
        rows::interaction,
        |i| i.id.0,
    )
    .await
}

pub(super) async fn usage_totals(pool: &PgPool, filter: &InteractionFilter) -> Result<UsageTotals> {
    let filters = interaction_filters(filter);
    let mut sql = String::from(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT success),
             COALESCE(SUM(input_tokens), 0)::BIGINT, COALESCE(SUM(output_tokens), 0)::BIGINT,
             COALESCE(SUM(cache_read_tokens), 0)::BIGINT,
             COALESCE(SUM(cache_creation_tokens), 0)::BIGINT,
             COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION
         FROM interactions WHERE TRUE",
    );
    for (i, (col, _)) in filters.iter().enumerate() {
        sql.push_str(&format!(" AND {col} = ${}", i + 1));
    }
    let mut q = sqlx::query(&sql);
    for (_, v) in filters {
        q = match v {
            Val::Text(s) => q.bind(s),
            Val::Int(i) => q.bind(i),
        };
    }
    let row = q.fetch_one(pool).await.db()?;
    let n = |i: usize, c: &str| -> Result<u64> { col_u64("postgres", c, rows::col(&row, i)?) };
    Ok(UsageTotals {
        calls: n(0, "calls")?,
        failures: n(1, "failures")?,
        usage: Usage {
            input_tokens: n(2, "input_tokens")?,
            output_tokens: n(3, "output_tokens")?,
            cache_read_tokens: n(4, "cache_read_tokens")?,
            cache_creation_tokens: n(5, "cache_creation_tokens")?,
        },
        cost_usd: rows::col(&row, 6)?,
    })
}

pub(super) async fn record_sync_log(pool: &PgPool, l: &SyncLog) -> Result<SyncLogId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sync_logs (repo, outcome, started_at, duration_ms, requests, not_modified,
             files, manifests, attempts, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(l.repo.full_name())
    .bind(sync_outcome_str(l.outcome))
    .bind(l.started_at)
    .bind(u64_col("duration_ms", l.duration_ms)?)
    .bind(i64::from(l.requests))
    .bind(i64::from(l.not_modified))
    .bind(i64::from(l.files))
    .bind(i64::from(l.manifests))
    .bind(i64::from(l.attempts))
    .bind(&l.error)
    .fetch_one(pool)
    .await
    .db()?;
    Ok(SyncLogId(id))
}

pub(super) async fn list_sync_logs(
    pool: &PgPool,
    repo: Option<&RepoRef>,
    opts: &ListOptions,
) -> Result<Page<SyncLog>> {
    let f = repo
        .map(|r| vec![("repo", text(r.full_name()))])
        .unwrap_or_default();
    page_desc(
        pool,
        "sync_logs",
        SYNC_LOG_COLS,
        f,
        opts,
        rows::sync_log,
        |l| l.id.0,
    )
    .await
}

pub(super) async fn record_repo_error(pool: &PgPool, e: &RepoError) -> Result<RepoErrorId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO repo_errors (repo, source, title, detail, head_sha, url, analysis,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(e.repo.full_name())
    .bind(&e.source)
    .bind(&e.title)
    .bind(&e.detail)
    .bind(&e.head_sha)
    .bind(&e.url)
    .bind(&e.analysis)
    .bind(e.created_at)
    .fetch_one(pool)
    .await
    .db()?;
    Ok(RepoErrorId(id))
}

pub(super) async fn list_repo_errors(
    pool: &PgPool,
    repo: Option<&RepoRef>,
    opts: &ListOptions,
) -> Result<Page<RepoError>> {
    let f = repo
        .map(|r| vec![("repo", text(r.full_name()))])
        .unwrap_or_default();
    page_desc(
        pool,
        "repo_errors",
        REPO_ERROR_COLS,
        f,
        opts,
        rows::repo_error,
        |e| e.id.0,
    )
    .await
}
