//! PostgreSQL rows to domain values. Column lists live next to their mappers so a `SELECT` and
//! its decoding cannot drift apart.

use super::error::PgResultExt;
use crate::codec::*;
use kova_core::*;
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};

const B: &str = "postgres";

/// Column `i` of a row.
pub(super) fn col<'r, T>(row: &'r PgRow, i: usize) -> Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(i).db()
}

fn text(row: &PgRow, i: usize) -> Result<String> {
    col(row, i)
}

pub(super) const REPO_COLS: &str = "full_name, description, default_branch, kind, enabled, \
    sync_priority, features, topics, language, status, last_synced_at, head_sha, etag, \
    created_at, updated_at";

pub(super) fn repository(row: &PgRow) -> Result<Repository> {
    let priority: i64 = col(row, 5)?;
    Ok(Repository {
        repo: parse(B, "full_name", &text(row, 0)?)?,
        description: col(row, 1)?,
        default_branch: col(row, 2)?,
        kind: parse(B, "kind", &text(row, 3)?)?,
        enabled: col(row, 4)?,
        sync_priority: u8::try_from(priority).map_err(|_| corrupt(B, "sync_priority", priority))?,
        features: from_json(B, "features", &text(row, 6)?)?,
        topics: from_json(B, "topics", &text(row, 7)?)?,
        language: col(row, 8)?,
        status: parse(B, "status", &text(row, 9)?)?,
        last_synced_at: col(row, 10)?,
        head_sha: col(row, 11)?,
        etag: col(row, 12)?,
        created_at: col(row, 13)?,
        updated_at: col(row, 14)?,
    })
}

pub(super) const SNAPSHOT_COLS: &str =
    "id, repo, stars, forks, watchers, open_issues, size_kb, pushed_at, recorded_at";

pub(super) fn snapshot(row: &PgRow) -> Result<(i64, RepoSnapshot)> {
    Ok((
        col(row, 0)?,
        RepoSnapshot {
            repo: parse(B, "repo", &text(row, 1)?)?,
            stars: col_u64(B, "stars", col(row, 2)?)?,
            forks: col_u64(B, "forks", col(row, 3)?)?,
            watchers: col_u64(B, "watchers", col(row, 4)?)?,
            open_issues: col_u64(B, "open_issues", col(row, 5)?)?,
            size_kb: col_u64(B, "size_kb", col(row, 6)?)?,
            pushed_at: col(row, 7)?,
            recorded_at: col(row, 8)?,
        },
    ))
}

pub(super) const EVENT_COLS: &str = "id, hook_id, delivery_id, event, action, repo, \
    installation_id, sender, target_type, target_id, user_agent, body, received_at, status, \
    body_codec";

pub(super) fn event(row: &PgRow) -> Result<WebhookEvent> {
    Ok(WebhookEvent {
        id: EventId(col(row, 0)?),
        delivery: WebhookDelivery {
            hook_id: col(row, 1)?,
            delivery_id: col(row, 2)?,
            event: col(row, 3)?,
            action: col(row, 4)?,
            repo: opt_repo(B, col(row, 5)?)?,
            installation_id: col(row, 6)?,
            sender: col(row, 7)?,
            target_type: col(row, 8)?,
            target_id: col(row, 9)?,
            user_agent: col(row, 10)?,
            body: crate::body::decode(B, col(row, 14)?, col(row, 11)?)?,
            received_at: col(row, 12)?,
        },
        status: parse(B, "status", &text(row, 13)?)?,
    })
}

pub(super) const JOB_COLS: &str = "id, kind, event_id, payload, dedupe_key, coalesce_key, \
    attempts, max_attempts, run_at, lease_until, leased_by, status, last_error, created_at, \
    updated_at";

pub(super) fn job(row: &PgRow) -> Result<Job> {
    Ok(Job {
        id: JobId(col(row, 0)?),
        kind: col(row, 1)?,
        event_id: col::<Option<i64>>(row, 2)?.map(EventId),
        payload: from_json(B, "payload", &text(row, 3)?)?,
        dedupe_key: col(row, 4)?,
        coalesce_key: col(row, 5)?,
        attempts: col_u32(B, "attempts", col(row, 6)?)?,
        max_attempts: col_u32(B, "max_attempts", col(row, 7)?)?,
        run_at: col(row, 8)?,
        lease_until: col(row, 9)?,
        leased_by: col(row, 10)?,
        status: parse(B, "status", &text(row, 11)?)?,
        last_error: col(row, 12)?,
        created_at: col(row, 13)?,
        updated_at: col(row, 14)?,
    })
}

pub(super) const ARTIFACT_COLS: &str = "id, name, kind, content, language, repo, source, \
    validation, metadata, content_hash, version, idempotency_key, created_at";

pub(super) fn artifact(row: &PgRow) -> Result<Artifact> {
    Ok(Artifact {
        id: ArtifactId(col(row, 0)?),
        name: col(row, 1)?,
        kind: parse(B, "kind", &text(row, 2)?)?,
        content: col(row, 3)?,
        language: col(row, 4)?,
        repo: opt_repo(B, col(row, 5)?)?,
        source: from_json(B, "source", &text(row, 6)?)?,
        validation: from_json(B, "validation", &text(row, 7)?)?,
        metadata: from_json(B, "metadata", &text(row, 8)?)?,
        content_hash: col(row, 9)?,
        version: col_u32(B, "version", col(row, 10)?)?,
        idempotency_key: col(row, 11)?,
        created_at: col(row, 12)?,
    })
}

pub(super) const INTERACTION_COLS: &str = "id, purpose, provider, model, prompt_digest, \
    prompt, response, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, \
    cost_usd, duration_ms, success, error, repo, event_id, created_at";

pub(super) fn interaction(row: &PgRow) -> Result<LlmInteraction> {
    Ok(LlmInteraction {
        id: InteractionId(col(row, 0)?),
        purpose: col(row, 1)?,
        provider: col(row, 2)?,
        model: col(row, 3)?,
        prompt_digest: col(row, 4)?,
        prompt: col(row, 5)?,
        response: col(row, 6)?,
        usage: Usage {
            input_tokens: col_u64(B, "input_tokens", col(row, 7)?)?,
            output_tokens: col_u64(B, "output_tokens", col(row, 8)?)?,
            cache_read_tokens: col_u64(B, "cache_read_tokens", col(row, 9)?)?,
            cache_creation_tokens: col_u64(B, "cache_creation_tokens", col(row, 10)?)?,
        },
        cost_usd: col(row, 11)?,
        duration_ms: col_u64(B, "duration_ms", col(row, 12)?)?,
        success: col(row, 13)?,
        error: col(row, 14)?,
        repo: opt_repo(B, col(row, 15)?)?,
        event_id: col::<Option<i64>>(row, 16)?.map(EventId),
        created_at: col(row, 17)?,
    })
}

pub(super) const SYNC_LOG_COLS: &str = "id, repo, outcome, started_at, duration_ms, requests, \
    not_modified, files, manifests, attempts, error";

pub(super) fn sync_log(row: &PgRow) -> Result<SyncLog> {
    Ok(SyncLog {
        id: SyncLogId(col(row, 0)?),
        repo: parse(B, "repo", &text(row, 1)?)?,
        outcome: sync_outcome(B, &text(row, 2)?)?,
        started_at: col(row, 3)?,
        duration_ms: col_u64(B, "duration_ms", col(row, 4)?)?,
        requests: col_u32(B, "requests", col(row, 5)?)?,
        not_modified: col_u32(B, "not_modified", col(row, 6)?)?,
        files: col_u32(B, "files", col(row, 7)?)?,
        manifests: col_u32(B, "manifests", col(row, 8)?)?,
        attempts: col_u32(B, "attempts", col(row, 9)?)?,
        error: col(row, 10)?,
    })
}

pub(super) const REPO_ERROR_COLS: &str =
    "id, repo, source, title, detail, head_sha, url, analysis, created_at";

pub(super) fn repo_error(row: &PgRow) -> Result<RepoError> {
    Ok(RepoError {
        id: RepoErrorId(col(row, 0)?),
        repo: parse(B, "repo", &text(row, 1)?)?,
        source: col(row, 2)?,
        title: col(row, 3)?,
        detail: col(row, 4)?,
        head_sha: col(row, 5)?,
        url: col(row, 6)?,
        analysis: col(row, 7)?,
        created_at: col(row, 8)?,
    })
}
