//! Idempotency keys without paying twice for the same artifact.
//!
//! The store's guarantee is that `insert_artifact` with a known key returns the first artifact
//! (`Existing`) and stores nothing. That makes storage idempotent, but not the LLM call before
//! it. So the service also:
//!
//! 1. **Runs one request per key at a time.** Requests with the same key take an async per-key
//!    lock, so a concurrent duplicate waits for the first instead of calling the LLM in
//!    parallel.
//! 2. **Asks the store first** ([`Store::find_artifact_by_key`], an indexed read): a repeat is
//!    answered with the stored artifact, however old it is, after a restart or at another
//!    server alike.
//!
//! Two servers sharing a store can still both call the LLM for the same key if their requests
//! overlap (the lock is per process); the store then keeps the first artifact and both callers
//! get it. No placeholder row is ever written, so a crash cannot leave a key stuck.
//!
//! [`Store::find_artifact_by_key`]: crate::store::Store::find_artifact_by_key

use crate::artifacts::request::GeneratedArtifact;
use crate::artifacts::ArtifactService;
use crate::error::Result;
use futures::lock::{Mutex as AsyncMutex, OwnedMutexGuard};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Inflight = Mutex<HashMap<String, Arc<AsyncMutex<()>>>>;

/// Per-key locks.
#[derive(Debug, Default)]
pub(crate) struct Idempotency {
    inflight: Inflight,
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
}

/// What a request with an idempotency key may do.
pub(crate) enum KeyClaim<'a> {
    /// The key's artifact exists: answer with it, generate nothing. (Boxed: the other
    /// variant is a few words.)
    Replay(Box<GeneratedArtifact>),
    /// Go on; the key (if any) stays held until the guard drops.
    Held(Option<KeyGuard<'a>>),
}

impl ArtifactService {
    /// Holds `key` (waiting for a request already holding it), then looks for its artifact.
    pub(crate) async fn claim_key(&self, key: Option<&str>) -> Result<KeyClaim<'_>> {
        let Some(key) = key else {
            return Ok(KeyClaim::Held(None));
        };
        let guard = self.idempotency.lock(key).await;
        Ok(match self.store.find_artifact_by_key(key).await? {
            Some(artifact) => KeyClaim::Replay(Box::new(GeneratedArtifact {
                artifact,
                replayed: true,
            })),
            None => KeyClaim::Held(Some(guard)),
        })
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
}
