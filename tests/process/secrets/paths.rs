//! Every error path the secrets test drives, with the status each must answer. Each response
//! (status, headers, body) is kept for the leak check.

use super::*;
use kova::claude::testing::{FakeAnthropic, FakeResponse as LlmResponse};
use kova::github::testing::{FakeGitHub, FakeResponse};
use kova::github::webhook::sign;
use kova::github::Secret;
use kova::http::auth::mint_jwt;
use reqwest::RequestBuilder;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sends requests and keeps everything that came back.
pub(super) struct Probe {
    client: reqwest::Client,
    base: String,
    /// Every response: what was asked, the status, the headers and the body.
    pub(super) seen: Mutex<Vec<String>>,
}

impl Probe {
    pub(super) fn new(base: &str) -> Probe {
        Probe {
            // One pooled client for every probe: a connection that carried a refused body
            // (413) must serve the next request too.
            client: reqwest::Client::new(),
            base: base.to_string(),
            seen: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base))
    }

    /// A webhook request with a fresh delivery id; no event or signature header when `None`.
    fn hook(&self, event: Option<&str>, signature: Option<&str>, body: &[u8]) -> RequestBuilder {
        static N: AtomicU64 = AtomicU64::new(0);
        let mut r = self
            .post("/webhooks/github")
            .header("content-type", "application/json")
            .header(
                "x-github-delivery",
                format!("leak-{}", N.fetch_add(1, Ordering::Relaxed)),
            )
            .header("x-github-hook-id", "1");
        if let Some(e) = event {
            r = r.header("x-github-event", e);
        }
        if let Some(s) = signature {
            r = r.header("x-hub-signature-256", s);
        }
        r.body(body.to_vec())
    }

    /// Sends `req`, keeps the response, checks its status; returns the body as JSON.
    pub(super) async fn check(&self, what: &str, req: RequestBuilder, expect: u16) -> Value {
        let (status, text) = self.record(what, req).await;
        assert_eq!(status, expect, "{what}: {text}");
        let body = text.split_once("\n\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    /// Sends each request in order with [`check`](Self::check).
    async fn check_all(&self, cases: Vec<(&str, RequestBuilder, u16)>) {
        for (what, req, expect) in cases {
            self.check(what, req, expect).await;
        }
    }

    /// Sends `req` and keeps the response; returns the status and the headers and body as
    /// text (headers, an empty line, the body).
    async fn record(&self, what: &str, req: RequestBuilder) -> (u16, String) {
        let r = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = r.status().as_u16();
        let headers: Vec<String> = r
            .headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let body = r.text().await.unwrap_or_default();
        let text = format!("{}\n\n{body}", headers.join("\n"));
        lock(&self.seen).push(format!("{what} -> {status}\n{text}"));
        (status, text)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// GitHub's real `issue_comment` payload, its comment a `/kova ask` command.
fn ask_comment() -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture("issue_comment.created.json")).unwrap();
    v["comment"]["body"] = json!("/kova ask why does this fail?");
    serde_json::to_vec(&v).unwrap()
}

/// Drives every error path; returns the values derived from secrets that must not appear.
pub(super) async fn drive(p: &Probe, github: &FakeGitHub, llm: &FakeAnthropic) -> Vec<String> {
    let mut derived: Vec<String> = Vec::new();
    let (old, new) = (Secret::new(WEBHOOK_OLD), Secret::new(WEBHOOK_NEW));

    // Webhooks: the right signatures of rejected bodies must never be shown.
    let ping = fixture("ping.default.json");
    let garbage = b"{\"zen\": not json".to_vec();
    let huge = vec![b' '; 25 * 1024 * 1024 + 1];
    derived.extend(
        [&ping, &garbage]
            .iter()
            .flat_map(|b| [sign(&old, b), sign(&new, b)]),
    );
    let zeros = format!("sha256={}", "0".repeat(64));
    let forged = sign(&Secret::new("not-the-secret"), &ping);
    let ping_sig = sign(&new, &ping);
    p.check_all(vec![
        (
            "webhook, no signature",
            p.hook(Some("ping"), None, &ping),
            401,
        ),
        (
            "webhook, wrong signature",
            p.hook(Some("ping"), Some(&zeros), &ping),
            401,
        ),
        (
            "webhook, SHA-1 signature",
            p.hook(Some("ping"), Some("sha1=0a1b"), &ping),
            401,
        ),
        (
            "webhook, malformed signature",
            p.hook(Some("ping"), Some("sha256=zz"), &ping),
            401,
        ),
        (
            "webhook, another secret",
            p.hook(Some("ping"), Some(&forged), &ping),
            401,
        ),
        (
            "webhook, no event header",
            p.hook(None, Some(&ping_sig), &ping),
            400,
        ),
        (
            "webhook, malformed JSON",
            p.hook(Some("ping"), Some(&sign(&new, &garbage)), &garbage),
            400,
        ),
        (
            "webhook, body over 25 MB",
            p.hook(Some("ping"), Some(&sign(&new, &huge)), &huge),
            413,
        ),
        (
            "webhook, rotated-out secret",
            p.hook(Some("ping"), Some(&sign(&old, &ping)), &ping),
            202,
        ),
    ])
    .await;

    // Credentials: near misses, other schemes, forged, expired, early and role-less JWTs.
    let events = "/api/events";
    let generate = "/artifacts/code/generate";
    let task = json!({"title": "hello world", "language": "rust"});
    let later = now() + 3600;
    let jwt = |claims: Value| mint_jwt(JWT_SECRET, &claims);
    let expired = jwt(json!({"sub": "ci", "exp": now() - 60, "roles": ["admin"]}));
    let roleless = jwt(json!({"sub": "ci", "exp": later}));
    let early = jwt(json!({"sub": "ci", "exp": later, "nbf": later - 60, "roles": ["read"]}));
    let reader = jwt(json!({"sub": "ci", "exp": later, "roles": ["read"]}));
    let writer = jwt(json!({"sub": "ci", "exp": later, "roles": ["write"]}));
    let other = mint_jwt(
        "another-secret-0123456789abcdef0123",
        &json!({"sub": "x", "exp": later, "roles": ["admin"]}),
    );
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#)[1],
        b64(&format!(r#"{{"exp":{later},"roles":["admin"]}}"#))[1]
    );
    let typo = format!("{}x", &READ[..READ.len() - 1]);
    derived.extend(b64(&format!("kova:{WRITE}")));
    derived.extend([
        expired.clone(),
        roleless.clone(),
        early.clone(),
        reader.clone(),
        writer.clone(),
    ]);
    let token_scheme = format!("token {WRITE}");
    p.check_all(vec![
        ("no credentials", p.get(events), 401),
        ("a near-miss key", p.get(events).bearer_auth(&typo), 401),
        ("a key prefix", p.get(events).bearer_auth(&WRITE[..20]), 401),
        (
            "basic auth",
            p.get(events).basic_auth("kova", Some(WRITE)),
            401,
        ),
        (
            "a token scheme",
            p.get(events).header("authorization", &token_scheme),
            401,
        ),
        (
            "read key, write endpoint",
            p.post(generate).bearer_auth(READ).json(&task),
            403,
        ),
        (
            "JWT of another secret",
            p.get(events).bearer_auth(&other),
            401,
        ),
        ("expired JWT", p.get(events).bearer_auth(&expired), 401),
        (
            "JWT without a role",
            p.get(events).bearer_auth(&roleless),
            403,
        ),
        ("JWT not valid yet", p.get(events).bearer_auth(&early), 401),
        (
            "read JWT, write endpoint",
            p.post(generate).bearer_auth(&reader).json(&task),
            403,
        ),
        ("JWT with alg none", p.get(events).bearer_auth(&none), 401),
        ("malformed JWT", p.get(events).bearer_auth("a.b.c"), 401),
        ("valid JWT", p.get(events).bearer_auth(&writer), 200),
    ])
    .await;

    // Requests that cannot be served.
    let raw = |path: &str, body: String| {
        p.post(path)
            .bearer_auth(WRITE)
            .header("content-type", "application/json")
            .body(body)
    };
    let big = format!("{{\"title\": \"{}\"}}", "x".repeat(1 << 21));
    p.check_all(vec![
        (
            "malformed JSON",
            raw("/ai/command", "{\"command\": ".into()),
            400,
        ),
        (
            "JSON of the wrong shape",
            raw("/ai/command", r#"{"command": 5}"#.into()),
            422,
        ),
        ("body over 1 MB", raw(generate, big), 413),
        (
            "no content type",
            p.post("/api/scan").bearer_auth(WRITE).body("{}"),
            415,
        ),
        (
            "scan outside the roots",
            p.post("/api/scan")
                .bearer_auth(WRITE)
                .json(&json!({"path": "/etc"})),
            403,
        ),
        (
            "unknown artifact",
            p.get("/api/artifacts/999999").bearer_auth(READ),
            404,
        ),
        (
            "unknown repository",
            p.get("/api/repositories/nobody/nothing").bearer_auth(READ),
            404,
        ),
        ("unknown route", p.get("/nope").bearer_auth(READ), 404),
        (
            "bad query",
            p.get("/api/events?limit=many").bearer_auth(READ),
            400,
        ),
    ])
    .await;

    // The LLM fails: each scripted answer is used (retries included), none left for the next.
    let error = LlmResponse::error;
    let llm_cases = [
        (
            "LLM 401",
            vec![error(401, "authentication_error", "invalid x-api-key")],
            502,
        ),
        (
            "LLM 403",
            vec![error(403, "permission_error", "no access to this model")],
            502,
        ),
        (
            "LLM 429",
            vec![error(429, "rate_limit_error", "slow").with_header("retry-after", "120")],
            503,
        ),
        (
            "LLM 500",
            vec![error(500, "api_error", "Internal server error"); 3],
            502,
        ),
        (
            "LLM 529",
            vec![error(529, "overloaded_error", "Overloaded"); 3],
            503,
        ),
    ];
    for (what, script, status) in llm_cases {
        for r in script {
            llm.push(r);
        }
        p.check(
            what,
            p.post(generate).bearer_auth(WRITE).json(&task),
            status,
        )
        .await;
        assert_eq!(llm.remaining(), 0, "{what}: every scripted answer was used");
    }
    let ask = json!({"command": "why is the build slow?"});
    p.check(
        "LLM 401 on a command",
        p.post("/ai/command").bearer_auth(WRITE).json(&ask),
        502,
    )
    .await;

    // GitHub refuses. (5xx answers are retried by the client and again by the sync service,
    // 2/4/8/16 s: they are driven below through webhook jobs, which the queue reschedules.)
    github.on(
        "GET",
        "/repos/Codertocat/private",
        FakeResponse::error(401, "Bad credentials"),
    );
    let forbidden = FakeResponse::error(403, "Resource not accessible by integration");
    github.on("GET", "/repos/Codertocat/forbidden", forbidden);
    let add = |repo: &str| {
        p.post("/multi-repo/add")
            .bearer_auth(WRITE)
            .json(&json!({"repository": repo}))
    };
    let scan = json!({"repository": "Codertocat/private"});
    p.check_all(vec![
        ("GitHub 401", add("Codertocat/private"), 502),
        ("GitHub 403", add("Codertocat/forbidden"), 502),
        (
            "scan, GitHub 401",
            p.post("/api/scan").bearer_auth(WRITE).json(&scan),
            502,
        ),
        (
            "add a repository GitHub lacks",
            add("Codertocat/missing"),
            200,
        ),
    ])
    .await;
    let sync = json!({"repos": ["Codertocat/missing"]});
    let synced = p
        .check(
            "sync, GitHub 404",
            p.post("/multi-repo/sync").bearer_auth(WRITE).json(&sync),
            200,
        )
        .await;
    assert_eq!(synced["data"]["totals"]["missing"], 1, "{synced}");

    // Webhook jobs that fail: GitHub 401, 502 and 500 behind reviews, the LLM (the fallback's
    // 401) behind a `/kova ask` command.
    let files = |n: u64| format!("/repos/{REPO}/pulls/{n}/files");
    github.on(
        "GET",
        &files(7),
        FakeResponse::error(401, "Bad credentials"),
    );
    github.on(
        "GET",
        &files(8),
        FakeResponse::raw(502, "<html>Bad Gateway</html>"),
    );
    github.on("GET", &files(9), FakeResponse::error(500, "Server Error"));
    let reviews: Vec<Delivery> = (7..=9)
        .map(|n| pr_opened(WEBHOOK_NEW, &format!("leak-pr-{n}"), n))
        .collect();
    let command = ask_comment();
    let review = |d: &Delivery| p.hook(Some("pull_request"), Some(&d.signature), &d.body);
    p.check_all(vec![
        ("review, GitHub 401", review(&reviews[0]), 202),
        ("review, GitHub 502", review(&reviews[1]), 202),
        ("review, GitHub 500", review(&reviews[2]), 202),
        (
            "command, LLM 401",
            p.hook(Some("issue_comment"), Some(&sign(&new, &command)), &command),
            202,
        ),
    ])
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let jobs = p
            .check("jobs", p.get("/api/jobs").bearer_auth(ADMIN), 200)
            .await;
        let failed = jobs["items"].as_array().map_or(0, |a| {
            a.iter().filter(|j| !j["last_error"].is_null()).count()
        });
        if failed >= 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the failing jobs did not fail: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // One credential over its rate limit (burst 60).
    let burst = futures::future::join_all(
        (0..150).map(|_| p.record("burst", p.get(events).bearer_auth(LIMITED))),
    )
    .await;
    let limited: Vec<_> = burst.iter().filter(|(status, _)| *status == 429).collect();
    assert!(
        !limited.is_empty(),
        "150 requests at once exceed a burst of 60"
    );
    assert!(limited[0].1.contains("retry-after: "), "{}", limited[0].1);

    // What the read endpoints show after all that.
    let reads = [
        "/api/events",
        "/api/jobs",
        "/api/interactions",
        "/api/artifacts",
        "/api/repositories",
        "/webhooks/status",
        "/multi-repo/status",
        "/multi-repo/config",
        "/metrics",
    ];
    for path in reads {
        p.check(path, p.get(path).bearer_auth(ADMIN), 200).await;
    }
    p.check("health", p.get("/health"), 200).await;
    derived
}
