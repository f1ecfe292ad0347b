//! The sync service: what is tracked (the repositories file and the store), adding
//! repositories, and running syncs with bounded concurrency.

use crate::config::{DiscoverySettings, RepoEntry, ReposConfig, SyncSettings};
use crate::error::{Error, Result};
use crate::model::{RepoKind, RepoRef, RepoStatus, Repository};
use crate::provider::LlmProvider;
use crate::source::{RemoteRepo, SourceHost};
use crate::store::{Store, StoreExt};
use crate::sync::inflight::{InFlight, RepoJob};
use crate::sync::limit::Limit;
use crate::sync::options::SyncOptions;
use crate::sync::progress::{no_progress, ProgressSink};
use crate::sync::report::{SkippedRepo, SyncReport, SyncRequest};
use crate::sync::sleeper::{Sleeper, ThreadSleeper};
use crate::time::{Clock, SystemClock};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Keeps many repositories in sync with their host. Cheap to clone (one shared state), so the
/// HTTP layer, the scheduler and webhook handlers can all hold one.
///
/// Tracked repositories are the union of the repositories file (when configured) and the
/// store; for a repository in both, the file's kind, enabled flag, priority, features and
/// description win, and the store keeps what syncs learn (head, status, timestamps).
#[derive(Debug, Clone)]
pub struct SyncService {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) source: Arc<dyn SourceHost>,
    pub(crate) llm: Option<Arc<dyn LlmProvider>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) config: Option<Mutex<ReposConfig>>,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) options: SyncOptions,
    pub(crate) limit: Limit,
    pub(crate) inflight: InFlight,
}

/// Builds a [`SyncService`].
#[derive(Debug)]
pub struct SyncServiceBuilder {
    store: Arc<dyn Store>,
    source: Arc<dyn SourceHost>,
    llm: Option<Arc<dyn LlmProvider>>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    config: Option<(ReposConfig, Option<PathBuf>)>,
    options: SyncOptions,
}

impl SyncServiceBuilder {
    /// The LLM used for analysis (none: analysis is reported as not configured).
    pub fn with_llm(mut self, llm: Option<Arc<dyn LlmProvider>>) -> Self {
        self.llm = llm;
        self
    }
    /// The clock (default: the wall clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// How retries wait (default: [`ThreadSleeper`]; pass the runtime's timer).
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }
    /// The repositories file's content, and the path `add` saves it to (none: kept in memory).
    pub fn with_config(mut self, config: ReposConfig, path: Option<PathBuf>) -> Self {
        self.config = Some((config, path));
        self
    }
    /// Loads the repositories file; `add` saves back to it.
    pub fn with_config_file(self, path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let config = ReposConfig::load(&path)?;
        Ok(self.with_config(config, Some(path)))
    }
    /// Engine options.
    pub fn with_options(mut self, options: SyncOptions) -> Self {
        self.options = options;
        self
    }
    /// The service.
    pub fn build(self) -> SyncService {
        let (config, config_path) = match self.config {
            Some((c, p)) => (Some(Mutex::new(c)), p),
            None => (None, None),
        };
        SyncService {
            inner: Arc::new(Inner {
                store: self.store,
                source: self.source,
                llm: self.llm,
                clock: self.clock,
                sleeper: self.sleeper,
                config,
                config_path,
                limit: Limit::new(self.options.concurrency),
                options: self.options,
                inflight: InFlight::default(),
            }),
        }
    }
}

/// A repository to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddRepo {
    /// `owner/name`.
    pub repo: RepoRef,
    /// Its role.
    pub kind: RepoKind,
    /// 1 (first) ..= 5 (last); default 3.
    pub sync_priority: u8,
    /// Feature tags.
    pub features: Vec<String>,
    /// Free text; `None` takes the host's description.
    pub description: Option<String>,
    /// Synced with the others (default true).
    pub enabled: bool,
}

impl AddRepo {
    /// An enabled repository of `kind`, priority 3.
    pub fn new(repo: RepoRef, kind: RepoKind) -> Self {
        AddRepo {
            repo,
            kind,
            sync_priority: 3,
            features: Vec::new(),
            description: None,
            enabled: true,
        }
    }
    /// Sets the priority.
    pub fn with_priority(mut self, p: u8) -> Self {
        self.sync_priority = p;
        self
    }
    /// Sets the feature tags.
    pub fn with_features(mut self, features: Vec<String>) -> Self {
        self.features = features;
        self
    }
    /// Sets the description.
    pub fn with_description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Sets the enabled flag.
    pub fn with_enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }
}

/// The result of [`SyncService::add`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddOutcome {
    /// The repository as recorded.
    pub repository: Repository,
    /// It exists on the host (otherwise it is recorded as planned).
    pub found: bool,
    /// It was tracked before (its entry was updated).
    pub existed: bool,
    /// The repositories file was written.
    pub saved_config: bool,
}

/// A tracked repository and the description its file entry gives, if any.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) repo: Repository,
    pub(crate) config_description: Option<String>,
}

fn key(r: &RepoRef) -> String {
    r.full_name().to_ascii_lowercase()
}

impl SyncService {
    /// A builder over a store and a source host; everything else has a default.
    pub fn builder(store: Arc<dyn Store>, source: Arc<dyn SourceHost>) -> SyncServiceBuilder {
        SyncServiceBuilder {
            store,
            source,
            llm: None,
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(ThreadSleeper),
            config: None,
            options: SyncOptions::default(),
        }
    }

    /// Everything at once: store, host, optional LLM, clock, optional repositories file (and
    /// the path to save it to), options.
    pub fn new(
        store: Arc<dyn Store>,
        source: Arc<dyn SourceHost>,
        llm: Option<Arc<dyn LlmProvider>>,
        clock: Arc<dyn Clock>,
        config: Option<(ReposConfig, Option<PathBuf>)>,
        options: SyncOptions,
    ) -> Self {
        let mut b = Self::builder(store, source)
            .with_llm(llm)
            .with_clock(clock)
            .with_options(options);
        b.config = config;
        b.build()
    }

    /// The repositories file as the service holds it now.
    pub fn config(&self) -> Option<ReposConfig> {
        self.inner.config.as_ref().map(|c| lock(c).clone())
    }

    /// `sync_settings` of the repositories file (defaults without one: auto-sync off).
    pub fn sync_settings(&self) -> SyncSettings {
        self.inner
            .config
            .as_ref()
            .map(|c| lock(c).sync_settings.clone())
            .unwrap_or_default()
    }

    /// `discovery_settings` of the repositories file.
    pub fn discovery_settings(&self) -> DiscoverySettings {
        self.inner
            .config
            .as_ref()
            .map(|c| lock(c).discovery_settings.clone())
            .unwrap_or_default()
    }

    /// The engine options.
    pub fn options(&self) -> &SyncOptions {
        &self.inner.options
    }

    /// Every tracked repository (enabled or not), first priority first, then by name.
    pub async fn tracked(&self) -> Result<Vec<Repository>> {
        Ok(self
            .inner
            .targets()
            .await?
            .into_iter()
            .map(|t| t.repo)
            .collect())
    }

    /// Repositories being synced right now.
    pub fn syncing(&self) -> Vec<RepoRef> {
        self.inner.inflight.repos()
    }

    /// Checks a repository on the host and tracks it: in the store, and in the repositories
    /// file when there is one (saved atomically). A repository the host does not have is
    /// recorded as planned; one it has is active (or archived) with its default branch,
    /// language and topics.
    ///
    /// The host is asked once: someone is waiting for the answer (`/multi-repo/add`), the host
    /// client already repeats brief failures itself, and the sync retry policy on top of that
    /// kept a caller waiting 43 s for a 502 while GitHub answered 5xx. A failure that may pass
    /// is returned as such ([`Error::is_retryable`]) for the caller to try again.
    pub async fn add(&self, req: AddRepo) -> Result<AddOutcome> {
        crate::model::repo::validate_priority(req.sync_priority)?;
        let inner = &self.inner;
        let found = match inner.source.get_repo(&req.repo).await {
            Ok(r) => Some(r),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        self.record_added(req, found.as_ref()).await
    }

    /// Tracks a repository whose host description is already known (discovery).
    pub(crate) async fn record_added(
        &self,
        req: AddRepo,
        remote: Option<&RemoteRepo>,
    ) -> Result<AddOutcome> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let existing = inner.store.get_repository(&req.repo).await?;
        let in_config = inner
            .config
            .as_ref()
            .is_some_and(|c| lock(c).entry(&req.repo).is_some());
        let existed = existing.is_some() || in_config;
        // Keep what earlier syncs learnt (head, timestamps) when re-adding.
        let mut r = existing.unwrap_or_else(|| Repository::new(req.repo.clone(), req.kind, now));
        r.kind = req.kind;
        r.enabled = req.enabled;
        r.sync_priority = req.sync_priority;
        r.features = req.features.clone();
        r.updated_at = now;
        match remote {
            Some(remote) => {
                r.repo = remote.repo.clone();
                r.default_branch = Some(remote.default_branch.clone());
                r.language = remote.language.clone();
                r.topics = remote.topics.clone();
                r.status = if remote.archived {
                    RepoStatus::Archived
                } else {
                    RepoStatus::Active
                };
                r.description = req.description.clone().or(remote.description.clone());
            }
            None => {
                r.status = RepoStatus::Planned;
                r.description = req.description.clone().or(r.description);
            }
        }
        let mut saved_config = false;
        if let Some(cfg) = &inner.config {
            let mut entry = RepoEntry::new(r.repo.clone(), req.kind);
            entry.description = req.description.clone();
            entry.enabled = req.enabled;
            entry.sync_priority = req.sync_priority;
            entry.features = req.features.clone();
            let mut g = lock(cfg);
            let mut next = g.clone();
            next.upsert_entry(entry);
            // Write the file before changing memory, so both say the same if the write fails.
            if let Some(path) = &inner.config_path {
                next.save(path)?;
                saved_config = true;
            }
            *g = next;
        }
        inner.store.upsert_repository(&r).await?;
        Ok(AddOutcome {
            repository: r,
            found: remote.is_some(),
            existed,
            saved_config,
        })
    }

    /// Syncs repositories; see [`SyncRequest`]. Fails only when the tracked repositories
    /// cannot be read; one repository's failure is in its result, never stops the others.
    pub async fn sync(&self, req: SyncRequest) -> Result<SyncReport> {
        self.sync_with_progress(req, no_progress()).await
    }

    /// [`sync`](Self::sync), reporting each repository's progress to `sink` as it goes.
    pub async fn sync_with_progress(
        &self,
        req: SyncRequest,
        sink: ProgressSink,
    ) -> Result<SyncReport> {
        let inner = &self.inner;
        let started_at = inner.clock.now();
        let t0 = Instant::now();
        let (targets, skipped) = self.resolve(&req).await?;
        let job = RepoJob {
            force: req.force,
            analysis: req.include_analysis,
            fresh: req.fresh,
        };
        let order: HashMap<String, usize> = targets
            .iter()
            .enumerate()
            .map(|(i, r)| (key(r), i))
            .collect();
        // Started in priority order; the shared limit bounds them across concurrent calls,
        // the buffer bounds how many of this call wait for it.
        let mut results: Vec<_> = futures::stream::iter(targets)
            .map(|repo| inner.sync_repo(repo, job, sink.clone()))
            .buffer_unordered(inner.options.concurrency.max(1))
            .collect()
            .await;
        results.sort_by_key(|r| order.get(&key(&r.repo)).copied().unwrap_or(usize::MAX));
        let totals = SyncReport::total(&results);
        Ok(SyncReport {
            started_at,
            finished_at: inner.clock.now(),
            duration_ms: t0.elapsed().as_millis() as u64,
            results,
            skipped,
            totals,
        })
    }

    /// The repositories a request names, in sync order, and the ones it cannot sync.
    async fn resolve(&self, req: &SyncRequest) -> Result<(Vec<RepoRef>, Vec<SkippedRepo>)> {
        let tracked = self.inner.targets().await?;
        let Some(wanted) = &req.repos else {
            let repos = tracked
                .into_iter()
                .filter(|t| t.repo.enabled)
                .map(|t| t.repo.repo)
                .collect();
            return Ok((repos, Vec::new()));
        };
        let by_key: HashMap<String, &Target> =
            tracked.iter().map(|t| (key(&t.repo.repo), t)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut chosen: Vec<&Target> = Vec::new();
        let mut skipped = Vec::new();
        for r in wanted {
            if !seen.insert(key(r)) {
                continue;
            }
            match by_key.get(&key(r)) {
                Some(t) => chosen.push(t),
                None => skipped.push(SkippedRepo {
                    repo: r.clone(),
                    reason: "not tracked: add it first".into(),
                }),
            }
        }
        chosen.sort_by(|a, b| order_of(&a.repo, &b.repo));
        Ok((
            chosen.into_iter().map(|t| t.repo.repo.clone()).collect(),
            skipped,
        ))
    }
}

fn order_of(a: &Repository, b: &Repository) -> std::cmp::Ordering {
    a.sync_priority
        .cmp(&b.sync_priority)
        .then_with(|| key(&a.repo).cmp(&key(&b.repo)))
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    /// Runs `op`, retrying retryable failures per the retry policy; `on_retry(attempt, wait,
    /// error)` is told before each wait (`attempt` is the one about to be made, 2 first).
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        mut op: F,
        mut on_retry: impl FnMut(u32, Duration, &Error),
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut retry = 0usize;
        loop {
            let error = match op().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(wait) = self.options.retry.wait_for(retry, &error) else {
                return Err(error);
            };
            retry += 1;
            on_retry(retry as u32 + 1, wait, &error);
            self.sleeper.sleep(wait).await;
        }
    }

    /// Tracked repositories, merged from the store and the file, in sync order.
    pub(crate) async fn targets(&self) -> Result<Vec<Target>> {
        let now = self.clock.now();
        let mut by_key: HashMap<String, Target> = HashMap::new();
        for r in self.store.all_repositories().await? {
            by_key.insert(
                key(&r.repo),
                Target {
                    repo: r,
                    config_description: None,
                },
            );
        }
        if let Some(cfg) = &self.config {
            for e in lock(cfg).repositories.iter() {
                let t = by_key.entry(key(&e.repo)).or_insert_with(|| Target {
                    repo: e.to_repository(now),
                    config_description: None,
                });
                apply_entry(t, e);
            }
        }
        let mut v: Vec<Target> = by_key.into_values().collect();
        v.sort_by(|a, b| order_of(&a.repo, &b.repo));
        Ok(v)
    }

    /// One tracked repository, merged.
    pub(crate) async fn target(&self, repo: &RepoRef) -> Result<Option<Target>> {
        let stored = self.store.get_repository(repo).await?;
        let entry = self
            .config
            .as_ref()
            .and_then(|c| lock(c).entry(repo).cloned());
        let now = self.clock.now();
        let mut t = match (stored, &entry) {
            (Some(r), _) => Target {
                repo: r,
                config_description: None,
            },
            (None, Some(e)) => Target {
                repo: e.to_repository(now),
                config_description: None,
            },
            (None, None) => return Ok(None),
        };
        if let Some(e) = &entry {
            apply_entry(&mut t, e);
        }
        Ok(Some(t))
    }
}

fn apply_entry(t: &mut Target, e: &RepoEntry) {
    t.repo.kind = e.kind;
    t.repo.enabled = e.enabled;
    t.repo.sync_priority = e.sync_priority;
    t.repo.features = e.features.clone();
    if e.description.is_some() {
        t.config_description = e.description.clone();
        t.repo.description = e.description.clone();
    }
}
