//! The `Store` plugin trait: Kova's durable record of repositories, events, jobs, artifacts,
//! LLM interactions and sync logs.

use crate::error::Result;
use crate::model::*;
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// The result of recording a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The delivery is new: its event row (and job, if one was given) are stored.
    Inserted {
        /// The new event.
        event_id: EventId,
        /// What happened to the job, if one was given.
        job: Option<EnqueueOutcome>,
    },
    /// The same (hook id, delivery id) was recorded before; nothing was written.
    Duplicate {
        /// The event recorded the first time.
        event_id: EventId,
    },
}

impl DeliveryOutcome {
    /// The event's id, new or existing.
    pub fn event_id(&self) -> EventId {
        match self {
            DeliveryOutcome::Inserted { event_id, .. }
            | DeliveryOutcome::Duplicate { event_id } => *event_id,
        }
    }

    /// Whether this was a duplicate.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, DeliveryOutcome::Duplicate { .. })
    }
}

/// The status a delivery is stored with: `received` when a job will process it, `ignored` when
/// none will. Deciding it in the same write keeps the ingest path at one write per delivery.
pub fn initial_status(job: Option<&NewJob>) -> EventStatus {
    if job.is_some() {
        EventStatus::Received
    } else {
        EventStatus::Ignored
    }
}

/// Which events to list. Every field narrows; `Default` lists everything.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct EventFilter {
    /// Only this repository.
    pub repo: Option<RepoRef>,
    /// Only this event type (`X-GitHub-Event`).
    pub event: Option<String>,
    /// Only events in this status.
    pub status: Option<EventStatus>,
}

impl EventFilter {
    /// Narrows to one repository.
    pub fn with_repo(mut self, repo: RepoRef) -> Self {
        self.repo = Some(repo);
        self
    }
    /// Narrows to one event type.
    pub fn with_event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }
    /// Narrows to one status.
    pub fn with_status(mut self, status: EventStatus) -> Self {
        self.status = Some(status);
        self
    }
    /// Whether an event passes the filter (for backends that filter in memory).
    pub fn matches(&self, e: &WebhookEvent) -> bool {
        self.repo
            .as_ref()
            .is_none_or(|r| e.delivery.repo.as_ref() == Some(r))
            && self.event.as_ref().is_none_or(|t| &e.delivery.event == t)
            && self.status.is_none_or(|s| e.status == s)
    }
}

/// Which jobs to list.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// Only jobs of this kind.
    pub kind: Option<String>,
}

impl JobFilter {
    /// Narrows to one status.
    pub fn with_status(mut self, status: JobStatus) -> Self {
        self.status = Some(status);
        self
    }
    /// Narrows to one kind.
    pub fn with_kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
    /// Whether a job passes the filter.
    pub fn matches(&self, j: &Job) -> bool {
        self.status.is_none_or(|s| j.status == s) && self.kind.as_ref().is_none_or(|k| &j.kind == k)
    }
}

/// Which artifacts to list.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ArtifactFilter {
    /// Only this repository.
    pub repo: Option<RepoRef>,
    /// Only this kind.
    pub kind: Option<ArtifactKind>,
    /// Only artifacts produced by this event.
    pub event_id: Option<EventId>,
}

impl ArtifactFilter {
    /// Narrows to one repository.
    pub fn with_repo(mut self, repo: RepoRef) -> Self {
        self.repo = Some(repo);
        self
    }
    /// Narrows to one kind.
    pub fn with_kind(mut self, kind: ArtifactKind) -> Self {
        self.kind = Some(kind);
        self
    }
    /// Narrows to one source event.
    pub fn with_event(mut self, id: EventId) -> Self {
        self.event_id = Some(id);
        self
    }
    /// Whether an artifact passes the filter.
    pub fn matches(&self, a: &Artifact) -> bool {
        self.repo
            .as_ref()
            .is_none_or(|r| a.repo.as_ref() == Some(r))
            && self.kind.is_none_or(|k| a.kind == k)
            && self
                .event_id
                .is_none_or(|id| a.source == ArtifactSource::Event(id))
    }
}

/// Which LLM interactions to list or total.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct InteractionFilter {
    /// Only this repository.
    pub repo: Option<RepoRef>,
    /// Only this purpose.
    pub purpose: Option<String>,
    /// Only this model.
    pub model: Option<String>,
    /// Only calls made for this event.
    pub event_id: Option<EventId>,
}

impl InteractionFilter {
    /// Narrows to one repository.
    pub fn with_repo(mut self, repo: RepoRef) -> Self {
        self.repo = Some(repo);
        self
    }
    /// Narrows to one purpose.
    pub fn with_purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }
    /// Narrows to one model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
    /// Narrows to one event.
    pub fn with_event(mut self, id: EventId) -> Self {
        self.event_id = Some(id);
        self
    }
    /// Whether an interaction passes the filter.
    pub fn matches(&self, i: &LlmInteraction) -> bool {
        self.repo
            .as_ref()
            .is_none_or(|r| i.repo.as_ref() == Some(r))
            && self.purpose.as_ref().is_none_or(|p| &i.purpose == p)
            && self.model.as_ref().is_none_or(|m| &i.model == m)
            && self.event_id.is_none_or(|id| i.event_id == Some(id))
    }
}

/// What a backend can do, so callers and tests branch on capabilities, not on types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoreCapabilities {
    /// Data survives a process restart.
    pub durable: bool,
    /// Several processes may share the store (and its job queue) safely.
    pub multi_process: bool,
}

impl StoreCapabilities {
    /// Builds a capability set.
    pub fn new(durable: bool, multi_process: bool) -> Self {
        StoreCapabilities {
            durable,
            multi_process,
        }
    }
}

/// Kova's durable record. Every backend (memory, SQLite, PostgreSQL) implements this trait and
/// passes the conformance suite in `kova_core::testing::conformance`.
///
/// # Contract
/// - **Atomic, idempotent ingest.** [`record_delivery`](Store::record_delivery) writes the event
///   and its job in one transaction and is idempotent on (hook id, delivery id): a duplicate
///   creates no row and no job and returns [`DeliveryOutcome::Duplicate`], however many
///   duplicates race. An event recorded without a job is stored `ignored`
///   ([`initial_status`]), in the same write. When it returns `Ok`, the write is durable (as durable as the backend).
/// - **Exactly one claimer.** [`claim_jobs`](Store::claim_jobs) hands each due job to exactly
///   one caller. A job is due when it is queued with `run_at <= now`, or running with an
///   expired lease (its worker died). Each claim counts as an attempt; a job whose lease expired
///   with no attempts left is made dead instead of being handed out again.
/// - **Leases are owned.** `complete_job`, `retry_job`, `fail_job`, `release_job`,
///   `defer_job` and `renew_lease` succeed only for the worker that holds the job; anyone else gets
///   [`Error::Conflict`](crate::Error::Conflict) (its lease expired and another worker took
///   the job).
/// - **Dedupe and coalescing on enqueue.** A job whose `dedupe_key` matches a queued, running or
///   done job is not created ([`EnqueueOutcome::Deduplicated`]). A job with a `coalesce_key`
///   supersedes queued jobs with the same key (their events become `ignored`).
/// - **Events follow their jobs.** When a job with an event is completed the event becomes
///   `processed`; when it dies, `failed`; superseded, `ignored`.
/// - **Paginated lists.** Every list takes [`ListOptions`] and returns a [`Page`]; events,
///   jobs, artifacts, interactions, logs and snapshots come newest first by id, repositories by
///   full name. A cursor stays valid while rows are inserted concurrently: no row is returned
///   twice across pages.
/// - **Time is passed in.** Every operation that depends on time takes `now`, so tests move
///   time instead of sleeping and all processes agree on one clock source.
/// - **Validation before writing.** Invalid input is an [`Error::Invalid`](crate::Error::Invalid)
///   and writes nothing.
#[async_trait]
pub trait Store: Send + Sync + Debug + 'static {
    /// The backend's name (`memory`, `sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// What the backend can do.
    fn capabilities(&self) -> StoreCapabilities;

    /// Checks that the store answers (a trivial read).
    async fn health(&self) -> Result<()>;

    // ---- repositories -------------------------------------------------------------------

    /// Inserts or replaces a repository (keyed by its `owner/name`; `created_at` of an existing
    /// row is kept).
    async fn upsert_repository(&self, repo: &Repository) -> Result<()>;

    /// One repository.
    async fn get_repository(&self, repo: &RepoRef) -> Result<Option<Repository>>;

    /// Repositories ordered by full name.
    async fn list_repositories(&self, opts: &ListOptions) -> Result<Page<Repository>>;

    /// Appends a snapshot to a repository's history.
    async fn record_snapshot(&self, snapshot: &RepoSnapshot) -> Result<()>;

    /// A repository's snapshots, newest first.
    async fn list_snapshots(
        &self,
        repo: &RepoRef,
        opts: &ListOptions,
    ) -> Result<Page<RepoSnapshot>>;

    // ---- webhook events -----------------------------------------------------------------

    /// Records a delivery and, if given, its job, atomically; see the contract above.
    async fn record_delivery(
        &self,
        delivery: &WebhookDelivery,
        job: Option<&NewJob>,
    ) -> Result<DeliveryOutcome>;

    /// One event.
    async fn get_event(&self, id: EventId) -> Result<Option<WebhookEvent>>;

    /// Events, newest first.
    async fn list_events(
        &self,
        filter: &EventFilter,
        opts: &ListOptions,
    ) -> Result<Page<WebhookEvent>>;

    /// Sets an event's status (e.g. `ignored` when no handler wants it).
    async fn set_event_status(&self, id: EventId, status: EventStatus) -> Result<()>;

    // ---- job queue ----------------------------------------------------------------------

    /// Enqueues a job with no event, applying dedupe and coalescing.
    async fn enqueue(&self, job: &NewJob, now: Timestamp) -> Result<EnqueueOutcome>;

    /// Claims up to `limit` due jobs, oldest due first, leasing them to `worker`.
    async fn claim_jobs(&self, req: &ClaimRequest) -> Result<Vec<Job>>;

    /// Extends the lease of a running job held by `worker`.
    async fn renew_lease(&self, id: JobId, worker: &str, until: Timestamp) -> Result<()>;

    /// Marks a running job held by `worker` done.
    async fn complete_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()>;

    /// Records a failed attempt: queued again at `run_at`, or dead if no attempts are left.
    async fn retry_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<RetryOutcome>;

    /// Marks a running job held by `worker` dead (a permanent error).
    async fn fail_job(&self, id: JobId, worker: &str, error: &str, now: Timestamp) -> Result<()>;

    /// Gives a running job back to the queue without counting the attempt (graceful shutdown).
    async fn release_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()>;

    /// Puts a running job held by `worker` back in the queue until `run_at` without counting
    /// the attempt, with `reason` as its last error: a service refused the work before it was
    /// done (a rate limit), so the job did not fail and must not run out of attempts waiting.
    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// One job.
    async fn get_job(&self, id: JobId) -> Result<Option<Job>>;

    /// Jobs, newest first.
    async fn list_jobs(&self, filter: &JobFilter, opts: &ListOptions) -> Result<Page<Job>>;

    /// Counts by status and the oldest queued job's age.
    async fn jobs_summary(&self) -> Result<JobsSummary>;

    // ---- artifacts ----------------------------------------------------------------------

    /// Stores an artifact (version = 1 + the highest version of the same repository, kind and
    /// name), or returns the existing one with the same idempotency key.
    async fn insert_artifact(
        &self,
        artifact: &NewArtifact,
        now: Timestamp,
    ) -> Result<ArtifactOutcome>;

    /// One artifact.
    async fn get_artifact(&self, id: ArtifactId) -> Result<Option<Artifact>>;

    /// The artifact stored with this idempotency key, whatever its age: an indexed read, so
    /// a retried request can be answered before anything is generated again.
    async fn find_artifact_by_key(&self, key: &str) -> Result<Option<Artifact>>;

    /// Artifacts, newest first.
    async fn list_artifacts(
        &self,
        filter: &ArtifactFilter,
        opts: &ListOptions,
    ) -> Result<Page<Artifact>>;

    // ---- LLM interactions ---------------------------------------------------------------

    /// Records one LLM call; returns its id.
    async fn record_interaction(&self, interaction: &LlmInteraction) -> Result<InteractionId>;

    /// Interactions, newest first.
    async fn list_interactions(
        &self,
        filter: &InteractionFilter,
        opts: &ListOptions,
    ) -> Result<Page<LlmInteraction>>;

    /// Token and cost totals over the matching interactions.
    async fn usage_totals(&self, filter: &InteractionFilter) -> Result<UsageTotals>;

    // ---- sync logs and repository errors ------------------------------------------------

    /// Records one repository's sync; returns its id.
    async fn record_sync_log(&self, log: &SyncLog) -> Result<SyncLogId>;

    /// Sync logs (of one repository, or all), newest first.
    async fn list_sync_logs(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<SyncLog>>;

    /// Records an error found in a repository; returns its id.
    async fn record_repo_error(&self, error: &RepoError) -> Result<RepoErrorId>;

    /// Repository errors (of one repository, or all), newest first.
    async fn list_repo_errors(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<RepoError>>;
}

/// Conveniences over any [`Store`].
#[async_trait]
pub trait StoreExt: Store {
    /// Every repository, following the cursor through all pages.
    async fn all_repositories(&self) -> Result<Vec<Repository>> {
        Page::collect_all(|o| async move { self.list_repositories(&o).await }).await
    }

    /// Every event the filter matches, through all pages.
    async fn all_events(&self, filter: &EventFilter) -> Result<Vec<WebhookEvent>> {
        Page::collect_all(|o| async move { self.list_events(filter, &o).await }).await
    }

    /// Every job the filter matches, through all pages.
    async fn all_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        Page::collect_all(|o| async move { self.list_jobs(filter, &o).await }).await
    }

    /// Every artifact the filter matches, through all pages.
    async fn all_artifacts(&self, filter: &ArtifactFilter) -> Result<Vec<Artifact>> {
        Page::collect_all(|o| async move { self.list_artifacts(filter, &o).await }).await
    }

    /// Every LLM interaction the filter matches, through all pages.
    async fn all_interactions(&self, filter: &InteractionFilter) -> Result<Vec<LlmInteraction>> {
        Page::collect_all(|o| async move { self.list_interactions(filter, &o).await }).await
    }
}

impl<T: Store + ?Sized> StoreExt for T {}
