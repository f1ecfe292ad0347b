//! The seeded fault plan, the ledger of every answer the fakes gave, and the checks that read
//! the ledger back.
//!
//! A fault is a pure function of (seed, request key, how many times that key was asked before):
//! each key belongs to one job, whose requests are sequential, so the same seed gives every
//! job the same faults however the workers interleave.

use kova::Timestamp;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// What a fake answered to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A normal answer.
    Ok,
    /// Anthropic's 429 or GitHub's secondary-limit 403, with `retry-after`.
    RateLimited(Duration),
    /// GitHub's exhausted primary limit: a 403 with `x-ratelimit-remaining: 0`, the reset
    /// this far from the request.
    PrimaryLimit(Duration),
    /// Anthropic's 529.
    Overloaded,
    /// A 5xx (Anthropic 500, GitHub 502).
    ServerError(u16),
    /// GitHub's 502 after it applied the write: the comment exists though the client saw an
    /// error.
    AppliedThen502,
    /// No answer before the client's timeout.
    Timeout,
    /// A permanent refusal (Anthropic 400, GitHub 404): retrying cannot help.
    Rejected,
}

impl Answer {
    /// How long the answer asked the client to wait, if it did.
    pub fn wait(self) -> Option<Duration> {
        match self {
            Answer::RateLimited(d) | Answer::PrimaryLimit(d) => Some(d),
            _ => None,
        }
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Answer::Ok => "ok",
            Answer::RateLimited(_) => "rate-limited",
            Answer::PrimaryLimit(_) => "primary-limit",
            Answer::Overloaded => "overloaded",
            Answer::ServerError(_) => "5xx",
            Answer::AppliedThen502 => "applied-then-502",
            Answer::Timeout => "timeout",
            Answer::Rejected => "rejected",
        }
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The engine's (manual) clock when it arrived: it moves only between rounds of work, so
    /// calls of one key at one time are one client call and its in-call retries.
    pub at: Timestamp,
    /// What the fake answered.
    pub answer: Answer,
}

/// Every answer a fake gave, per request key, in order.
#[derive(Debug, Default)]
pub struct Ledger {
    calls: Mutex<HashMap<String, Vec<Call>>>,
}

impl Ledger {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Call>>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides and records the answer to the next call of `key`; `decide` gets how many calls
    /// of `key` came before. Returns that number and the answer.
    pub fn next(
        &self,
        key: &str,
        at: Timestamp,
        decide: impl FnOnce(u32) -> Answer,
    ) -> (u32, Answer) {
        let mut calls = self.lock();
        let list = calls.entry(key.to_string()).or_default();
        let n = list.len() as u32;
        let answer = decide(n);
        list.push(Call { at, answer });
        (n, answer)
    }

    /// Everything so far.
    pub fn snapshot(&self) -> HashMap<String, Vec<Call>> {
        self.lock().clone()
    }
}

/// A number in [0, 1) from the seed, the key and its occurrence (FNV-1a, then splitmix64).
pub fn roll(seed: u64, key: &str, occurrence: u32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = seed ^ h ^ u64::from(occurrence).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// What one fake's ledger shows, for the report and the final assertions.
#[derive(Debug, Default)]
pub struct LedgerReport {
    /// Requests answered.
    pub calls: usize,
    /// Requests per kind of answer.
    pub by_answer: HashMap<&'static str, usize>,
    /// Client calls (a first request and its in-call retries).
    pub client_calls: usize,
    /// Requests the client repeated itself, within one call.
    pub in_call_retries: usize,
    /// Waits the fake asked for before an in-call retry (to be matched by the client's sleeps).
    pub asked_in_call: Vec<Duration>,
    /// Waits the fake asked for that the client handed to the engine, each honoured (checked).
    pub honoured_by_engine: usize,
}

/// How many requests a client may repeat within one call.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// One budget for every retryable failure (Anthropic's `max_retries`).
    Shared(usize),
    /// Separate budgets for server errors and for rate-limit waits (GitHub's).
    Split {
        /// Retries after a 5xx.
        errors: usize,
        /// Waits for a rate limit.
        rate_limits: usize,
    },
}

impl Budget {
    fn check(self, repeated: &[Call]) -> Result<(), String> {
        let waits = repeated
            .iter()
            .filter(|c| c.answer.wait().is_some())
            .count();
        let errors = repeated.len() - waits;
        match self {
            Budget::Shared(max) if repeated.len() > max => {
                Err(format!("{} retries, at most {max}", repeated.len()))
            }
            Budget::Split {
                errors: max_errors,
                rate_limits,
            } if errors > max_errors || waits > rate_limits => Err(format!(
                "{errors} retries after errors (at most {max_errors}), {waits} after rate \
                 limits (at most {rate_limits})"
            )),
            _ => Ok(()),
        }
    }
}

/// Reads a ledger back and checks, per key:
/// - a client call repeats a request only within its retry budget;
/// - a permanent refusal is never repeated, by the client or by the engine;
/// - a write (`POST`/`PATCH` key) is not repeated within the call after a 5xx;
/// - when a call ended on an answer that asked for a wait, the next call of the key (the
///   engine's retry) came at least that wait later (less one microsecond: stores keep
///   microseconds).
pub fn check_ledger(what: &str, ledger: &Ledger, budget: Budget) -> LedgerReport {
    let mut report = LedgerReport::default();
    for (key, calls) in ledger.snapshot() {
        report.calls += calls.len();
        for c in &calls {
            *report.by_answer.entry(c.answer.name()).or_default() += 1;
        }
        let is_write = key.starts_with("POST ") || key.starts_with("PATCH ");
        let groups: Vec<&[Call]> = calls.chunk_by(|a, b| a.at == b.at).collect();
        for (g, group) in groups.iter().enumerate() {
            report.client_calls += 1;
            report.in_call_retries += group.len() - 1;
            if let Err(e) = budget.check(&group[..group.len() - 1]) {
                panic!("{what} {key}: one client call made {e}: {group:?}");
            }
            for (i, call) in group.iter().enumerate() {
                let last_in_group = i + 1 == group.len();
                if call.answer == Answer::Rejected {
                    assert!(
                        last_in_group && g + 1 == groups.len(),
                        "{what} {key}: a permanent refusal was retried: {calls:?}"
                    );
                }
                if is_write
                    && matches!(call.answer, Answer::ServerError(_) | Answer::AppliedThen502)
                {
                    assert!(
                        last_in_group,
                        "{what} {key}: a write was repeated after a 5xx within one call"
                    );
                }
                if let (false, Some(wait)) = (last_in_group, call.answer.wait()) {
                    report.asked_in_call.push(wait);
                }
            }
            let last = group[group.len() - 1];
            if let (Some(wait), Some(next)) = (last.answer.wait(), groups.get(g + 1)) {
                let gap = (next[0].at - last.at).to_std().unwrap_or_default();
                assert!(
                    gap + Duration::from_micros(1) >= wait,
                    "{what} {key}: asked to wait {wait:?}, retried after {gap:?}"
                );
                report.honoured_by_engine += 1;
            }
        }
    }
    report
}

/// Asserts that every wait asked for before an in-call retry is covered by a distinct wait of
/// the client at least as long. The client may have waited more often (backoff, other
/// requests held by a shared limit): those waits are extra, never a substitute.
pub fn assert_waits_cover(what: &str, asked: &[Duration], slept: &[Duration]) {
    if let Err(e) = waits_cover(asked, slept) {
        panic!("{what}: {e}");
    }
}

/// Sorting both longest first finds a matching of each ask to a distinct wait at least as
/// long, if one exists.
fn waits_cover(asked: &[Duration], slept: &[Duration]) -> Result<(), String> {
    let mut asked = asked.to_vec();
    let mut slept = slept.to_vec();
    asked.sort_unstable_by(|a, b| b.cmp(a));
    slept.sort_unstable_by(|a, b| b.cmp(a));
    if slept.len() < asked.len() {
        return Err(format!(
            "{} waits asked for, the client waited only {} times",
            asked.len(),
            slept.len()
        ));
    }
    for (i, (a, s)) in asked.iter().zip(&slept).enumerate() {
        if s < a {
            return Err(format!(
                "wait {i} (longest first) asked for is {a:?}, but the client's is {s:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn rolls_are_deterministic_and_spread() {
    assert_eq!(roll(7, "k", 0), roll(7, "k", 0));
    assert_ne!(roll(7, "k", 0), roll(7, "k", 1));
    assert_ne!(roll(7, "k", 0), roll(8, "k", 0));
    let below: usize = (0..10_000)
        .filter(|i| roll(42, &format!("key {i}"), 0) < 0.3)
        .count();
    assert!((2_700..3_300).contains(&below), "{below}");
}

#[test]
fn wait_matching_needs_one_long_enough_wait_per_ask() {
    let s = Duration::from_secs;
    assert!(waits_cover(&[s(2), s(1)], &[s(1), s(3), Duration::ZERO]).is_ok());
    assert!(waits_cover(&[s(2), s(2)], &[s(3), s(1)]).is_err());
    assert!(waits_cover(&[s(1)], &[]).is_err());
}

#[test]
fn budgets_count_errors_and_rate_limits() {
    let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
    let call = |answer| Call { at, answer };
    let e = call(Answer::ServerError(502));
    let w = call(Answer::RateLimited(Duration::from_secs(1)));
    assert!(Budget::Shared(2).check(&[e, w]).is_ok());
    assert!(Budget::Shared(2).check(&[e, w, e]).is_err());
    let split = Budget::Split {
        errors: 2,
        rate_limits: 3,
    };
    assert!(split.check(&[e, w, w, e, w]).is_ok());
    assert!(split.check(&[e, e, e]).is_err());
    assert!(split.check(&[w, w, w, w]).is_err());
}
