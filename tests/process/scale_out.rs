//! Scale-out: two server processes, each with its own workers, on one PostgreSQL schema.
//! Deliveries alternate between them; every job runs exactly once (one claim, one LLM call,
//! one comment, one artifact per delivery) and both processes do part of the work.

use super::support::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;

async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(r.status(), 200);
    r.text().await.expect("metrics text")
}

async fn two_servers_one_database(db: TestDb) {
    let started = Instant::now();
    let total = size("KOVA_SCALE_OUT_DELIVERIES", 2000);
    let fakes = Fakes::for_reviews(1..total as u64 + 1, Duration::from_millis(5)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = fakes.review_server_env(db.url(), dir.path());
    env.extend([
        ("KOVA_WORKERS", "2".to_string()),
        ("KOVA_METRICS_PUBLIC", "1".to_string()),
    ]);
    let mut a = Server::start("a", &env);
    let mut b = Server::start("b", &env);
    let run = format!("scale-{}", std::process::id());
    let deliveries: Arc<Vec<Delivery>> = Arc::new(
        (0..total)
            .map(|i| pr_opened(WEBHOOK_SECRET, &format!("{run}-{i}"), i as u64 + 1))
            .collect(),
    );
    let client = load_client(CONNECTIONS);
    let sent = send_load(
        client.clone(),
        vec![a.base.clone(), b.base.clone()],
        deliveries.clone(),
        (0..total).collect(),
        CONNECTIONS,
        Acks::new(usize::MAX),
    )
    .await;
    assert_eq!(
        sent.accepted.len(),
        total,
        "every delivery is acknowledged: {:?}, {} failed",
        sent.other,
        sent.failed.len()
    );
    let ingested = started.elapsed();
    wait_for_drain(&client, &a.base, total as u64).await;
    let processed = started.elapsed();
    let (ma, mb) = (
        scrape(&client, &a.base).await,
        scrape(&client, &b.base).await,
    );
    a.stop();
    b.stop();

    let accepted = |m: &str| metric(m, "kova_webhook_deliveries_total", "outcome=\"accepted\"");
    assert_eq!(accepted(&ma) + accepted(&mb), total as f64);
    assert!(accepted(&ma) > 0.0 && accepted(&mb) > 0.0);
    let calls = |m: &str| metric(m, "kova_llm_calls_total", "outcome=\"ok\"");
    let (ca, cb) = (calls(&ma), calls(&mb));
    assert_eq!(ca + cb, total as f64, "one LLM call per delivery in all");
    assert!(
        ca > 0.0 && cb > 0.0,
        "both servers' workers did some of the work: {ca} and {cb}"
    );

    let opened = db.open().await;
    let store = opened.as_ref();
    let events = all_events(store).await;
    assert_eq!(events.len(), total);
    let jobs = all_jobs(store).await;
    assert_eq!(jobs.len(), total);
    let bad: Vec<_> = jobs
        .iter()
        .filter(|j| j.status != kova::JobStatus::Done || j.attempts != 1)
        .map(|j| (j.id, j.status, j.attempts, j.last_error.clone()))
        .collect();
    assert!(
        bad.is_empty(),
        "every job is done after exactly one claim: {bad:?}"
    );
    let mut artifacts: HashMap<kova::EventId, usize> = HashMap::new();
    for a in all_artifacts(store).await {
        if let kova::ArtifactSource::Event(id) = a.source {
            *artifacts.entry(id).or_default() += 1;
        }
    }
    let mut interactions: HashMap<kova::EventId, usize> = HashMap::new();
    for i in all_interactions(store).await {
        if let Some(id) = i.event_id {
            *interactions.entry(id).or_default() += 1;
        }
    }
    for e in &events {
        assert_eq!(artifacts.get(&e.id), Some(&1), "one artifact for {}", e.id);
        assert_eq!(
            interactions.get(&e.id),
            Some(&1),
            "one LLM call for {}",
            e.id
        );
    }
    let llm = fakes.llm_calls_per_pr();
    let posts = fakes.comment_posts_per_pr();
    for n in 1..=total as u64 {
        assert_eq!(llm.get(&n), Some(&1), "PR #{n} was reviewed exactly once");
        assert_eq!(posts.get(&n), Some(&1), "PR #{n} got exactly one comment");
    }
    eprintln!(
        "scale-out: {total} deliveries over two servers, ingested in {:.1}s, processed in {:.1}s \
         ({ca} + {cb} jobs), checked in {:.1}s",
        ingested.as_secs_f64(),
        processed.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn two_servers_on_one_postgres_run_every_job_once() {
    scenario(async {
        let Some(db) = TestDb::postgres().await else {
            eprintln!("notice: skipping the scale-out test: KOVA_TEST_POSTGRES_URL is not set");
            return;
        };
        two_servers_one_database(db).await;
    });
}
