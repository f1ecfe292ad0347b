//! Auto-sync: a runtime-agnostic scheduler that syncs every `sync_interval_minutes` (when
//! `auto_sync_enabled`), syncs a repository after a push to it (when `sync_on_push`), and
//! looks for new repositories on the same interval (when `watch_for_new_repos`).
//!
//! Drive it either with [`AutoSync::run`] and a [`Sleeper`] from the runtime, or call
//! [`AutoSync::tick`] yourself (tests do, with a manual clock). Settings are read at every
//! tick, so turning auto-sync on or off takes effect without a restart.

use crate::model::RepoRef;
use crate::sync::discover::DiscoverReport;
use crate::sync::report::{SkippedRepo, SyncReport, SyncRequest};
use crate::sync::service::{lock, SyncService};
use crate::sync::sleeper::Sleeper;
use crate::time::Timestamp;
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

/// The longest the loop sleeps without looking at the settings again.
const MAX_IDLE: Duration = Duration::from_secs(3600);

/// The scheduler. One per service; share it (e.g. in an `Arc`) between the loop and the
/// webhook handler that calls [`notify_push`](Self::notify_push).
#[derive(Debug)]
pub struct AutoSync {
    service: SyncService,
    state: Mutex<State>,
    wake_tx: mpsc::UnboundedSender<()>,
    wake_rx: futures::lock::Mutex<mpsc::UnboundedReceiver<()>>,
}

#[derive(Debug, Default)]
struct State {
    /// `None`: due now (the first tick after auto-sync is turned on syncs at once).
    next_sync_at: Option<Timestamp>,
    next_discover_at: Option<Timestamp>,
    pending: Vec<RepoRef>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TickReport {
    /// The interval sync, if one was due.
    pub interval: Option<SyncReport>,
    /// The sync of pushed repositories, if any were pending.
    pub pushed: Option<SyncReport>,
    /// The discovery, if one was due.
    pub discover: Option<DiscoverReport>,
    /// Pushes not acted on, and why (a disabled repository).
    pub ignored_pushes: Vec<SkippedRepo>,
    /// Failures of whole runs (a repository's failure is in its report).
    pub errors: Vec<String>,
}

impl TickReport {
    /// Whether the tick did nothing.
    pub fn is_idle(&self) -> bool {
        self.interval.is_none()
            && self.pushed.is_none()
            && self.discover.is_none()
            && self.ignored_pushes.is_empty()
            && self.errors.is_empty()
    }
}

impl AutoSync {
    /// A scheduler over a service.
    pub fn new(service: SyncService) -> Self {
        let (wake_tx, wake_rx) = mpsc::unbounded();
        AutoSync {
            service,
            state: Mutex::new(State::default()),
            wake_tx,
            wake_rx: futures::lock::Mutex::new(wake_rx),
        }
    }

    /// The service it drives.
    pub fn service(&self) -> &SyncService {
        &self.service
    }

    /// A push reached `repo`: queue a sync of it (when `sync_on_push` is on) and wake the
    /// loop. Returns whether it was queued. The sync starts after the push, so it sees it: if
    /// one of the repository is running, another pass follows it.
    pub fn notify_push(&self, repo: &RepoRef) -> bool {
        if !self.service.sync_settings().sync_on_push {
            return false;
        }
        {
            let mut s = lock(&self.state);
            if !s.pending.iter().any(|r| r.same_as(repo)) {
                s.pending.push(repo.clone());
            }
        }
        let _ = self.wake_tx.unbounded_send(());
        true
    }

    /// Repositories waiting for a push-triggered sync.
    pub fn pending(&self) -> Vec<RepoRef> {
        lock(&self.state).pending.clone()
    }

    /// When the next interval sync is due (`None`: auto-sync off, or due now).
    pub fn next_sync_at(&self) -> Option<Timestamp> {
        lock(&self.state).next_sync_at
    }

    /// Runs what is due now: the interval sync, pushed repositories, discovery.
    pub async fn tick(&self) -> TickReport {
        let now = self.service.inner.clock.now();
        let settings = self.service.sync_settings();
        let watch = self.service.discovery_settings().watch_for_new_repos;
        let interval = chrono::Duration::minutes(i64::from(settings.sync_interval_minutes.max(1)));
        let (interval_due, discover_due, pushed) = {
            let mut s = lock(&self.state);
            let interval_due =
                settings.auto_sync_enabled && s.next_sync_at.is_none_or(|t| now >= t);
            if interval_due {
                s.next_sync_at = Some(now + interval);
            } else if !settings.auto_sync_enabled {
                s.next_sync_at = None;
            }
            let discover_due =
                settings.auto_sync_enabled && watch && s.next_discover_at.is_none_or(|t| now >= t);
            if discover_due {
                s.next_discover_at = Some(now + interval);
            }
            (interval_due, discover_due, std::mem::take(&mut s.pending))
        };
        let mut report = TickReport::default();
        if discover_due {
            match self.service.discover().await {
                Ok(d) => report.discover = Some(d),
                Err(e) => report.errors.push(format!("discover: {e}")),
            }
        }
        // Pushes to disabled repositories are not synced (disabled means "not automatically").
        // An interval sync starting now covers the other pushed repositories, except those
        // syncing since before the push: they need a fresh pass of their own.
        let tracked = if pushed.is_empty() {
            Vec::new()
        } else {
            match self.service.tracked().await {
                Ok(t) => t,
                Err(e) => {
                    report.errors.push(format!("push sync: {e}"));
                    Vec::new()
                }
            }
        };
        let syncing = self.service.syncing();
        let mut fresh = Vec::new();
        for repo in pushed {
            let record = tracked.iter().find(|t| t.repo.same_as(&repo));
            if record.is_some_and(|t| !t.enabled) {
                report.ignored_pushes.push(SkippedRepo {
                    repo,
                    reason: "disabled".into(),
                });
            } else if !interval_due || record.is_none() || syncing.iter().any(|s| s.same_as(&repo))
            {
                fresh.push(repo);
            }
        }
        let pushed = fresh;
        let interval_run = async {
            if interval_due {
                Some(self.service.sync(SyncRequest::all()).await)
            } else {
                None
            }
        };
        let pushed_run = async {
            if pushed.is_empty() {
                None
            } else {
                Some(
                    self.service
                        .sync(SyncRequest::repos(pushed.clone()).with_fresh(true))
                        .await,
                )
            }
        };
        let (i, p) = futures::join!(interval_run, pushed_run);
        match i {
            Some(Ok(r)) => report.interval = Some(r),
            Some(Err(e)) => report.errors.push(format!("interval sync: {e}")),
            None => {}
        }
        match p {
            Some(Ok(r)) => report.pushed = Some(r),
            Some(Err(e)) => report.errors.push(format!("push sync: {e}")),
            None => {}
        }
        report
    }

    /// How long until something is due (zero if something is due now).
    pub fn next_wait(&self) -> Duration {
        let now = self.service.inner.clock.now();
        let s = lock(&self.state);
        if !s.pending.is_empty() {
            return Duration::ZERO;
        }
        if !self.service.sync_settings().auto_sync_enabled {
            return MAX_IDLE;
        }
        let next = [s.next_sync_at, s.next_discover_at]
            .into_iter()
            .flatten()
            .min();
        match next {
            None => Duration::ZERO,
            Some(t) => (t - now).to_std().unwrap_or(Duration::ZERO).min(MAX_IDLE),
        }
    }

    /// Ticks until `shutdown` completes: after each tick it sleeps until the next interval
    /// or until a push wakes it. Shutdown cancels a running tick (each store write is atomic,
    /// and a repository whose sync is dropped can be synced again at once). A second `run`
    /// while one is running returns at once.
    pub async fn run(&self, sleeper: &dyn Sleeper, shutdown: impl Future<Output = ()>) {
        let Some(mut wake) = self.wake_rx.try_lock() else {
            return;
        };
        let mut shutdown = std::pin::pin!(shutdown.fuse());
        loop {
            {
                let mut tick = std::pin::pin!(self.tick().fuse());
                futures::select! {
                    _ = tick => {},
                    _ = shutdown => return,
                }
            }
            // Wakes consumed by this tick are stale; the pending list is the truth.
            while wake.try_recv().is_ok() {}
            let wait = self.next_wait();
            if wait.is_zero() {
                continue;
            }
            let mut sleep = std::pin::pin!(sleeper.sleep(wait).fuse());
            futures::select! {
                _ = sleep => {},
                _ = wake.next() => {},
                _ = shutdown => return,
            }
        }
    }
}
