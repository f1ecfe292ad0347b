//! Never two syncs of one repository at once.
//!
//! A request for a repository that is already syncing *joins* the running sync: it waits for
//! it, receives its remaining progress events and gets its result (marked `joined`). Two
//! callers asking at the same moment thus cost one sync. A *fresh* request (after a push)
//! cannot trust a sync that started before the change, so it marks the running sync for one
//! more pass, which starts as soon as the current pass ends; every waiter gets the last
//! pass's result. Several pushes during one pass coalesce into one extra pass.

use crate::model::RepoRef;
use crate::sync::progress::{ProgressSink, SyncProgress, SyncStage};
use crate::sync::report::RepoSyncResult;
use crate::sync::service::{lock, Inner};
use futures::future::{BoxFuture, FutureExt, WeakShared};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

type SyncFuture = BoxFuture<'static, RepoSyncResult>;

/// What one repository's sync should do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RepoJob {
    pub(crate) force: bool,
    pub(crate) analysis: bool,
    pub(crate) fresh: bool,
}

struct Entry {
    id: u64,
    repo: RepoRef,
    /// Weak, so that when every caller has gone the sync is dropped (and this entry with it)
    /// instead of being kept alive by the registry.
    future: WeakShared<SyncFuture>,
    rerun: bool,
    subscribers: Vec<ProgressSink>,
}

/// The repositories syncing now.
#[derive(Default)]
pub(crate) struct InFlight {
    map: Mutex<HashMap<String, Entry>>,
    next_id: AtomicU64,
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlight")
            .field("repos", &self.repos())
            .finish()
    }
}

impl InFlight {
    pub(crate) fn repos(&self) -> Vec<RepoRef> {
        let mut v: Vec<RepoRef> = lock(&self.map).values().map(|e| e.repo.clone()).collect();
        v.sort();
        v
    }

    fn subscribers(&self, key: &str, id: u64) -> Vec<ProgressSink> {
        lock(&self.map)
            .get(key)
            .filter(|e| e.id == id)
            .map(|e| e.subscribers.clone())
            .unwrap_or_default()
    }

    /// Ends a pass: `true` when another pass is wanted, otherwise the entry is removed.
    fn finish_pass(&self, key: &str, id: u64) -> bool {
        let mut map = lock(&self.map);
        match map.get_mut(key) {
            Some(e) if e.id == id && e.rerun => {
                e.rerun = false;
                true
            }
            Some(e) if e.id == id => {
                map.remove(key);
                false
            }
            _ => false,
        }
    }

    fn remove(&self, key: &str, id: u64) {
        let mut map = lock(&self.map);
        if map.get(key).is_some_and(|e| e.id == id) {
            map.remove(key);
        }
    }
}

/// Sends progress to everyone waiting on one repository's sync.
pub(crate) struct Emitter<'a> {
    inner: &'a Inner,
    key: &'a str,
    id: u64,
    pub(crate) repo: &'a RepoRef,
}

impl Emitter<'_> {
    pub(crate) fn emit(&self, stage: SyncStage) {
        let p = SyncProgress {
            repo: self.repo.clone(),
            stage,
            at: self.inner.clock.now(),
        };
        // Called outside the lock: a sink may be slow or call back into the service.
        for s in self.inner.inflight.subscribers(self.key, self.id) {
            s(&p);
        }
    }
}

/// Removes the registry entry if the sync is dropped before it finishes (every caller gone).
struct RemoveOnDrop {
    inner: Arc<Inner>,
    key: String,
    id: u64,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        self.inner.inflight.remove(&self.key, self.id);
    }
}

impl Inner {
    /// Syncs one repository, or joins its running sync; see the module docs.
    pub(crate) async fn sync_repo(
        self: &Arc<Self>,
        repo: RepoRef,
        job: RepoJob,
        sink: ProgressSink,
    ) -> RepoSyncResult {
        let key = repo.full_name().to_ascii_lowercase();
        let (future, joined) = {
            let mut map = lock(&self.inflight.map);
            let running = map
                .get_mut(&key)
                .and_then(|e| e.future.upgrade().map(|f| (e, f)));
            match running {
                Some((entry, future)) => {
                    entry.subscribers.push(sink.clone());
                    entry.rerun |= job.fresh;
                    (future, true)
                }
                None => {
                    let id = self.inflight.next_id.fetch_add(1, Ordering::Relaxed);
                    let future = self
                        .clone()
                        .run_passes(repo.clone(), key.clone(), id, job)
                        .boxed()
                        .shared();
                    let weak = future
                        .downgrade()
                        .expect("a shared future not yet polled can be downgraded");
                    map.insert(
                        key.clone(),
                        Entry {
                            id,
                            repo: repo.clone(),
                            future: weak,
                            rerun: false,
                            subscribers: vec![sink.clone()],
                        },
                    );
                    (future, false)
                }
            }
        };
        if joined {
            sink(&SyncProgress {
                repo: repo.clone(),
                stage: SyncStage::Joined,
                at: self.clock.now(),
            });
        }
        let mut result = future.await;
        result.joined = joined;
        result
    }

    async fn run_passes(
        self: Arc<Self>,
        repo: RepoRef,
        key: String,
        id: u64,
        job: RepoJob,
    ) -> RepoSyncResult {
        let _guard = RemoveOnDrop {
            inner: self.clone(),
            key: key.clone(),
            id,
        };
        loop {
            let result = {
                let _permit = self.limit.acquire().await;
                let em = Emitter {
                    inner: &self,
                    key: &key,
                    id,
                    repo: &repo,
                };
                self.sync_once(&em, job).await
            };
            if !self.inflight.finish_pass(&key, id) {
                return result;
            }
        }
    }
}
