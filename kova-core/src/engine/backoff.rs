//! Retry waits: exponential, capped, jittered, and never shorter than the service asked.

use std::time::Duration;

/// Exponential backoff with jitter: attempt `n` (1-based) waits between half and all of
/// `base · 2^(n-1)`, capped at `max`. Jitter spreads retries of many jobs that failed together
/// (one upstream outage) so they do not return together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// A backoff from `base` doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max }
    }

    /// The wait before retrying after failed attempt `attempt` (1-based); `seed` picks the
    /// jitter (pass something that differs per job, e.g. its id). When `at_least` (a service's
    /// `retry-after`) is longer, the wait is `at_least` plus a jitter of up to a tenth of it
    /// (or of up to half the backoff, if that is more): never sooner than the service asked,
    /// and jobs it refused together do not all return at the same instant.
    pub fn delay(&self, attempt: u32, seed: u64, at_least: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        // Jitter in [50%, 100%] of the full wait, from a cheap hash of the seed and attempt.
        let frac = 0.5 + 0.5 * unit_interval(seed ^ (u64::from(attempt) << 32));
        let jittered = full.mul_f64(frac);
        match at_least {
            // One rate limit refuses every job in flight with the same wait; returning them
            // as one burst is what trips a secondary rate limit again.
            Some(min) if min > jittered => {
                let spread = (full / 2).max(min / 10);
                let r = unit_interval(seed.rotate_left(29) ^ u64::from(attempt) ^ 0x5EED);
                min.saturating_add(spread.mul_f64(r))
            }
            _ => jittered,
        }
    }
}

/// A number in [0, 1) from a 64-bit seed (splitmix64): deterministic, uniform enough for jitter.
fn unit_interval(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_cap() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(20));
        for seed in 0..200u64 {
            for (attempt, full) in [
                (1, 2.0),
                (2, 4.0),
                (3, 8.0),
                (4, 16.0),
                (5, 20.0),
                (9, 20.0),
            ] {
                let d = b.delay(attempt, seed, None).as_secs_f64();
                assert!(
                    d >= full / 2.0 - 1e-9 && d <= full + 1e-9,
                    "attempt {attempt}: {d}"
                );
            }
        }
        let spread: std::collections::HashSet<u128> =
            (0..50).map(|s| b.delay(3, s, None).as_millis()).collect();
        assert!(spread.len() > 10, "jitter spreads waits");
    }

    #[test]
    fn retry_after_wins_when_longer() {
        let b = Backoff::default();
        let d = b.delay(1, 7, Some(Duration::from_secs(90)));
        assert!(
            d >= Duration::from_secs(90) && d < Duration::from_secs(99),
            "{d:?}"
        );
        assert!(b.delay(1, 7, Some(Duration::from_millis(1))) >= Duration::from_secs(1));
    }

    #[test]
    fn jobs_told_to_wait_the_same_do_not_return_together() {
        // One secondary rate limit refuses many jobs with the same retry-after: they must not
        // all come back at the same instant, which is the burst that trips the limit again.
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let asked = Duration::from_secs(120);
        let waits: Vec<Duration> = (0..300u64)
            .map(|seed| b.delay(1, seed, Some(asked)))
            .collect();
        assert!(waits.iter().all(|w| *w >= asked), "never sooner than asked");
        // Spread over a tenth of the asked wait (more than the backoff's own jitter here).
        assert!(waits.iter().all(|w| *w < asked + asked / 10), "{waits:?}");
        let distinct: std::collections::HashSet<u128> =
            waits.iter().map(|w| w.as_millis()).collect();
        assert!(distinct.len() > 250, "{} distinct waits", distinct.len());
        let (lo, hi) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(*hi - *lo > Duration::from_secs(10), "spread {lo:?}..{hi:?}");
        // A short retry-after spreads by up to half the backoff instead.
        for seed in 0..50 {
            let short = b.delay(3, seed, Some(Duration::from_secs(5)));
            assert!(short >= Duration::from_secs(5) && short < Duration::from_secs(7));
        }
    }
}
