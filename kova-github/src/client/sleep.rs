//! Waiting, made injectable: every wait of the client (rate limits, backoff, write pacing) goes
//! through a [`Sleeper`], so tests can record "waited 60 s" without waiting.

use async_trait::async_trait;
use std::fmt::Debug;
use std::time::Duration;

/// Something that waits. The client never calls `tokio::time::sleep` directly.
#[async_trait]
pub trait Sleeper: Send + Sync + Debug + 'static {
    /// Waits for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// Real waiting, on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
