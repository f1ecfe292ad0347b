//! The two fakes' behaviour: a seeded share of faults in front of a normal answer, every answer
//! written to a ledger. The fake GitHub is a small stateful GitHub (pull request files, issue
//! comments that can be listed, created and updated), so duplicate comments would show.

use crate::plan::{roll, Answer, Ledger};
use kova::claude::testing::{FakeAnthropic, FakeResponse as ClaudeResponse};
use kova::github::testing::{FakeGitHub, FakeResponse as GitHubResponse};
use kova::testing::ManualClock;
use kova::Clock;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// In a request to the LLM: answer 400, whatever the plan says (a prompt the API refuses).
pub const REJECT: &str = "[fault:reject]";
/// In a request to the LLM: answer 529, always (an outage longer than the job's attempts).
pub const OUTAGE: &str = "[fault:outage]";

/// The wait a secondary-limit storm asks for.
pub const STORM: Duration = Duration::from_secs(120);

/// How long a "timeout" answer takes, against the client's much shorter timeout.
pub const SLOW: Duration = Duration::from_secs(10);

/// Anthropic: about 30% of calls fail, 10% with a 429 (one in five of those asking for longer
/// than the client waits in a call), 8% with a 529, 9% with a 500, 3% with a timeout (a 500
/// instead, but for first calls in the first round of work).
pub fn anthropic(fake: &FakeAnthropic, ledger: Arc<Ledger>, clock: Arc<ManualClock>, seed: u64) {
    let start = clock.now();
    fake.set_responder(move |req| {
        let body = String::from_utf8_lossy(&req.body);
        let key = format!("anthropic {:016x}", fnv(&req.body));
        let now = clock.now();
        let (n, answer) = ledger.next(&key, now, |n| {
            if body.contains(REJECT) {
                return Answer::Rejected;
            }
            if body.contains(OUTAGE) {
                return Answer::Overloaded;
            }
            let u = roll(seed, &key, n);
            match u {
                u if u < 0.10 => {
                    let v = roll(seed ^ 1, &key, n);
                    Answer::RateLimited(if v < 0.2 {
                        Duration::from_secs(90)
                    } else {
                        Duration::from_secs(1 + (v * 3.0) as u64)
                    })
                }
                u if u < 0.18 => Answer::Overloaded,
                u if u < 0.27 => Answer::ServerError(500),
                // Only first calls in the first round of work hang: they run side by side, so
                // the real time the timeouts cost overlaps.
                u if u < 0.30 && n == 0 && now == start => Answer::Timeout,
                u if u < 0.30 => Answer::ServerError(500),
                _ => Answer::Ok,
            }
        });
        Some(match answer {
            Answer::Ok => ClaudeResponse::text(&format!(
                "{{\"summary\": \"answer {n} to {key}\", \"labels\": [\"bug\"], \"duplicates\": []}}"
            )),
            Answer::RateLimited(wait) => ClaudeResponse::error(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            )
            .with_header("retry-after", &wait.as_secs().to_string()),
            Answer::Overloaded => ClaudeResponse::error(529, "overloaded_error", "Overloaded"),
            Answer::ServerError(status) => {
                ClaudeResponse::error(status, "api_error", "Internal server error")
            }
            Answer::Timeout => ClaudeResponse::text("too late").with_delay(SLOW),
            Answer::Rejected => ClaudeResponse::error(
                400,
                "invalid_request_error",
                "messages.0.content: the fake refuses this prompt",
            ),
            other => unreachable!("anthropic never answers {other:?}"),
        })
    });
}

/// The state of the small GitHub: comments per issue or pull request number.
#[derive(Debug, Default)]
pub struct GitHubState {
    /// Comments (id, body) per issue number.
    pub comments: BTreeMap<u64, Vec<(u64, String)>>,
    next_id: u64,
}

/// GitHub: about 22% of requests fail, 12% with a 502 (half of the failed writes were applied
/// first), 7% with a secondary rate limit and a `retry-after` of 1–5 s, 3% with the primary
/// limit exhausted until a reset 1–4 s away. Pull requests in `gone` answer 404. The first
/// comment posted on an issue in `storms` meets a secondary limit asking for 120 s, longer than
/// the client waits: the client refuses every request until then, and the queue reschedules.
pub fn github(
    fake: &FakeGitHub,
    ledger: Arc<Ledger>,
    clock: Arc<ManualClock>,
    seed: u64,
    gone: HashSet<u64>,
    storms: HashSet<u64>,
) -> Arc<Mutex<GitHubState>> {
    let state = Arc::new(Mutex::new(GitHubState {
        next_id: 1,
        ..GitHubState::default()
    }));
    let gh = state.clone();
    fake.set_responder(move |req| {
        let route = Route::of(&req.method, &req.path)?;
        let key = format!("{} {}", req.method, req.path);
        let now = clock.now();
        let is_write = req.method != "GET";
        let (_, answer) = ledger.next(&key, now, |n| {
            match route {
                Route::Files(number) if gone.contains(&number) => return Answer::Rejected,
                Route::CreateComment(number) if n == 0 && storms.contains(&number) => {
                    return Answer::RateLimited(STORM);
                }
                _ => {}
            }
            let u = roll(seed, &key, n);
            let v = roll(seed ^ 2, &key, n);
            match u {
                u if u < 0.12 && is_write && v < 0.5 => Answer::AppliedThen502,
                u if u < 0.12 => Answer::ServerError(502),
                u if u < 0.19 => Answer::RateLimited(Duration::from_secs(1 + (v * 5.0) as u64)),
                u if u < 0.22 => {
                    let reset = now.timestamp() + 1 + (v * 3.0) as i64;
                    let at = chrono::DateTime::from_timestamp(reset, 0).expect("reset time");
                    Answer::PrimaryLimit((at - now).to_std().unwrap_or_default())
                }
                _ => Answer::Ok,
            }
        });
        Some(match answer {
            Answer::Ok | Answer::AppliedThen502 => {
                let ok = apply(&mut gh.lock().unwrap(), route, &req.json());
                if answer == Answer::AppliedThen502 {
                    bad_gateway()
                } else {
                    ok
                }
            }
            Answer::ServerError(_) => bad_gateway(),
            Answer::RateLimited(wait) => GitHubResponse::error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            )
            .with_header("retry-after", &wait.as_secs().to_string()),
            Answer::PrimaryLimit(wait) => {
                let reset = (now + chrono::Duration::from_std(wait).expect("wait")).timestamp();
                GitHubResponse::error(403, "API rate limit exceeded for installation ID 1.")
                    .with_rate_limit(0, 5000, reset)
            }
            Answer::Rejected => GitHubResponse::error(404, "Not Found"),
            other => unreachable!("github never answers {other:?}"),
        })
    });
    state
}

fn bad_gateway() -> GitHubResponse {
    GitHubResponse::raw(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        .with_header("content-type", "text/html")
}

/// The endpoints the handlers use.
#[derive(Debug, Clone, Copy)]
enum Route {
    Files(u64),
    ListComments(u64),
    CreateComment(u64),
    UpdateComment(u64),
}

impl Route {
    fn of(method: &str, path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/repos/")?;
        let parts: Vec<&str> = rest.split('/').skip(2).collect();
        match (method, parts.as_slice()) {
            ("GET", ["pulls", n, "files"]) => Some(Route::Files(n.parse().ok()?)),
            ("GET", ["issues", n, "comments"]) => Some(Route::ListComments(n.parse().ok()?)),
            ("POST", ["issues", n, "comments"]) => Some(Route::CreateComment(n.parse().ok()?)),
            ("PATCH", ["issues", "comments", id]) => Some(Route::UpdateComment(id.parse().ok()?)),
            _ => None,
        }
    }
}

fn comment_json(id: u64, body: &str) -> serde_json::Value {
    json!({
        "id": id,
        "body": body,
        "user": {"login": "kova[bot]", "type": "Bot"},
        "html_url": format!("https://github.com/Codertocat/Hello-World/issues#issuecomment-{id}"),
    })
}

fn apply(s: &mut GitHubState, route: Route, body: &serde_json::Value) -> GitHubResponse {
    let text = body["body"].as_str().unwrap_or_default().to_string();
    match route {
        Route::Files(number) => GitHubResponse::ok(json!([{
            "filename": format!("src/module_{number}.rs"),
            "status": "modified",
            "additions": 3,
            "deletions": 1,
            "patch": format!("@@ -1,2 +1,4 @@\n-fn old_{number}() {{}}\n+fn new_{number}() {{}}\n+// more\n+// lines"),
        }])),
        Route::ListComments(number) => {
            let list: Vec<_> = s
                .comments
                .get(&number)
                .into_iter()
                .flatten()
                .map(|(id, body)| comment_json(*id, body))
                .collect();
            GitHubResponse::ok(json!(list))
        }
        Route::CreateComment(number) => {
            let id = s.next_id;
            s.next_id += 1;
            s.comments
                .entry(number)
                .or_default()
                .push((id, text.clone()));
            GitHubResponse::json(201, &comment_json(id, &text))
        }
        Route::UpdateComment(id) => {
            let found = s
                .comments
                .values_mut()
                .flatten()
                .find(|(cid, _)| *cid == id);
            match found {
                Some(c) => {
                    c.1 = text.clone();
                    GitHubResponse::ok(comment_json(id, &text))
                }
                None => GitHubResponse::error(404, "Not Found"),
            }
        }
    }
}

/// FNV-1a of some bytes: a stable key for a request body.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
