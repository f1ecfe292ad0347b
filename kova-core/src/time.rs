//! Time as the engine sees it: one timestamp type, an injectable clock and an injectable
//! sleeper, so tests and stores never depend on the wall clock or on real waiting.

use async_trait::async_trait;
use std::fmt::Debug;
use std::time::Duration;

/// A point in time, always UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Where the engine gets "now" from. Injected so tests can move time instead of sleeping.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// How the engine waits (backoff, polling, lease renewal, sync retries and schedules).
/// Injected so kova-core needs no runtime and tests can record waits instead of waiting.
#[async_trait]
pub trait Sleeper: Send + Sync + Debug + 'static {
    /// Completes after `duration`. Dropping the future cancels the wait.
    async fn sleep(&self, duration: Duration);
}

/// A [`Sleeper`] on tokio's timer (feature `tokio`).
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[cfg(feature = "tokio")]
#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await
    }
}

/// Truncates a timestamp to whole microseconds, the precision every backend can store, so a
/// value read back compares equal to the value written.
pub fn to_micros(ts: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(ts.timestamp_micros()).unwrap_or(ts)
}

/// Converts a std duration to chrono's, saturating instead of failing on huge values.
pub fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
