//! Sync through the real GitHub client against the fake GitHub server: a first sync fetches
//! metadata, tree, README, manifests and languages; a missing repository is recorded as
//! planned; the second sync of an unchanged set costs only conditional requests answered 304.

use kova::config::ReposConfig;
use kova::github::testing::{FakeGitHub, FakeResponse};
use kova::github::GitHub;
use kova::sync::{SyncRequest, SyncService};
use kova::{ListOptions, RepoRef, RepoStatus, Store, SyncOutcome};
use serde_json::json;
use std::sync::Arc;

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start().await;
    gh.on(
        "GET",
        "/repos/octo/app",
        FakeResponse::ok(json!({"id": 1, "name": "app", "full_name": "octo/app", "default_branch": "main",
            "description": "the app", "language": "Rust", "topics": ["kova"], "private": false, "archived": false,
            "fork": false, "stargazers_count": 5, "forks_count": 1, "subscribers_count": 2, "watchers_count": 5,
            "open_issues_count": 3, "size": 120, "pushed_at": "2026-01-01T00:00:00Z",
            "owner": {"login": "octo", "type": "Organization"}}))
        .with_etag("\"repo-v1\""),
    );
    gh.on(
        "GET",
        "/repos/octo/app/commits",
        FakeResponse::ok(json!([{"sha": "c1", "commit": {"message": "init", "author": {"name": "dev", "date": "2026-01-01T00:00:00Z"}}}]))
            .with_etag("\"commits-v1\""),
    );
    let tree = FakeResponse::ok(json!({"sha": "t1", "truncated": false, "tree": [
        {"path": "README.md", "type": "blob", "size": 8, "sha": "b1"},
        {"path": "Cargo.toml", "type": "blob", "size": 60, "sha": "b2"},
        {"path": "src", "type": "tree", "sha": "t2"},
        {"path": "src/main.rs", "type": "blob", "size": 13, "sha": "b3"}]}))
    .with_etag("\"tree-v1\"");
    gh.on("GET", "/repos/octo/app/git/trees/c1", tree.clone());
    gh.on("GET", "/repos/octo/app/git/trees/main", tree);
    for (path, text, sha) in [
        ("README.md", "# app\nhi\n", "b1"),
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[dependencies]\nserde = \"1\"\n",
            "b2",
        ),
    ] {
        gh.on(
            "GET",
            &format!("/repos/octo/app/contents/{path}"),
            FakeResponse::ok(
                json!({"type": "file", "encoding": "base64", "content": b64(text), "sha": sha,
                "path": path, "size": text.len()}),
            ),
        );
    }
    gh.on(
        "GET",
        "/repos/octo/app/languages",
        FakeResponse::ok(json!({"Rust": 1000})).with_etag("\"lang-v1\""),
    );
    gh.on(
        "GET",
        "/repos/octo/gone",
        FakeResponse::error(404, "Not Found"),
    );
    gh
}

#[tokio::test]
async fn sync_over_the_github_client_then_only_304s() {
    let gh = fake().await;
    let client = Arc::new(
        GitHub::builder()
            .base_url(gh.url())
            .token("ghp_test_not_a_real_token")
            .build()
            .unwrap(),
    );
    let store: Arc<dyn Store> = Arc::new(kova::store::MemoryStore::new());
    let config = ReposConfig::parse(
        r#"{"github_owner": "octo", "repositories": [
            {"name": "app", "full_name": "octo/app", "type": "core", "sync_priority": 1},
            {"name": "gone", "full_name": "octo/gone", "type": "service", "sync_priority": 2}]}"#,
    )
    .unwrap();
    let sync = SyncService::builder(store.clone(), client.clone())
        .with_config(config, None)
        .build();

    let first = sync.sync(SyncRequest::all()).await.unwrap();
    let outcomes: Vec<SyncOutcome> = first.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![SyncOutcome::Updated, SyncOutcome::Missing],
        "{first:#?}"
    );
    let app = store
        .get_repository(&"octo/app".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (app.status, app.head_sha.as_deref()),
        (RepoStatus::Active, Some("c1"))
    );
    let gone = store
        .get_repository(&"octo/gone".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.status, RepoStatus::Planned);
    let summary = serde_json::to_string(&first.results[0]).unwrap();
    assert!(
        summary.contains("serde"),
        "Cargo.toml dependencies are read: {summary}"
    );

    gh.clear_requests();
    let before = client.stats();
    let second = sync
        .sync(SyncRequest::repos(vec!["octo/app".parse().unwrap()]))
        .await
        .unwrap();
    assert_eq!(
        second.results[0].outcome,
        SyncOutcome::Unchanged,
        "{second:#?}"
    );
    let reqs = gh.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert!(
            r.header("if-none-match").is_some(),
            "unconditional request on an unchanged repo: {} {}",
            r.method,
            r.path
        );
    }
    let after = client.stats();
    assert_eq!(
        after.not_modified - before.not_modified,
        reqs.len() as u64,
        "every request answered 304"
    );
    // The sync logs say so too: the second pass's log counts its 304s, the first's none.
    let app: RepoRef = "octo/app".parse().unwrap();
    let logs = store
        .list_sync_logs(Some(&app), &ListOptions::default())
        .await
        .unwrap()
        .items;
    let counts: Vec<(u32, u32)> = logs.iter().map(|l| (l.requests, l.not_modified)).collect();
    assert_eq!(logs.len(), 2, "{counts:?}");
    assert_eq!(logs[0].not_modified as usize, reqs.len(), "{counts:?}");
    assert_eq!(logs[1].not_modified, 0, "{counts:?}");
}
