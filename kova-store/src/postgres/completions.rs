//! Group commit for `complete_job` on PostgreSQL.
//!
//! A worker pool finishes its claimed jobs at about the same time; one statement per job
//! would cost a round trip and a WAL flush each. Concurrent completions are instead written by
//! one `UPDATE … FROM UNNEST(…)` that marks every job still held by its caller `done` (and its
//! event `processed`), committed once. A completion that matched no row (the job is missing or
//! someone else holds it now) is explained on its own, exactly as the one-by-one path would;
//! if the whole statement fails, each completion is retried alone so one bad row cannot fail
//! the others.

use super::error::PgResultExt;
use super::group::Group;
use super::jobs;
use kova_core::*;
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Duration;

/// At most this many completions per statement.
const MAX_GROUP: usize = 512;

/// A completion waiting for its group: job, worker, when.
type Item = (JobId, String, Timestamp);

/// The handle callers complete jobs through.
#[derive(Debug, Clone)]
pub(super) struct Completer {
    group: Group<Item, ()>,
}

impl Completer {
    /// Starts the collector on the current tokio runtime; `in_flight` groups may commit at once,
    /// each within `limit` (see `Group::start`).
    pub(super) fn start(pool: PgPool, in_flight: usize, limit: Duration) -> Completer {
        let group = Group::start("completion", in_flight, MAX_GROUP, limit, move |items| {
            let pool = pool.clone();
            async move { flush(&pool, items).await }
        });
        Completer { group }
    }

    /// Marks a job the worker holds `done`, in the next group.
    pub(super) async fn complete(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        self.group.submit((id, worker.to_string(), now)).await
    }
}

async fn flush(pool: &PgPool, items: Vec<Item>) -> Vec<Result<()>> {
    if items.len() == 1 {
        let (id, worker, now) = &items[0];
        return vec![jobs::finish(pool, *id, worker, *now, JobStatus::Done, None).await];
    }
    match complete_many(pool, &items).await {
        Ok(done) => {
            let mut out = Vec::with_capacity(items.len());
            let mut answered = HashSet::with_capacity(done.len());
            for (id, worker, _) in &items {
                // A job completed twice in one group counts once, like two calls in a row.
                if done.contains(&id.0) && answered.insert(id.0) {
                    out.push(Ok(()));
                } else {
                    out.push(Err(jobs::explain_miss(pool, *id, worker).await));
                }
            }
            out
        }
        Err(e) => {
            tracing::warn!(error = %e, size = items.len(), "completion group failed; completing one by one");
            let mut out = Vec::with_capacity(items.len());
            for (id, worker, now) in &items {
                out.push(jobs::finish(pool, *id, worker, *now, JobStatus::Done, None).await);
            }
            out
        }
    }
}

/// Completes every job still held by its worker; the ids that were.
async fn complete_many(pool: &PgPool, items: &[Item]) -> Result<HashSet<i64>> {
    // Rows are locked in id order, so two groups touching the same jobs cannot deadlock; the
    // update needs no second status check, the rows are locked since `held` checked them.
    // `IS NOT FALSE`: see the note above `jobs::explain_miss`.
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|(id, _, _)| id.0);
    let ids: Vec<i64> = sorted.iter().map(|(id, _, _)| id.0).collect();
    let workers: Vec<&str> = sorted.iter().map(|(_, w, _)| w.as_str()).collect();
    let at: Vec<Timestamp> = sorted.iter().map(|(_, _, now)| *now).collect();
    let done: Vec<i64> = sqlx::query_scalar(
        "WITH input AS (
             SELECT DISTINCT ON (id) id, worker, at
             FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TIMESTAMPTZ[]) AS t(id, worker, at)
             ORDER BY id
         ), held AS (
             SELECT j.id, input.at FROM jobs j JOIN input ON j.id = input.id
             WHERE (j.status = 'running') IS NOT FALSE AND j.leased_by = input.worker
             ORDER BY j.id
             FOR UPDATE OF j
         ), j AS (
             UPDATE jobs SET status = 'done', lease_until = NULL, leased_by = NULL,
                 updated_at = held.at
             FROM held WHERE jobs.id = held.id
             RETURNING jobs.id, jobs.event_id
         ), e AS (
             UPDATE events SET status = 'processed' WHERE id IN (SELECT event_id FROM j)
         )
         SELECT id FROM j",
    )
    .bind(&ids)
    .bind(&workers)
    .bind(&at)
    .fetch_all(pool)
    .await
    .db()?;
    Ok(done.into_iter().collect())
}
