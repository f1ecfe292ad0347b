//! Crash safety: a child process records deliveries as fast as it can and prints each
//! acknowledged delivery id; the parent kills it with SIGKILL mid-run, reopens the store and
//! checks that every acknowledged delivery is there exactly once.
//!
//! The child is this test binary run again with `--exact crash_child --include-ignored` and
//! `KOVA_CRASH_CHILD=<store spec>`, so no extra binary is needed.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

use kova_core::{EventFilter, NewJob, Store, StoreExt, WebhookDelivery};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "KOVA_CRASH_CHILD";
/// Acknowledged deliveries to wait for before the kill.
const KILL_AFTER: usize = 3000;
/// Writers in the child, so the kill lands in the middle of group commits.
const WRITERS: usize = 32;

/// Opens the store a spec names: `sqlite:<path>` or `postgres:<schema>` (with the URL from
/// `KOVA_TEST_POSTGRES_URL`).
async fn open_spec(spec: &str) -> Arc<dyn Store> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        #[cfg(feature = "sqlite")]
        {
            return Arc::new(
                kova_store::SqliteStore::open(path, kova_store::SqliteOptions::default())
                    .await
                    .expect("open sqlite"),
            );
        }
        #[cfg(not(feature = "sqlite"))]
        panic!("sqlite not compiled in: {path}");
    }
    if let Some(schema) = spec.strip_prefix("postgres:") {
        #[cfg(feature = "postgres")]
        {
            let url = std::env::var("KOVA_TEST_POSTGRES_URL").expect("postgres URL");
            return Arc::new(
                kova_store::PostgresStore::connect(
                    &url,
                    kova_store::PgOptions::default().with_schema(schema),
                )
                .await
                .expect("connect postgres"),
            );
        }
        #[cfg(not(feature = "postgres"))]
        panic!("postgres not compiled in: {schema}");
    }
    panic!("unknown crash spec {spec}")
}

fn delivery(id: &str) -> WebhookDelivery {
    let body = format!(
        r#"{{"action":"opened","number":1,"repository":{{"full_name":"octo/app"}},"id":"{id}","pad":"{}"}}"#,
        "x".repeat(2000)
    );
    let mut d = WebhookDelivery::new(id, "pull_request", body.into(), chrono::Utc::now());
    d.hook_id = Some(1);
    d
}

/// The child: writes until killed (or, should the parent be gone, for at most a minute).
#[test]
#[ignore = "the crash tests' child process; runs only with KOVA_CRASH_CHILD set"]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let store = open_spec(&spec).await;
        let stop = Instant::now() + Duration::from_secs(60);
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < stop {
                        let id = format!("crash-{w}-{n}");
                        n += 1;
                        let out = store
                            .record_delivery(&delivery(&id), Some(&NewJob::new("review")))
                            .await
                            .expect("record");
                        assert!(!out.is_duplicate());
                        // Printed only after the store acknowledged it: the parent's evidence.
                        println!("ack {id}");
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    });
}

/// Runs the child on `spec`, kills it after [`KILL_AFTER`] acknowledgements, and returns every
/// id it acknowledged (including those still in the pipe when it died).
fn run_and_kill(spec: &str) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_child", "--nocapture", "--include-ignored"])
        .env(CHILD_ENV, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                // A line cut by the kill has no newline: it was not fully printed, skip it.
                Ok(_) if line.ends_with('\n') => {
                    if let Some(id) = line.trim_end().strip_prefix("ack ") {
                        if tx.send(id.to_string()).is_err() {
                            return;
                        }
                    }
                }
                Ok(_) => {}
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut acked = Vec::new();
    while acked.len() < KILL_AFTER {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(id) => acked.push(id),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the child acknowledged only {} deliveries before the deadline",
                    acked.len()
                );
            }
        }
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("wait for the child");
    assert!(!status.success(), "the child was killed, not finished");
    reader.join().expect("reader");
    acked.extend(rx.try_iter());
    acked
}

/// Every acknowledged id is stored exactly once, and the reopened store still takes writes.
async fn check(store: &dyn Store, acked: &[String]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for e in store
        .all_events(&EventFilter::default())
        .await
        .expect("list events after the crash")
    {
        *counts.entry(e.delivery.delivery_id).or_default() += 1;
    }
    assert!(acked.len() >= KILL_AFTER);
    for id in acked {
        assert_eq!(
            counts.get(id).copied().unwrap_or(0),
            1,
            "acknowledged delivery {id} must be stored exactly once"
        );
    }
    assert!(
        counts.values().all(|&n| n == 1),
        "no delivery is stored twice"
    );
    let again = store
        .record_delivery(&delivery(&acked[0]), None)
        .await
        .expect("record after reopen");
    assert!(again.is_duplicate(), "an acknowledged delivery is known");
    store
        .record_delivery(&delivery("after-crash"), Some(&NewJob::new("review")))
        .await
        .expect("the reopened store takes writes");
    eprintln!(
        "crash test: {} acknowledged, {} stored (unacknowledged writes may or may not be there)",
        acked.len(),
        counts.len()
    );
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_keeps_every_acknowledged_delivery_across_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.db");
    let acked = run_and_kill(&format!("sqlite:{}", path.display()));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = kova_store::SqliteStore::open(&path, kova_store::SqliteOptions::default())
            .await
            .expect("reopen after the crash");
        check(&store, &acked).await;
    });
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_keeps_every_acknowledged_delivery_across_sigkill() {
    use rand::Rng;
    let Ok(url) = std::env::var("KOVA_TEST_POSTGRES_URL") else {
        eprintln!("notice: skipping the postgres crash test: KOVA_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("kova_test_{:016x}", rand::thread_rng().gen::<u64>());
    let acked = run_and_kill(&format!("postgres:{schema}"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = kova_store::PostgresStore::connect(
            &url,
            kova_store::PgOptions::default().with_schema(&schema),
        )
        .await
        .expect("reconnect after the crash");
        check(&store, &acked).await;
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(store.pool())
            .await
            .expect("drop the test schema");
    });
}
