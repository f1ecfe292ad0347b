//! Every endpoint through `oneshot`: success and error paths, auth on every protected
//! operation (walked from the OpenAPI document), limits, request ids, metrics.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kova_http::auth::mint_jwt;
use kova_http::HttpConfig;
use serde_json::{json, Value};
use support::*;

fn ping_body() -> Vec<u8> {
    json!({"zen": "Keep it logically awesome.", "hook_id": 7, "hook": {"id": 7, "events": ["push"], "active": true},
           "repository": {"full_name": "octo/app"}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn health_is_public_and_reports_components() {
    let a = app();
    let r = send(&a.router, get("/health", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["components"]["store"]["backend"], "memory");
    assert_eq!(v["components"]["integrations"]["llm"], "scripted");
    assert_eq!(v["components"]["integrations"]["webhooks"], true);
}

#[tokio::test]
async fn webhooks_are_verified_stored_once_and_answered_202() {
    let a = app();
    let body = ping_body();
    let r = send(&a.router, webhook("ping", "d-1", &body, Some(sign(&body)))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(
        r.json(),
        json!({"status": "accepted", "event": "ping", "delivery_id": "d-1", "duplicate": false})
    );
    let again = send(&a.router, webhook("ping", "d-1", &body, Some(sign(&body)))).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.json()["duplicate"], true);

    let wrong = send(
        &a.router,
        webhook("ping", "d-2", &body, Some(sign(b"other body"))),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["error"]["code"], "invalid_signature");
    let missing = send(&a.router, webhook("ping", "d-3", &body, None)).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let malformed = b"{not json";
    let bad = send(
        &a.router,
        webhook("ping", "d-4", malformed, Some(sign(malformed))),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("body"));
    let events = a
        .store
        .list_events(&Default::default(), &Default::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1, "rejected deliveries store nothing");
}

#[tokio::test]
async fn webhook_bodies_over_the_limit_get_413_and_no_receiver_gets_503() {
    let a = app_with(
        HttpConfig::default().with_body_limits(1024, 512),
        true,
        true,
    );
    let big = vec![b' '; 2048];
    let r = send(&a.router, webhook("ping", "big", &big, Some(sign(&big)))).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let small = ping_body();
    assert_eq!(
        send(&a.router, webhook("ping", "ok", &small, Some(sign(&small))))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // Other endpoints have the smaller limit.
    let body = json!({"kind": "code", "title": "x".repeat(600)});
    let r = send(
        &a.router,
        post_json("/artifacts/create", Some(WRITE_KEY), &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    let closed = app_with(HttpConfig::default(), true, false);
    let r = send(
        &closed.router,
        webhook("ping", "x", &small, Some(sign(&small))),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("GITHUB_WEBHOOK_SECRET"));
}

#[tokio::test]
async fn every_protected_operation_rejects_missing_and_wrong_credentials() {
    let a = app();
    let doc = send(&a.router, get("/openapi.json", None)).await.json();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security").is_none() {
                continue;
            }
            let concrete = path
                .replace("{owner}", "octo")
                .replace("{name}", "app")
                .replace("{id}", "1");
            let make = |auth: Option<&str>| {
                let mut b = Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(&concrete);
                if let Some(k) = auth {
                    b = b.header("authorization", format!("Bearer {k}"));
                }
                b.header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap()
            };
            for auth in [None, Some("wrong-key-0123456789abcdef"), Some("a.b.c")] {
                let r = send(&a.router, make(auth)).await;
                assert_eq!(
                    r.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with {auth:?}"
                );
                assert!(r.json()["error"]["message"].is_string());
            }
            let needs_write = op["x-kova-role"] != "read";
            let r = send(&a.router, make(Some(READ_KEY))).await;
            if needs_write {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} with a read key"
                );
            } else {
                assert_ne!(r.status, StatusCode::UNAUTHORIZED);
                assert_ne!(r.status, StatusCode::FORBIDDEN);
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} protected operations found");
}

#[tokio::test]
async fn jwt_roles_are_honoured() {
    let a = app();
    let exp = chrono::Utc::now().timestamp() + 600;
    let reader = mint_jwt(
        JWT_SECRET,
        &json!({"sub": "dash", "exp": exp, "roles": ["read"]}),
    );
    assert_eq!(
        send(&a.router, get("/api/events", Some(&reader)))
            .await
            .status,
        StatusCode::OK
    );
    let r = send(
        &a.router,
        post_json("/ai/command", Some(&reader), &json!({"command": "hi"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let expired = mint_jwt(JWT_SECRET, &json!({"exp": 1, "roles": ["admin"]}));
    assert_eq!(
        send(&a.router, get("/api/events", Some(&expired)))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn read_endpoints_list_filter_page_and_404() {
    let a = app();
    for i in 0..5 {
        let body = ping_body();
        send(
            &a.router,
            webhook("ping", &format!("p{i}"), &body, Some(sign(&body))),
        )
        .await;
    }
    let r = send(&a.router, get("/api/events?limit=2", Some(READ_KEY))).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(v["items"][0]["delivery_id"], "p4");
    let cursor = v["next_cursor"].as_str().unwrap().to_string();
    let v2 = send(
        &a.router,
        get(
            &format!("/api/events?limit=2&cursor={cursor}"),
            Some(READ_KEY),
        ),
    )
    .await
    .json();
    assert_eq!(v2["items"][0]["delivery_id"], "p2");
    let id = v["items"][0]["id"].as_i64().unwrap();
    let one = send(&a.router, get(&format!("/api/events/{id}"), Some(READ_KEY)))
        .await
        .json();
    assert_eq!(one["payload"]["zen"], "Keep it logically awesome.");
    let filtered = send(
        &a.router,
        get(
            "/api/events?repo=octo/app&event=ping&status=received",
            Some(READ_KEY),
        ),
    )
    .await
    .json();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 5);

    let r = send(
        &a.router,
        get("/api/events?repo=not-a-repo", Some(READ_KEY)),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("repo"));
    let r = send(&a.router, get("/api/events?status=weird", Some(READ_KEY))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(&a.router, get("/api/events?limit=abc", Some(READ_KEY))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        send(&a.router, get("/api/events/999999", Some(READ_KEY)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&a.router, get("/api/events/abc", Some(READ_KEY)))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        send(&a.router, get("/api/repositories/octo/app", Some(READ_KEY)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&a.router, get("/api/artifacts/12345", Some(READ_KEY)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let s = send(&a.router, get("/api/jobs/summary", Some(READ_KEY)))
        .await
        .json();
    assert_eq!(s["queued"], 5);
    assert!(s["oldest_queued_age_seconds"].is_number());
    let jobs = send(
        &a.router,
        get("/api/jobs?status=queued&kind=ping", Some(READ_KEY)),
    )
    .await
    .json();
    assert_eq!(jobs["items"].as_array().unwrap().len(), 5);

    a.state.kova().process_pending("w", 10).await.unwrap();
    let arts = send(
        &a.router,
        get("/api/artifacts?repo=octo/app&kind=data", Some(READ_KEY)),
    )
    .await
    .json();
    assert_eq!(arts["items"].as_array().unwrap().len(), 5);
    let aid = arts["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        send(
            &a.router,
            get(&format!("/api/artifacts/{aid}"), Some(READ_KEY))
        )
        .await
        .json()["kind"],
        "data"
    );
    let status = send(&a.router, get("/webhooks/status", Some(READ_KEY)))
        .await
        .json();
    assert_eq!(status["status"], "configured");
    assert_eq!(status["since_start"]["received"], 5);
}

#[tokio::test]
async fn artifacts_are_generated_validated_and_enveloped() {
    let a = app();
    a.llm
        .push_text("```rust\nfn add(a: i32, b: i32) -> i32 { a + b }\n```");
    let r = send(
        &a.router,
        post_json(
            "/artifacts/code/generate",
            Some(WRITE_KEY),
            &json!({"title": "add two numbers", "language": "rust"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["success"], true);
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["data"]["artifact"]["kind"], "code");
    assert!(v["data"]["artifact"]["content"]
        .as_str()
        .unwrap()
        .contains("fn add"));

    // The original API's query parameters are accepted too.
    a.llm.push_text("```mermaid\ngraph TD\n  A-->B\n```");
    let r = send(
        &a.router,
        post_json(
            "/artifacts/diagram/generate?title=flow",
            Some(WRITE_KEY),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["data"]["artifact"]["kind"], "diagram");

    let r = send(
        &a.router,
        post_json(
            "/artifacts/create",
            Some(WRITE_KEY),
            &json!({"kind": "poem", "title": "x"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let v = r.json();
    assert_eq!(v["success"], false);
    assert!(v["error"]["message"].as_str().unwrap().contains("kind"));
    let r = send(
        &a.router,
        post_json(
            "/artifacts/create",
            Some(WRITE_KEY),
            &json!({"kind": "code"}),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing title names the field: {}",
        r.text()
    );

    let raw = Request::post("/artifacts/create")
        .header("authorization", format!("Bearer {WRITE_KEY}"))
        .header("content-type", "application/json")
        .body(Body::from("{oops"))
        .unwrap();
    let r = send(&a.router, raw).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["success"], false);

    let types = send(&a.router, get("/artifacts/types", Some(READ_KEY)))
        .await
        .json();
    assert_eq!(types["success"], true);
    assert!(types["data"].to_string().contains("yaml"));
}

#[tokio::test]
async fn ai_endpoints_without_an_llm_answer_503_naming_the_variable() {
    let a = app_with(HttpConfig::default(), false, true);
    let r = send(
        &a.router,
        post_json(
            "/artifacts/create",
            Some(WRITE_KEY),
            &json!({"kind": "code", "title": "x", "language": "rust"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ANTHROPIC_API_KEY"));
    let r = send(
        &a.router,
        post_json("/ai/command", Some(WRITE_KEY), &json!({"command": "hello"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn upstream_failures_are_502_and_rate_limits_503() {
    let a = app();
    a.llm
        .push_error(kova_core::Error::upstream("anthropic", 500, "boom"));
    let r = send(
        &a.router,
        post_json("/ai/command", Some(WRITE_KEY), &json!({"command": "hello"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    a.llm.push_error(kova_core::Error::RateLimited {
        service: "anthropic".into(),
        retry_after: Some(std::time::Duration::from_secs(30)),
    });
    let r = send(
        &a.router,
        post_json("/ai/command", Some(WRITE_KEY), &json!({"command": "hello"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["retry-after"], "30");
    a.llm.push_text("Hello!");
    let r = send(
        &a.router,
        post_json("/ai/command", Some(WRITE_KEY), &json!({"command": "hello"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["data"]["answer"], "Hello!");
    let i = send(&a.router, get("/api/interactions", Some(READ_KEY)))
        .await
        .json();
    assert_eq!(i["totals"]["calls"], 3);
    assert_eq!(i["totals"]["failures"], 2);
}

#[tokio::test]
async fn scans_need_an_allowed_root_for_local_paths() {
    let a = app();
    let r = send(
        &a.router,
        post_json("/api/scan", Some(WRITE_KEY), &json!({"path": "/"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &a.router,
        post_json("/api/scan", Some(WRITE_KEY), &json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &a.router,
        post_json("/api/scan", Some(WRITE_KEY), &json!({"repo": "x"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    let a = app_with(
        HttpConfig::default().with_scan_roots(vec![dir.path().to_path_buf()]),
        true,
        true,
    );
    let r = send(
        &a.router,
        post_json("/api/scan", Some(WRITE_KEY), &json!({"path": dir.path()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Cargo.toml"));
    let r = send(
        &a.router,
        post_json("/api/scan", Some(WRITE_KEY), &json!({"path": "/etc"})),
    )
    .await;
    assert!(
        r.status.is_client_error(),
        "outside the allowed roots: {}",
        r.status
    );

    a.source.add_repo(kova_core::testing::FakeSource::remote(
        &"octo/app".parse().unwrap(),
    ));
    a.source.put_file(
        &"octo/app".parse().unwrap(),
        "package.json",
        r#"{"name": "app", "dependencies": {"left-pad": "1.0.0"}}"#,
    );
    let r = send(
        &a.router,
        post_json(
            "/api/scan",
            Some(WRITE_KEY),
            &json!({"repository": "octo/app"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("left-pad"));
}

#[tokio::test]
async fn request_ids_metrics_rate_limits_and_docs() {
    let a = app_with(
        HttpConfig::default().with_rate_limit(Some((1.0, 2.0))),
        true,
        true,
    );
    let mut req = get("/health", None);
    req.headers_mut()
        .insert("x-request-id", "client-id-42".parse().unwrap());
    let r = send(&a.router, req).await;
    assert_eq!(r.headers["x-request-id"], "client-id-42");
    let r = send(&a.router, get("/health", None)).await;
    assert!(!r.headers["x-request-id"].is_empty());

    assert_eq!(
        send(&a.router, get("/api/events", Some(READ_KEY)))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&a.router, get("/api/events", Some(READ_KEY)))
            .await
            .status,
        StatusCode::OK
    );
    let limited = send(&a.router, get("/api/events", Some(READ_KEY))).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(
        send(&a.router, get("/api/events", Some(WRITE_KEY)))
            .await
            .status,
        StatusCode::OK,
        "limits are per credential"
    );

    assert_eq!(
        send(&a.router, get("/metrics", None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let m = send(&a.router, get("/metrics", Some(ADMIN_KEY))).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.text();
    assert!(
        text.contains("kova_http_requests_total{route=\"/api/events\",status=\"429\"} 1"),
        "{text}"
    );
    assert!(text.contains("kova_jobs{status=\"queued\"} 0"));
    let public = app_with(HttpConfig::default().with_metrics_public(true), true, true);
    assert_eq!(
        send(&public.router, get("/metrics", None)).await.status,
        StatusCode::OK
    );

    let docs = send(&a.router, get("/docs", None)).await;
    assert!(
        docs.text().contains("/docs/swagger-ui-bundle.js") && !docs.text().contains("https://")
    );
    let js = send(&a.router, get("/docs/swagger-ui-bundle.js", None)).await;
    assert!(js.body.len() > 100_000);
    let doc = send(&a.router, get("/openapi.json", None)).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/webhooks/github"]["post"]["responses"]["202"].is_object());
}
