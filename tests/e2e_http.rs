//! End to end over a real socket: signed real GitHub payloads → 202 → workers process them →
//! the artifacts are visible through the read endpoints. SQLite store, GitHub's webhook
//! receiver, the shipped handlers, a scripted LLM and a fake source host.

use kova::github::{GitHubWebhooks, Secret};
use kova::handlers::HandlerSettings;
use kova::http::{router, AppState, Auth, HttpConfig};
use kova::testing::{FakeSource, ScriptedLlm};
use kova::{ChangedFile, Kova, PullRequest, RepoRef, Store, TokioSleeper};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "e2e-webhook-secret";
const KEY: &str = "read-key-for-e2e-0123456789";
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/kova-github/tests/fixtures/webhooks"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_real_payloads_become_artifacts_visible_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e2e.db").display());
    let store: Arc<dyn Store> = kova::store::open(&url).await.unwrap();
    let repo: RepoRef = "Codertocat/Hello-World".parse().unwrap();
    let source = Arc::new(FakeSource::new());
    source.add_repo(FakeSource::remote(&repo));
    source.add_pull(
        &repo,
        PullRequest {
            number: 2,
            title: "Update the README with new information.".into(),
            body: None,
            state: "open".into(),
            draft: false,
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
            head_ref: "changes".into(),
            base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
            base_ref: "master".into(),
            author: Some("Codertocat".into()),
        },
        vec![ChangedFile {
            filename: "README.md".into(),
            status: "modified".into(),
            additions: 1,
            deletions: 0,
            patch: Some("@@ -1 +1,2 @@\n # Hello-World\n+More information.".into()),
            previous_filename: None,
        }],
    );
    let llm = Arc::new(ScriptedLlm::new().with_responder(|_| Ok("No issues found.".into())));
    let kova = Kova::builder(store.clone())
        .llm(llm.clone())
        .source(source)
        .receiver(Arc::new(GitHubWebhooks::new(vec![Secret::new(SECRET)])))
        .sleeper(Arc::new(TokioSleeper))
        .default_handlers(HandlerSettings::default())
        .settings(kova::EngineSettings::default().with_poll_interval(Duration::from_millis(20)))
        .build()
        .unwrap();
    let state = AppState::builder(kova.clone())
        .auth(Auth::none().with_api_keys(&format!("read:{KEY}")).unwrap())
        .config(HttpConfig::default().with_rate_limit(None))
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let workers = kova.spawn_workers(2, "e2e");

    let client = reqwest::Client::new();
    let deliveries = [
        ("ping", "ping.default.json"),
        ("pull_request", "pull_request.opened.json"),
        ("star", "star.created.json"),
    ];
    for (i, (event, file)) in deliveries.iter().enumerate() {
        let body = fixture(file);
        for attempt in 0..2 {
            let r = client
                .post(format!("{base}/webhooks/github"))
                .header("x-github-event", *event)
                .header("x-github-delivery", format!("e2e-{i}"))
                .header("x-github-hook-id", "109948940")
                .header(
                    "x-hub-signature-256",
                    kova::github::webhook::sign(&Secret::new(SECRET), &body),
                )
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202, "{file}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(
                v["duplicate"],
                attempt == 1,
                "{file}: the second send is a duplicate"
            );
        }
    }
    let forged = client
        .post(format!("{base}/webhooks/github"))
        .header("x-github-event", "ping")
        .header("x-github-delivery", "forged")
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body(fixture("ping.default.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    let get = |path: String| {
        let client = client.clone();
        async move {
            let r = client.get(path).bearer_auth(KEY).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = get(format!("{base}/api/jobs/summary")).await;
        if s["queued"] == 0 && s["running"] == 0 && s["done"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "jobs did not finish: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arts = get(format!(
        "{base}/api/artifacts?repo=Codertocat/Hello-World&kind=analysis"
    ))
    .await;
    let review = &arts["items"][0];
    assert_eq!(review["name"], "review of #2");
    assert!(review["content"]
        .as_str()
        .unwrap()
        .starts_with("No issues found."));
    assert_eq!(
        review["metadata"]["extra"]["reviewed_files"],
        serde_json::json!(["README.md"])
    );
    let events = get(format!("{base}/api/events?event=star")).await;
    assert_eq!(events["items"][0]["status"], "ignored");
    let interactions = get(format!("{base}/api/interactions?purpose=pr_review")).await;
    assert_eq!(interactions["totals"]["calls"], 1);
    assert_eq!(llm.calls(), 1);

    workers.shutdown().await;
    server.abort();
}
