//! Sync of 100 repositories through the real GitHub client against `FakeGitHub` answering every
//! request after 50 ms, concurrency 8 (sync and client). The ideal is total requests × 50 ms / 8;
//! the figure that matters is measured / ideal (target ≤ 1.3), printed with each run.
//!
//! `cargo bench -p kova --bench sync_github`

use criterion::{criterion_group, criterion_main, Criterion};
use kova::config::ReposConfig;
use kova::github::testing::{FakeGitHub, FakeResponse};
use kova::github::GitHub;
use kova::sync::{SyncOptions, SyncRequest, SyncService};
use kova::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const REPOS: usize = 100;
const CONCURRENCY: usize = 8;
const LATENCY: Duration = Duration::from_millis(50);

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start().await;
    let slow = |r: FakeResponse| r.with_delay(LATENCY);
    for i in 0..REPOS {
        let name = format!("r{i:03}");
        let base = format!("/repos/octo/{name}");
        gh.on("GET", &base, slow(FakeResponse::ok(json!({"id": i, "name": name, "full_name": format!("octo/{name}"),
            "default_branch": "main", "private": false, "archived": false, "fork": false, "stargazers_count": i,
            "forks_count": 0, "subscribers_count": 0, "open_issues_count": 0, "size": 10,
            "owner": {"login": "octo", "type": "Organization"}})).with_etag(&format!("\"repo-{i}\""))));
        gh.on("GET", &format!("{base}/commits"), slow(FakeResponse::ok(json!([{"sha": format!("c{i}"),
            "commit": {"message": "init", "author": {"name": "dev", "date": "2026-01-01T00:00:00Z"}}}]))
            .with_etag(&format!("\"commits-{i}\""))));
        let tree = slow(FakeResponse::ok(
            json!({"sha": format!("t{i}"), "truncated": false, "tree": [
            {"path": "README.md", "type": "blob", "size": 8, "sha": "b1"},
            {"path": "Cargo.toml", "type": "blob", "size": 40, "sha": "b2"}]}),
        ));
        gh.on("GET", &format!("{base}/git/trees/c{i}"), tree.clone());
        gh.on("GET", &format!("{base}/git/trees/main"), tree);
        for (path, text) in [
            ("README.md", "# repo\n"),
            (
                "Cargo.toml",
                "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
            ),
        ] {
            gh.on("GET", &format!("{base}/contents/{path}"), slow(FakeResponse::ok(json!({"type": "file",
                "encoding": "base64", "content": b64(text), "sha": "b", "path": path, "size": text.len()}))));
        }
        gh.on(
            "GET",
            &format!("{base}/languages"),
            slow(FakeResponse::ok(json!({"Rust": 100}))),
        );
    }
    gh
}

fn config() -> ReposConfig {
    let repos: Vec<_> = (0..REPOS)
        .map(|i| json!({"name": format!("r{i:03}"), "full_name": format!("octo/r{i:03}"), "type": "service"}))
        .collect();
    ReposConfig::parse(&json!({"github_owner": "octo", "repositories": repos}).to_string()).unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gh = rt.block_on(fake());
    let mut group = c.benchmark_group("sync_github");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("100_repos_first_sync", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let gh = &gh;
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let client = Arc::new(GitHub::builder().base_url(gh.url()).max_concurrency(CONCURRENCY).build().unwrap());
                    let store: Arc<dyn Store> = Arc::new(kova::store::MemoryStore::new());
                    let sync = SyncService::builder(store, client)
                        .with_config(config(), None)
                        .with_options(SyncOptions::default().with_concurrency(CONCURRENCY))
                        .build();
                    gh.clear_requests();
                    let t = Instant::now();
                    let report = sync.sync(SyncRequest::all()).await.unwrap();
                    let took = t.elapsed();
                    let requests = gh.requests().len();
                    let ideal = LATENCY * requests as u32 / CONCURRENCY as u32;
                    assert_eq!(report.results.len(), REPOS);
                    eprintln!(
                        "first sync: {requests} requests in {took:.3?}; ideal {ideal:.3?}; ratio {:.2}",
                        took.as_secs_f64() / ideal.as_secs_f64()
                    );
                    total += took;
                }
                total
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
