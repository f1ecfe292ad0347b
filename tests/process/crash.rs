//! SIGKILL mid-load: signed `pull_request.opened` deliveries (each a review: GitHub files, an
//! LLM call, a comment) stream into the server; after 30% of them were acknowledged the server
//! is killed while requests and jobs are in flight, then restarted on the same store, and every
//! delivery not acknowledged is sent again (GitHub redelivers). Then:
//! - every delivery is stored exactly once, and its job is done;
//! - each event has exactly one review artifact and each pull request exactly one comment,
//!   created once (a re-run job finds its comment by the hidden marker);
//! - only jobs that were claimed when the server died ran twice (at-least-once execution,
//!   bounded by what one server can hold: workers × batch size).

use super::support::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Webhook workers per server, and jobs each claims at once (the engine's default batch).
const WORKERS: usize = 2;
const BATCH: usize = 8;
const CONNECTIONS: usize = 32;

async fn crash_and_recover(db: TestDb, label: &str) {
    let started = Instant::now();
    let total = size("KOVA_CRASH_DELIVERIES", 1000);
    let kill_at = (total * 3 / 10).max(1);
    let fakes = Fakes::for_reviews(1..total as u64 + 1, Duration::from_millis(20)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = fakes.review_server_env(db.url(), dir.path());
    env.extend([
        ("KOVA_WORKERS", WORKERS.to_string()),
        // A killed server's jobs are claimable again five seconds after their last renewal
        // (renewed every 1.7 s: a busy machine does not make a live worker lose its lease).
        ("KOVA_JOB_LEASE_SECS", "5".to_string()),
    ]);
    let run = format!("crash-{label}-{}", std::process::id());
    let deliveries: Arc<Vec<Delivery>> = Arc::new(
        (0..total)
            .map(|i| pr_opened(WEBHOOK_SECRET, &format!("{run}-{i}"), i as u64 + 1))
            .collect(),
    );
    let client = load_client(CONNECTIONS);

    // Load, and SIGKILL once `kill_at` deliveries were acknowledged.
    let mut first = Server::start("first", &env);
    let acks = Acks::new(kill_at);
    let mut load = tokio::spawn(send_load(
        client.clone(),
        vec![first.base.clone()],
        deliveries.clone(),
        (0..total).collect(),
        CONNECTIONS,
        acks.clone(),
    ));
    tokio::select! {
        _ = acks.reached.notified() => {}
        r = &mut load => panic!("the load ended before the kill: {:?}", r.map(|r| r.accepted.len())),
        _ = tokio::time::sleep(Duration::from_secs(60)) => panic!("{kill_at} deliveries were not acknowledged within 60 s"),
    }
    first.kill();
    acks.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let before = load.await.expect("load");
    assert!(
        before.other.is_empty(),
        "only 202s or dead connections: {:?}",
        before.other
    );
    let done_before = first
        .logs()
        .iter()
        .filter(|l| l.contains("job done"))
        .count();
    eprintln!(
        "crash {label}: killed after {} acknowledged ({} requests cut off, {} unsent, {done_before} jobs done) at {:.1}s",
        before.accepted.len(),
        before.failed.len(),
        before.unsent.len(),
        started.elapsed().as_secs_f64()
    );

    // The jobs the dead server held: exactly these must run again. (A kill can also land
    // while no job is in flight; then nothing runs twice.)
    let held_at_kill: HashSet<kova::EventId> = {
        let opened = db.open().await;
        all_jobs(opened.as_ref())
            .await
            .iter()
            .filter(|j| j.status == kova::JobStatus::Running)
            .filter_map(|j| j.event_id)
            .collect()
    };

    // Restart on the same store; redeliver everything not acknowledged.
    let mut second = Server::start("second", &env);
    let rest: Vec<usize> = before
        .failed
        .iter()
        .chain(&before.unsent)
        .copied()
        .collect();
    let after = send_load(
        client.clone(),
        vec![second.base.clone()],
        deliveries.clone(),
        rest.clone(),
        CONNECTIONS,
        Acks::new(usize::MAX),
    )
    .await;
    assert_eq!(
        after.accepted.len(),
        rest.len(),
        "after the restart every redelivery is acknowledged: {:?} {:?}",
        after.other,
        after.failed.len()
    );
    let summary = wait_for_drain(&client, &second.base, total as u64).await;
    second.stop();

    let opened = db.open().await;
    let store = opened.as_ref();
    let events = all_events(store).await;
    let mut per_delivery: HashMap<&str, usize> = HashMap::new();
    for e in &events {
        *per_delivery
            .entry(e.delivery.delivery_id.as_str())
            .or_default() += 1;
    }
    for d in deliveries.iter() {
        assert_eq!(
            per_delivery.get(d.id.as_str()).copied().unwrap_or(0),
            1,
            "delivery {} is stored exactly once",
            d.id
        );
    }
    assert_eq!(events.len(), total, "no other events: {summary}");
    assert!(
        events
            .iter()
            .all(|e| e.status == kova::EventStatus::Processed),
        "every event is processed"
    );

    let jobs = all_jobs(store).await;
    assert_eq!(jobs.len(), total, "one job per delivery");
    let not_done: Vec<_> = jobs
        .iter()
        .filter(|j| j.status != kova::JobStatus::Done)
        .map(|j| (j.id, j.status, j.last_error.clone()))
        .collect();
    assert!(not_done.is_empty(), "every job is done: {not_done:?}");
    let rerun: HashSet<kova::EventId> = jobs
        .iter()
        .filter(|j| j.attempts > 1)
        .filter_map(|j| j.event_id)
        .collect();
    assert_eq!(
        rerun, held_at_kill,
        "the jobs the killed server held ran again after their lease, and only those"
    );
    assert!(
        rerun.len() <= WORKERS * BATCH,
        "only jobs the killed server held ran twice: {}",
        rerun.len()
    );

    // Effects are idempotent per delivery.
    let mut artifacts: HashMap<kova::EventId, usize> = HashMap::new();
    for a in all_artifacts(store).await {
        match a.source {
            kova::ArtifactSource::Event(id) => *artifacts.entry(id).or_default() += 1,
            other => panic!("unexpected artifact source {other:?}"),
        }
        assert!(a.content.starts_with(REVIEW_TEXT), "{}", a.content);
    }
    for e in &events {
        assert_eq!(
            artifacts.get(&e.id).copied().unwrap_or(0),
            1,
            "event {} has exactly one review artifact",
            e.id
        );
    }
    let mut interactions: HashMap<kova::EventId, usize> = HashMap::new();
    for i in all_interactions(store).await {
        *interactions
            .entry(
                i.event_id
                    .expect("a webhook job's LLM call names its event"),
            )
            .or_default() += 1;
    }
    for e in &events {
        let n = interactions.get(&e.id).copied().unwrap_or(0);
        assert!(n >= 1, "event {} has its LLM call recorded", e.id);
        assert!(
            n == 1 || rerun.contains(&e.id),
            "event {} had {n} LLM calls but its job ran once",
            e.id
        );
    }
    let llm = fakes.llm_calls_per_pr();
    let posts = fakes.comment_posts_per_pr();
    let repeated = llm.values().filter(|&&n| n > 1).count();
    assert!(
        repeated <= rerun.len(),
        "{repeated} pull requests were reviewed twice, {} jobs ran twice",
        rerun.len()
    );
    for n in 1..=total as u64 {
        assert!(
            llm.get(&n).copied().unwrap_or(0) >= 1,
            "PR #{n} was reviewed"
        );
        assert_eq!(
            posts.get(&n).copied().unwrap_or(0),
            1,
            "one comment was created on PR #{n}"
        );
        let comments = fakes.github.issue_comments(REPO, n);
        assert_eq!(comments.len(), 1, "PR #{n} has one Kova comment");
        assert!(comments[0].body.contains("<!-- kova:pr_review -->"));
    }
    eprintln!(
        "crash {label}: {total} deliveries, {} jobs re-run after the kill, {repeated} reviews repeated, all checks passed in {:.1}s",
        rerun.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn sqlite_server_survives_sigkill_mid_load() {
    scenario(crash_and_recover(TestDb::sqlite(), "sqlite"));
}

#[test]
fn postgres_server_survives_sigkill_mid_load() {
    scenario(async {
        let Some(db) = TestDb::postgres().await else {
            eprintln!(
                "notice: skipping the postgres crash test: KOVA_TEST_POSTGRES_URL is not set"
            );
            return;
        };
        crash_and_recover(db, "postgres").await;
    });
}
