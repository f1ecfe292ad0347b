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
    /// jitter (pass something that differs per job, e.g. its id). `at_least` (a service's
    /// `retry-after`) wins when longer.
    pub fn delay(&self, attempt: u32, seed: u64, at_least: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        // Jitter in [50%, 100%] of the full wait, from a cheap hash of the seed and attempt.
        let frac = 0.5 + 0.5 * unit_interval(seed ^ (u64::from(attempt) << 32));
        let jittered = full.mul_f64(frac);
        match at_least {
            Some(min) if min > jittered => min,
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
        assert_eq!(
            b.delay(1, 7, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
        assert!(b.delay(1, 7, Some(Duration::from_millis(1))) >= Duration::from_secs(1));
    }
}
