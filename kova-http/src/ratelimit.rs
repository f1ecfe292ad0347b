//! Per-credential rate limiting: a token bucket per principal, answered with 429 and
//! `Retry-After` when empty.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token buckets keyed by principal id.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Option<(f64, f64)>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets idle this long are forgotten, so the map cannot grow without bound.
const IDLE: Duration = Duration::from_secs(600);

impl RateLimiter {
    pub(crate) fn new(limit: Option<(f64, f64)>) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `who`; `Err(wait)` when the bucket is empty.
    pub(crate) fn check(&self, who: &str, now: Instant) -> Result<(), Duration> {
        let Some((rate, burst)) = self.limit else {
            return Ok(());
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < IDLE);
        }
        let (tokens, last) = buckets.entry(who.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let l = RateLimiter::new(Some((2.0, 3.0)));
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.check("a", t).is_ok());
        }
        let wait = l.check("a", t).unwrap_err();
        assert!(wait <= Duration::from_millis(500) && wait > Duration::ZERO);
        assert!(l.check("b", t).is_ok(), "buckets are per principal");
        assert!(l.check("a", t + Duration::from_millis(600)).is_ok());
        assert!(RateLimiter::new(None).check("x", t).is_ok());
    }
}
