//! The SQLite store (feature `sqlite`): one file, WAL journal, one write connection that commits
//! concurrent writes in groups (on the task of one of their callers, see the `writer` module),
//! a checkpoint thread, and a small pool of read connections.
//!
//! # Durability
//! A write is acknowledged only after the transaction carrying it committed. What "committed"
//! survives depends on [`Synchronous`]:
//! - [`Synchronous::Normal`] (default): in WAL mode SQLite writes each commit to the WAL but
//!   does not fsync it; the WAL is fsynced at checkpoints. A crash of the *process* (panic,
//!   SIGKILL, OOM kill) loses nothing acknowledged; a crash of the *machine* (power loss,
//!   kernel panic) may lose the last commits before the latest checkpoint, never corrupting
//!   the database.
//! - [`Synchronous::Full`]: the WAL is fsynced at every commit, so an acknowledged write
//!   survives power loss too, at the cost of one fsync per group (group commit shares it
//!   among every write of the group).
//!
//! # Files
//! Beside the database file `kova.db` live `kova.db-wal` (kept up to about 270 MB under a
//! sustained write load: it is reused rather than shrunk, see the `checkpoint` module) and
//! `kova.db-shm`. Copy the database only after [`SqliteStore::checkpoint`], or with SQLite's
//! backup tools. Each database file the process opens keeps one extra descriptor open until
//! the process exits (closing it would drop SQLite's locks on the file).

mod checkpoint;
mod error;
mod jobs;
mod lookups;
pub(crate) mod migrate;
mod readers;
mod records;
mod rows;
mod sched;
mod sql;
#[allow(unsafe_code)] // FFI: a VFS is C callbacks over raw file objects.
mod wal_vfs;
mod writer;

use crate::body;
use async_trait::async_trait;
use error::SqlResultExt;
use kova_core::*;
use readers::Readers;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use writer::Writer;

/// How hard SQLite works to make a commit survive a machine crash (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// Survives a process crash; a power loss may lose the last commits (module docs).
    #[default]
    Normal,
    /// Survives a power loss too: one fsync per commit group.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

impl std::str::FromStr for Synchronous {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            _ => Err(Error::Config(format!(
                "sqlite synchronous must be 'normal' or 'full' (got '{s}')"
            ))),
        }
    }
}

/// Options of a [`SqliteStore`]. Start from `SqliteOptions::default()` and use the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Durability of a commit; see [`Synchronous`]. Default: `Normal`.
    pub synchronous: Synchronous,
    /// Read connections (reads running at once). Default: 4.
    pub read_connections: usize,
    /// How long a statement waits for a lock held by another process before failing with a
    /// transient error. Default: 5 s.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Normal,
            read_connections: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl SqliteOptions {
    /// Sets the durability of a commit.
    pub fn with_synchronous(mut self, s: Synchronous) -> Self {
        self.synchronous = s;
        self
    }
    /// Sets the number of read connections (at least 1).
    pub fn with_read_connections(mut self, n: usize) -> Self {
        self.read_connections = n.max(1);
        self
    }
    /// Sets how long to wait for another process's lock.
    pub fn with_busy_timeout(mut self, d: Duration) -> Self {
        self.busy_timeout = d;
        self
    }
}

/// Counters of the group commit; see [`SqliteStore::write_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteStats {
    /// Transactions committed (or attempted).
    pub transactions: u64,
    /// Write requests run in them.
    pub writes: u64,
    /// Transactions rolled back and run again with a savepoint per request, because one of
    /// their requests failed after changing rows (a request that fails before changing
    /// anything costs the others nothing).
    pub isolated_reruns: u64,
}

/// The SQLite store. Cheap to share behind an `Arc`; dropping the last handle finishes the
/// queued writes and closes the database.
pub struct SqliteStore {
    writer: Writer,
    /// `None` for an in-memory database (no WAL).
    _checkpointer: Option<checkpoint::Checkpointer>,
    /// `None` for an in-memory database, whose reads go through the writer (other connections
    /// cannot see a private in-memory database).
    readers: Option<Arc<Readers>>,
    shown: String,
    options: SqliteOptions,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("database", &self.shown)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, migrating it to this build's
    /// schema. A file that is not a SQLite database, or is damaged, is a clear error; a
    /// database written by a newer Kova is refused with [`Error::Config`].
    pub async fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let shown = format!("'{}'", path.display());
        let opts = options.clone();
        let shown2 = shown.clone();
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || {
            prepare_writer(open_writer(&p)?, &opts, &shown2, true)
        })
        .await
        .map_err(|e| Error::Internal(format!("opening sqlite did not finish: {e}")))?
        .map_err(|e| opening(&shown, e))?;
        let checkpointer = checkpoint::Checkpointer::start(&path, options.busy_timeout)
            .map_err(|e| opening(&shown, e))?;
        Ok(SqliteStore {
            writer: Writer::new(conn, Some(checkpointer.nudge())),
            _checkpointer: Some(checkpointer),
            readers: Some(Arc::new(Readers::new(
                path,
                options.read_connections,
                options.busy_timeout,
            ))),
            shown,
            options,
        })
    }

    /// A private in-memory database (`sqlite::memory:`): the SQL backend's semantics without a
    /// file, gone when the store is dropped.
    pub async fn open_in_memory(options: SqliteOptions) -> Result<SqliteStore> {
        let shown = "':memory:'".to_string();
        let opts = options.clone();
        let shown2 = shown.clone();
        let conn = tokio::task::spawn_blocking(move || {
            let conn = Connection::open_in_memory().db()?;
            prepare_writer(conn, &opts, &shown2, false)
        })
        .await
        .map_err(|e| Error::Internal(format!("opening sqlite did not finish: {e}")))??;
        Ok(SqliteStore {
            writer: Writer::new(conn, None),
            _checkpointer: None,
            readers: None,
            shown,
            options,
        })
    }

    /// Records many deliveries in one transaction (imports, backfills): all or nothing, each
    /// with the same dedupe and coalescing rules as [`Store::record_delivery`].
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
        let bodies: Vec<_> = items.iter().map(|(d, _)| body::encode(&d.body)).collect();
        self.writer
            .write(move |c| {
                items
                    .iter()
                    .zip(&bodies)
                    .map(|((d, j), b)| records::record_delivery(c, d, b, j.as_ref()))
                    .collect()
            })
            .await
    }

    /// Copies every committed page from the WAL into the database file, fsyncs it and empties
    /// the WAL (`PRAGMA wal_checkpoint(TRUNCATE)`): before copying the file as a backup, or to
    /// settle the file after a bulk import. Writes wait while it runs. Does nothing for an
    /// in-memory database.
    pub async fn checkpoint(&self) -> Result<()> {
        // Only a file has a WAL; in memory, reads go through the writer and there are no readers.
        let Some(path) = self.readers.as_ref().map(|r| r.path().to_path_buf()) else {
            return Ok(());
        };
        let busy = self.options.busy_timeout;
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path).db()?;
            conn.busy_timeout(busy).db()?;
            let started = std::time::Instant::now();
            loop {
                let blocked: i64 = conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                    .db()?;
                if blocked == 0 {
                    return Ok(());
                }
                if started.elapsed() >= busy {
                    return Err(Error::Backend {
                        backend: "sqlite",
                        message: "the checkpoint could not finish: readers or writers held the \
                                  database longer than the busy timeout"
                            .into(),
                        transient: true,
                        source: None,
                    });
                }
                // Another checkpoint (the background thread's) was running: SQLite refuses at
                // once rather than waiting for it.
                std::thread::sleep(Duration::from_millis(5));
            }
        })
        .await
        .map_err(|e| Error::Internal(format!("the sqlite checkpoint did not finish: {e}")))?
    }

    /// How well group commit works: transactions committed and write requests they carried
    /// since the store was opened (requests / transactions = the average group size).
    pub fn write_stats(&self) -> WriteStats {
        let stats = self.writer.stats();
        WriteStats {
            transactions: stats.groups.load(Ordering::Relaxed),
            writes: stats.requests.load(Ordering::Relaxed),
            isolated_reruns: stats.isolated.load(Ordering::Relaxed),
        }
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        match &self.readers {
            Some(r) => r.read(f).await,
            None => self.writer.write(f).await,
        }
    }
}

/// Adds the database name to an opening error, keeping its kind.
fn opening(shown: &str, e: Error) -> Error {
    match e {
        Error::Backend {
            backend,
            message,
            transient,
            source,
        } => Error::Backend {
            backend,
            message: format!("cannot open {shown}: {message}"),
            transient,
            source,
        },
        other => other,
    }
}

/// The write connection of a file, through the VFS that writes a commit's WAL frames together
/// (see `wal_vfs`) wherever SQLite has its unix VFS.
fn open_writer(path: &Path) -> Result<Connection> {
    match wal_vfs::name() {
        Some(vfs) => {
            Connection::open_with_flags_and_vfs(path, rusqlite::OpenFlags::default(), vfs).db()
        }
        None => Connection::open(path).db(),
    }
}

/// Sets the write connection up: WAL, durability, lock wait, schema.
fn prepare_writer(
    mut conn: Connection,
    options: &SqliteOptions,
    shown: &str,
    file: bool,
) -> Result<Connection> {
    conn.busy_timeout(options.busy_timeout).db()?;
    if file {
        // The first statement that reads the file: a damaged or foreign file fails here.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .db()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::backend(
                "sqlite",
                format!("cannot switch to WAL journal mode (got '{mode}')"),
            ));
        }
    }
    // A 16 MiB page cache keeps the indexes' hot pages in the writer; the operating system's
    // file cache holds the rest, so a long write burst does not grow the process.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -16384;
         PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = {};",
        options.synchronous.pragma(),
        checkpoint::WRITER_AUTOCHECKPOINT,
        checkpoint::WAL_SIZE_LIMIT
    ))
    .db()?;
    conn.set_prepared_statement_cache_capacity(128);
    migrate::migrate(&mut conn, shown)?;
    Ok(conn)
}

/// Parses the path part of a `sqlite:` URL: `sqlite://path`, `sqlite:path`, `sqlite::memory:`,
/// with an optional `?synchronous=normal|full`. `None` as the path means in memory.
pub(crate) fn parse_url(url: &str) -> Result<(Option<PathBuf>, SqliteOptions)> {
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| Error::Config(format!("not a sqlite URL: '{url}'")))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut options = SqliteOptions::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("synchronous", v)) => options.synchronous = v.parse()?,
            _ => {
                return Err(Error::Config(format!(
                    "unknown sqlite URL option '{pair}': only synchronous=normal|full is known"
                )))
            }
        }
    }
    if path.is_empty() {
        return Err(Error::Config(format!(
            "sqlite URL has no path: use sqlite://path/to/kova.db or sqlite::memory: (got '{url}')"
        )));
    }
    if path == ":memory:" {
        return Ok((None, options));
    }
    Ok((Some(PathBuf::from(path)), options))
}

/// Opens the store a `sqlite:` URL names.
pub(crate) async fn open_url(url: &str) -> Result<SqliteStore> {
    match parse_url(url)? {
        (Some(path), options) => SqliteStore::open(path, options).await,
        (None, options) => SqliteStore::open_in_memory(options).await,
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn capabilities(&self) -> StoreCapabilities {
        // A file may be shared by processes on one machine: writes serialize on SQLite's
        // file lock, so claims stay exclusive.
        let file = self.readers.is_some();
        StoreCapabilities::new(file, file)
    }

    async fn health(&self) -> Result<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).db())
            .await
    }

    async fn upsert_repository(&self, repo: &Repository) -> Result<()> {
        repo.validate()?;
        let repo = repo.clone();
        self.writer
            .write(move |c| records::upsert_repository(c, &repo))
            .await
    }

    async fn get_repository(&self, repo: &RepoRef) -> Result<Option<Repository>> {
        let repo = repo.clone();
        self.read(move |c| records::get_repository(c, &repo)).await
    }

    async fn list_repositories(&self, opts: &ListOptions) -> Result<Page<Repository>> {
        let opts = opts.clone();
        self.read(move |c| records::list_repositories(c, &opts))
            .await
    }

    async fn record_snapshot(&self, snapshot: &RepoSnapshot) -> Result<()> {
        let s = snapshot.clone();
        self.writer
            .write(move |c| records::record_snapshot(c, &s))
            .await
    }

    async fn list_snapshots(
        &self,
        repo: &RepoRef,
        opts: &ListOptions,
    ) -> Result<Page<RepoSnapshot>> {
        let (repo, opts) = (repo.clone(), opts.clone());
        self.read(move |c| records::list_snapshots(c, &repo, &opts))
            .await
    }

    async fn record_delivery(
        &self,
        delivery: &WebhookDelivery,
        job: Option<&NewJob>,
    ) -> Result<DeliveryOutcome> {
        delivery.validate()?;
        if let Some(j) = job {
            j.validate()?;
        }
        // Compressed before the write queues, so the group's commit, which every write in it
        // waits for, only writes.
        let body = body::encode(&delivery.body);
        let (d, j) = (delivery.clone(), job.cloned());
        self.writer
            .write(move |c| records::record_delivery(c, &d, &body, j.as_ref()))
            .await
    }

    async fn get_event(&self, id: EventId) -> Result<Option<WebhookEvent>> {
        self.read(move |c| records::get_event(c, id)).await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        opts: &ListOptions,
    ) -> Result<Page<WebhookEvent>> {
        let (f, o) = (filter.clone(), opts.clone());
        self.read(move |c| records::list_events(c, &f, &o)).await
    }

    async fn set_event_status(&self, id: EventId, status: EventStatus) -> Result<()> {
        self.writer
            .write(move |c| records::set_event_status(c, id, status))
            .await
    }

    async fn enqueue(&self, job: &NewJob, now: Timestamp) -> Result<EnqueueOutcome> {
        job.validate()?;
        let job = job.clone();
        self.writer
            .write(move |c| jobs::enqueue(c, &job, None, now))
            .await
    }

    async fn claim_jobs(&self, req: &ClaimRequest) -> Result<Vec<Job>> {
        let req = req.clone();
        self.writer.write(move |c| jobs::claim(c, &req)).await
    }

    async fn renew_lease(&self, id: JobId, worker: &str, until: Timestamp) -> Result<()> {
        let w = worker.to_string();
        self.writer
            .write(move |c| jobs::renew(c, id, &w, until))
            .await
    }

    async fn complete_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        let w = worker.to_string();
        self.writer
            .write(move |c| jobs::finish(c, id, &w, now, JobStatus::Done, None))
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
        let (w, e) = (worker.to_string(), error.to_string());
        self.writer
            .write(move |c| jobs::retry(c, id, &w, run_at, &e, now))
            .await
    }

    async fn fail_job(&self, id: JobId, worker: &str, error: &str, now: Timestamp) -> Result<()> {
        let (w, e) = (worker.to_string(), error.to_string());
        self.writer
            .write(move |c| jobs::finish(c, id, &w, now, JobStatus::Dead, Some(&e)))
            .await
    }

    async fn release_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        let w = worker.to_string();
        self.writer
            .write(move |c| jobs::release(c, id, &w, now, None, now))
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
        let (w, r) = (worker.to_string(), reason.to_string());
        self.writer
            .write(move |c| jobs::release(c, id, &w, run_at, Some(&r), now))
            .await
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        self.read(move |c| records::get_job(c, id)).await
    }

    async fn list_jobs(&self, filter: &JobFilter, opts: &ListOptions) -> Result<Page<Job>> {
        let (f, o) = (filter.clone(), opts.clone());
        self.read(move |c| records::list_jobs(c, &f, &o)).await
    }

    async fn jobs_summary(&self) -> Result<JobsSummary> {
        self.read(|c| {
            // One read transaction, so the counts and the oldest job agree. A savepoint, not
            // BEGIN: in memory mode this runs inside the writer's transaction.
            c.execute_batch("SAVEPOINT kova_summary").db()?;
            let out = jobs::summary(c);
            c.execute_batch("RELEASE kova_summary").db()?;
            out
        })
        .await
    }

    async fn insert_artifact(
        &self,
        artifact: &NewArtifact,
        now: Timestamp,
    ) -> Result<ArtifactOutcome> {
        artifact.validate()?;
        let a = artifact.clone();
        self.writer
            .write(move |c| records::insert_artifact(c, &a, now))
            .await
    }

    async fn get_artifact(&self, id: ArtifactId) -> Result<Option<Artifact>> {
        self.read(move |c| records::get_artifact(c, id)).await
    }

    async fn find_artifact_by_key(&self, key: &str) -> Result<Option<Artifact>> {
        let key = key.to_string();
        self.read(move |c| records::find_artifact_by_key(c, &key))
            .await
    }

    async fn list_artifacts(
        &self,
        filter: &ArtifactFilter,
        opts: &ListOptions,
    ) -> Result<Page<Artifact>> {
        let (f, o) = (filter.clone(), opts.clone());
        self.read(move |c| records::list_artifacts(c, &f, &o)).await
    }

    async fn record_interaction(&self, interaction: &LlmInteraction) -> Result<InteractionId> {
        let i = interaction.clone();
        self.writer
            .write(move |c| records::record_interaction(c, &i))
            .await
    }

    async fn list_interactions(
        &self,
        filter: &InteractionFilter,
        opts: &ListOptions,
    ) -> Result<Page<LlmInteraction>> {
        let (f, o) = (filter.clone(), opts.clone());
        self.read(move |c| records::list_interactions(c, &f, &o))
            .await
    }

    async fn usage_totals(&self, filter: &InteractionFilter) -> Result<UsageTotals> {
        let f = filter.clone();
        self.read(move |c| records::usage_totals(c, &f)).await
    }

    async fn record_sync_log(&self, log: &SyncLog) -> Result<SyncLogId> {
        let l = log.clone();
        self.writer
            .write(move |c| records::record_sync_log(c, &l))
            .await
    }

    async fn list_sync_logs(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<SyncLog>> {
        let (r, o) = (repo.cloned(), opts.clone());
        self.read(move |c| records::list_sync_logs(c, r.as_ref(), &o))
            .await
    }

    async fn record_repo_error(&self, error: &RepoError) -> Result<RepoErrorId> {
        let e = error.clone();
        self.writer
            .write(move |c| records::record_repo_error(c, &e))
            .await
    }

    async fn list_repo_errors(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<RepoError>> {
        let (r, o) = (repo.cloned(), opts.clone());
        self.read(move |c| records::list_repo_errors(c, r.as_ref(), &o))
            .await
    }
}
