//! The PostgreSQL store (feature `postgres`): a connection pool shared by any number of
//! processes. The job queue claims with `FOR UPDATE SKIP LOCKED` and leases, so many workers on
//! many machines share it safely; concurrent `record_delivery` calls are group-committed (see
//! `batch`). Every claim and list path is backed by an index (see the migrations and the
//! EXPLAIN test).

mod batch;
mod completions;
mod error;
mod group;
mod jobs;
pub(crate) mod migrate;
mod records;
mod routines;
mod rows;

use crate::body;
use crate::open::redact_url;
use async_trait::async_trait;
use batch::Batcher;
use completions::Completer;
use error::PgResultExt;
use kova_core::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

/// Options of a [`PostgresStore`]. Start from `PgOptions::default()` and use the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgOptions {
    /// Pool size. Default: 16.
    pub max_connections: u32,
    /// The schema holding Kova's tables (created if missing; the connections' `search_path`).
    /// `None` uses the connection's default (usually `public`). Default: `None`.
    pub schema: Option<String>,
    /// How long an operation waits for a free connection. Default: 10 s.
    pub acquire_timeout: Duration,
    /// Delivery batches (and job-completion groups) committing at once (group commit). Fewer,
    /// larger batches cost the database less per delivery: on a 2-core machine shared with the
    /// server and its clients, 2 recorded 1.08–1.10× the deliveries of 4 (and 1 about as many
    /// as 2). Default: 2.
    pub batches_in_flight: usize,
    /// How long PostgreSQL lets one of Kova's connections sit idle inside a transaction before
    /// it ends the session (`idle_in_transaction_session_timeout`). Kova's transactions never
    /// wait on anything but the database, so an idle one means a stuck client: ending it
    /// releases its locks (a claimed job's row, a delivery's key) and fails the stuck call
    /// instead of leaving it, and every caller queued behind it, hanging. `Duration::ZERO`
    /// leaves the server's setting. Default: 60 s.
    pub idle_in_transaction_timeout: Duration,
    /// How long one [`Store`] call may take, waiting for a connection included, before it fails
    /// with a transient [`Error::Backend`]. A connection that goes half-open (the server's
    /// machine lost, a route dropped, a peer frozen: no reset ever arrives) otherwise leaves
    /// the call, and every delivery batched with it, waiting until the kernel gives up on the
    /// TCP connection, a quarter of an hour by Linux's defaults. Whether a call that timed
    /// out took effect is unknown, as for any lost connection; a redelivered webhook is
    /// recognised by its delivery id. Bulk loads ([`PostgresStore::record_deliveries`]) are
    /// not limited. `Duration::ZERO`: no limit. Default: 30 s.
    pub operation_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            schema: None,
            acquire_timeout: Duration::from_secs(10),
            batches_in_flight: 2,
            idle_in_transaction_timeout: Duration::from_secs(60),
            operation_timeout: Duration::from_secs(30),
        }
    }
}

impl PgOptions {
    /// Sets the pool size (at least 1).
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Keeps Kova's tables in this schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
    /// Sets how long to wait for a free connection.
    pub fn with_acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }
    /// Sets how many delivery batches may commit at once.
    pub fn with_batches_in_flight(mut self, n: usize) -> Self {
        self.batches_in_flight = n.max(1);
        self
    }
    /// Sets how long a connection may idle inside a transaction (`Duration::ZERO`: the
    /// server's setting). Rounded up to whole milliseconds.
    pub fn with_idle_in_transaction_timeout(mut self, d: Duration) -> Self {
        self.idle_in_transaction_timeout = d;
        self
    }
    /// Sets how long one store call may take (`Duration::ZERO`: no limit).
    pub fn with_operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = d;
        self
    }
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: PgPool,
    batcher: Batcher,
    completer: Completer,
    shown: String,
    options: PgOptions,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.shown)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Removes Kova's own `schema` parameter from a URL's query (sqlx would warn about a
/// parameter it does not know) and returns it. The value is taken as written: a valid schema
/// name needs no percent-decoding, and anything else fails validation with the value shown.
fn take_schema_param(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("schema", value)) => {
                // The last one wins, as for sqlx's own parameters.
                schema = Some(value.to_string());
                false
            }
            _ => true,
        })
        .collect();
    let rest = rest.join("&");
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{rest}")
    };
    (url, schema)
}

/// A schema name must be a plain identifier: it is put into SQL (quoted) and `search_path`.
fn validate_schema(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "postgres schema must be 1..=63 lowercase letters, digits and '_', not starting \
             with a digit (got '{s}')"
        )))
    }
}

impl PostgresStore {
    /// Connects to the database `url` names (`postgres://user:password@host:port/db`, sqlx's
    /// URL options accepted), then migrates the schema. The URL may name Kova's schema itself
    /// (`?schema=kova`), so a URL alone (`DATABASE_URL`, [`open`](crate::open)) can keep
    /// Kova's tables out of `public`; naming two different schemas, in the URL and in
    /// `options`, is an [`Error::Config`]. The password never appears in errors or `Debug`
    /// output.
    pub async fn connect(url: &str, mut options: PgOptions) -> Result<PostgresStore> {
        let (url, from_url) = take_schema_param(url);
        let url = url.as_str();
        if let Some(s) = from_url {
            if let Some(o) = options.schema.as_ref().filter(|o| **o != s) {
                return Err(Error::Config(format!(
                    "the postgres URL names schema '{s}' but the options name '{o}': name it once"
                )));
            }
            options.schema = Some(s);
        }
        let shown = redact_url(url);
        let scrub = |m: String| scrub_password(&m, url);
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(scrub(format!("invalid postgres URL {shown}: {e}"))))?;
        connect = connect.application_name("kova");
        if let Some(s) = &options.schema {
            validate_schema(s)?;
            connect = connect.options([("search_path", s.as_str())]);
        }
        let idle = options.idle_in_transaction_timeout;
        if !idle.is_zero() {
            let ms = idle.as_nanos().div_ceil(1_000_000);
            connect = connect.options([("idle_in_transaction_session_timeout", ms)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| {
                let transient = !matches!(e, sqlx::Error::Configuration(_));
                Error::Backend {
                    backend: "postgres",
                    message: scrub(format!("cannot connect to {shown}: {e}")),
                    transient,
                    source: None,
                }
            })?;
        migrate::migrate(&pool, options.schema.as_deref()).await?;
        let limit = options.operation_timeout;
        let batcher = Batcher::start(pool.clone(), options.batches_in_flight, limit);
        let completer = Completer::start(pool.clone(), options.batches_in_flight, limit);
        Ok(PostgresStore {
            pool,
            batcher,
            completer,
            shown,
            options,
        })
    }

    /// Runs one store call within [`PgOptions::operation_timeout`], failing it with a
    /// transient error when it runs out. Dropping the unfinished call drops its transaction:
    /// sqlx rolls it back if the connection answers again, or closes the connection when the
    /// kernel gives up on it (its pool slot stays taken until then).
    async fn bounded<T>(
        &self,
        call: &'static str,
        op: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let limit = self.options.operation_timeout;
        within(limit, op)
            .await
            .unwrap_or_else(|| Err(timed_out(call, limit)))
    }

    /// The connection pool (for administration and tests: EXPLAIN, bulk loads).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Drops this store's schema with every table in it: for tests and benchmarks that made
    /// a schema of their own. Refused when no schema was configured (it would be `public`).
    pub async fn drop_schema(&self) -> Result<()> {
        let schema = self.options.schema.as_deref().ok_or_else(|| {
            Error::Config("drop_schema needs a store opened with PgOptions::with_schema".into())
        })?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    /// Records many deliveries with one transaction per batch of key-less jobs (imports,
    /// backfills); deliveries whose jobs have dedupe or coalescing keys are recorded one by
    /// one. The outcomes come in input order.
    pub async fn record_deliveries(
        &self,
        items: Vec<(WebhookDelivery, Option<NewJob>)>,
    ) -> Result<Vec<DeliveryOutcome>> {
        for (d, j) in &items {
            d.validate()?;
            if let Some(j) = j {
                j.validate()?;
            }
        }
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(1000) {
            let plain = chunk.iter().all(|(_, j)| j.as_ref().is_none_or(keyless));
            let bodies: Vec<_> = chunk.iter().map(|(d, _)| body::encode(&d.body)).collect();
            let rows: Vec<batch::Row<'_>> = chunk
                .iter()
                .zip(&bodies)
                .map(|((d, j), b)| (d, j.as_ref(), b))
                .collect();
            if plain {
                out.extend(batch::insert_batch(&self.pool, &rows).await?);
            } else {
                for (d, j, b) in rows {
                    out.push(records::record_delivery_one(&self.pool, d, j, b).await?);
                }
            }
        }
        Ok(out)
    }
}

/// Runs `op` for at most `limit` (`Duration::ZERO`: no limit); `None` if it ran out.
async fn within<F: Future>(limit: Duration, op: F) -> Option<F::Output> {
    if limit.is_zero() {
        return Some(op.await);
    }
    tokio::time::timeout(limit, op).await.ok()
}

/// The error of a call that got no answer within `limit`.
fn timed_out(call: &str, limit: Duration) -> Error {
    Error::Backend {
        backend: "postgres",
        message: format!(
            "{call}: no answer within {limit:?}; the connection may be half-open or the server \
             stuck, and whether the call took effect is unknown"
        ),
        transient: true,
        source: None,
    }
}

/// A job that needs no advisory lock, so it can ride in a delivery batch.
fn keyless(j: &NewJob) -> bool {
    j.dedupe_key.is_none() && j.coalesce_key.is_none()
}

/// Removes the URL's password from a message, wherever a library may have echoed it.
fn scrub_password(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => message.replace(p, "***"),
        None => message.to_string(),
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::new(true, true)
    }

    async fn health(&self) -> Result<()> {
        self.bounded("health", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .db()
                .map(|_| ())
        })
        .await
    }

    async fn upsert_repository(&self, repo: &Repository) -> Result<()> {
        self.bounded("upsert_repository", async {
            repo.validate()?;
            records::upsert_repository(&self.pool, repo).await
        })
        .await
    }

    async fn get_repository(&self, repo: &RepoRef) -> Result<Option<Repository>> {
        self.bounded("get_repository", async {
            records::get_repository(&self.pool, repo).await
        })
        .await
    }

    async fn list_repositories(&self, opts: &ListOptions) -> Result<Page<Repository>> {
        self.bounded("list_repositories", async {
            records::list_repositories(&self.pool, opts).await
        })
        .await
    }

    async fn record_snapshot(&self, snapshot: &RepoSnapshot) -> Result<()> {
        self.bounded("record_snapshot", async {
            records::record_snapshot(&self.pool, snapshot).await
        })
        .await
    }

    async fn list_snapshots(
        &self,
        repo: &RepoRef,
        opts: &ListOptions,
    ) -> Result<Page<RepoSnapshot>> {
        self.bounded("list_snapshots", async {
            records::list_snapshots(&self.pool, repo, opts).await
        })
        .await
    }

    async fn record_delivery(
        &self,
        delivery: &WebhookDelivery,
        job: Option<&NewJob>,
    ) -> Result<DeliveryOutcome> {
        self.bounded("record_delivery", async {
            delivery.validate()?;
            if let Some(j) = job {
                j.validate()?;
            }
            // Compressed here, on the caller's task, outside any batch or transaction.
            let stored = body::encode(&delivery.body);
            if job.is_none_or(keyless) {
                self.batcher
                    .record(delivery.clone(), job.cloned(), stored)
                    .await
            } else {
                records::record_delivery_one(&self.pool, delivery, job, &stored).await
            }
        })
        .await
    }

    async fn get_event(&self, id: EventId) -> Result<Option<WebhookEvent>> {
        self.bounded("get_event", async {
            records::get_event(&self.pool, id).await
        })
        .await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        opts: &ListOptions,
    ) -> Result<Page<WebhookEvent>> {
        self.bounded("list_events", async {
            records::list_events(&self.pool, filter, opts).await
        })
        .await
    }

    async fn set_event_status(&self, id: EventId, status: EventStatus) -> Result<()> {
        self.bounded("set_event_status", async {
            records::set_event_status(&self.pool, id, status).await
        })
        .await
    }

    async fn enqueue(&self, job: &NewJob, now: Timestamp) -> Result<EnqueueOutcome> {
        self.bounded("enqueue", async {
            job.validate()?;
            jobs::enqueue(&self.pool, job, now).await
        })
        .await
    }

    async fn claim_jobs(&self, req: &ClaimRequest) -> Result<Vec<Job>> {
        self.bounded("claim_jobs", async { jobs::claim(&self.pool, req).await })
            .await
    }

    async fn renew_lease(&self, id: JobId, worker: &str, until: Timestamp) -> Result<()> {
        self.bounded("renew_lease", async {
            jobs::renew(&self.pool, id, worker, until).await
        })
        .await
    }

    async fn complete_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        self.bounded("complete_job", async {
            self.completer.complete(id, worker, now).await
        })
        .await
    }

    async fn retry_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<RetryOutcome> {
        self.bounded("retry_job", async {
            jobs::retry(&self.pool, id, worker, run_at, error, now).await
        })
        .await
    }

    async fn fail_job(&self, id: JobId, worker: &str, error: &str, now: Timestamp) -> Result<()> {
        self.bounded("fail_job", async {
            jobs::finish(&self.pool, id, worker, now, JobStatus::Dead, Some(error)).await
        })
        .await
    }

    async fn release_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        self.bounded("release_job", async {
            jobs::release(&self.pool, id, worker, now, None, now).await
        })
        .await
    }

    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.bounded("defer_job", async {
            jobs::release(&self.pool, id, worker, run_at, Some(reason), now).await
        })
        .await
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        self.bounded("get_job", async { records::get_job(&self.pool, id).await })
            .await
    }

    async fn list_jobs(&self, filter: &JobFilter, opts: &ListOptions) -> Result<Page<Job>> {
        self.bounded("list_jobs", async {
            records::list_jobs(&self.pool, filter, opts).await
        })
        .await
    }

    async fn jobs_summary(&self) -> Result<JobsSummary> {
        self.bounded("jobs_summary", async { jobs::summary(&self.pool).await })
            .await
    }

    async fn insert_artifact(
        &self,
        artifact: &NewArtifact,
        now: Timestamp,
    ) -> Result<ArtifactOutcome> {
        self.bounded("insert_artifact", async {
            artifact.validate()?;
            records::insert_artifact(&self.pool, artifact, now).await
        })
        .await
    }

    async fn get_artifact(&self, id: ArtifactId) -> Result<Option<Artifact>> {
        self.bounded("get_artifact", async {
            records::get_artifact(&self.pool, id).await
        })
        .await
    }

    async fn find_artifact_by_key(&self, key: &str) -> Result<Option<Artifact>> {
        self.bounded("find_artifact_by_key", async {
            records::find_artifact_by_key(&self.pool, key).await
        })
        .await
    }

    async fn list_artifacts(
        &self,
        filter: &ArtifactFilter,
        opts: &ListOptions,
    ) -> Result<Page<Artifact>> {
        self.bounded("list_artifacts", async {
            records::list_artifacts(&self.pool, filter, opts).await
        })
        .await
    }

    async fn record_interaction(&self, interaction: &LlmInteraction) -> Result<InteractionId> {
        self.bounded("record_interaction", async {
            records::record_interaction(&self.pool, interaction).await
        })
        .await
    }

    async fn list_interactions(
        &self,
        filter: &InteractionFilter,
        opts: &ListOptions,
    ) -> Result<Page<LlmInteraction>> {
        self.bounded("list_interactions", async {
            records::list_interactions(&self.pool, filter, opts).await
        })
        .await
    }

    async fn usage_totals(&self, filter: &InteractionFilter) -> Result<UsageTotals> {
        self.bounded("usage_totals", async {
            records::usage_totals(&self.pool, filter).await
        })
        .await
    }

    async fn record_sync_log(&self, log: &SyncLog) -> Result<SyncLogId> {
        self.bounded("record_sync_log", async {
            records::record_sync_log(&self.pool, log).await
        })
        .await
    }

    async fn list_sync_logs(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<SyncLog>> {
        self.bounded("list_sync_logs", async {
            records::list_sync_logs(&self.pool, repo, opts).await
        })
        .await
    }

    async fn record_repo_error(&self, error: &RepoError) -> Result<RepoErrorId> {
        self.bounded("record_repo_error", async {
            records::record_repo_error(&self.pool, error).await
        })
        .await
    }

    async fn list_repo_errors(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<RepoError>> {
        self.bounded("list_repo_errors", async {
            records::list_repo_errors(&self.pool, repo, opts).await
        })
        .await
    }
}

#[cfg(test)]
mod tests;
