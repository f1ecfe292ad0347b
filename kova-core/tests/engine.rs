//! The engine on the memory store: ingest, workers, retries, dead jobs, coalescing, leases and
//! graceful shutdown, with a scripted LLM and a manual clock (no test waits on real time).

use async_trait::async_trait;
use bytes::Bytes;
use kova_core::testing::{ManualClock, ScriptedLlm};
use kova_core::*;
use kova_store::MemoryStore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Behaviour = dyn Fn(&HandlerContext, &WebhookEvent) -> Result<HandlerOutcome> + Send + Sync;

/// A handler whose behaviour each test scripts; it counts calls per event.
struct TestHandler {
    name: &'static str,
    event: &'static str,
    coalesce: bool,
    calls: Mutex<HashMap<EventId, usize>>,
    behaviour: Box<Behaviour>,
}

impl std::fmt::Debug for TestHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl TestHandler {
    fn new(
        name: &'static str,
        event: &'static str,
        behaviour: impl Fn(&HandlerContext, &WebhookEvent) -> Result<HandlerOutcome>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Arc::new(TestHandler {
            name,
            event,
            coalesce: false,
            calls: Mutex::new(HashMap::new()),
            behaviour: Box::new(behaviour),
        })
    }

    fn total_calls(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }
}

#[async_trait]
impl EventHandler for TestHandler {
    fn name(&self) -> &str {
        self.name
    }
    fn accepts(&self, event: &str, _action: Option<&str>) -> bool {
        event == self.event
    }
    fn job_for(&self, delivery: &WebhookDelivery) -> NewJob {
        let job = NewJob::new(self.name);
        if self.coalesce {
            // The body carries `"pr":N,"sha":"…"` in these tests.
            let v: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
            job.with_coalesce_key(format!("review:{}", v["pr"]))
                .with_dedupe_key(format!("review:{}@{}", v["pr"], v["sha"]))
        } else {
            job
        }
    }
    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        *self.calls.lock().unwrap().entry(event.id).or_default() += 1;
        (self.behaviour)(ctx, event)
    }
}

fn t0() -> Timestamp {
    kova_core::testing::conformance::t0()
}

fn delivery(id: &str, event: &str, body: &str) -> WebhookDelivery {
    let mut d = WebhookDelivery::new(id, event, Bytes::from(body.to_string()), t0());
    d.repo = Some("octo/app".parse().unwrap());
    d
}

struct Setup {
    kova: Kova,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
}

fn setup(
    handlers: Vec<Arc<dyn EventHandler>>,
    llm: Option<Arc<ScriptedLlm>>,
    settings: EngineSettings,
) -> Setup {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let mut b = Kova::builder(store.clone())
        .clock(clock.clone())
        .settings(settings);
    for h in handlers {
        b = b.handler(h);
    }
    if let Some(llm) = llm {
        b = b.llm(llm);
    }
    Setup {
        kova: b.build().unwrap(),
        store,
        clock,
    }
}

#[tokio::test]
async fn duplicate_delivery_makes_one_job_and_unhandled_events_are_ignored() {
    let h = TestHandler::new("ping", "ping", |_, _| Ok(HandlerOutcome::empty()));
    let s = setup(vec![h.clone()], None, EngineSettings::default());
    let first = s.kova.ingest(delivery("d1", "ping", "{}")).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.handler.as_deref(), Some("ping"));
    assert!(matches!(first.job, Some(EnqueueOutcome::Created(_))));
    let again = s.kova.ingest(delivery("d1", "ping", "{}")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(s.store.jobs_summary().await.unwrap().queued, 1);

    let other = s.kova.ingest(delivery("d2", "star", "{}")).await.unwrap();
    assert!(other.job.is_none() && other.handler.is_none());
    let ev = s.store.get_event(other.event_id).await.unwrap().unwrap();
    assert_eq!(ev.status, EventStatus::Ignored);

    let report = s.kova.process_pending("w", 10).await.unwrap();
    assert_eq!((report.claimed, report.completed), (1, 1));
    assert_eq!(h.total_calls(), 1);
    let ev = s.store.get_event(first.event_id).await.unwrap().unwrap();
    assert_eq!(ev.status, EventStatus::Processed);
}

#[tokio::test]
async fn handler_results_are_stored_with_their_llm_calls() {
    let llm = Arc::new(ScriptedLlm::new().with_price(3.0, 15.0));
    llm.push_text("Looks good: one nit in main.rs.");
    // This handler needs async work (an LLM call), so it is written out in full.
    #[derive(Debug)]
    struct Reviewer;
    #[async_trait]
    impl EventHandler for Reviewer {
        fn name(&self) -> &str {
            "review"
        }
        fn accepts(&self, event: &str, _: Option<&str>) -> bool {
            event == "pull_request"
        }
        async fn handle(
            &self,
            ctx: &HandlerContext,
            event: &WebhookEvent,
        ) -> Result<HandlerOutcome> {
            let req = CompletionRequest::new("review this").with_cached_system("you review code");
            let c = ctx
                .complete("pr_review", event.delivery.repo.as_ref(), &req)
                .await?;
            let mut a = NewArtifact::new("review", ArtifactKind::Analysis, c.text);
            a.metadata.usage = c.usage;
            a.metadata.model = Some(c.model);
            Ok(HandlerOutcome::empty().with_artifact(a))
        }
    }
    let s = setup(
        vec![Arc::new(Reviewer)],
        Some(llm.clone()),
        EngineSettings::default(),
    );
    let out = s
        .kova
        .ingest(delivery("pr-1", "pull_request", "{}"))
        .await
        .unwrap();
    let report = s.kova.process_pending("w", 10).await.unwrap();
    assert_eq!(report.completed, 1);
    let arts = s
        .store
        .list_artifacts(
            &ArtifactFilter::default().with_event(out.event_id),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(arts.items.len(), 1);
    let a = &arts.items[0];
    assert_eq!(a.kind, ArtifactKind::Analysis);
    assert_eq!(a.repo.as_ref().unwrap().to_string(), "octo/app");
    assert_eq!(a.content, "Looks good: one nit in main.rs.");
    let interactions = s
        .store
        .list_interactions(
            &InteractionFilter::default().with_event(out.event_id),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(interactions.items.len(), 1);
    let i = &interactions.items[0];
    assert_eq!((i.purpose.as_str(), i.success), ("pr_review", true));
    assert!(i.usage.output_tokens > 0 && i.cost_usd.unwrap() > 0.0);
    assert!(i.prompt.contains("you review code"));
    assert_eq!(llm.calls(), 1);
}

#[tokio::test]
async fn retryable_failures_back_off_then_the_job_dies_with_its_error() {
    let h = TestHandler::new("flaky", "push", |_, _| {
        Err(Error::upstream("anthropic", 503, "unavailable"))
    });
    let settings =
        EngineSettings::default()
            .with_max_attempts(3)
            .with_backoff(engine::Backoff::new(
                Duration::from_secs(10),
                Duration::from_secs(60),
            ));
    let s = setup(vec![h.clone()], None, settings);
    let out = s.kova.ingest(delivery("p1", "push", "{}")).await.unwrap();
    let job_id = out.job.unwrap().job_id();

    let r = s.kova.process_pending("w", 10).await.unwrap();
    assert_eq!(r.retried, 1);
    let job = s.store.get_job(job_id).await.unwrap().unwrap();
    let wait = (job.run_at - t0()).num_milliseconds();
    assert!(
        (5_000..=10_000).contains(&wait),
        "first retry waits 5..10 s, got {wait} ms"
    );
    assert!(job.last_error.unwrap().contains("HTTP 503"));
    assert_eq!(
        s.kova.process_pending("w", 10).await.unwrap().claimed,
        0,
        "not due before its time"
    );

    s.clock.set(job.run_at);
    assert_eq!(s.kova.process_pending("w", 10).await.unwrap().retried, 1);
    let job = s.store.get_job(job_id).await.unwrap().unwrap();
    s.clock.set(job.run_at);
    let r = s.kova.process_pending("w", 10).await.unwrap();
    assert_eq!(r.dead, 1);
    let job = s.store.get_job(job_id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Dead, 3));
    assert!(job.last_error.unwrap().contains("unavailable"));
    assert_eq!(h.total_calls(), 3);
    let ev = s.store.get_event(out.event_id).await.unwrap().unwrap();
    assert_eq!(ev.status, EventStatus::Failed);
}

#[tokio::test]
async fn retry_after_from_the_service_is_honoured() {
    let h = TestHandler::new("limited", "push", |_, _| {
        Err(Error::RateLimited {
            service: "github".into(),
            retry_after: Some(Duration::from_secs(600)),
        })
    });
    let s = setup(vec![h], None, EngineSettings::default());
    let mut ids = Vec::new();
    for i in 0..20 {
        let out = s
            .kova
            .ingest(delivery(&format!("p{i}"), "push", "{}"))
            .await
            .unwrap();
        ids.push(out.job.unwrap().job_id());
    }
    assert_eq!(s.kova.process_pending("w", 100).await.unwrap().deferred, 20);
    let mut waits = std::collections::HashSet::new();
    for id in ids {
        let job = s.store.get_job(id).await.unwrap().unwrap();
        let wait = job.run_at - t0();
        // Never sooner than asked; at most a tenth later.
        assert!(
            wait >= chrono::Duration::seconds(600) && wait < chrono::Duration::seconds(660),
            "{wait}"
        );
        waits.insert(wait);
    }
    // Refused together, they do not all come back at the same instant.
    assert!(waits.len() > 15, "{waits:?}");
}

#[tokio::test]
async fn rate_limits_spend_no_attempts_until_patience_runs_out() {
    let h = TestHandler::new("limited", "push", |_, _| {
        Err(Error::RateLimited {
            service: "github".into(),
            retry_after: Some(Duration::from_secs(3600)),
        })
    });
    let settings = EngineSettings::default()
        .with_max_attempts(3)
        .with_rate_limit_patience(Duration::from_secs(6 * 3600));
    let s = setup(vec![h.clone()], None, settings);
    let out = s.kova.ingest(delivery("p1", "push", "{}")).await.unwrap();
    let job_id = out.job.unwrap().job_id();
    // Hourly refusals for six hours: twice the attempt budget, and the job still waits.
    let mut deferred = 0;
    loop {
        let r = s.kova.process_pending("w", 10).await.unwrap();
        let job = s.store.get_job(job_id).await.unwrap().unwrap();
        if r.deferred == 0 {
            break;
        }
        deferred += r.deferred;
        assert!(deferred <= 6, "deferred past its patience");
        assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0));
        assert!(job.last_error.as_deref().unwrap().contains("rate limit"));
        s.clock.set(job.run_at);
    }
    assert_eq!(
        deferred, 6,
        "deferred while the job is younger than six hours"
    );
    // Past its patience, refusals count, and the attempt budget ends it with the reason kept.
    for _ in 0..3 {
        let job = s.store.get_job(job_id).await.unwrap().unwrap();
        s.clock.set(job.run_at);
        s.kova.process_pending("w", 10).await.unwrap();
    }
    let job = s.store.get_job(job_id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Dead, 3));
    assert_eq!(h.total_calls(), 9);
}

#[tokio::test]
async fn permanent_errors_and_panics_bury_the_job_at_once() {
    let bad = TestHandler::new("bad", "issues", |_, _| {
        Err(Error::invalid("payload", "no issue"))
    });
    let boom = TestHandler::new("boom", "push", |_, _| panic!("handler bug"));
    let s = setup(
        vec![bad.clone(), boom.clone()],
        None,
        EngineSettings::default(),
    );
    let a = s.kova.ingest(delivery("a", "issues", "{}")).await.unwrap();
    let b = s.kova.ingest(delivery("b", "push", "{}")).await.unwrap();
    let r = s.kova.process_pending("w", 10).await.unwrap();
    assert_eq!((r.claimed, r.dead), (2, 2));
    let ja = s
        .store
        .get_job(a.job.unwrap().job_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ja.attempts, 1);
    assert!(ja.last_error.unwrap().contains("no issue"));
    let jb = s
        .store
        .get_job(b.job.unwrap().job_id())
        .await
        .unwrap()
        .unwrap();
    let err = jb.last_error.unwrap();
    assert!(err.contains("panicked: handler bug"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_run_a_job_twice() {
    let h = TestHandler::new("count", "push", |_, _| Ok(HandlerOutcome::empty()));
    let s = setup(
        vec![h.clone()],
        None,
        EngineSettings::default().with_batch_size(5),
    );
    for i in 0..100 {
        s.kova
            .ingest(delivery(&format!("d{i}"), "push", "{}"))
            .await
            .unwrap();
    }
    let (a, b) = tokio::join!(
        s.kova.process_pending("w1", 1000),
        s.kova.process_pending("w2", 1000)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.completed + b.completed, 100);
    assert!(
        h.calls.lock().unwrap().values().all(|&n| n == 1),
        "a job ran twice"
    );
    assert_eq!(h.total_calls(), 100);
    assert_eq!(s.store.jobs_summary().await.unwrap().done, 100);
}

#[tokio::test]
async fn newer_head_sha_supersedes_queued_review_and_redelivery_does_not_redo_work() {
    let h = Arc::new(TestHandler {
        name: "review",
        event: "pull_request",
        coalesce: true,
        calls: Mutex::new(HashMap::new()),
        behaviour: Box::new(|_, _| Ok(HandlerOutcome::empty())),
    });
    let s = setup(vec![h.clone()], None, EngineSettings::default());
    let old = s
        .kova
        .ingest(delivery("s1", "pull_request", r#"{"pr":7,"sha":"aaa"}"#))
        .await
        .unwrap();
    let new = s
        .kova
        .ingest(delivery("s2", "pull_request", r#"{"pr":7,"sha":"bbb"}"#))
        .await
        .unwrap();
    let r = s.kova.process_pending("w", 10).await.unwrap();
    assert_eq!(r.completed, 1);
    assert_eq!(*h.calls.lock().unwrap(), HashMap::from([(new.event_id, 1)]));
    let old_job = s
        .store
        .get_job(old.job.unwrap().job_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old_job.status, JobStatus::Superseded);

    // GitHub redelivers s2's event under a new delivery id: the work is done, nothing reruns.
    let again = s
        .kova
        .ingest(delivery(
            "s2-redelivered",
            "pull_request",
            r#"{"pr":7,"sha":"bbb"}"#,
        ))
        .await
        .unwrap();
    assert!(matches!(again.job, Some(EnqueueOutcome::Deduplicated(_))));
    assert_eq!(s.kova.process_pending("w", 10).await.unwrap().claimed, 0);
    assert_eq!(h.total_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_rerun_after_its_lease_expired_stores_its_artifacts_once() {
    use tokio::sync::{oneshot, Notify};
    /// The first run blocks until released (a worker that hangs past its lease); later runs
    /// finish at once.
    #[derive(Debug)]
    struct Hangs {
        started: Arc<Notify>,
        gate: Mutex<Option<oneshot::Receiver<()>>>,
        runs: AtomicUsize,
    }
    #[async_trait]
    impl EventHandler for Hangs {
        fn name(&self) -> &str {
            "summary"
        }
        fn accepts(&self, e: &str, _: Option<&str>) -> bool {
            e == "push"
        }
        async fn handle(&self, _: &HandlerContext, _: &WebhookEvent) -> Result<HandlerOutcome> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let gate = self.gate.lock().unwrap().take();
            if let Some(gate) = gate {
                self.started.notify_one();
                let _ = gate.await;
            }
            Ok(HandlerOutcome::empty().with_artifact(NewArtifact::new(
                "summary",
                ArtifactKind::Analysis,
                "text",
            )))
        }
    }
    let started = Arc::new(Notify::new());
    let (release, gate) = oneshot::channel();
    let h = Arc::new(Hangs {
        started: started.clone(),
        gate: Mutex::new(Some(gate)),
        runs: AtomicUsize::new(0),
    });
    // No sleeper: leases are not renewed, so the hanging worker loses its job.
    let s = setup(
        vec![h.clone()],
        None,
        EngineSettings::default().with_lease(Duration::from_secs(10)),
    );
    let out = s.kova.ingest(delivery("p", "push", "{}")).await.unwrap();
    let k = s.kova.clone();
    let hung = tokio::spawn(async move { k.process_pending("w1", 1).await });
    started.notified().await;
    s.clock.advance(Duration::from_secs(11));
    let r2 = s.kova.process_pending("w2", 1).await.unwrap();
    assert_eq!(
        r2.completed, 1,
        "the expired job is taken over and finished"
    );
    release.send(()).unwrap();
    let r1 = hung.await.unwrap().unwrap();
    assert_eq!(r1.lost, 1, "the first worker's late result is dropped");
    assert_eq!(h.runs.load(Ordering::SeqCst), 2);
    let arts = s
        .store
        .list_artifacts(
            &ArtifactFilter::default().with_event(out.event_id),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(arts.items.len(), 1, "two runs, one artifact");
    assert_eq!(
        arts.items[0].idempotency_key.as_deref(),
        Some(format!("event:{}:summary:0", out.event_id).as_str())
    );
    let job = s
        .store
        .get_job(out.job.unwrap().job_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Done, 2));
}

#[tokio::test(start_paused = true)]
async fn lease_is_renewed_while_a_long_handler_runs_and_shutdown_releases_what_is_unfinished() {
    use tokio::sync::{oneshot, Notify};
    #[derive(Debug)]
    struct Slow {
        started: Arc<Notify>,
        finish: Mutex<Option<oneshot::Receiver<()>>>,
    }
    #[async_trait]
    impl EventHandler for Slow {
        fn name(&self) -> &str {
            "slow"
        }
        fn accepts(&self, e: &str, _: Option<&str>) -> bool {
            e == "push"
        }
        async fn handle(&self, _: &HandlerContext, _: &WebhookEvent) -> Result<HandlerOutcome> {
            self.started.notify_one();
            let rx = self.finish.lock().unwrap().take();
            match rx {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => std::future::pending::<()>().await,
            }
            Ok(HandlerOutcome::empty())
        }
    }
    let started = Arc::new(Notify::new());
    let (finish_tx, finish_rx) = oneshot::channel();
    let slow = Arc::new(Slow {
        started: started.clone(),
        finish: Mutex::new(Some(finish_rx)),
    });
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let kova = Kova::builder(store.clone())
        .clock(clock.clone())
        .sleeper(Arc::new(TokioSleeper))
        .handler(slow)
        .settings(
            EngineSettings::default()
                .with_lease(Duration::from_secs(3))
                .with_shutdown_grace(Duration::from_secs(1)),
        )
        .build()
        .unwrap();
    let out = kova.ingest(delivery("long", "push", "{}")).await.unwrap();
    let job_id = out.job.unwrap().job_id();

    let k = kova.clone();
    let first = tokio::spawn(async move { k.process_pending("w1", 1).await });
    started.notified().await;
    clock.advance(Duration::from_secs(2));
    tokio::time::advance(Duration::from_millis(1100)).await; // one renewal period (lease / 3)
    tokio::task::yield_now().await;
    let job = store.get_job(job_id).await.unwrap().unwrap();
    assert_eq!(
        job.lease_until,
        Some(t0() + chrono::Duration::seconds(5)),
        "renewed from the new now"
    );
    clock.advance(Duration::from_secs(2)); // past the first lease (t0+3), within the renewed one
    let stolen = store
        .claim_jobs(&ClaimRequest::new(
            "thief",
            1,
            Duration::from_secs(3),
            clock.now(),
        ))
        .await
        .unwrap();
    assert!(stolen.is_empty(), "a renewed lease is not reclaimed");
    finish_tx.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap().completed, 1);

    // Graceful shutdown: a job still running after the grace period goes back to the queue.
    let out = kova.ingest(delivery("stuck", "push", "{}")).await.unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let k = kova.clone();
    let worker = tokio::spawn(async move {
        k.run_worker("w2", async move {
            let _ = stop_rx.await;
        })
        .await
    });
    started.notified().await;
    stop_tx.send(()).unwrap();
    worker.await.unwrap().unwrap();
    let job = store
        .get_job(out.job.unwrap().job_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Queued, 0),
        "released without spending an attempt"
    );
}

#[tokio::test(start_paused = true)]
async fn worker_pool_processes_and_stops() {
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let h = TestHandler::new("count", "push", move |_, _| {
        d.fetch_add(1, Ordering::SeqCst);
        Ok(HandlerOutcome::empty())
    });
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let kova = Kova::builder(store.clone())
        .sleeper(Arc::new(TokioSleeper))
        .handler(h)
        .settings(EngineSettings::default().with_poll_interval(Duration::from_millis(50)))
        .build()
        .unwrap();
    let pool = kova.spawn_workers(3, "test");
    assert_eq!(pool.len(), 3);
    for i in 0..20 {
        kova.ingest(delivery(&format!("d{i}"), "push", "{}"))
            .await
            .unwrap();
    }
    // Paused time advances only while every task waits, so this loop costs no real time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::SeqCst) < 20 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "workers did not finish"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pool.shutdown().await;
    assert_eq!(store.jobs_summary().await.unwrap().done, 20);
}

#[test]
fn builder_rejects_duplicate_handler_names() {
    let a = TestHandler::new("same", "push", |_, _| Ok(HandlerOutcome::empty()));
    let b = TestHandler::new("same", "issues", |_, _| Ok(HandlerOutcome::empty()));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let err = Kova::builder(store)
        .handler(a)
        .handler(b)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("two handlers are named 'same'"));
}
