//! Secrets never leak. The server runs with `RUST_LOG=debug` (once with text logs, once with
//! JSON logs) and known secrets in every secret setting: two rotating webhook secrets, API keys
//! of every role, the JWT secret, the GitHub token, the Anthropic key, and a database password
//! (PostgreSQL, when available). Every error path is driven: bad, missing and malformed
//! signatures, wrong and malformed credentials, forged, expired and role-less JWTs, malformed
//! and oversized bodies, unknown routes, LLM and GitHub failures (401, 403, 429, 500, 502, 529),
//! failing webhook jobs, rate limiting, and misconfigurations that stop the server at start.
//! Neither a secret, nor a presented credential, nor anything derived from a secret (a JWT
//! signed with it, the base64 of basic auth, the right signature of a rejected body) appears in
//! the server's output, a response body or a response header.

mod paths;

use super::support::*;
use base64::Engine;
use kova::claude::testing::{FakeAnthropic, FakeResponse as LlmResponse};
use kova::github::testing::FakeGitHub;
use paths::{drive, Probe};
use serde_json::Value;
use std::time::Instant;

/// Every secret carries this mark, so any echo of one (or of a near miss presented as a
/// credential) is found by one search.
const MARK: &str = "LEAKCHECK";
const WEBHOOK_OLD: &str = "whsec-old-LEAKCHECK-4c1f0e9b77";
const WEBHOOK_NEW: &str = "whsec-new-LEAKCHECK-8d2a6b3f11";
const READ: &str = "rk-LEAKCHECK-read-5b2e8d40aa91";
const WRITE: &str = "wk-LEAKCHECK-write-0f7c3e21bd64";
const ADMIN: &str = "ak-LEAKCHECK-admin-93a1d7c5e802";
const LIMITED: &str = "lk-LEAKCHECK-limited-6e0b4f2a9d17";
const JWT_SECRET: &str = "jwt-LEAKCHECK-0123456789abcdef-9e1d7a";
const GITHUB_TOKEN: &str = "ghp_LEAKCHECK0123456789abcdefABCDEF";
const ANTHROPIC_KEY: &str = "sk-ant-api03-LEAKCHECK-0123456789abcdef";
const DB_PASSWORD: &str = "pgpass-LEAKCHECK-31415926";

const SECRETS: [&str; 10] = [
    WEBHOOK_OLD,
    WEBHOOK_NEW,
    READ,
    WRITE,
    ADMIN,
    LIMITED,
    JWT_SECRET,
    GITHUB_TOKEN,
    ANTHROPIC_KEY,
    DB_PASSWORD,
];

/// A secret's base64, standard and URL-safe.
fn b64(s: &str) -> [String; 2] {
    [
        base64::engine::general_purpose::STANDARD.encode(s),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
    ]
}

/// `text` without terminal escape sequences (`ESC [ … letter`).
fn without_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs the server with every secret set, drives every error path, and checks the output.
async fn no_secret_in_output(json_logs: bool) {
    let started = Instant::now();
    let github = FakeGitHub::start().await;
    let llm = FakeAnthropic::start().await;
    // Calls no test scripted (the `/kova ask` job's) are refused like a revoked key.
    llm.set_fallback(LlmResponse::error(
        401,
        "authentication_error",
        "invalid x-api-key",
    ));
    let db = match TestDb::postgres().await {
        Some(db) => db,
        None => {
            eprintln!("notice: the secrets test runs on SQLite (no database password): KOVA_TEST_POSTGRES_URL is not set");
            TestDb::sqlite()
        }
    };
    let database_url = match &db {
        TestDb::Postgres { .. } => {
            let mut u = url::Url::parse(&db.url()).expect("postgres URL");
            u.set_password(Some(DB_PASSWORD))
                .expect("a URL with a host");
            u.to_string()
        }
        TestDb::Sqlite(_) => db.url(),
    };
    let mut env = vec![
        ("DATABASE_URL", database_url),
        (
            "GITHUB_WEBHOOK_SECRET",
            format!("{WEBHOOK_OLD},{WEBHOOK_NEW}"),
        ),
        (
            "KOVA_API_KEYS",
            format!("read:{READ},write:{WRITE},admin:{ADMIN},read:{LIMITED}"),
        ),
        ("KOVA_JWT_SECRET", JWT_SECRET.to_string()),
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
        ("KOVA_GITHUB_API_URL", github.url()),
        ("KOVA_GITHUB_WRITE_INTERVAL_MS", "0".to_string()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_string()),
        ("KOVA_ANTHROPIC_BASE_URL", llm.base_url()),
        ("KOVA_RATE_LIMIT", "50/60".to_string()),
        ("RUST_LOG", "debug".to_string()),
    ];
    if json_logs {
        env.push(("KOVA_LOG_FORMAT", "json".to_string()));
    }
    let mut server = Server::start("secrets", &env);
    let probe = Probe::new(&server.base);
    let derived = drive(&probe, &github, &llm).await;
    if let TestDb::Postgres { url, schema } = &db {
        // The store fails under the running server: a generic 500, the detail in the log.
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(&format!(
            "ALTER TABLE \"{schema}\".artifacts RENAME TO artifacts_gone"
        ))
        .execute(&mut c)
        .await
        .expect("break the artifacts table");
        let failed = probe
            .check(
                "store failure",
                probe.get("/api/artifacts").bearer_auth(ADMIN),
                500,
            )
            .await;
        assert_eq!(failed["error"]["message"], "internal server error");
    }
    server.stop();
    let logs = server.logs();
    // The paths were really taken (the log says so) and the secrets really reached the fakes.
    let mut expected = vec![
        "webhook signature rejected",
        "job dead",
        "job failed; retrying",
    ];
    if let TestDb::Postgres { .. } = &db {
        expected.push("internal error");
    }
    for expected in expected {
        assert!(
            logs.iter().any(|l| l.contains(expected)),
            "the log shows '{expected}'"
        );
    }
    assert!(github.requests().iter().any(|r| r
        .header("authorization")
        .is_some_and(|a| a.contains(GITHUB_TOKEN))));
    assert!(llm
        .requests()
        .iter()
        .any(|r| r.header("x-api-key") == Some(ANTHROPIC_KEY)));
    if json_logs {
        let structured = logs
            .iter()
            .filter(|l| l.starts_with('{') && serde_json::from_str::<Value>(l).is_ok())
            .count();
        assert!(
            structured * 2 > logs.len(),
            "most lines are JSON logs: {structured} of {}",
            logs.len()
        );
    }
    let seen = probe.seen.lock().expect("responses").clone();
    let mut needles: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    needles.extend(SECRETS.iter().flat_map(|s| b64(s)));
    needles.extend(derived);
    needles.push(MARK.to_string());
    for (source, texts) in [("the server's output", &logs), ("a response", &seen)] {
        for t in texts {
            // Text logs are colored: search them without the escape sequences too.
            let plain = without_ansi(t);
            for n in &needles {
                assert!(
                    !t.contains(n.as_str()) && !plain.contains(n.as_str()),
                    "a secret ({n}) leaked into {source}:\n{t}"
                );
            }
        }
    }
    eprintln!(
        "secrets ({} logs): {} log lines and {} responses checked for {} secret forms in {:.1}s",
        if json_logs { "json" } else { "text" },
        logs.len(),
        seen.len(),
        needles.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn no_secret_in_text_logs_or_responses() {
    scenario(no_secret_in_output(false));
}

#[test]
fn no_secret_in_json_logs_or_responses() {
    scenario(no_secret_in_output(true));
}

/// Environment variables of a server.
type Env = Vec<(&'static str, String)>;

/// A server refusing its configuration names the variable, never the secret in it.
#[test]
fn startup_errors_name_the_setting_not_the_secret() {
    scenario(async {
        // (what, the variables, what the error must name)
        let cases: Vec<(&str, Env, &str)> = vec![
            (
                "unreachable database",
                vec![(
                    "DATABASE_URL",
                    format!("postgres://kova:{DB_PASSWORD}@127.0.0.1:1/kova"),
                )],
                "postgres://kova:***@127.0.0.1:1/kova",
            ),
            (
                "unreadable database URL",
                vec![(
                    "DATABASE_URL",
                    format!("postgres://kova:{DB_PASSWORD}@127.0.0.1:99999/kova"),
                )],
                "postgres://kova:***@127.0.0.1:99999/kova",
            ),
            (
                "unknown store",
                vec![(
                    "DATABASE_URL",
                    format!("mysql://kova:{DB_PASSWORD}@127.0.0.1/kova"),
                )],
                "unknown store URL scheme",
            ),
            (
                "API key with an unknown role",
                vec![("KOVA_API_KEYS", format!("reader:{READ}"))],
                "KOVA_API_KEYS",
            ),
            (
                "API key too short",
                vec![("KOVA_API_KEYS", "read:LEAKCHECK-tiny".to_string())],
                "KOVA_API_KEYS",
            ),
            (
                "JWT secret too short",
                vec![("KOVA_JWT_SECRET", "LEAKCHECK-too-short".to_string())],
                "KOVA_JWT_SECRET",
            ),
            (
                "GitHub URL with credentials",
                vec![(
                    "KOVA_GITHUB_API_URL",
                    "https://kova:LEAKCHECK-ghe@ghe.example.com/api/v3".to_string(),
                )],
                "GitHub API URL",
            ),
            (
                "unreadable GitHub URL with credentials",
                vec![(
                    "KOVA_GITHUB_API_URL",
                    "https://kova:LEAKCHECK-ghe@ghe.example.com:99999/api/v3".to_string(),
                )],
                "GitHub API URL",
            ),
            (
                "unreadable Anthropic URL with credentials",
                vec![
                    ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_string()),
                    (
                        "KOVA_ANTHROPIC_BASE_URL",
                        "https://kova:LEAKCHECK-proxy@proxy.example.com:99999".to_string(),
                    ),
                ],
                "anthropic base URL",
            ),
        ];
        for (what, settings, named) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut env = vec![
                (
                    "DATABASE_URL",
                    format!("sqlite://{}", dir.path().join("k.db").display()),
                ),
                ("RUST_LOG", "debug".to_string()),
            ];
            env.retain(|(k, _)| !settings.iter().any(|(s, _)| s == k));
            env.extend(settings);
            let out = Server::start_failing(&env);
            let text = out.join("\n");
            assert!(
                text.contains(named),
                "{what}: the error names {named}:\n{text}"
            );
            assert!(!text.contains(MARK), "{what}: the secret leaked:\n{text}");
        }
    });
}
