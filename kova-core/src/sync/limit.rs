//! A runtime-agnostic counting semaphore, so the concurrency limit holds across every
//! concurrent sync call (manual, scheduled, push) without depending on tokio.

use futures::channel::mpsc;
use futures::lock::Mutex;
use futures::StreamExt;
use std::fmt;

/// At most `n` holders of a [`Permit`] at once. Tokens live in a channel; a waiter takes the
/// receiver's lock, so waiters are served one at a time in lock order, and a cancelled wait
/// loses no token (receiving from the channel is cancel-safe).
pub(crate) struct Limit {
    tokens: Mutex<mpsc::UnboundedReceiver<()>>,
    tx: mpsc::UnboundedSender<()>,
    size: usize,
}

impl fmt::Debug for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limit").field("size", &self.size).finish()
    }
}

/// Held while a repository syncs; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Permit {
    tx: mpsc::UnboundedSender<()>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let _ = self.tx.unbounded_send(());
    }
}

impl Limit {
    pub(crate) fn new(size: usize) -> Self {
        let size = size.max(1);
        let (tx, rx) = mpsc::unbounded();
        for _ in 0..size {
            let _ = tx.unbounded_send(());
        }
        Limit {
            tokens: Mutex::new(rx),
            tx,
            size,
        }
    }

    pub(crate) async fn acquire(&self) -> Permit {
        let mut rx = self.tokens.lock().await;
        // The sender lives in `self`, so the channel never closes while we wait.
        let _ = rx.next().await;
        Permit {
            tx: self.tx.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn holds_at_most_n() {
        futures::executor::block_on(async {
            let l = Limit::new(2);
            let a = l.acquire().await;
            let _b = l.acquire().await;
            assert!(l.acquire().now_or_never().is_none());
            drop(a);
            assert!(l.acquire().now_or_never().is_some());
        });
    }
}
