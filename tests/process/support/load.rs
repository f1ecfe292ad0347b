//! Signed deliveries, and the load that sends them.

use super::{lock, READ_KEY};
use bytes::Bytes;
use kova::github::Secret;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/kova-github/tests/fixtures/webhooks"
);

/// A signed webhook delivery ready to send.
#[derive(Clone)]
pub struct Delivery {
    pub id: String,
    pub event: &'static str,
    pub body: Bytes,
    pub signature: String,
}

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// GitHub's real `pull_request.opened` payload for pull request `number`, signed.
pub fn pr_opened(secret: &str, id: &str, number: u64) -> Delivery {
    static BASE: OnceLock<Value> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        serde_json::from_slice(&fixture("pull_request.opened.json")).expect("fixture JSON")
    });
    let mut v = base.clone();
    v["number"] = number.into();
    v["pull_request"]["number"] = number.into();
    let body = Bytes::from(serde_json::to_vec(&v).expect("JSON"));
    Delivery {
        id: id.to_string(),
        event: "pull_request",
        signature: kova::github::webhook::sign(&Secret::new(secret), &body),
        body,
    }
}

/// Sends `d` to `base`; the status, or `None` when the connection failed.
pub async fn post_delivery(client: &reqwest::Client, base: &str, d: &Delivery) -> Option<u16> {
    let r = client
        .post(format!("{base}/webhooks/github"))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/kova-process-test")
        .header("x-github-event", d.event)
        .header("x-github-delivery", &d.id)
        .header("x-github-hook-id", "1")
        .header("x-hub-signature-256", &d.signature)
        .body(d.body.clone())
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    r.bytes().await.ok()?;
    Some(status)
}

/// What a load run got back.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Indexes of the deliveries answered 202.
    pub accepted: Vec<usize>,
    /// Indexes of the deliveries whose request failed (no answer).
    pub failed: Vec<usize>,
    /// Indexes never sent because the run was stopped.
    pub unsent: Vec<usize>,
    /// Any other answer: (index, status).
    pub other: Vec<(usize, u16)>,
}

/// Counts 202s as they come, and says when `at` of them have come.
#[derive(Debug)]
pub struct Acks {
    count: AtomicUsize,
    at: usize,
    /// Notified once when the count reaches `at`.
    pub reached: tokio::sync::Notify,
    /// Once set, no new request starts.
    pub stop: AtomicBool,
}

impl Acks {
    /// A counter that notifies at `at` acknowledgements (`usize::MAX`: never).
    pub fn new(at: usize) -> Arc<Acks> {
        Arc::new(Acks {
            count: AtomicUsize::new(0),
            at,
            reached: tokio::sync::Notify::new(),
            stop: AtomicBool::new(false),
        })
    }

    fn ack(&self) {
        if self.count.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
            self.reached.notify_one();
        }
    }
}

/// Sends `which` of `deliveries` over `connections` keep-alive connections, delivery `i` to
/// `targets[i % targets.len()]`, counting 202s in `acks`.
pub async fn send_load(
    client: reqwest::Client,
    targets: Vec<String>,
    deliveries: Arc<Vec<Delivery>>,
    which: Vec<usize>,
    connections: usize,
    acks: Arc<Acks>,
) -> LoadReport {
    let queue = Arc::new(Mutex::new(which.into_iter()));
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, targets, deliveries, queue, acks) = (
                client.clone(),
                targets.clone(),
                deliveries.clone(),
                queue.clone(),
                acks.clone(),
            );
            tokio::spawn(async move {
                let mut report = LoadReport::default();
                loop {
                    let Some(i) = lock(&queue).next() else { break };
                    if acks.stop.load(Ordering::SeqCst) {
                        report.unsent.push(i);
                        continue;
                    }
                    let target = &targets[i % targets.len()];
                    match post_delivery(&client, target, &deliveries[i]).await {
                        Some(202) => {
                            acks.ack();
                            report.accepted.push(i);
                        }
                        Some(s) => report.other.push((i, s)),
                        None => report.failed.push(i),
                    }
                }
                report
            })
        })
        .collect();
    let mut all = LoadReport::default();
    for t in tasks {
        let r = t.await.expect("sender task");
        all.accepted.extend(r.accepted);
        all.failed.extend(r.failed);
        all.unsent.extend(r.unsent);
        all.other.extend(r.other);
    }
    all
}

/// A client for load: many idle keep-alive connections, bounded waits.
pub fn load_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Waits until the queue behind `base` is empty and `expected` jobs are finished (done or
/// dead); returns the last summary.
pub async fn wait_for_drain(client: &reqwest::Client, base: &str, expected: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s: Value = client
            .get(format!("{base}/api/jobs/summary"))
            .bearer_auth(READ_KEY)
            .send()
            .await
            .expect("GET /api/jobs/summary")
            .json()
            .await
            .expect("summary JSON");
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        if n("queued") == 0 && n("running") == 0 && n("done") + n("dead") >= expected {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not drain within 120 s: {s}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
