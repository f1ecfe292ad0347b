//! The job queue in SQL: the same state machine as the memory store. Every function runs on the
//! write connection inside the group transaction (one writer, so a claim is exclusive by
//! construction), and takes the time it acts at from its caller.

use super::error::SqlResultExt;
use super::rows::{self, JOB_COLS};
use super::sql::{collect, opt_row};
use crate::codec::*;
use kova_core::*;
use rusqlite::{params, Connection};

/// Dedupe, coalesce, insert. The caller validated the job.
pub(super) fn enqueue(
    conn: &Connection,
    job: &NewJob,
    event_id: Option<EventId>,
    now: Timestamp,
) -> Result<EnqueueOutcome> {
    let now_us = micros(now);
    if let Some(key) = &job.dedupe_key {
        let existing: Option<i64> = opt_row(
            conn,
            "SELECT id FROM jobs WHERE dedupe_key = ?1 AND status IN ('queued', 'running', 'done')
             ORDER BY id LIMIT 1",
            [key],
            |r| r.get(0).db(),
        )?;
        if let Some(id) = existing {
            return Ok(EnqueueOutcome::Deduplicated(JobId(id)));
        }
    }
    if let Some(key) = &job.coalesce_key {
        // A SELECT, then the UPDATE only if it found jobs: cheaper than UPDATE … RETURNING,
        // which opens a temporary table for its rows on every call.
        let superseded: Vec<Option<i64>> = collect(
            conn,
            "SELECT event_id FROM jobs INDEXED BY jobs_coalesce
             WHERE coalesce_key = ?1 AND status = 'queued'",
            [key],
            |r| r.get(0).db(),
        )?;
        if !superseded.is_empty() {
            conn.prepare_cached(
                "UPDATE jobs INDEXED BY jobs_coalesce SET status = 'superseded', updated_at = ?2
                 WHERE coalesce_key = ?1 AND status = 'queued'",
            )
            .db()?
            .execute(params![key, now_us])
            .db()?;
        }
        for ev in superseded.into_iter().flatten() {
            set_event_status(conn, ev, EventStatus::Ignored)?;
        }
    }
    let run_at = micros(job.run_at.unwrap_or(now));
    // OR IGNORE: no statement journal (see `records::record_delivery`). The table has no
    // unique key and every NOT NULL column is bound, so the row is always inserted; the count
    // is checked all the same.
    let inserted = conn
        .prepare_cached(
        "INSERT OR IGNORE INTO jobs (kind, event_id, payload, dedupe_key, coalesce_key, attempts,
             max_attempts, run_at, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, 'queued', ?8, ?8)",
    )
    .db()?
    .execute(params![
        job.kind,
        event_id.map(|e| e.0),
        to_json(&job.payload)?,
        job.dedupe_key,
        job.coalesce_key,
        job.max_attempts,
        run_at,
        now_us
    ])
    .db()?;
    if inserted != 1 {
        return Err(Error::Internal("the job row was not inserted".into()));
    }
    Ok(EnqueueOutcome::Created(JobId(conn.last_insert_rowid())))
}

pub(super) fn set_event_status(conn: &Connection, event: i64, status: EventStatus) -> Result<()> {
    conn.prepare_cached("UPDATE events SET status = ?2 WHERE id = ?1")
        .db()?
        .execute(params![event, status.as_str()])
        .db()?;
    Ok(())
}

// The queue's statements name their partial index (INDEXED BY): without statistics SQLite's
// planner prefers `jobs_status (status, id)` and then sorts every queued row, which made a
// claim O(queue length) with a million jobs waiting. The test below pins the plans.

/// Running jobs whose lease expired, oldest lease first.
const CLAIM_EXPIRED_SQL: &str = "SELECT id FROM jobs INDEXED BY jobs_running
    WHERE status = 'running' AND lease_until <= ?1 ORDER BY lease_until, id LIMIT ?2";

/// Due queued jobs, oldest due first.
const CLAIM_QUEUED_SQL: &str = "SELECT id FROM jobs INDEXED BY jobs_queued
    WHERE status = 'queued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2";

/// Claims up to `limit` due jobs: expired leases first (their workers died), then queued jobs
/// in due order. Jobs whose lease expired on their last attempt are made dead instead.
pub(super) fn claim(conn: &Connection, req: &ClaimRequest) -> Result<Vec<Job>> {
    let now = micros(req.now);
    let dead: Vec<(Option<i64>, i64)> = collect(
        conn,
        "SELECT event_id, max_attempts FROM jobs INDEXED BY jobs_running
         WHERE status = 'running' AND lease_until <= ?1 AND attempts >= max_attempts",
        [now],
        |r| Ok((r.get(0).db()?, r.get(1).db()?)),
    )?;
    if !dead.is_empty() {
        conn.prepare_cached(
            "UPDATE jobs INDEXED BY jobs_running
             SET status = 'dead', lease_until = NULL, leased_by = NULL,
                 updated_at = ?1,
                 last_error = 'lease expired after the last of ' || max_attempts
                     || ' attempts (worker stopped?)'
             WHERE status = 'running' AND lease_until <= ?1 AND attempts >= max_attempts",
        )
        .db()?
        .execute([now])
        .db()?;
        for (ev, _) in dead {
            if let Some(ev) = ev {
                set_event_status(conn, ev, EventStatus::Failed)?;
            }
        }
    }
    let limit = i64::try_from(req.limit).unwrap_or(i64::MAX);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = collect(conn, CLAIM_EXPIRED_SQL, [now, limit], |r| r.get(0).db())?;
    let rest = limit - ids.len() as i64;
    if rest > 0 {
        ids.extend(collect(conn, CLAIM_QUEUED_SQL, [now, rest], |r| {
            r.get::<_, i64>(0).db()
        })?);
    }
    let until = micros(req.lease_until());
    let mut stmt = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ?2,
                 leased_by = ?3, updated_at = ?4
             WHERE id = ?1 RETURNING {JOB_COLS}"
        ))
        .db()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let mut rows = stmt.query(params![id, until, req.worker, now]).db()?;
        if let Some(row) = rows.next().db()? {
            out.push(rows::job(row)?);
        }
    }
    Ok(out)
}

/// The job's (attempts, max_attempts, event_id) if `worker` holds it; `NotFound` or
/// `Conflict` otherwise.
fn held(conn: &Connection, id: JobId, worker: &str) -> Result<(i64, i64, Option<i64>)> {
    /// (status, leased_by, attempts, max_attempts, event_id)
    type HeldRow = (String, Option<String>, i64, i64, Option<i64>);
    let row: Option<HeldRow> = opt_row(
        conn,
        "SELECT status, leased_by, attempts, max_attempts, event_id FROM jobs WHERE id = ?1",
        [id.0],
        |r| {
            Ok((
                r.get(0).db()?,
                r.get(1).db()?,
                r.get(2).db()?,
                r.get(3).db()?,
                r.get(4).db()?,
            ))
        },
    )?;
    match row {
        None => Err(Error::not_found("job", id)),
        Some((status, by, attempts, max, ev))
            if status == "running" && by.as_deref() == Some(worker) =>
        {
            Ok((attempts, max, ev))
        }
        Some(_) => Err(not_held(id.0, worker)),
    }
}

pub(super) fn renew(conn: &Connection, id: JobId, worker: &str, until: Timestamp) -> Result<()> {
    held(conn, id, worker)?;
    conn.prepare_cached("UPDATE jobs SET lease_until = ?2 WHERE id = ?1")
        .db()?
        .execute(params![id.0, micros(until)])
        .db()?;
    Ok(())
}

/// Ends a held job as done or dead, and its event with it.
pub(super) fn finish(
    conn: &Connection,
    id: JobId,
    worker: &str,
    now: Timestamp,
    status: JobStatus,
    error: Option<&str>,
) -> Result<()> {
    let (_, _, ev) = held(conn, id, worker)?;
    end(conn, id, ev, now, status, error)
}

fn end(
    conn: &Connection,
    id: JobId,
    ev: Option<i64>,
    now: Timestamp,
    status: JobStatus,
    error: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET status = ?2, lease_until = NULL, leased_by = NULL, updated_at = ?3,
             last_error = COALESCE(?4, last_error)
         WHERE id = ?1",
    )
    .db()?
    .execute(params![id.0, status.as_str(), micros(now), error])
    .db()?;
    if let Some(ev) = ev {
        let es = if status == JobStatus::Done {
            EventStatus::Processed
        } else {
            EventStatus::Failed
        };
        set_event_status(conn, ev, es)?;
    }
    Ok(())
}

pub(super) fn retry(
    conn: &Connection,
    id: JobId,
    worker: &str,
    run_at: Timestamp,
    error: &str,
    now: Timestamp,
) -> Result<RetryOutcome> {
    let (attempts, max, ev) = held(conn, id, worker)?;
    if attempts >= max {
        end(conn, id, ev, now, JobStatus::Dead, Some(error))?;
        return Ok(RetryOutcome::Dead);
    }
    conn.prepare_cached(
        "UPDATE jobs SET status = 'queued', lease_until = NULL, leased_by = NULL, run_at = ?2,
             last_error = ?3, updated_at = ?4
         WHERE id = ?1",
    )
    .db()?
    .execute(params![id.0, micros(run_at), error, micros(now)])
    .db()?;
    Ok(RetryOutcome::Rescheduled)
}

/// Queues a held job again at `run_at` without counting its attempt (release, defer); a
/// `reason` replaces the last error.
pub(super) fn release(
    conn: &Connection,
    id: JobId,
    worker: &str,
    run_at: Timestamp,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    held(conn, id, worker)?;
    conn.prepare_cached(
        "UPDATE jobs SET status = 'queued', lease_until = NULL, leased_by = NULL,
             attempts = MAX(attempts - 1, 0), run_at = ?2, updated_at = ?3,
             last_error = COALESCE(?4, last_error)
         WHERE id = ?1",
    )
    .db()?
    .execute(params![id.0, micros(run_at), micros(now), reason])
    .db()?;
    Ok(())
}

pub(super) fn summary(conn: &Connection) -> Result<JobsSummary> {
    let mut s = JobsSummary::default();
    let counts: Vec<(String, i64)> = collect(
        conn,
        "SELECT status, COUNT(*) FROM jobs GROUP BY status",
        [],
        |r| Ok((r.get(0).db()?, r.get(1).db()?)),
    )?;
    for (status, n) in counts {
        let n = col_u64("sqlite", "count", n)?;
        match parse::<JobStatus>("sqlite", "status", &status)? {
            JobStatus::Queued => s.queued = n,
            JobStatus::Running => s.running = n,
            JobStatus::Done => s.done = n,
            JobStatus::Dead => s.dead = n,
            JobStatus::Superseded => s.superseded = n,
        }
    }
    let oldest: Option<i64> = opt_row(
        conn,
        "SELECT MIN(created_at) FROM jobs INDEXED BY jobs_queued WHERE status = 'queued'",
        [],
        |r| r.get(0).db(),
    )?
    .flatten();
    s.oldest_queued_at = oldest
        .map(|us| from_micros("sqlite", "created_at", us))
        .transpose()?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_walk_their_partial_index_without_sorting() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(include_str!("../../migrations/sqlite/0001_init.sql"))
            .unwrap();
        for (sql, index) in [
            (CLAIM_QUEUED_SQL, "jobs_queued"),
            (CLAIM_EXPIRED_SQL, "jobs_running"),
        ] {
            let plan: Vec<String> = c
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([1, 5], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(plan.contains(index), "{plan}");
            assert!(
                !plan.contains("TEMP B-TREE"),
                "no sort of the queue: {plan}"
            );
        }
    }
}
