//! Webhook ingest costs: HMAC-SHA256 verification vs reading the envelope vs parsing the whole
//! payload into a `serde_json::Value`, for a small, an ~8 KB and a large payload.
//!
//! `cargo bench -p kova --features github --bench webhook`

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kova_core::WebhookReceiver;
use kova_github::webhook::{sign, Envelope, GitHubWebhooks};
use kova_github::Secret;
use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("kova-github/tests/fixtures/webhooks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A large `push`-shaped payload (~1 MB): a real push with its commit repeated, as a push of
/// many commits with long messages and file lists would be.
fn large_payload() -> Vec<u8> {
    let mut push: serde_json::Value = serde_json::from_slice(&fixture("push.branch.json")).unwrap();
    let mut commit = push["commits"][0].clone();
    commit["message"] = serde_json::Value::String("Fix the frobnicator. ".repeat(200));
    commit["modified"] = (0..200)
        .map(|i| serde_json::Value::String(format!("src/module_{i}/file_{i}.rs")))
        .collect();
    let commits: Vec<_> = (0..100).map(|_| commit.clone()).collect();
    push["commits"] = serde_json::Value::Array(commits);
    serde_json::to_vec(&push).unwrap()
}

fn headers(event: &str, signature: String) -> Vec<(String, String)> {
    vec![
        ("X-GitHub-Event".into(), event.into()),
        (
            "X-GitHub-Delivery".into(),
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
        ),
        ("X-GitHub-Hook-ID".into(), "1".into()),
        ("X-Hub-Signature-256".into(), signature),
    ]
}

fn ingest(c: &mut Criterion) {
    let secret = Secret::new("bench-secret-not-real");
    let receiver = GitHubWebhooks::new(vec![secret.clone()]);
    let payloads = [
        (
            "small",
            "github_app_authorization",
            fixture("github_app_authorization.revoked.json"),
        ),
        ("8KB", "push", fixture("push.branch.json")),
        ("large", "push", large_payload()),
    ];
    let mut group = c.benchmark_group("webhook");
    for (label, event, body) in payloads {
        let id = format!("{label}/{}B", body.len());
        let h = headers(event, sign(&secret, &body));
        let body = Bytes::from(body);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("hmac_verify", &id), &body, |b, body| {
            b.iter(|| receiver.verify(&h, black_box(body)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("envelope_parse", &id), &body, |b, body| {
            b.iter(|| Envelope::parse(black_box(body)).unwrap().installation_id())
        });
        group.bench_with_input(BenchmarkId::new("value_parse", &id), &body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("receive", &id), &body, |b, body| {
            b.iter(|| {
                receiver
                    .receive(&h, black_box(body.clone()), chrono::Utc::now())
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
