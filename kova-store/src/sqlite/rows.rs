//! SQLite rows to domain values. Column lists live next to their mappers so a `SELECT` and
//! its decoding cannot drift apart.

use super::error::SqlResultExt;
use crate::codec::*;
use kova_core::*;
use rusqlite::Row;

const B: &str = "sqlite";

fn ts(row: &Row<'_>, i: usize, col: &str) -> Result<Timestamp> {
    from_micros(B, col, row.get(i).db()?)
}

fn opt_ts(row: &Row<'_>, i: usize, col: &str) -> Result<Option<Timestamp>> {
    row.get::<_, Option<i64>>(i)
        .db()?
        .map(|v| from_micros(B, col, v))
        .transpose()
}

pub(super) const REPO_COLS: &str = "full_name, description, default_branch, kind, enabled, \
    sync_priority, features, topics, language, status, last_synced_at, head_sha, etag, \
    created_at, updated_at";

pub(super) fn repository(row: &Row<'_>) -> Result<Repository> {
    let priority: i64 = row.get(5).db()?;
    Ok(Repository {
        repo: parse(B, "full_name", &row.get::<_, String>(0).db()?)?,
        description: row.get(1).db()?,
        default_branch: row.get(2).db()?,
        kind: parse(B, "kind", &row.get::<_, String>(3).db()?)?,
        enabled: row.get(4).db()?,
        sync_priority: u8::try_from(priority).map_err(|_| corrupt(B, "sync_priority", priority))?,
        features: from_json(B, "features", &row.get::<_, String>(6).db()?)?,
        topics: from_json(B, "topics", &row.get::<_, String>(7).db()?)?,
        language: row.get(8).db()?,
        status: parse(B, "status", &row.get::<_, String>(9).db()?)?,
        last_synced_at: opt_ts(row, 10, "last_synced_at")?,
        head_sha: row.get(11).db()?,
        etag: row.get(12).db()?,
        created_at: ts(row, 13, "created_at")?,
        updated_at: ts(row, 14, "updated_at")?,
    })
}

pub(super) const SNAPSHOT_COLS: &str =
    "id, repo, stars, forks, watchers, open_issues, size_kb, pushed_at, recorded_at";

pub(super) fn snapshot(row: &Row<'_>) -> Result<RepoSnapshot> {
    Ok(RepoSnapshot {
        repo: parse(B, "repo", &row.get::<_, String>(1).db()?)?,
        stars: col_u64(B, "stars", row.get(2).db()?)?,
        forks: col_u64(B, "forks", row.get(3).db()?)?,
        watchers: col_u64(B, "watchers", row.get(4).db()?)?,
        open_issues: col_u64(B, "open_issues", row.get(5).db()?)?,
        size_kb: col_u64(B, "size_kb", row.get(6).db()?)?,
        pushed_at: opt_ts(row, 7, "pushed_at")?,
        recorded_at: ts(row, 8, "recorded_at")?,
    })
}

pub(super) const EVENT_COLS: &str = "id, hook_id, delivery_id, event, action, repo, \
    installation_id, sender, target_type, target_id, user_agent, body, received_at, status, body_codec";

pub(super) fn event(row: &Row<'_>) -> Result<WebhookEvent> {
    Ok(WebhookEvent {
        id: EventId(row.get(0).db()?),
        delivery: WebhookDelivery {
            hook_id: row.get(1).db()?,
            delivery_id: row.get(2).db()?,
            event: row.get(3).db()?,
            action: row.get(4).db()?,
            repo: opt_repo(B, row.get(5).db()?)?,
            installation_id: row.get(6).db()?,
            sender: row.get(7).db()?,
            target_type: row.get(8).db()?,
            target_id: row.get(9).db()?,
            user_agent: row.get(10).db()?,
            body: crate::body::decode(B, row.get(14).db()?, row.get(11).db()?)?,
            received_at: ts(row, 12, "received_at")?,
        },
        status: parse(B, "status", &row.get::<_, String>(13).db()?)?,
    })
}

pub(super) const JOB_COLS: &str = "id, kind, event_id, payload, dedupe_key, coalesce_key, \
    attempts, max_attempts, run_at, lease_until, leased_by, status, last_error, created_at, \
    updated_at";

pub(super) fn job(row: &Row<'_>) -> Result<Job> {
    Ok(Job {
        id: JobId(row.get(0).db()?),
        kind: row.get(1).db()?,
        event_id: row.get::<_, Option<i64>>(2).db()?.map(EventId),
        payload: from_json(B, "payload", &row.get::<_, String>(3).db()?)?,
        dedupe_key: row.get(4).db()?,
        coalesce_key: row.get(5).db()?,
        attempts: col_u32(B, "attempts", row.get(6).db()?)?,
        max_attempts: col_u32(B, "max_attempts", row.get(7).db()?)?,
        run_at: ts(row, 8, "run_at")?,
        lease_until: opt_ts(row, 9, "lease_until")?,
        leased_by: row.get(10).db()?,
        status: parse(B, "status", &row.get::<_, String>(11).db()?)?,
        last_error: row.get(12).db()?,
        created_at: ts(row, 13, "created_at")?,
        updated_at: ts(row, 14, "updated_at")?,
    })
}

pub(super) const ARTIFACT_COLS: &str = "id, name, kind, content, language, repo, source, \
    validation, metadata, content_hash, version, idempotency_key, created_at";

pub(super) fn artifact(row: &Row<'_>) -> Result<Artifact> {
    Ok(Artifact {
        id: ArtifactId(row.get(0).db()?),
        name: row.get(1).db()?,
        kind: parse(B, "kind", &row.get::<_, String>(2).db()?)?,
        content: row.get(3).db()?,
        language: row.get(4).db()?,
        repo: opt_repo(B, row.get(5).db()?)?,
        source: from_json(B, "source", &row.get::<_, String>(6).db()?)?,
        validation: from_json(B, "validation", &row.get::<_, String>(7).db()?)?,
        metadata: from_json(B, "metadata", &row.get::<_, String>(8).db()?)?,
        content_hash: row.get(9).db()?,
        version: col_u32(B, "version", row.get(10).db()?)?,
        idempotency_key: row.get(11).db()?,
        created_at: ts(row, 12, "created_at")?,
    })
}

pub(super) const INTERACTION_COLS: &str = "id, purpose, provider, model, prompt_digest, \
    prompt, response, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, \
    cost_usd, duration_ms, success, error, repo, event_id, created_at";

pub(super) fn interaction(row: &Row<'_>) -> Result<LlmInteraction> {
    Ok(LlmInteraction {
        id: InteractionId(row.get(0).db()?),
        purpose: row.get(1).db()?,
        provider: row.get(2).db()?,
        model: row.get(3).db()?,
        prompt_digest: row.get(4).db()?,
        prompt: row.get(5).db()?,
        response: row.get(6).db()?,
        usage: Usage {
            input_tokens: col_u64(B, "input_tokens", row.get(7).db()?)?,
            output_tokens: col_u64(B, "output_tokens", row.get(8).db()?)?,
            cache_read_tokens: col_u64(B, "cache_read_tokens", row.get(9).db()?)?,
            cache_creation_tokens: col_u64(B, "cache_creation_tokens", row.get(10).db()?)?,
        },
        cost_usd: row.get(11).db()?,
        duration_ms: col_u64(B, "duration_ms", row.get(12).db()?)?,
        success: row.get(13).db()?,
        error: row.get(14).db()?,
        repo: opt_repo(B, row.get(15).db()?)?,
        event_id: row.get::<_, Option<i64>>(16).db()?.map(EventId),
        created_at: ts(row, 17, "created_at")?,
    })
}

pub(super) const SYNC_LOG_COLS: &str = "id, repo, outcome, started_at, duration_ms, requests, \
    not_modified, files, manifests, attempts, error";

pub(super) fn sync_log(row: &Row<'_>) -> Result<SyncLog> {
    Ok(SyncLog {
        id: SyncLogId(row.get(0).db()?),
        repo: parse(B, "repo", &row.get::<_, String>(1).db()?)?,
        outcome: sync_outcome(B, &row.get::<_, String>(2).db()?)?,
        started_at: ts(row, 3, "started_at")?,
        duration_ms: col_u64(B, "duration_ms", row.get(4).db()?)?,
        requests: col_u32(B, "requests", row.get(5).db()?)?,
        not_modified: col_u32(B, "not_modified", row.get(6).db()?)?,
        files: col_u32(B, "files", row.get(7).db()?)?,
        manifests: col_u32(B, "manifests", row.get(8).db()?)?,
        attempts: col_u32(B, "attempts", row.get(9).db()?)?,
        error: row.get(10).db()?,
    })
}

pub(super) const REPO_ERROR_COLS: &str =
    "id, repo, source, title, detail, head_sha, url, analysis, created_at";

pub(super) fn repo_error(row: &Row<'_>) -> Result<RepoError> {
    Ok(RepoError {
        id: RepoErrorId(row.get(0).db()?),
        repo: parse(B, "repo", &row.get::<_, String>(1).db()?)?,
        source: row.get(2).db()?,
        title: row.get(3).db()?,
        detail: row.get(4).db()?,
        head_sha: row.get(5).db()?,
        url: row.get(6).db()?,
        analysis: row.get(7).db()?,
        created_at: ts(row, 8, "created_at")?,
    })
}
