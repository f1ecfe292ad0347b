//! An in-process store: fast, complete, and gone when the process exits. It implements the
//! whole [`Store`] contract and passes the conformance suite, so tests and experiments behave
//! exactly as with a durable backend.

mod jobs;

use async_trait::async_trait;
use kova_core::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

/// The in-memory store. Every operation takes one lock, so each is atomic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: i64,
    repos: BTreeMap<String, Repository>,
    snapshots: BTreeMap<i64, RepoSnapshot>,
    events: BTreeMap<i64, WebhookEvent>,
    deliveries: HashMap<(i64, String), EventId>,
    jobs: BTreeMap<i64, Job>,
    /// Queued jobs by (run_at, id): the claim order.
    queued: BTreeSet<(Timestamp, i64)>,
    /// Running jobs by (lease_until, id): expired leases first.
    running: BTreeSet<(Timestamp, i64)>,
    dedupe: HashMap<String, Vec<i64>>,
    coalesce: HashMap<String, BTreeSet<i64>>,
    artifacts: BTreeMap<i64, Artifact>,
    idempotency: HashMap<String, i64>,
    interactions: BTreeMap<i64, LlmInteraction>,
    sync_logs: BTreeMap<i64, SyncLog>,
    repo_errors: BTreeMap<i64, RepoError>,
}

impl Inner {
    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied change: every operation
        // validates first and mutates last, so the data behind a poisoned lock is consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Newest-first page over an id-keyed map, resuming below the cursor.
fn page_desc<T: Clone>(
    map: &BTreeMap<i64, T>,
    opts: &ListOptions,
    keep: impl Fn(&T) -> bool,
) -> Result<Page<T>> {
    let limit = opts.effective_limit();
    let upper = opts.id_cursor()?.unwrap_or(i64::MAX);
    let items: Vec<(i64, T)> = map
        .range(..upper)
        .rev()
        .filter(|(_, v)| keep(v))
        .take(limit + 1)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let page = Page::from_overfetch(items, limit, |(k, _)| Page::<()>::id_cursor(*k));
    Ok(Page {
        items: page.items.into_iter().map(|(_, v)| v).collect(),
        next_cursor: page.next_cursor,
    })
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::new(false, false)
    }

    async fn health(&self) -> Result<()> {
        drop(self.lock());
        Ok(())
    }

    async fn upsert_repository(&self, repo: &Repository) -> Result<()> {
        repo.validate()?;
        let mut g = self.lock();
        let key = repo.repo.full_name();
        let mut row = repo.clone();
        if let Some(old) = g.repos.get(&key) {
            row.created_at = old.created_at;
        }
        g.repos.insert(key, row);
        Ok(())
    }

    async fn get_repository(&self, repo: &RepoRef) -> Result<Option<Repository>> {
        Ok(self.lock().repos.get(&repo.full_name()).cloned())
    }

    async fn list_repositories(&self, opts: &ListOptions) -> Result<Page<Repository>> {
        let limit = opts.effective_limit();
        let after = opts.key_cursor()?;
        let g = self.lock();
        let items: Vec<Repository> = match &after {
            Some(k) => g
                .repos
                .range::<String, _>((
                    std::ops::Bound::Excluded(k.clone()),
                    std::ops::Bound::Unbounded,
                ))
                .take(limit + 1)
                .map(|(_, v)| v.clone())
                .collect(),
            None => g.repos.values().take(limit + 1).cloned().collect(),
        };
        Ok(Page::from_overfetch(items, limit, |r| {
            Page::<()>::key_cursor(&r.repo.full_name())
        }))
    }

    async fn record_snapshot(&self, snapshot: &RepoSnapshot) -> Result<()> {
        let mut g = self.lock();
        let id = g.next_id();
        g.snapshots.insert(id, snapshot.clone());
        Ok(())
    }

    async fn list_snapshots(
        &self,
        repo: &RepoRef,
        opts: &ListOptions,
    ) -> Result<Page<RepoSnapshot>> {
        page_desc(&self.lock().snapshots, opts, |s| &s.repo == repo)
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
        let mut g = self.lock();
        let key = (delivery.hook_id.unwrap_or(0), delivery.delivery_id.clone());
        if let Some(id) = g.deliveries.get(&key) {
            return Ok(DeliveryOutcome::Duplicate { event_id: *id });
        }
        let event_id = EventId(g.next_id());
        g.deliveries.insert(key, event_id);
        g.events.insert(
            event_id.0,
            WebhookEvent {
                id: event_id,
                delivery: delivery.clone(),
                status: initial_status(job),
            },
        );
        let job = job.map(|j| g.enqueue(j, Some(event_id), delivery.received_at));
        if let Some(EnqueueOutcome::Deduplicated(_)) = job {
            // The work is done or under way already: this event needs nothing more.
            if let Some(e) = g.events.get_mut(&event_id.0) {
                e.status = EventStatus::Ignored;
            }
        }
        Ok(DeliveryOutcome::Inserted { event_id, job })
    }

    async fn get_event(&self, id: EventId) -> Result<Option<WebhookEvent>> {
        Ok(self.lock().events.get(&id.0).cloned())
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        opts: &ListOptions,
    ) -> Result<Page<WebhookEvent>> {
        page_desc(&self.lock().events, opts, |e| filter.matches(e))
    }

    async fn set_event_status(&self, id: EventId, status: EventStatus) -> Result<()> {
        match self.lock().events.get_mut(&id.0) {
            Some(e) => {
                e.status = status;
                Ok(())
            }
            None => Err(Error::not_found("event", id)),
        }
    }

    async fn enqueue(&self, job: &NewJob, now: Timestamp) -> Result<EnqueueOutcome> {
        job.validate()?;
        Ok(self.lock().enqueue(job, None, now))
    }

    async fn claim_jobs(&self, req: &ClaimRequest) -> Result<Vec<Job>> {
        Ok(self.lock().claim(req))
    }

    async fn renew_lease(&self, id: JobId, worker: &str, until: Timestamp) -> Result<()> {
        self.lock().renew(id, worker, until)
    }

    async fn complete_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        self.lock().finish(id, worker, now, JobStatus::Done, None)
    }

    async fn retry_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<RetryOutcome> {
        self.lock().retry(id, worker, run_at, error, now)
    }

    async fn fail_job(&self, id: JobId, worker: &str, error: &str, now: Timestamp) -> Result<()> {
        self.lock()
            .finish(id, worker, now, JobStatus::Dead, Some(error))
    }

    async fn release_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
        self.lock().release(id, worker, now, None, now)
    }

    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.lock().release(id, worker, run_at, Some(reason), now)
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.lock().jobs.get(&id.0).cloned())
    }

    async fn list_jobs(&self, filter: &JobFilter, opts: &ListOptions) -> Result<Page<Job>> {
        page_desc(&self.lock().jobs, opts, |j| filter.matches(j))
    }

    async fn jobs_summary(&self) -> Result<JobsSummary> {
        let g = self.lock();
        let mut s = JobsSummary::default();
        for j in g.jobs.values() {
            match j.status {
                JobStatus::Queued => s.queued += 1,
                JobStatus::Running => s.running += 1,
                JobStatus::Done => s.done += 1,
                JobStatus::Dead => s.dead += 1,
                JobStatus::Superseded => s.superseded += 1,
            }
        }
        s.oldest_queued_at = g
            .queued
            .iter()
            .filter_map(|(_, id)| g.jobs.get(id).map(|j| j.created_at))
            .min();
        Ok(s)
    }

    async fn insert_artifact(
        &self,
        artifact: &NewArtifact,
        now: Timestamp,
    ) -> Result<ArtifactOutcome> {
        artifact.validate()?;
        let mut g = self.lock();
        if let Some(key) = &artifact.idempotency_key {
            if let Some(id) = g.idempotency.get(key) {
                return Ok(ArtifactOutcome::Existing(g.artifacts[id].clone()));
            }
        }
        let version = g
            .artifacts
            .values()
            .filter(|a| {
                a.repo == artifact.repo && a.kind == artifact.kind && a.name == artifact.name
            })
            .map(|a| a.version)
            .max()
            .unwrap_or(0)
            + 1;
        let id = g.next_id();
        let a = Artifact {
            id: ArtifactId(id),
            name: artifact.name.clone(),
            kind: artifact.kind,
            content: artifact.content.clone(),
            language: artifact.language.clone(),
            repo: artifact.repo.clone(),
            source: artifact.source.clone(),
            validation: artifact.validation.clone(),
            metadata: artifact.metadata.clone(),
            content_hash: content_hash(&artifact.content),
            version,
            idempotency_key: artifact.idempotency_key.clone(),
            created_at: now,
        };
        if let Some(key) = &artifact.idempotency_key {
            g.idempotency.insert(key.clone(), id);
        }
        g.artifacts.insert(id, a.clone());
        Ok(ArtifactOutcome::Inserted(a))
    }

    async fn get_artifact(&self, id: ArtifactId) -> Result<Option<Artifact>> {
        Ok(self.lock().artifacts.get(&id.0).cloned())
    }

    async fn find_artifact_by_key(&self, key: &str) -> Result<Option<Artifact>> {
        let g = self.lock();
        Ok(g.idempotency.get(key).map(|id| g.artifacts[id].clone()))
    }

    async fn list_artifacts(
        &self,
        filter: &ArtifactFilter,
        opts: &ListOptions,
    ) -> Result<Page<Artifact>> {
        page_desc(&self.lock().artifacts, opts, |a| filter.matches(a))
    }

    async fn record_interaction(&self, interaction: &LlmInteraction) -> Result<InteractionId> {
        let mut g = self.lock();
        let id = InteractionId(g.next_id());
        let mut row = interaction.clone();
        row.id = id;
        g.interactions.insert(id.0, row);
        Ok(id)
    }

    async fn list_interactions(
        &self,
        filter: &InteractionFilter,
        opts: &ListOptions,
    ) -> Result<Page<LlmInteraction>> {
        page_desc(&self.lock().interactions, opts, |i| filter.matches(i))
    }

    async fn usage_totals(&self, filter: &InteractionFilter) -> Result<UsageTotals> {
        let mut t = UsageTotals::default();
        for i in self
            .lock()
            .interactions
            .values()
            .filter(|i| filter.matches(i))
        {
            t.add(i);
        }
        Ok(t)
    }

    async fn record_sync_log(&self, log: &SyncLog) -> Result<SyncLogId> {
        let mut g = self.lock();
        let id = SyncLogId(g.next_id());
        let mut row = log.clone();
        row.id = id;
        g.sync_logs.insert(id.0, row);
        Ok(id)
    }

    async fn list_sync_logs(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<SyncLog>> {
        page_desc(&self.lock().sync_logs, opts, |l| {
            repo.is_none_or(|r| &l.repo == r)
        })
    }

    async fn record_repo_error(&self, error: &RepoError) -> Result<RepoErrorId> {
        let mut g = self.lock();
        let id = RepoErrorId(g.next_id());
        let mut row = error.clone();
        row.id = id;
        g.repo_errors.insert(id.0, row);
        Ok(id)
    }

    async fn list_repo_errors(
        &self,
        repo: Option<&RepoRef>,
        opts: &ListOptions,
    ) -> Result<Page<RepoError>> {
        page_desc(&self.lock().repo_errors, opts, |e| {
            repo.is_none_or(|r| &e.repo == r)
        })
    }
}
