//! Time as the engine sees it: one timestamp type and an injectable clock, so tests and
//! stores never depend on the wall clock to decide when a job is due or a lease expired.

use std::fmt::Debug;

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

/// Truncates a timestamp to whole microseconds, the precision every backend can store, so a
/// value read back compares equal to the value written.
pub fn to_micros(ts: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(ts.timestamp_micros()).unwrap_or(ts)
}
