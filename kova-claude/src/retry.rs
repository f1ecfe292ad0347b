//! When and how long to wait before trying a request again, as Anthropic's official SDKs do.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// How failed requests are retried.
///
/// The defaults are the official SDKs': 2 retries, backoff 0.5 s·2ⁿ capped at 8 s with up to
/// 25% jitter, the service's `retry-after-ms` / `retry-after` honoured up to 60 s.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` requests).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each later one.
    pub initial_backoff: Duration,
    /// Longest computed backoff.
    pub max_backoff: Duration,
    /// Fraction (0.0..=1.0) of each backoff that is random, so clients that failed together do
    /// not retry together: the wait is `backoff · (1 − jitter · r)`, `r` uniform in [0, 1).
    pub jitter: f64,
    /// Longest wait the service may ask for that is honoured inside a call. When a rate limit
    /// asks for more, waiting would stall the caller and retrying sooner would ignore the
    /// service, so the call fails with `Error::RateLimited { retry_after }` for the caller
    /// (e.g. the job queue) to reschedule; other errors, which cannot carry the wait, fall
    /// back to the computed backoff, as in the official SDKs.
    pub max_retry_after: Duration,
    /// Whether timeouts and connection failures are retried.
    pub retry_connection_errors: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            jitter: 0.25,
            max_retry_after: Duration::from_secs(60),
            retry_connection_errors: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the first backoff and its cap.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets the jitter fraction (clamped to 0.0..=1.0); 0 makes waits exact.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// Sets the longest server-requested wait that is honoured inside a call.
    pub fn with_max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Sets whether timeouts and connection failures are retried.
    pub fn with_retry_connection_errors(mut self, yes: bool) -> Self {
        self.retry_connection_errors = yes;
        self
    }

    /// The backoff before retry number `retry` (0 for the first), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The wait before retry number `retry`, with jitter drawn from `r` in [0, 1).
    pub(crate) fn jittered_backoff(&self, retry: u32, r: f64) -> Duration {
        let jitter = self.jitter.clamp(0.0, 1.0);
        self.backoff(retry)
            .mul_f64(1.0 - jitter * r.clamp(0.0, 1.0))
    }
}

/// Waits between attempts: kova-core's one injectable sleeper, so the engine, sync and this
/// client all wait through the same thing and tests record the waits instead of waiting
/// (`kova_claude::testing::RecordingSleeper`).
pub use kova_core::time::{Sleeper, TokioSleeper};

/// What the response headers say about retrying.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RetryHints {
    /// `x-should-retry`: the service's own verdict, which overrides the status rules.
    pub should_retry: Option<bool>,
    /// `retry-after-ms` or `retry-after`.
    pub retry_after: Option<Duration>,
}

impl RetryHints {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let should_retry = match text("x-should-retry") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let retry_after = text("retry-after-ms")
            .and_then(parse_millis)
            .or_else(|| text("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now())));
        RetryHints {
            should_retry,
            retry_after,
        }
    }
}

fn parse_millis(v: &str) -> Option<Duration> {
    let ms: f64 = v.parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
}

/// `retry-after` is either (possibly fractional) seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when: SystemTime = chrono::DateTime::parse_from_rfc2822(v).ok()?.into();
    // A date in the past means "now".
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether a status is worth retrying when the service gave no verdict.
pub(crate) fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let secs: Vec<f64> = (0..7).map(|n| p.backoff(n).as_secs_f64()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(8));
        assert_eq!(p.jittered_backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(p.jittered_backoff(1, 0.999_999).as_millis(), 750);
        assert_eq!(
            p.with_jitter(0.0).jittered_backoff(2, 0.9),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn retry_after_headers_in_all_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(
            RetryHints::from_headers(&h).retry_after,
            Some(Duration::from_secs(2))
        );
        h.insert("retry-after-ms", HeaderValue::from_static("1500.5"));
        let hints = RetryHints::from_headers(&h);
        assert_eq!(hints.retry_after, Some(Duration::from_micros(1_500_500)));
        assert_eq!(hints.should_retry, None);
        h.insert("x-should-retry", HeaderValue::from_static("false"));
        assert_eq!(RetryHints::from_headers(&h).should_retry, Some(false));

        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 07:27:50 GMT
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 409, 429, 500, 502, 503, 529] {
            assert!(status_is_retryable(s), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert!(!status_is_retryable(s), "{s}");
        }
    }
}
