//! GitHub's rate limits as the client tracks them, and the backoff it uses.
//!
//! - Primary limit: `x-ratelimit-remaining/-reset/-limit` on every response. At zero, requests
//!   wait until the reset time (or fail with `RateLimited` when that is too far away).
//! - Secondary limits: a 403/429 that is not an exhausted primary limit. `retry-after` is
//!   honoured; without it the client waits at least a minute, doubling on repeats, as GitHub's
//!   documentation asks. The wait applies to every request of the client, not just the one
//!   that was refused.

use kova_core::Timestamp;
use rand::Rng;
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::time::Duration;

/// What the last response said about the primary limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// Which limit: `core`, `search`, `graphql`… (`x-ratelimit-resource`).
    pub resource: Option<String>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// Requests per window.
    pub limit: Option<u64>,
    /// When the window resets.
    pub reset: Option<Timestamp>,
}

impl RateLimitInfo {
    /// Reads the `x-ratelimit-*` headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let num =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        RateLimitInfo {
            resource: headers
                .get("x-ratelimit-resource")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            remaining: num("x-ratelimit-remaining"),
            limit: num("x-ratelimit-limit"),
            reset: num("x-ratelimit-reset")
                .and_then(|s| chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0)),
        }
    }
}

/// The client's shared view of the limits.
#[derive(Debug, Default)]
pub struct RateState {
    /// Latest primary-limit headers per resource (`core`, `search`…): the search API has its
    /// own, much smaller, limit that must not hold back ordinary requests.
    pub resources: HashMap<String, RateLimitInfo>,
    /// The `core` limit, for stats.
    pub core: RateLimitInfo,
    /// No request at all before this time (a secondary limit was hit).
    pub blocked_until: Option<Timestamp>,
    /// Secondary-limit hits in a row, for the exponential wait.
    pub secondary_strikes: u32,
}

/// Extra wait after a primary reset time: GitHub's clock and ours differ by a little.
const RESET_GRACE: Duration = Duration::from_secs(1);

impl RateState {
    /// Records a response's headers.
    pub fn observe(&mut self, info: &RateLimitInfo) {
        if info.remaining.is_none() {
            return;
        }
        let resource = info.resource.clone().unwrap_or_else(|| "core".to_string());
        if resource == "core" {
            self.core = info.clone();
        }
        self.resources.insert(resource, info.clone());
    }

    /// How long a request against `resource` must wait now: a secondary-limit block, or an
    /// exhausted primary limit until its reset.
    pub fn wait_before_request(&self, resource: &str, now: Timestamp) -> Option<Duration> {
        let until_of = |t: Timestamp| (t > now).then(|| (t - now).to_std().unwrap_or_default());
        let secondary = self.blocked_until.and_then(until_of);
        let primary = self
            .resources
            .get(resource)
            .and_then(|i| match (i.remaining, i.reset) {
                (Some(0), Some(reset)) => until_of(reset).map(|d| d + RESET_GRACE),
                _ => None,
            });
        secondary.max(primary)
    }

    /// After waiting out the limits of `resource`: forget them, so a clock that did not move
    /// (or a reset GitHub moved) cannot make the client wait twice; the next response tells.
    pub fn waited(&mut self, resource: &str) {
        self.blocked_until = None;
        if let Some(i) = self.resources.get_mut(resource) {
            i.remaining = None;
        }
    }
}

/// The wait until a primary limit's reset (plus a second of grace).
pub fn until_reset(reset: Timestamp, now: Timestamp) -> Duration {
    (reset - now).to_std().unwrap_or_default() + RESET_GRACE
}

/// `retry-after` in seconds (GitHub sends seconds; an HTTP date is accepted too).
pub fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v)
        .ok()?
        .with_timezone(&chrono::Utc);
    Some((at - now).to_std().unwrap_or_default())
}

/// Jittered exponential backoff: attempt `n` (0-based) waits a random time between half and
/// all of `base * 2^n`, capped at `max`, so many clients failing together do not retry in step.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1u32 << attempt.min(16)).min(max);
    let half = full / 2;
    half + rand::thread_rng().gen_range(Duration::ZERO..=half)
}

/// The wait after the `strikes`-th secondary-limit refusal in a row without `retry-after`:
/// `min_wait`, doubling with each strike, capped at 16 × `min_wait`.
pub fn secondary_wait(min_wait: Duration, strikes: u32) -> Duration {
    min_wait.saturating_mul(1u32 << strikes.saturating_sub(1).min(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1700000000"));
        h.insert("retry-after", HeaderValue::from_static("7"));
        let info = RateLimitInfo::from_headers(&h);
        assert_eq!(info.remaining, Some(0));
        assert_eq!(info.limit, Some(5000));
        assert_eq!(info.reset.unwrap().timestamp(), 1_700_000_000);
        assert_eq!(
            retry_after(&h, chrono::Utc::now()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            RateLimitInfo::from_headers(&HeaderMap::new()),
            RateLimitInfo::default()
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for attempt in 0..20 {
            let d = backoff(base, max, attempt);
            let full = (base * (1 << attempt.min(16))).min(max);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn secondary_waits_double_from_the_minimum() {
        let m = Duration::from_secs(60);
        assert_eq!(secondary_wait(m, 1), m);
        assert_eq!(secondary_wait(m, 2), m * 2);
        assert_eq!(secondary_wait(m, 3), m * 4);
        assert_eq!(secondary_wait(m, 40), m * 16);
    }
}
