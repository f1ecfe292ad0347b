//! Idempotency keys without paying twice for the same artifact.
//!
//! The [`Store`] trait finds artifacts by id, not by idempotency key; its guarantee is that
//! `insert_artifact` with a known key returns the first artifact (`Existing`) and stores
//! nothing. That makes storage idempotent, but not the LLM call before it. Until the trait
//! gains `find_artifact_by_key`, the service avoids the repeated call in three layers:
//!
//! 1. **One request per key at a time.** Requests with the same key take an async per-key lock,
//!    so a concurrent duplicate waits for the first instead of calling the LLM in parallel.
//! 2. **Keys this service stored**, remembered (bounded, oldest forgotten first) with the
//!    artifact id: a repeat is answered with `get_artifact`, an indexed read.
//! 3. **A bounded look at the store**: the newest [`RECENT_SCAN`] artifacts of the same kind
//!    and repository, which catches retries after a restart or from another process.
//!
//! What is left: a repeat arriving after a restart (or at another server) whose original is
//! older than the scan window makes a second LLM call — the store still returns the first
//! artifact (`Existing`), so callers always see one artifact per key; only tokens are spent.
//! No placeholder row is ever written, so a crash cannot leave a key stuck.
//!
//! [`Store`]: crate::store::Store

use crate::error::Result;
use crate::model::{Artifact, ArtifactId, ArtifactKind, ListOptions, RepoRef};
use crate::store::{ArtifactFilter, Store};
use futures::lock::{Mutex as AsyncMutex, OwnedMutexGuard};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// How many recent artifacts of the same kind and repository are searched for a key.
pub const RECENT_SCAN: usize = 200;
/// How many stored keys a service remembers.
pub const REMEMBERED_KEYS: usize = 10_000;

type Inflight = Mutex<HashMap<String, Arc<AsyncMutex<()>>>>;

/// Per-key locks and remembered keys.
#[derive(Debug, Default)]
pub(crate) struct Idempotency {
    inflight: Inflight,
    done: Mutex<Remembered>,
}

#[derive(Debug, Default)]
struct Remembered {
    ids: HashMap<String, ArtifactId>,
    order: VecDeque<String>,
}

/// Holds a key's lock; releases it (and forgets the lock when nobody waits) on drop.
#[derive(Debug)]
pub(crate) struct KeyGuard<'a> {
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
    inflight: &'a Inflight,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        drop(self.guard.take());
        // Only the map holds it now: nobody waits, so forget it. Waiters clone the Arc while
        // holding the map's lock, so the count cannot grow between the check and the removal.
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            map.remove(&self.key);
        }
    }
}

impl Idempotency {
    /// Waits until no other request with `key` runs, then holds the key.
    pub async fn lock(&self, key: &str) -> KeyGuard<'_> {
        let m = {
            let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.to_string()).or_default().clone()
        };
        let guard = m.lock_owned().await;
        KeyGuard {
            key: key.to_string(),
            guard: Some(guard),
            inflight: &self.inflight,
        }
    }

    /// Remembers that `key` produced artifact `id`.
    pub fn remember(&self, key: &str, id: ArtifactId) {
        let mut d = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if d.ids.insert(key.to_string(), id).is_none() {
            d.order.push_back(key.to_string());
            while d.order.len() > REMEMBERED_KEYS {
                if let Some(old) = d.order.pop_front() {
                    d.ids.remove(&old);
                }
            }
        }
    }

    /// The artifact stored earlier under `key`, if this service remembers it or it is among the
    /// newest artifacts of the same kind and repository.
    pub async fn find(
        &self,
        store: &dyn Store,
        key: &str,
        kind: ArtifactKind,
        repo: Option<&RepoRef>,
    ) -> Result<Option<Artifact>> {
        let remembered = self
            .done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .ids
            .get(key)
            .copied();
        if let Some(id) = remembered {
            if let Some(a) = store.get_artifact(id).await? {
                return Ok(Some(a));
            }
        }
        let mut filter = ArtifactFilter::default().with_kind(kind);
        if let Some(r) = repo {
            filter = filter.with_repo(r.clone());
        }
        let page = store
            .list_artifacts(&filter, &ListOptions::default().with_limit(RECENT_SCAN))
            .await?;
        let found = page
            .items
            .into_iter()
            .find(|a| a.idempotency_key.as_deref() == Some(key));
        if let Some(a) = &found {
            self.remember(key, a.id);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_are_forgotten_when_released() {
        let i = Idempotency::default();
        futures::executor::block_on(async {
            let g = i.lock("k").await;
            assert_eq!(i.inflight.lock().unwrap().len(), 1);
            drop(g);
            assert!(i.inflight.lock().unwrap().is_empty());
        });
    }

    #[test]
    fn remembered_keys_are_bounded() {
        let i = Idempotency::default();
        for n in 0..(REMEMBERED_KEYS + 5) {
            i.remember(&format!("k{n}"), ArtifactId(n as i64));
        }
        let d = i.done.lock().unwrap();
        assert_eq!(d.ids.len(), REMEMBERED_KEYS);
        assert!(!d.ids.contains_key("k0"));
    }
}
