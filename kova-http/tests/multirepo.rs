//! `/multi-repo/*` through `oneshot`, over a fake source host.

mod support;

use axum::http::StatusCode;
use kova_core::config::ReposConfig;
use kova_core::sync::SyncService;
use kova_core::testing::FakeSource;
use kova_core::{Kova, RepoRef, Store};
use kova_http::{router, AppState, HttpConfig};
use serde_json::json;
use std::sync::Arc;
use support::*;

fn setup() -> (axum::Router, Arc<FakeSource>) {
    let store: Arc<dyn Store> = Arc::new(kova_store::MemoryStore::new());
    let source = Arc::new(FakeSource::new());
    for name in ["kova-ai-docengine", "kova-website", "app"] {
        let r: RepoRef = format!("octo/{name}").parse().unwrap();
        source.add_repo(FakeSource::remote(&r));
        source.put_file(&r, "README.md", "# hello\n");
        source.push_commit(
            &r,
            kova_core::CommitSummary {
                sha: format!("{name}-1"),
                message: "init".into(),
                author: None,
                date: None,
            },
        );
    }
    let config = ReposConfig::parse(
        r#"{"github_owner": "octo", "repositories": [{"name": "app", "full_name": "octo/app", "type": "core", "sync_priority": 1}],
            "discovery_settings": {"repo_name_pattern": "kova-ai-*"}}"#,
    )
    .unwrap();
    let sync = SyncService::builder(store.clone(), source.clone())
        .with_config(config, None)
        .build();
    let kova = Kova::builder(store).source(source.clone()).build().unwrap();
    let state = AppState::builder(kova)
        .auth(auth())
        .config(HttpConfig::default().with_rate_limit(None))
        .sync(sync)
        .build();
    (router(state), source)
}

#[tokio::test]
async fn sync_add_list_status_discover() {
    let (r, _source) = setup();
    let cfg = send(&r, get("/multi-repo/config", Some(READ_KEY)))
        .await
        .json();
    assert_eq!(cfg["status"], "success");
    assert_eq!(cfg["data"]["config"]["github_owner"], "octo");

    let add = send(
        &r,
        post_json(
            "/multi-repo/add",
            Some(WRITE_KEY),
            &json!({"repository": "octo/kova-website", "type": "frontend", "sync_priority": 2}),
        ),
    )
    .await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.text());
    let missing = send(
        &r,
        post_json(
            "/multi-repo/add",
            Some(WRITE_KEY),
            &json!({"repository": "octo/not-yet"}),
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::OK, "{}", missing.text());
    assert!(missing.text().contains("planned"), "{}", missing.text());

    let bad = send(
        &r,
        post_json(
            "/multi-repo/add",
            Some(WRITE_KEY),
            &json!({"repository": "octo/x", "sync_priority": 9}),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["status"], "error");
    assert!(bad.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sync_priority"));
    let bad = send(
        &r,
        post_json(
            "/multi-repo/add",
            Some(WRITE_KEY),
            &json!({"repository": "no-slash"}),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let report = send(
        &r,
        post_json("/multi-repo/sync", Some(WRITE_KEY), &json!({})),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let v = report.json();
    assert_eq!(v["status"], "success");
    assert!(v["data"]["results"].as_array().unwrap().len() >= 2);

    let list = send(&r, get("/multi-repo/list", Some(READ_KEY)))
        .await
        .json();
    let names: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repo"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"octo/app".to_string()) && names.contains(&"octo/kova-website".to_string()),
        "{names:?}"
    );
    let status = send(&r, get("/multi-repo/status", Some(READ_KEY))).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text());

    let disc = send(&r, get("/multi-repo/discover", Some(WRITE_KEY))).await;
    assert_eq!(disc.status, StatusCode::OK, "{}", disc.text());
    let text = disc.text();
    assert!(
        text.contains("kova-ai-docengine") && !text.contains("\"octo/kova-website\""),
        "{text}"
    );

    let malformed = axum::http::Request::post("/multi-repo/sync")
        .header("authorization", format!("Bearer {WRITE_KEY}"))
        .body(axum::body::Body::from("{oops"))
        .unwrap();
    let m = send(&r, malformed).await;
    assert_eq!(m.status, StatusCode::BAD_REQUEST);
    assert_eq!(m.json()["status"], "error");
}

#[tokio::test]
async fn sync_progress_streams_as_server_sent_events() {
    let (r, _) = setup();
    let res = send(
        &r,
        post_json(
            "/multi-repo/sync?stream=true",
            Some(WRITE_KEY),
            &json!({"repos": ["octo/app"]}),
        ),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = res.text();
    let progress = text.matches("event: progress").count();
    assert!(progress >= 2, "{text}");
    let report_at = text.find("event: report").expect("the report comes last");
    assert!(text.rfind("event: progress").unwrap() < report_at);
    assert!(text[report_at..].contains("octo/app"));
}

#[tokio::test]
async fn without_a_sync_service_the_endpoints_answer_503() {
    let a = app();
    let r = send(&a.router, get("/multi-repo/status", Some(READ_KEY))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "error");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("KOVA_REPOS_CONFIG"));
}
