//! Group commit for `record_delivery` on PostgreSQL.
//!
//! One transaction per delivery costs a round trip per statement and a WAL flush per commit.
//! Concurrent deliveries whose job has no dedupe or coalescing key (the common webhook case)
//! are instead queued to a collector task that takes everything waiting, writes the events
//! (a multi-row `INSERT … ON CONFLICT DO NOTHING`) and their jobs (a second `INSERT` over the
//! first one's `RETURNING` rows, in the same `WITH`) as one statement, so one round trip
//! commits the batch, and answers each caller after the commit. A few batches run at once, so
//! while some commit the next one fills up: the batch size adapts to the load.
//!
//! Idempotency is kept by the unique index on (hook_key, delivery_id): a duplicate of a row
//! committed before (by any process) is not inserted and reported `Duplicate` with the existing
//! id; a duplicate inside the same batch is reported `Duplicate` of its first copy. Rows are
//! inserted in key order, so two batches racing on the same keys wait for each other in the
//! same order and cannot deadlock. If a batch fails, each of its deliveries is retried on its
//! own, so one bad delivery does not fail the others.

use super::error::PgResultExt;
use super::group::Group;
use super::records::record_delivery_one;
use crate::body::StoredBody;
use kova_core::*;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;

/// At most this many deliveries per transaction.
const MAX_BATCH: usize = 512;

/// A delivery (validated, with a key-less job or none) waiting for its batch, with its body as
/// it will be stored.
type Item = (WebhookDelivery, Option<NewJob>, StoredBody);

/// A delivery of a batch being written, its job and its body as stored.
pub(super) type Row<'a> = (&'a WebhookDelivery, Option<&'a NewJob>, &'a StoredBody);

/// The handle callers send deliveries through.
#[derive(Debug, Clone)]
pub(super) struct Batcher {
    group: Group<Item, DeliveryOutcome>,
}

impl Batcher {
    /// Starts the collector on the current tokio runtime; `in_flight` batches may commit at
    /// once, each within `limit` (see `Group::start`). The collector stops when the last
    /// handle is dropped.
    pub(super) fn start(pool: PgPool, in_flight: usize, limit: Duration) -> Batcher {
        let group = Group::start("delivery", in_flight, MAX_BATCH, limit, move |batch| {
            let pool = pool.clone();
            async move { flush(&pool, batch).await }
        });
        Batcher { group }
    }

    /// Records a delivery (validated, with a key-less job or none, its body as `stored`) in
    /// the next batch.
    pub(super) async fn record(
        &self,
        delivery: WebhookDelivery,
        job: Option<NewJob>,
        stored: StoredBody,
    ) -> Result<DeliveryOutcome> {
        self.group.submit((delivery, job, stored)).await
    }
}

async fn flush(pool: &PgPool, batch: Vec<Item>) -> Vec<Result<DeliveryOutcome>> {
    let items: Vec<Row<'_>> = batch.iter().map(|(d, j, b)| (d, j.as_ref(), b)).collect();
    match insert_batch(pool, &items).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) if batch.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::warn!(error = %e, size = batch.len(), "delivery batch failed; recording one by one");
            let mut out = Vec::with_capacity(batch.len());
            for (d, j, b) in &batch {
                out.push(record_delivery_one(pool, d, j.as_ref(), b).await);
            }
            out
        }
    }
}

/// Records validated deliveries whose jobs have no dedupe or coalescing key, in one
/// statement (so one transaction); the outcomes in input order.
pub(super) async fn insert_batch(pool: &PgPool, items: &[Row<'_>]) -> Result<Vec<DeliveryOutcome>> {
    // The first copy of each key is the one to insert; later copies in the batch point at it.
    let key = |d: &WebhookDelivery| (d.hook_id.unwrap_or(0), d.delivery_id.clone());
    let mut first_of: HashMap<(i64, String), usize> = HashMap::with_capacity(items.len());
    let mut unique: Vec<usize> = Vec::with_capacity(items.len());
    for (i, (d, _, _)) in items.iter().enumerate() {
        first_of.entry(key(d)).or_insert_with(|| {
            unique.push(i);
            i
        });
    }
    unique.sort_by_key(|&i| key(items[i].0));

    let n = unique.len();
    let mut hook_id = Vec::with_capacity(n);
    let mut hook_key = Vec::with_capacity(n);
    let mut delivery_id = Vec::with_capacity(n);
    let mut event = Vec::with_capacity(n);
    let mut action = Vec::with_capacity(n);
    let mut repo = Vec::with_capacity(n);
    let mut installation = Vec::with_capacity(n);
    let mut sender = Vec::with_capacity(n);
    let mut target_type = Vec::with_capacity(n);
    let mut target_id = Vec::with_capacity(n);
    let mut user_agent = Vec::with_capacity(n);
    let mut body: Vec<&[u8]> = Vec::with_capacity(n);
    let mut body_codec = Vec::with_capacity(n);
    let mut received = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    for &i in &unique {
        let d = items[i].0;
        status.push(kova_core::store::initial_status(items[i].1).as_str());
        hook_id.push(d.hook_id);
        hook_key.push(d.hook_id.unwrap_or(0));
        delivery_id.push(d.delivery_id.as_str());
        event.push(d.event.as_str());
        action.push(d.action.as_deref());
        repo.push(d.repo.as_ref().map(|r| r.full_name()));
        installation.push(d.installation_id);
        sender.push(d.sender.as_deref());
        target_type.push(d.target_type.as_deref());
        target_id.push(d.target_id);
        user_agent.push(d.user_agent.as_deref());
        body.push(&items[i].2.bytes[..]);
        body_codec.push(items[i].2.codec);
        received.push(d.received_at);
    }

    // The jobs, keyed by their delivery: the statement joins them to the events it inserted.
    let mut job_key = Vec::new();
    let mut job_delivery = Vec::new();
    let mut kind = Vec::new();
    let mut payload = Vec::new();
    let mut max_attempts = Vec::new();
    let mut run_at = Vec::new();
    let mut created = Vec::new();
    for &i in &unique {
        let (d, Some(j), _) = items[i] else { continue };
        job_key.push(d.hook_id.unwrap_or(0));
        job_delivery.push(d.delivery_id.as_str());
        kind.push(j.kind.as_str());
        payload.push(crate::codec::to_json(&j.payload)?);
        max_attempts.push(i64::from(j.max_attempts));
        run_at.push(j.run_at.unwrap_or(d.received_at));
        created.push(d.received_at);
    }

    // One statement, so one round trip and PostgreSQL's implicit transaction, where BEGIN,
    // two inserts and COMMIT took four, each a wake-up of both processes (on a busy machine,
    // each a wait for a CPU). Jobs get their ids in their events' order.
    let inserted: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
        "WITH new_events AS (
             INSERT INTO events (hook_id, hook_key, delivery_id, event, action, repo,
                 installation_id, sender, target_type, target_id, user_agent, body, received_at,
                 status, body_codec)
             SELECT h, hk, di, ev, ac, re, ins, se, tt, ti, ua, bo, ra, st, bc
             FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[],
                         $6::TEXT[], $7::BIGINT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[],
                         $11::TEXT[], $12::BYTEA[], $13::TIMESTAMPTZ[], $14::TEXT[],
                         $15::SMALLINT[])
                 WITH ORDINALITY AS t(h, hk, di, ev, ac, re, ins, se, tt, ti, ua, bo, ra, st, bc,
                                      ord)
             ORDER BY ord
             ON CONFLICT (hook_key, delivery_id) DO NOTHING
             RETURNING id, hook_key, delivery_id
         ), new_jobs AS (
             INSERT INTO jobs (kind, event_id, payload, attempts, max_attempts, run_at, status,
                 created_at, updated_at)
             SELECT j.k, e.id, j.p, 0, j.m, j.ra, 'queued', j.ca, j.ca
             FROM new_events e
             JOIN UNNEST($16::BIGINT[], $17::TEXT[], $18::TEXT[], $19::TEXT[], $20::BIGINT[],
                         $21::TIMESTAMPTZ[], $22::TIMESTAMPTZ[]) AS j(hk, di, k, p, m, ra, ca)
               ON j.hk = e.hook_key AND j.di = e.delivery_id
             ORDER BY e.id
             RETURNING id, event_id
         )
         SELECT e.id, e.hook_key, e.delivery_id, j.id
         FROM new_events e LEFT JOIN new_jobs j ON j.event_id = e.id",
    )
    .bind(&hook_id)
    .bind(&hook_key)
    .bind(&delivery_id)
    .bind(&event)
    .bind(&action)
    .bind(&repo)
    .bind(&installation)
    .bind(&sender)
    .bind(&target_type)
    .bind(&target_id)
    .bind(&user_agent)
    .bind(&body)
    .bind(&received)
    .bind(&status)
    .bind(&body_codec)
    .bind(&job_key)
    .bind(&job_delivery)
    .bind(&kind)
    .bind(&payload)
    .bind(&max_attempts)
    .bind(&run_at)
    .bind(&created)
    .fetch_all(pool)
    .await
    .db()?;
    let mut new_ids: HashMap<(i64, String), i64> = HashMap::with_capacity(inserted.len());
    let mut job_of_event: HashMap<i64, i64> = HashMap::with_capacity(inserted.len());
    for (id, hk, di, job) in inserted {
        new_ids.insert((hk, di), id);
        if let Some(job) = job {
            job_of_event.insert(id, job);
        }
    }

    // Keys that were not inserted exist already: committed by someone else (ON CONFLICT waited
    // for them), so they are visible to the next statement.
    let missing: Vec<usize> = unique
        .iter()
        .copied()
        .filter(|&i| !new_ids.contains_key(&key(items[i].0)))
        .collect();
    let mut old_ids: HashMap<(i64, String), i64> = HashMap::new();
    if !missing.is_empty() {
        let hk: Vec<i64> = missing.iter().map(|&i| key(items[i].0).0).collect();
        let di: Vec<&str> = missing
            .iter()
            .map(|&i| items[i].0.delivery_id.as_str())
            .collect();
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT e.id, e.hook_key, e.delivery_id FROM events e
             JOIN UNNEST($1::BIGINT[], $2::TEXT[]) AS k(hk, di)
               ON e.hook_key = k.hk AND e.delivery_id = k.di",
        )
        .bind(&hk)
        .bind(&di)
        .fetch_all(pool)
        .await
        .db()?;
        old_ids = rows
            .into_iter()
            .map(|(id, hk, di)| ((hk, di), id))
            .collect();
    }

    items
        .iter()
        .enumerate()
        .map(|(i, (d, _, _))| {
            let k = key(d);
            let first = first_of[&k];
            match new_ids.get(&k) {
                Some(&id) if first == i => Ok(DeliveryOutcome::Inserted {
                    event_id: EventId(id),
                    job: job_of_event
                        .get(&id)
                        .map(|&j| EnqueueOutcome::Created(JobId(j))),
                }),
                Some(&id) => Ok(DeliveryOutcome::Duplicate {
                    event_id: EventId(id),
                }),
                None => old_ids
                    .get(&k)
                    .map(|&id| DeliveryOutcome::Duplicate {
                        event_id: EventId(id),
                    })
                    .ok_or_else(|| Error::Internal("duplicate delivery without its event".into())),
            }
        })
        .collect()
}
