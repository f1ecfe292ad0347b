//! The job queue in SQL: the same state machine as the memory store, made safe for many
//! processes. Claims lock with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait for
//! each other and never get the same job; every state change is one statement that also checks
//! the lease, so a worker whose lease was taken over cannot finish the job.

use super::error::PgResultExt;
use super::rows::{self, col, JOB_COLS};
use kova_core::*;
use sqlx::{PgConnection, PgPool};

/// Takes a transaction-scoped advisory lock on a key (an artifact's idempotency key or
/// version series), so two transactions deciding on the same key take turns. Callers lock in
/// a fixed order, so two transactions never wait for each other in a cycle. The dedupe and
/// coalescing keys of jobs are locked the same way, by `kova_enqueue_job` (see `routines`).
pub(super) async fn lock_key(conn: &mut PgConnection, space: &str, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("kova:{space}:{key}"))
        .execute(conn)
        .await
        .db()?;
    Ok(())
}

/// Dedupes, coalesces and inserts a job without an event, in one round trip (the
/// `kova_enqueue_job` function). The caller validated the job.
pub(super) async fn enqueue(pool: &PgPool, job: &NewJob, now: Timestamp) -> Result<EnqueueOutcome> {
    let (deduplicated, id): (bool, i64) =
        sqlx::query_as("SELECT * FROM kova_enqueue_job($1, NULL, $2, $3, $4, $5, $6, $7)")
            .bind(&job.kind)
            .bind(crate::codec::to_json(&job.payload)?)
            .bind(&job.dedupe_key)
            .bind(&job.coalesce_key)
            .bind(i64::from(job.max_attempts))
            .bind(job.run_at.unwrap_or(now))
            .bind(now)
            .fetch_one(pool)
            .await
            .db()?;
    Ok(enqueue_outcome(deduplicated, id))
}

/// What `kova_enqueue_job` answered.
pub(super) fn enqueue_outcome(deduplicated: bool, id: i64) -> EnqueueOutcome {
    if deduplicated {
        EnqueueOutcome::Deduplicated(JobId(id))
    } else {
        EnqueueOutcome::Created(JobId(id))
    }
}

/// The claim, in one statement: jobs whose lease expired on their last attempt become dead
/// (and their events failed); then expired leases (priority 0) and due queued jobs
/// (priority 1) are locked with SKIP LOCKED, the first `$4` in (priority, due, id) order are
/// leased. `$1` now, `$2` lease end, `$3` worker, `$4` limit.
pub(crate) const CLAIM_SQL: &str = "
WITH dead AS (
    UPDATE jobs SET status = 'dead', lease_until = NULL, leased_by = NULL, updated_at = $1,
        last_error = 'lease expired after the last of ' || max_attempts
            || ' attempts (worker stopped?)'
    WHERE id IN (
        SELECT id FROM jobs
        WHERE status = 'running' AND lease_until <= $1 AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED)
    RETURNING event_id
), dead_events AS (
    UPDATE events SET status = 'failed' WHERE id IN (SELECT event_id FROM dead)
), expired AS (
    SELECT id, 0 AS pri, lease_until AS due FROM jobs
    WHERE status = 'running' AND lease_until <= $1 AND attempts < max_attempts
    ORDER BY lease_until, id LIMIT $4
    FOR UPDATE SKIP LOCKED
), due AS (
    SELECT id, 1 AS pri, run_at AS due FROM jobs
    WHERE status = 'queued' AND run_at <= $1
    ORDER BY run_at, id LIMIT $4
    FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id AS cid, pri, due FROM (SELECT * FROM expired UNION ALL SELECT * FROM due) u
    ORDER BY pri, due, id LIMIT $4
)
UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_until = $2,
    leased_by = $3, updated_at = $1
FROM picked WHERE j.id = picked.cid
RETURNING ";

/// Planner settings the claim runs under. The claim must walk `jobs_queued` in due order and
/// stop after `limit` rows; but right after a burst of enqueues (a backlog after an outage, a
/// bulk import) the table's statistics still describe the small queue of before, and the
/// planner then reads every due job with a bitmap scan and sorts them all, on every claim:
/// in the store bench, claim+complete ran at 3.2k/s instead of the 11.2k/s it reached after an
/// ANALYZE, until autovacuum's next one.
/// With bitmap and sequential scans off for the claim alone it keeps the ordered index walk
/// whatever the statistics. JIT is off too: a disabled plan node's huge cost would otherwise
/// make this small query look worth compiling (280 ms a call, measured with auto_explain).
pub(crate) const CLAIM_SETTINGS: &[(&str, &str)] = &[
    ("enable_bitmapscan", "off"),
    ("enable_seqscan", "off"),
    ("jit", "off"),
];

/// The claim as a function (`SET` clauses only exist on functions), created by `migrate`.
pub(crate) fn claim_function_sql() -> String {
    let settings: Vec<String> = CLAIM_SETTINGS
        .iter()
        .map(|(k, v)| format!("SET {k} = {v}"))
        .collect();
    format!(
        "CREATE OR REPLACE FUNCTION kova_claim_jobs(TIMESTAMPTZ, TIMESTAMPTZ, TEXT, BIGINT)
         RETURNS TABLE (id BIGINT, kind TEXT, event_id BIGINT, payload TEXT, dedupe_key TEXT,
             coalesce_key TEXT, attempts BIGINT, max_attempts BIGINT, run_at TIMESTAMPTZ,
             lease_until TIMESTAMPTZ, leased_by TEXT, status TEXT, last_error TEXT,
             created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, pri INT, due TIMESTAMPTZ)
         LANGUAGE sql VOLATILE {}
         AS $kova$ {CLAIM_SQL}{JOB_COLS}, picked.pri, picked.due $kova$",
        settings.join(" ")
    )
}

pub(super) async fn claim(pool: &PgPool, req: &ClaimRequest) -> Result<Vec<Job>> {
    if req.limit == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(req.limit).unwrap_or(i64::MAX);
    let rows = sqlx::query("SELECT * FROM kova_claim_jobs($1, $2, $3, $4)")
        .bind(req.now)
        .bind(req.lease_until())
        .bind(&req.worker)
        .bind(limit)
        .fetch_all(pool)
        .await
        .db()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let pri: i32 = col(row, 15)?;
        let due: Timestamp = col(row, 16)?;
        out.push(((pri, due), rows::job(row)?));
    }
    out.sort_by(|(a, ja), (b, jb)| a.cmp(b).then(ja.id.cmp(&jb.id)));
    Ok(out.into_iter().map(|(_, j)| j).collect())
}

// Every "the job this worker holds" lookup below says `(status = 'running') IS NOT FALSE`
// (the same thing: status is never NULL) instead of `status = 'running'`. The plain form lets
// the planner answer it from the partial index `jobs_running (lease_until, id)`, where the id
// is not the leading column: that is a walk over every entry of the index, including those of
// the thousands of jobs finished since the last vacuum, once per job (store bench on a loaded
// machine: claim+complete batch 50 at 2.1k/s before, 6.4k/s after). This form cannot use that index, so the lookup goes through the primary key.

/// After a state change matched no row: the job is missing, or someone else holds it.
pub(super) async fn explain_miss(pool: &PgPool, id: JobId, worker: &str) -> Error {
    match sqlx::query_scalar::<_, i64>("SELECT id FROM jobs WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
    {
        Ok(None) => Error::not_found("job", id),
        Ok(Some(_)) => crate::codec::not_held(id.0, worker),
        Err(e) => super::error::pg_err(e),
    }
}

pub(super) async fn renew(pool: &PgPool, id: JobId, worker: &str, until: Timestamp) -> Result<()> {
    let n = sqlx::query(
        "UPDATE jobs SET lease_until = $3
         WHERE id = $1 AND (status = 'running') IS NOT FALSE AND leased_by = $2",
    )
    .bind(id.0)
    .bind(worker)
    .bind(until)
    .execute(pool)
    .await
    .db()?
    .rows_affected();
    if n == 0 {
        return Err(explain_miss(pool, id, worker).await);
    }
    Ok(())
}

/// Ends a held job as done or dead, and its event with it, in one statement.
pub(super) async fn finish(
    pool: &PgPool,
    id: JobId,
    worker: &str,
    now: Timestamp,
    status: JobStatus,
    error: Option<&str>,
) -> Result<()> {
    let event_status = if status == JobStatus::Done {
        EventStatus::Processed
    } else {
        EventStatus::Failed
    };
    let n: i64 = sqlx::query_scalar(
        "WITH j AS (
             UPDATE jobs SET status = $4, lease_until = NULL, leased_by = NULL, updated_at = $3,
                 last_error = COALESCE($5, last_error)
             WHERE id = $1 AND (status = 'running') IS NOT FALSE AND leased_by = $2
             RETURNING event_id
         ), e AS (
             UPDATE events SET status = $6 WHERE id IN (SELECT event_id FROM j)
         )
         SELECT COUNT(*) FROM j",
    )
    .bind(id.0)
    .bind(worker)
    .bind(now)
    .bind(status.as_str())
    .bind(error)
    .bind(event_status.as_str())
    .fetch_one(pool)
    .await
    .db()?;
    if n == 0 {
        return Err(explain_miss(pool, id, worker).await);
    }
    Ok(())
}

pub(super) async fn retry(
    pool: &PgPool,
    id: JobId,
    worker: &str,
    run_at: Timestamp,
    error: &str,
    now: Timestamp,
) -> Result<RetryOutcome> {
    let status: Option<String> = sqlx::query_scalar(
        "WITH j AS (
             UPDATE jobs SET
                 status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                 run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE $3 END,
                 lease_until = NULL, leased_by = NULL, last_error = $4, updated_at = $5
             WHERE id = $1 AND (status = 'running') IS NOT FALSE AND leased_by = $2
             RETURNING status, event_id
         ), e AS (
             UPDATE events SET status = 'failed'
             WHERE id IN (SELECT event_id FROM j WHERE status = 'dead')
         )
         SELECT status FROM j",
    )
    .bind(id.0)
    .bind(worker)
    .bind(run_at)
    .bind(error)
    .bind(now)
    .fetch_optional(pool)
    .await
    .db()?;
    match status.as_deref() {
        None => Err(explain_miss(pool, id, worker).await),
        Some("dead") => Ok(RetryOutcome::Dead),
        Some(_) => Ok(RetryOutcome::Rescheduled),
    }
}

/// Queues a held job again at `run_at` without counting its attempt (release, defer); a
/// `reason` replaces the last error.
pub(super) async fn release(
    pool: &PgPool,
    id: JobId,
    worker: &str,
    run_at: Timestamp,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE jobs SET status = 'queued', lease_until = NULL, leased_by = NULL,
             attempts = GREATEST(attempts - 1, 0), run_at = $3, updated_at = $4,
             last_error = COALESCE($5, last_error)
         WHERE id = $1 AND (status = 'running') IS NOT FALSE AND leased_by = $2",
    )
    .bind(id.0)
    .bind(worker)
    .bind(run_at)
    .bind(now)
    .bind(reason)
    .execute(pool)
    .await
    .db()?
    .rows_affected();
    if n == 0 {
        return Err(explain_miss(pool, id, worker).await);
    }
    Ok(())
}

pub(super) async fn summary(pool: &PgPool) -> Result<JobsSummary> {
    let row = sqlx::query(
        "SELECT COUNT(*) FILTER (WHERE status = 'queued'),
                COUNT(*) FILTER (WHERE status = 'running'),
                COUNT(*) FILTER (WHERE status = 'done'),
                COUNT(*) FILTER (WHERE status = 'dead'),
                COUNT(*) FILTER (WHERE status = 'superseded'),
                MIN(created_at) FILTER (WHERE status = 'queued')
         FROM jobs",
    )
    .fetch_one(pool)
    .await
    .db()?;
    let n = |i: usize| -> Result<u64> {
        crate::codec::col_u64("postgres", "count", col::<i64>(&row, i)?)
    };
    Ok(JobsSummary {
        queued: n(0)?,
        running: n(1)?,
        done: n(2)?,
        dead: n(3)?,
        superseded: n(4)?,
        oldest_queued_at: col(&row, 5)?,
    })
}
