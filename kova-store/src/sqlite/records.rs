//! Repositories, events, artifacts, interactions and logs in SQL. Writers run on the writer
//! thread inside the group transaction; readers on a read connection.

use super::error::SqlResultExt;
use super::jobs;
use super::lookups;
use super::rows::{self, *};
use super::sql::{collect, opt_row, page_desc, text};
use crate::codec::*;
use kova_core::*;
use rusqlite::types::Value;
use rusqlite::{params, Connection};

pub(super) fn upsert_repository(conn: &Connection, r: &Repository) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO repositories ({REPO_COLS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (full_name) DO UPDATE SET
             description = excluded.description, default_branch = excluded.default_branch,
             kind = excluded.kind, enabled = excluded.enabled,
             sync_priority = excluded.sync_priority, features = excluded.features,
             topics = excluded.topics, language = excluded.language, status = excluded.status,
             last_synced_at = excluded.last_synced_at, head_sha = excluded.head_sha,
             etag = excluded.etag, updated_at = excluded.updated_at"
    ))
    .db()?
    .execute(params![
        r.repo.full_name(),
        r.description,
        r.default_branch,
        r.kind.as_str(),
        r.enabled,
        r.sync_priority,
        to_json(&r.features)?,
        to_json(&r.topics)?,
        r.language,
        r.status.as_str(),
        r.last_synced_at.map(micros),
        r.head_sha,
        r.etag,
        micros(r.created_at),
        micros(r.updated_at),
    ])
    .db()?;
    Ok(())
}

pub(super) fn get_repository(conn: &Connection, repo: &RepoRef) -> Result<Option<Repository>> {
    opt_row(
        conn,
        &format!("SELECT {REPO_COLS} FROM repositories WHERE full_name = ?1"),
        [repo.full_name()],
        rows::repository,
    )
}

pub(super) fn list_repositories(conn: &Connection, opts: &ListOptions) -> Result<Page<Repository>> {
    let limit = opts.effective_limit();
    let after = opts.key_cursor()?.unwrap_or_default();
    let items = collect(
        conn,
        &format!(
            "SELECT {REPO_COLS} FROM repositories WHERE full_name > ?1
             ORDER BY full_name LIMIT ?2"
        ),
        params![after, limit as i64 + 1],
        rows::repository,
    )?;
    Ok(Page::from_overfetch(items, limit, |r| {
        Page::<()>::key_cursor(&r.repo.full_name())
    }))
}

pub(super) fn record_snapshot(conn: &Connection, s: &RepoSnapshot) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO snapshots (repo, stars, forks, watchers, open_issues, size_kb, pushed_at,
             recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .db()?
    .execute(params![
        s.repo.full_name(),
        u64_col("stars", s.stars)?,
        u64_col("forks", s.forks)?,
        u64_col("watchers", s.watchers)?,
        u64_col("open_issues", s.open_issues)?,
        u64_col("size_kb", s.size_kb)?,
        s.pushed_at.map(micros),
        micros(s.recorded_at),
    ])
    .db()?;
    Ok(())
}

pub(super) fn list_snapshots(
    conn: &Connection,
    repo: &RepoRef,
    opts: &ListOptions,
) -> Result<Page<RepoSnapshot>> {
    // The id is not part of `RepoSnapshot`, so it rides along as the mapped pair's first half.
    let page = page_desc(
        conn,
        "snapshots",
        SNAPSHOT_COLS,
        vec![("repo", text(repo.full_name()))],
        opts,
        |r| Ok((r.get::<_, i64>(0).db()?, rows::snapshot(r)?)),
        |(id, _)| *id,
    )?;
    Ok(Page {
        items: page.items.into_iter().map(|(_, s)| s).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Inserts the event unless its (hook id, delivery id) exists, then enqueues its job.
pub(super) fn record_delivery(
    conn: &Connection,
    d: &WebhookDelivery,
    body: &crate::body::StoredBody,
    job: Option<&NewJob>,
) -> Result<DeliveryOutcome> {
    let hook_key = d.hook_id.unwrap_or(0);
    // OR IGNORE rather than ON CONFLICT DO NOTHING: no constraint can then abort the
    // statement halfway, so SQLite skips the statement journal (a copy of every index page the
    // insert touches). The only constraint that can refuse this row is the delivery key; the
    // NOT NULL columns are always bound.
    // No RETURNING: SQLite collects RETURNING rows in a temporary table, opened and closed
    // per statement, which was a fifth of this insert's time on the writer.
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO events (hook_id, hook_key, delivery_id, event, action, repo,
             installation_id, sender, target_type, target_id, user_agent, body, received_at,
             status, body_codec)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .db()?
        .execute(params![
            d.hook_id,
            hook_key,
            d.delivery_id,
            d.event,
            d.action,
            d.repo.as_ref().map(|r| r.full_name()),
            d.installation_id,
            d.sender,
            d.target_type,
            d.target_id,
            d.user_agent,
            &body.bytes[..],
            micros(d.received_at),
            initial_status(job).as_str(),
            body.codec,
        ])
        .db()?;
    let inserted = (inserted == 1).then(|| conn.last_insert_rowid());
    let Some(event_id) = inserted else {
        let existing: i64 = opt_row(
            conn,
            "SELECT id FROM events WHERE hook_key = ?1 AND delivery_id = ?2",
            params![hook_key, d.delivery_id],
            |r| r.get(0).db(),
        )?
        .ok_or_else(|| Error::Internal("the event was neither inserted nor found".into()))?;
        return Ok(DeliveryOutcome::Duplicate {
            event_id: EventId(existing),
        });
    };
    let event_id = EventId(event_id);
    let job = job
        .map(|j| jobs::enqueue(conn, j, Some(event_id), d.received_at))
        .transpose()?;
    if let Some(EnqueueOutcome::Deduplicated(_)) = job {
        // The work is done or under way already: this event needs nothing more.
        jobs::set_event_status(conn, event_id.0, EventStatus::Ignored)?;
    }
    lookups::file_new_events(conn, event_id.0)?;
    Ok(DeliveryOutcome::Inserted { event_id, job })
}

pub(super) fn get_event(conn: &Connection, id: EventId) -> Result<Option<WebhookEvent>> {
    opt_row(
        conn,
        &format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1"),
        [id.0],
        rows::event,
    )
}

pub(super) fn list_events(
    conn: &Connection,
    filter: &EventFilter,
    opts: &ListOptions,
) -> Result<Page<WebhookEvent>> {
    if let Some(page) = lookups::list_events(conn, filter, opts)? {
        return Ok(page);
    }
    let mut f = Vec::new();
    if let Some(s) = filter.status {
        f.push(("status", text(s.as_str())));
    }
    page_desc(conn, "events", EVENT_COLS, f, opts, rows::event, |e| e.id.0)
}

pub(super) fn set_event_status(conn: &Connection, id: EventId, status: EventStatus) -> Result<()> {
    let n = conn
        .prepare_cached("UPDATE events SET status = ?2 WHERE id = ?1")
        .db()?
        .execute(params![id.0, status.as_str()])
        .db()?;
    if n == 0 {
        return Err(Error::not_found("event", id));
    }
    Ok(())
}

pub(super) fn get_job(conn: &Connection, id: JobId) -> Result<Option<Job>> {
    opt_row(
        conn,
        &format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"),
        [id.0],
        rows::job,
    )
}

pub(super) fn list_jobs(
    conn: &Connection,
    filter: &JobFilter,
    opts: &ListOptions,
) -> Result<Page<Job>> {
    let mut f = Vec::new();
    if let Some(s) = filter.status {
        f.push(("status", text(s.as_str())));
    }
    if let Some(k) = &filter.kind {
        f.push(("kind", text(k.as_str())));
    }
    page_desc(conn, "jobs", JOB_COLS, f, opts, rows::job, |j| j.id.0)
}

pub(super) fn insert_artifact(
    conn: &Connection,
    a: &NewArtifact,
    now: Timestamp,
) -> Result<ArtifactOutcome> {
    if let Some(key) = &a.idempotency_key {
        if let Some(existing) = find_artifact_by_key(conn, key)? {
            return Ok(ArtifactOutcome::Existing(existing));
        }
    }
    let repo = a.repo.as_ref().map(|r| r.full_name());
    let repo_key = repo.clone().unwrap_or_default();
    let version: i64 = opt_row(
        conn,
        "SELECT COALESCE(MAX(version), 0) + 1 FROM artifacts
         WHERE repo_key = ?1 AND kind = ?2 AND name = ?3",
        params![repo_key, a.kind.as_str(), a.name],
        |r| r.get(0).db(),
    )?
    .unwrap_or(1);
    let (source, validation, metadata) = artifact_json(&a.source, &a.validation, &a.metadata)?;
    let row = opt_row(
        conn,
        &format!(
            "INSERT INTO artifacts (name, kind, content, language, repo, repo_key, source,
                 source_event_id, validation, metadata, content_hash, version, idempotency_key,
                 created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             RETURNING {ARTIFACT_COLS}"
        ),
        params![
            a.name,
            a.kind.as_str(),
            a.content,
            a.language,
            repo,
            repo_key,
            source,
            source_event(&a.source),
            validation,
            metadata,
            content_hash(&a.content),
            version,
            a.idempotency_key,
            micros(now),
        ],
        rows::artifact,
    )?
    .ok_or_else(|| Error::Internal("artifact insert returned no row".into()))?;
    Ok(ArtifactOutcome::Inserted(row))
}

pub(super) fn get_artifact(conn: &Connection, id: ArtifactId) -> Result<Option<Artifact>> {
    opt_row(
        conn,
        &format!("SELECT {ARTIFACT_COLS} FROM artifacts WHERE id = ?1"),
        [id.0],
        rows::artifact,
    )
}

/// By the unique index on `idempotency_key`.
pub(super) fn find_artifact_by_key(conn: &Connection, key: &str) -> Result<Option<Artifact>> {
    opt_row(
        conn,
        &format!("SELECT {ARTIFACT_COLS} FROM artifacts WHERE idempotency_key = ?1"),
        [key],
        rows::artifact,
    )
}

pub(super) fn list_artifacts(
    conn: &Connection,
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
        f.push(("source_event_id", Value::Integer(e.0)));
    }
    page_desc(
        conn,
        "artifacts",
        ARTIFACT_COLS,
        f,
        opts,
        rows::artifact,
        |a| a.id.0,
    )
}

pub(super) fn record_interaction(conn: &Connection, i: &LlmInteraction) -> Result<InteractionId> {
    conn.prepare_cached(
        "INSERT INTO interactions (purpose, provider, model, prompt_digest, prompt, response,
             input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd,
             duration_ms, success, error, repo, event_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )
    .db()?
    .execute(params![
        i.purpose,
        i.provider,
        i.model,
        i.prompt_digest,
        i.prompt,
        i.response,
        u64_col("input_tokens", i.usage.input_tokens)?,
        u64_col("output_tokens", i.usage.output_tokens)?,
        u64_col("cache_read_tokens", i.usage.cache_read_tokens)?,
        u64_col("cache_creation_tokens", i.usage.cache_creation_tokens)?,
        i.cost_usd,
        u64_col("duration_ms", i.duration_ms)?,
        i.success,
        i.error,
        i.repo.as_ref().map(|r| r.full_name()),
        i.event_id.map(|e| e.0),
        micros(i.created_at),
    ])
    .db()?;
    Ok(InteractionId(conn.last_insert_rowid()))
}

fn interaction_filters(filter: &InteractionFilter) -> Vec<(&'static str, Value)> {
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
        f.push(("event_id", Value::Integer(e.0)));
    }
    f
}

pub(super) fn list_interactions(
    conn: &Connection,
    filter: &InteractionFilter,
    opts: &ListOptions,
) -> Result<Page<LlmInteraction>> {
    page_desc(
        conn,
        "interactions",
        INTERACTION_COLS,
        interaction_filters(filter),
        opts,
        rows::interaction,
        |i| i.id.0,
    )
}

pub(super) fn usage_totals(conn: &Connection, filter: &InteractionFilter) -> Result<UsageTotals> {
    let filters = interaction_filters(filter);
    let mut sql = String::from(
        "SELECT COUNT(*), COALESCE(SUM(1 - success), 0), COALESCE(SUM(input_tokens), 0),
             COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cache_read_tokens), 0),
             COALESCE(SUM(cache_creation_tokens), 0), COALESCE(SUM(cost_usd), 0.0)
         FROM interactions WHERE 1 = 1",
    );
    let mut values = Vec::new();
    for (col, v) in filters {
        values.push(v);
        sql.push_str(&format!(" AND {col} = ?{}", values.len()));
    }
    let t = opt_row(conn, &sql, rusqlite::params_from_iter(values), |r| {
        let n = |i: usize, c: &str| -> Result<u64> { col_u64("sqlite", c, r.get(i).db()?) };
        Ok(UsageTotals {
            calls: n(0, "calls")?,
            failures: n(1, "failures")?,
            usage: Usage {
                input_tokens: n(2, "input_tokens")?,
                output_tokens: n(3, "output_tokens")?,
                cache_read_tokens: n(4, "cache_read_tokens")?,
                cache_creation_tokens: n(5, "cache_creation_tokens")?,
            },
            cost_usd: r.get(6).db()?,
        })
    })?;
    Ok(t.unwrap_or_default())
}

pub(super) fn record_sync_log(conn: &Connection, l: &SyncLog) -> Result<SyncLogId> {
    conn.prepare_cached(
        "INSERT INTO sync_logs (repo, outcome, started_at, duration_ms, requests, not_modified,
             files, manifests, attempts, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .db()?
    .execute(params![
        l.repo.full_name(),
        sync_outcome_str(l.outcome),
        micros(l.started_at),
        u64_col("duration_ms", l.duration_ms)?,
        l.requests,
        l.not_modified,
        l.files,
        l.manifests,
        l.attempts,
        l.error,
    ])
    .db()?;
    Ok(SyncLogId(conn.last_insert_rowid()))
}

pub(super) fn list_sync_logs(
    conn: &Connection,
    repo: Option<&RepoRef>,
    opts: &ListOptions,
) -> Result<Page<SyncLog>> {
    let f = repo
        .map(|r| vec![("repo", text(r.full_name()))])
        .unwrap_or_default();
    page_desc(
        conn,
        "sync_logs",
        SYNC_LOG_COLS,
        f,
        opts,
        rows::sync_log,
        |l| l.id.0,
    )
}

pub(super) fn record_repo_error(conn: &Connection, e: &RepoError) -> Result<RepoErrorId> {
    conn.prepare_cached(
        "INSERT INTO repo_errors (repo, source, title, detail, head_sha, url, analysis,
             created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .db()?
    .execute(params![
        e.repo.full_name(),
        e.source,
        e.title,
        e.detail,
        e.head_sha,
        e.url,
        e.analysis,
        micros(e.created_at),
    ])
    .db()?;
    Ok(RepoErrorId(conn.last_insert_rowid()))
}

pub(super) fn list_repo_errors(
    conn: &Connection,
    repo: Option<&RepoRef>,
    opts: &ListOptions,
) -> Result<Page<RepoError>> {
    let f = repo
        .map(|r| vec![("repo", text(r.full_name()))])
        .unwrap_or_default();
    page_desc(
        conn,
        "repo_errors",
        REPO_ERROR_COLS,
        f,
        opts,
        rows::repo_error,
        |e| e.id.0,
    )
}
