//! How the sync engine behaves: concurrency, retries and the limits that keep one repository
//! from costing too many requests or too big a prompt.

use crate::error::Error;
use std::time::Duration;

/// Sync engine options; `Default` is what production uses. Construct with `default()` and the
/// setters, so a new option never breaks a caller.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Repositories synced at once, across every concurrent `sync` call (default 4). Each
    /// repository makes its requests one after another, so this is also the number of host
    /// requests in flight.
    pub concurrency: usize,
    /// Backoff for retryable failures.
    pub retry: RetryPolicy,
    /// Files fetched per repository besides the README (manifests and Kubernetes YAML).
    pub max_manifests: usize,
    /// Files larger than this (by the tree's size) are not fetched.
    pub max_file_bytes: u64,
    /// Characters of the README given to the analysis prompt.
    pub readme_excerpt_chars: usize,
    /// Output tokens of the analysis.
    pub analysis_max_tokens: u32,
    /// Input tokens the analysis prompt may use at most (also bounded by the model's window).
    pub analysis_prompt_tokens: u64,
    /// The analysis model; `None` is the provider's default.
    pub analysis_model: Option<String>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            concurrency: 4,
            retry: RetryPolicy::default(),
            max_manifests: 40,
            max_file_bytes: 512 * 1024,
            readme_excerpt_chars: 6_000,
            analysis_max_tokens: 2_048,
            analysis_prompt_tokens: 24_000,
            analysis_model: None,
        }
    }
}

impl SyncOptions {
    /// Sets how many repositories sync at once (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Sets the number of manifest files fetched per repository.
    pub fn with_max_manifests(mut self, n: usize) -> Self {
        self.max_manifests = n;
        self
    }
    /// Sets the largest file fetched.
    pub fn with_max_file_bytes(mut self, n: u64) -> Self {
        self.max_file_bytes = n;
        self
    }
    /// Sets the analysis model.
    pub fn with_analysis_model(mut self, model: impl Into<String>) -> Self {
        self.analysis_model = Some(model.into());
        self
    }
}

/// Exponential backoff for retryable failures ([`Error::is_retryable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The wait before each retry; its length is the number of retries (default 2, 4, 8, 16 s).
    pub delays: Vec<Duration>,
    /// A `retry_after` longer than this is not waited for: the failure is reported instead,
    /// so one rate-limited repository cannot hold a sync for an hour (default 5 minutes).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            delays: [2, 4, 8, 16].map(Duration::from_secs).to_vec(),
            max_wait: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            delays: Vec::new(),
            max_wait: Duration::ZERO,
        }
    }

    /// Custom delays.
    pub fn with_delays(delays: impl IntoIterator<Item = Duration>) -> Self {
        RetryPolicy {
            delays: delays.into_iter().collect(),
            ..RetryPolicy::default()
        }
    }

    /// How long to wait before retry number `retry` (0 = the first retry) after `error`, or
    /// `None` when the error is permanent, the retries are spent, or the service asked for a
    /// wait longer than [`max_wait`](Self::max_wait). The service's `retry_after` wins when it
    /// is longer than the backoff.
    pub fn wait_for(&self, retry: usize, error: &Error) -> Option<Duration> {
        if !error.is_retryable() {
            return None;
        }
        let backoff = *self.delays.get(retry)?;
        match error.retry_after() {
            Some(asked) if asked > self.max_wait => None,
            Some(asked) => Some(asked.max(backoff)),
            None => Some(backoff),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(secs: Option<u64>) -> Error {
        Error::RateLimited {
            service: "github".into(),
            retry_after: secs.map(Duration::from_secs),
        }
    }

    #[test]
    fn backoff_doubles_then_gives_up() {
        let p = RetryPolicy::default();
        let e = limited(None);
        let waits: Vec<_> = (0..5).map(|i| p.wait_for(i, &e)).collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(4)),
                Some(Duration::from_secs(8)),
                Some(Duration::from_secs(16)),
                None
            ]
        );
    }

    #[test]
    fn retry_after_wins_when_longer_and_bounded() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.wait_for(0, &limited(Some(30))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            p.wait_for(2, &limited(Some(1))),
            Some(Duration::from_secs(8))
        );
        assert_eq!(p.wait_for(0, &limited(Some(3600))), None);
        assert_eq!(p.wait_for(0, &Error::not_found("repository", "a/b")), None);
    }
}
