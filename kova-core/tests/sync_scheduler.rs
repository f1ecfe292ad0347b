//! Auto-sync: on an interval and after pushes, driven by a manual clock and injected
//! sleepers — no real waiting.

mod sync_support;

use async_trait::async_trait;
use futures::FutureExt;
use kova_core::sync::*;
use kova_core::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_support::*;

const MIN: Duration = Duration::from_secs(60);

fn auto_org(push: bool) -> Org {
    let mut o = org();
    o.config.sync_settings.auto_sync_enabled = true;
    o.config.sync_settings.sync_interval_minutes = 15;
    o.config.sync_settings.sync_on_push = push;
    o
}

async fn log_count(o: &Org, repo: &str) -> usize {
    o.store
        .list_sync_logs(Some(&r(repo)), &ListOptions::default())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn ticks_sync_on_the_interval_and_after_pushes() {
    let o = auto_org(true);
    let auto = AutoSync::new(o.service());

    let first = auto.tick().await;
    assert_eq!(
        first.interval.as_ref().unwrap().totals.repos,
        6,
        "due at once"
    );
    assert_eq!(
        auto.next_sync_at(),
        Some(t0() + chrono::Duration::minutes(15))
    );
    assert_eq!(auto.next_wait(), 15 * MIN);

    o.clock.advance(14 * MIN);
    assert!(auto.tick().await.is_idle());
    assert_eq!(auto.next_wait(), MIN);

    o.clock.advance(MIN);
    let second = auto.tick().await;
    assert_eq!(second.interval.unwrap().totals.unchanged, 5);

    // A push: only that repository syncs, at once.
    o.host.push_commit(&r("octo/goapp"), commit("goapp-2"));
    assert!(auto.notify_push(&r("octo/goapp")));
    assert!(auto.notify_push(&r("OCTO/goapp")), "queued once");
    assert_eq!(auto.pending(), vec![r("octo/goapp")]);
    assert_eq!(auto.next_wait(), Duration::ZERO);
    let pushed = auto.tick().await;
    assert!(pushed.interval.is_none());
    let p = pushed.pushed.unwrap();
    assert_eq!(p.results.len(), 1);
    assert_eq!(p.results[0].outcome, SyncOutcome::Updated);
    assert_eq!(p.results[0].head_sha.as_deref(), Some("goapp-2"));
    assert!(auto.pending().is_empty());

    // A push to an untracked repository is reported as skipped, not synced.
    auto.notify_push(&r("octo/kova-website"));
    let t = auto.tick().await;
    assert_eq!(t.pushed.unwrap().skipped[0].repo, r("octo/kova-website"));
    assert_eq!(log_count(&o, "octo/goapp").await, 3);

    // A push while an interval sync is due: the interval sync covers it, once.
    o.host.push_commit(&r("octo/goapp"), commit("goapp-3"));
    auto.notify_push(&r("octo/goapp"));
    o.clock.advance(15 * MIN);
    let both = auto.tick().await;
    assert!(both.pushed.is_none());
    let goapp = both
        .interval
        .unwrap()
        .result(&r("octo/goapp"))
        .cloned()
        .unwrap();
    assert_eq!(goapp.head_sha.as_deref(), Some("goapp-3"));
    assert_eq!(log_count(&o, "octo/goapp").await, 4);
}

#[tokio::test]
async fn pushes_to_disabled_repositories_are_ignored() {
    let mut o = auto_org(true);
    let mut e = o.config.entry(&r("octo/goapp")).unwrap().clone();
    e.enabled = false;
    o.config.upsert_entry(e);
    let auto = AutoSync::new(o.service());
    auto.tick().await;
    assert!(auto.notify_push(&r("octo/goapp")));
    let t = auto.tick().await;
    assert!(t.pushed.is_none());
    assert_eq!(t.ignored_pushes[0].reason, "disabled");
    assert_eq!(log_count(&o, "octo/goapp").await, 0);
}

#[tokio::test]
async fn nothing_happens_when_auto_sync_and_push_sync_are_off() {
    let o = org();
    let auto = AutoSync::new(o.service());
    assert!(!auto.notify_push(&r("octo/goapp")));
    assert!(auto.tick().await.is_idle());
    assert_eq!(auto.next_sync_at(), None);
    assert_eq!(auto.next_wait(), Duration::from_secs(3600));
}

#[tokio::test]
async fn watching_for_new_repositories_discovers_on_the_interval() {
    let mut o = auto_org(false);
    o.config.discovery_settings.watch_for_new_repos = true;
    o.config.discovery_settings.auto_discover_new_repos = true;
    let auto = AutoSync::new(o.service());
    let t = auto.tick().await;
    assert_eq!(t.discover.unwrap().added, vec![r("octo/kova-ai-newthing")]);
    // Added before the interval sync of the same tick, so it is synced already.
    assert!(t
        .interval
        .unwrap()
        .result(&r("octo/kova-ai-newthing"))
        .is_some());
}

/// Advances the manual clock by each wait; asks for shutdown after `stop_after` waits.
#[derive(Debug)]
struct ClockSleeper {
    clock: Arc<kova_core::testing::ManualClock>,
    waits: Mutex<Vec<Duration>>,
    stop_after: usize,
    stop: Mutex<Option<futures::channel::oneshot::Sender<()>>>,
}

#[async_trait]
impl Sleeper for ClockSleeper {
    async fn sleep(&self, d: Duration) {
        let n = {
            let mut w = self.waits.lock().unwrap();
            w.push(d);
            w.len()
        };
        self.clock.advance(d);
        if n >= self.stop_after {
            if let Some(tx) = self.stop.lock().unwrap().take() {
                let _ = tx.send(());
            }
            futures::future::pending::<()>().await;
        }
    }
}

#[tokio::test]
async fn run_loop_syncs_every_interval_until_shutdown() {
    let o = auto_org(false);
    let auto = AutoSync::new(o.service());
    let (tx, rx) = futures::channel::oneshot::channel();
    let sleeper = ClockSleeper {
        clock: o.clock.clone(),
        waits: Mutex::new(Vec::new()),
        stop_after: 3,
        stop: Mutex::new(Some(tx)),
    };
    auto.run(&sleeper, rx.map(|_| ())).await;
    // Syncs at 0, 15 and 30 minutes; shut down while waiting for the fourth.
    assert_eq!(sleeper.waits.lock().unwrap().clone(), vec![15 * MIN; 3]);
    assert_eq!(log_count(&o, "octo/orchestrator").await, 3);
    assert_eq!(o.clock.now(), t0() + chrono::Duration::minutes(45));
}

/// Never finishes a wait: only a push (or shutdown) wakes the loop.
#[derive(Debug, Default)]
struct ForeverSleeper {
    calls: Mutex<usize>,
}

#[async_trait]
impl Sleeper for ForeverSleeper {
    async fn sleep(&self, _: Duration) {
        *self.calls.lock().unwrap() += 1;
        futures::future::pending::<()>().await;
    }
}

async fn until(deadline_ms: u64, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_millis(deadline_ms);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met in time"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_wakes_the_run_loop() {
    let o = auto_org(true);
    let auto = Arc::new(AutoSync::new(o.service()));
    let sleeper = Arc::new(ForeverSleeper::default());
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let task = {
        let (auto, sleeper) = (auto.clone(), sleeper.clone());
        tokio::spawn(async move { auto.run(&*sleeper, rx.map(|_| ())).await })
    };
    // The first tick syncs everything, then the loop waits.
    until(5_000, || *sleeper.calls.lock().unwrap() == 1).await;
    assert_eq!(log_count(&o, "octo/goapp").await, 1);

    o.host.push_commit(&r("octo/goapp"), commit("goapp-2"));
    assert!(auto.notify_push(&r("octo/goapp")));
    until(5_000, || *sleeper.calls.lock().unwrap() == 2).await;
    assert_eq!(log_count(&o, "octo/goapp").await, 2);
    assert_eq!(
        log_count(&o, "octo/orchestrator").await,
        1,
        "only the pushed repository"
    );
    let stored = o
        .store
        .get_repository(&r("octo/goapp"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.head_sha.as_deref(), Some("goapp-2"));

    tx.send(()).unwrap();
    task.await.unwrap();
    // A second loop can start once the first has stopped.
    let (tx2, rx2) = futures::channel::oneshot::channel::<()>();
    tx2.send(()).unwrap();
    auto.run(&*sleeper, rx2.map(|_| ())).await;
}

/// The faces spawn these on multi-threaded runtimes (axum handlers, background tasks).
#[test]
fn futures_are_send_and_services_are_shareable() {
    fn send<T: Send>(_: &T) {}
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<SyncService>();
    shareable::<AutoSync>();
    let o = auto_org(true);
    let svc = o.service();
    let auto = AutoSync::new(svc.clone());
    send(&svc.sync(SyncRequest::all()));
    send(&svc.sync_with_progress(SyncRequest::all(), no_progress()));
    send(&svc.discover());
    send(&svc.add(AddRepo::new(r("octo/x"), RepoKind::Core)));
    send(&svc.status());
    send(&auto.tick());
    let sleeper = ForeverSleeper::default();
    send(&auto.run(&sleeper, futures::future::ready(())));
}
