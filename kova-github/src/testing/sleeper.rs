use crate::client::Sleeper;
use async_trait::async_trait;
use kova_core::testing::ManualClock;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A [`Sleeper`] that returns at once and records every wait asked of it, so a test can assert
/// "waited 60 s" in no time. With a [`ManualClock`], each wait also moves the clock forward, as
/// real waiting would.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    sleeps: Mutex<Vec<Duration>>,
    clock: Option<Arc<ManualClock>>,
}

impl RecordingSleeper {
    /// A sleeper that moves no clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sleeper that advances `clock` by each wait.
    pub fn with_clock(clock: Arc<ManualClock>) -> Self {
        RecordingSleeper {
            sleeps: Mutex::new(Vec::new()),
            clock: Some(clock),
        }
    }

    /// Every wait so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The sum of all waits.
    pub fn total(&self) -> Duration {
        self.sleeps().iter().sum()
    }
}

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, duration: Duration) {
        self.sleeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(duration);
        if let Some(clock) = &self.clock {
            clock.advance(duration);
        }
        // Still yield, as a real sleep would, so other tasks run.
        tokio::task::yield_now().await;
    }
}
