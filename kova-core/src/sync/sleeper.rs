//! Waiting without a runtime: the engine asks an injected [`Sleeper`], so tests record waits
//! instead of sleeping and each face plugs in its own runtime's timer.

use async_trait::async_trait;
use futures::channel::oneshot;
use std::time::Duration;

pub use crate::time::Sleeper;

/// A runtime-agnostic [`Sleeper`] that parks a short-lived thread per wait.
///
/// Good enough for retry backoff (rare, a few seconds); a long-running scheduler should be
/// given the runtime's own timer instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadSleeper;

#[async_trait]
impl Sleeper for ThreadSleeper {
    async fn sleep(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        let (tx, rx) = oneshot::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("kova-sync-sleep".into())
            .spawn(move || {
                std::thread::sleep(duration);
                let _ = tx.send(());
            });
        match spawned {
            Ok(_) => {
                let _ = rx.await;
            }
            // No thread to be had: block this one rather than skip the wait, which would
            // turn a backoff into a hammering retry loop.
            Err(_) => std::thread::sleep(duration),
        }
    }
}
