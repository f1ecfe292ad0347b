//! The Store conformance suite: one `pub async fn` per behaviour of the [`Store`] contract.
//! Every backend runs all of them (see [`conformance_suite!`](crate::conformance_suite)), each
//! on a fresh, empty store. They panic on a violation, naming it.

use crate::model::*;
use crate::store::*;
use crate::time::{to_micros, Timestamp};
use bytes::Bytes;
use chrono::TimeZone;
use futures::future::join_all;
use std::collections::HashSet;
use std::time::Duration;

/// A fixed starting time, so every run sees the same clock.
pub fn t0() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + chrono::Duration::seconds(secs)
}

fn repo(name: &str) -> RepoRef {
    RepoRef::new("octo", name).unwrap()
}

/// A delivery with a realistic small body.
pub fn delivery(id: &str) -> WebhookDelivery {
    let body = format!(
        r#"{{"action":"opened","number":1,"repository":{{"full_name":"octo/app"}},"delivery":"{id}"}}"#
    );
    let mut d = WebhookDelivery::new(id, "pull_request", Bytes::from(body), at(0));
    d.hook_id = Some(42);
    d.action = Some("opened".into());
    d.repo = Some(repo("app"));
    d.installation_id = Some(7);
    d.sender = Some("octocat".into());
    d.target_type = Some("repository".into());
    d.target_id = Some(99);
    d.user_agent = Some("GitHub-Hookshot/abc".into());
    d
}

async fn enqueue_n(store: &dyn Store, n: usize, now: Timestamp) -> Vec<JobId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let out = store
            .enqueue(
                &NewJob::new("test").with_payload(serde_json::json!({ "i": i })),
                now,
            )
            .await
            .expect("enqueue");
        ids.push(out.job_id());
    }
    ids
}

async fn claim(
    store: &dyn Store,
    worker: &str,
    n: usize,
    lease_secs: u64,
    now: Timestamp,
) -> Vec<Job> {
    store
        .claim_jobs(&ClaimRequest::new(
            worker,
            n,
            Duration::from_secs(lease_secs),
            now,
        ))
        .await
        .expect("claim")
}

/// Upsert inserts then replaces (keeping `created_at`); get and list see it; list is by name.
pub async fn repository_upsert_get_list(store: &dyn Store) {
    let mut r = Repository::new(repo("zeta"), RepoKind::Service, at(0));
    r.features = vec!["api".into()];
    store.upsert_repository(&r).await.unwrap();
    store
        .upsert_repository(&Repository::new(repo("alpha"), RepoKind::Core, at(1)))
        .await
        .unwrap();
    let mut changed = r.clone();
    changed.description = Some("changed".into());
    changed.status = RepoStatus::Active;
    changed.head_sha = Some("abc".into());
    changed.last_synced_at = Some(at(5));
    changed.created_at = at(100);
    changed.updated_at = at(5);
    store.upsert_repository(&changed).await.unwrap();

    let got = store
        .get_repository(&repo("zeta"))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.description.as_deref(), Some("changed"));
    assert_eq!(got.status, RepoStatus::Active);
    assert_eq!(got.features, vec!["api".to_string()]);
    assert_eq!(got.last_synced_at, Some(at(5)));
    assert_eq!(got.created_at, at(0), "upsert keeps the first created_at");
    assert!(store
        .get_repository(&repo("missing"))
        .await
        .unwrap()
        .is_none());

    let page = store
        .list_repositories(&ListOptions::default().with_limit(1))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].repo, repo("alpha"));
    let next = store
        .list_repositories(
            &ListOptions::default()
                .with_limit(1)
                .with_cursor(page.next_cursor.expect("more")),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].repo, repo("zeta"));
    assert!(next.next_cursor.is_none());

    let mut bad = r.clone();
    bad.sync_priority = 9;
    assert!(matches!(
        store.upsert_repository(&bad).await,
        Err(crate::Error::Invalid { .. })
    ));
}

/// Snapshots accumulate as history, newest first.
pub async fn snapshots_are_history(store: &dyn Store) {
    for i in 0..3u64 {
        store
            .record_snapshot(&RepoSnapshot {
                repo: repo("app"),
                stars: i,
                forks: 1,
                watchers: 2,
                open_issues: 3,
                size_kb: 4,
                pushed_at: Some(at(i as i64)),
                recorded_at: at(10 + i as i64),
            })
            .await
            .unwrap();
    }
    let page = store
        .list_snapshots(&repo("app"), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|s| s.stars).collect::<Vec<_>>(),
        vec![2, 1, 0]
    );
    assert_eq!(page.items[0].recorded_at, at(12));
    assert!(store
        .list_snapshots(&repo("other"), &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

/// Recording the same (hook id, delivery id) twice stores one event and one job.
pub async fn record_delivery_is_idempotent(store: &dyn Store) {
    let d = delivery("d-1");
    let first = store
        .record_delivery(&d, Some(&NewJob::new("review")))
        .await
        .unwrap();
    let DeliveryOutcome::Inserted {
        event_id,
        job: Some(EnqueueOutcome::Created(job_id)),
    } = first
    else {
        panic!("first delivery must insert an event and a job: {first:?}")
    };
    let again = store
        .record_delivery(&d, Some(&NewJob::new("review")))
        .await
        .unwrap();
    assert_eq!(again, DeliveryOutcome::Duplicate { event_id });

    // Same delivery id from another hook is another delivery.
    let mut other_hook = d.clone();
    other_hook.hook_id = Some(43);
    assert!(!store
        .record_delivery(&other_hook, None)
        .await
        .unwrap()
        .is_duplicate());

    let ev = store
        .get_event(event_id)
        .await
        .unwrap()
        .expect("event stored");
    assert_eq!(ev.delivery, d, "the delivery round-trips byte for byte");
    assert_eq!(ev.status, EventStatus::Received);
    let job = store.get_job(job_id).await.unwrap().expect("job stored");
    assert_eq!(job.event_id, Some(event_id));
    assert_eq!(job.kind, "review");
    let all = store
        .list_jobs(&JobFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1, "a duplicate creates no job");
}

/// 64 concurrent copies of one delivery → exactly one event and one job.
pub async fn concurrent_duplicate_deliveries_make_one_row_and_one_job(store: &dyn Store) {
    let d = delivery("dup-storm");
    let job = NewJob::new("review");
    let outcomes = join_all((0..64).map(|_| store.record_delivery(&d, Some(&job)))).await;
    let mut inserted = 0;
    let mut ids = HashSet::new();
    for o in outcomes {
        let o = o.expect("no error under concurrent duplicates");
        if !o.is_duplicate() {
            inserted += 1;
        }
        ids.insert(o.event_id());
    }
    assert_eq!(
        inserted, 1,
        "exactly one of 64 concurrent duplicates inserts"
    );
    assert_eq!(ids.len(), 1, "every duplicate points at the one event");
    let events = store
        .list_events(&EventFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    let jobs = store
        .list_jobs(&JobFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(jobs.items.len(), 1);
}

/// An event may be recorded without a job; with one, both exist together.
pub async fn delivery_and_job_are_written_together(store: &dyn Store) {
    let out = store
        .record_delivery(&delivery("no-job"), None)
        .await
        .unwrap();
    assert!(matches!(out, DeliveryOutcome::Inserted { job: None, .. }));
    let ev = store.get_event(out.event_id()).await.unwrap().unwrap();
    assert_eq!(
        ev.status,
        EventStatus::Ignored,
        "an event with no job is stored ignored"
    );
    let out = store
        .record_delivery(
            &delivery("with-job"),
            Some(&NewJob::new("k").with_max_attempts(3)),
        )
        .await
        .unwrap();
    let DeliveryOutcome::Inserted {
        event_id,
        job: Some(j),
    } = out
    else {
        panic!("{out:?}")
    };
    let job = store.get_job(j.job_id()).await.unwrap().unwrap();
    assert_eq!(
        (job.event_id, job.max_attempts, job.status),
        (Some(event_id), 3, JobStatus::Queued)
    );
    assert_eq!(
        job.run_at,
        delivery("x").received_at,
        "a webhook job is due when it arrived"
    );
}

/// Invalid input is refused with `Invalid` and leaves nothing behind.
pub async fn invalid_input_writes_nothing(store: &dyn Store) {
    let mut d = delivery("");
    d.delivery_id.clear();
    assert!(matches!(
        store.record_delivery(&d, None).await,
        Err(crate::Error::Invalid { .. })
    ));
    let bad_job = NewJob::new("k").with_max_attempts(0);
    assert!(matches!(
        store
            .record_delivery(&delivery("ok-id"), Some(&bad_job))
            .await,
        Err(crate::Error::Invalid { .. })
    ));
    assert!(matches!(
        store.enqueue(&bad_job, at(0)).await,
        Err(crate::Error::Invalid { .. })
    ));
    let bad_artifact = NewArtifact::new("", ArtifactKind::Code, "x");
    assert!(matches!(
        store.insert_artifact(&bad_artifact, at(0)).await,
        Err(crate::Error::Invalid { .. })
    ));
    assert!(store
        .list_events(&EventFilter::default(), &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(store
        .list_jobs(&JobFilter::default(), &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(store
        .list_artifacts(&ArtifactFilter::default(), &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        store
            .list_events(
                &EventFilter::default(),
                &ListOptions::default().with_cursor("bogus")
            )
            .await,
        Err(crate::Error::Invalid { .. })
    ));
}

/// 8 concurrent claimers over 200 jobs: every job handed out exactly once.
pub async fn claim_hands_each_job_to_one_claimer(store: &dyn Store) {
    let ids = enqueue_n(store, 200, at(0)).await;
    let mut seen = HashSet::new();
    loop {
        let rounds = join_all((0..8).map(|w| {
            let worker = format!("w{w}");
            async move { claim(store, &worker, 7, 60, at(1)).await }
        }))
        .await;
        let got: Vec<Job> = rounds.into_iter().flatten().collect();
        if got.is_empty() {
            break;
        }
        for j in got {
            assert_eq!(j.status, JobStatus::Running);
            assert_eq!(j.attempts, 1);
            assert!(seen.insert(j.id), "job {} handed out twice", j.id);
        }
    }
    assert_eq!(seen.len(), ids.len(), "every job claimed");
}

/// Only due jobs are claimed, oldest due first, and no more than asked.
pub async fn claim_respects_due_time_and_order(store: &dyn Store) {
    let later = store
        .enqueue(&NewJob::new("later").with_run_at(at(100)), at(0))
        .await
        .unwrap()
        .job_id();
    let second = store
        .enqueue(&NewJob::new("b").with_run_at(at(5)), at(0))
        .await
        .unwrap()
        .job_id();
    let first = store
        .enqueue(&NewJob::new("a").with_run_at(at(2)), at(0))
        .await
        .unwrap()
        .job_id();
    assert!(
        claim(store, "w", 10, 60, at(1)).await.is_empty(),
        "nothing due yet"
    );
    let got = claim(store, "w", 1, 1000, at(10)).await;
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![first]);
    let got = claim(store, "w", 10, 1000, at(10)).await;
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![second]);
    let got = claim(store, "w", 10, 60, at(100)).await;
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![later]);
    let j = &got[0];
    assert_eq!(j.leased_by.as_deref(), Some("w"));
    assert_eq!(j.lease_until, Some(at(160)));
}

/// A job whose lease expired (its worker died) is claimable again; before, it is not.
pub async fn expired_lease_is_reclaimed(store: &dyn Store) {
    let id = enqueue_n(store, 1, at(0)).await[0];
    assert_eq!(claim(store, "dead-worker", 1, 30, at(0)).await.len(), 1);
    assert!(
        claim(store, "w2", 1, 30, at(29)).await.is_empty(),
        "lease still held"
    );
    let got = claim(store, "w2", 1, 30, at(31)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].attempts, 2, "the reclaim counts as an attempt");
    assert_eq!(got[0].leased_by.as_deref(), Some("w2"));
    store.complete_job(id, "w2", at(32)).await.unwrap();
}

/// Completing, retrying, failing or releasing someone else's job is a conflict.
pub async fn only_the_lease_holder_may_finish(store: &dyn Store) {
    let id = enqueue_n(store, 1, at(0)).await[0];
    claim(store, "w1", 1, 10, at(0)).await;
    claim(store, "w2", 1, 10, at(20)).await; // w1's lease expired; w2 owns it now
    let conflict =
        |r: crate::Result<()>| assert!(matches!(r, Err(crate::Error::Conflict { .. })), "{r:?}");
    conflict(store.complete_job(id, "w1", at(21)).await);
    conflict(store.fail_job(id, "w1", "x", at(21)).await);
    conflict(store.release_job(id, "w1", at(21)).await);
    conflict(store.defer_job(id, "w1", at(30), "x", at(21)).await);
    conflict(store.renew_lease(id, "w1", at(100)).await);
    assert!(matches!(
        store.retry_job(id, "w1", at(30), "x", at(21)).await,
        Err(crate::Error::Conflict { .. })
    ));
    store.complete_job(id, "w2", at(21)).await.unwrap();
    conflict(store.complete_job(id, "w2", at(22)).await);
    assert!(matches!(
        store.complete_job(JobId(987_654), "w2", at(22)).await,
        Err(crate::Error::NotFound { .. })
    ));
    assert_eq!(
        store.get_job(id).await.unwrap().unwrap().status,
        JobStatus::Done
    );
}

/// A retry queues the job for its new time; after `max_attempts` the job is dead with its error.
pub async fn retry_reschedules_then_dies_after_max_attempts(store: &dyn Store) {
    let id = store
        .enqueue(&NewJob::new("flaky").with_max_attempts(3), at(0))
        .await
        .unwrap()
        .job_id();
    let mut now = at(0);
    for attempt in 1..=3u32 {
        let got = claim(store, "w", 1, 60, now).await;
        assert_eq!(got.len(), 1, "attempt {attempt} claims the job");
        assert_eq!(got[0].attempts, attempt);
        let run_at = now + chrono::Duration::seconds(10);
        let out = store
            .retry_job(id, "w", run_at, &format!("boom {attempt}"), now)
            .await
            .unwrap();
        if attempt < 3 {
            assert_eq!(out, RetryOutcome::Rescheduled);
            let j = store.get_job(id).await.unwrap().unwrap();
            assert_eq!((j.status, j.run_at), (JobStatus::Queued, run_at));
            assert_eq!(
                j.last_error.as_deref(),
                Some(format!("boom {attempt}").as_str())
            );
            assert!(j.leased_by.is_none() && j.lease_until.is_none());
            assert!(
                claim(store, "w", 1, 60, run_at - chrono::Duration::seconds(1))
                    .await
                    .is_empty(),
                "not before run_at"
            );
            now = run_at;
        } else {
            assert_eq!(out, RetryOutcome::Dead);
        }
    }
    let j = store.get_job(id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Dead);
    assert_eq!(j.last_error.as_deref(), Some("boom 3"));
    assert!(
        claim(store, "w", 1, 60, at(10_000)).await.is_empty(),
        "dead jobs are never claimed"
    );

    let id2 = enqueue_n(store, 1, at(0)).await[0];
    claim(store, "w", 1, 60, at(10_000)).await;
    store
        .fail_job(id2, "w", "permanent", at(10_001))
        .await
        .unwrap();
    let j = store.get_job(id2).await.unwrap().unwrap();
    assert_eq!(
        (j.status, j.last_error.as_deref()),
        (JobStatus::Dead, Some("permanent"))
    );
}

/// A job whose worker keeps dying is dead once its attempts are spent, not handed out forever.
pub async fn lease_expired_on_last_attempt_makes_job_dead(store: &dyn Store) {
    let id = store
        .enqueue(&NewJob::new("poison").with_max_attempts(2), at(0))
        .await
        .unwrap()
        .job_id();
    assert_eq!(claim(store, "w1", 1, 10, at(0)).await.len(), 1);
    assert_eq!(claim(store, "w2", 1, 10, at(11)).await.len(), 1);
    assert!(claim(store, "w3", 1, 10, at(22)).await.is_empty());
    let j = store.get_job(id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Dead);
    assert!(j.last_error.unwrap_or_default().contains("lease expired"));
}

/// Releasing (graceful shutdown) queues the job again without spending an attempt.
pub async fn release_returns_job_without_spending_an_attempt(store: &dyn Store) {
    let id = enqueue_n(store, 1, at(0)).await[0];
    claim(store, "w", 1, 60, at(0)).await;
    store.release_job(id, "w", at(1)).await.unwrap();
    let j = store.get_job(id).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Queued, 0));
    assert!(j.leased_by.is_none());
    let got = claim(store, "w2", 1, 60, at(1)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attempts, 1);
}

/// Deferring (a rate limit) queues the job until its time without spending an attempt and
/// keeps the reason.
pub async fn defer_waits_without_spending_an_attempt(store: &dyn Store) {
    let id = enqueue_n(store, 1, at(0)).await[0];
    claim(store, "w", 1, 60, at(0)).await;
    store
        .defer_job(id, "w", at(40), "rate limited by github", at(1))
        .await
        .unwrap();
    let j = store.get_job(id).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Queued, 0));
    assert_eq!(j.run_at, at(40));
    assert!(j.leased_by.is_none() && j.lease_until.is_none());
    assert_eq!(j.last_error.as_deref(), Some("rate limited by github"));
    assert!(
        claim(store, "w2", 1, 60, at(39)).await.is_empty(),
        "not before its time"
    );
    let got = claim(store, "w2", 1, 60, at(40)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attempts, 1, "the deferred run was not counted");
    // Deferred again and again, it never runs out of attempts.
    for k in 0..10 {
        store
            .defer_job(id, "w2", at(41 + k), "rate limited", at(40 + k))
            .await
            .unwrap();
        assert_eq!(claim(store, "w2", 1, 60, at(41 + k)).await.len(), 1);
    }
    let j = store.get_job(id).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Running, 1));
    store.complete_job(id, "w2", at(60)).await.unwrap();
}

/// Renewing moves the lease's end, so a long job is not reclaimed.
pub async fn renew_lease_extends_it(store: &dyn Store) {
    let id = enqueue_n(store, 1, at(0)).await[0];
    claim(store, "w", 1, 10, at(0)).await;
    store.renew_lease(id, "w", at(100)).await.unwrap();
    assert!(claim(store, "thief", 1, 10, at(50)).await.is_empty());
    assert_eq!(
        store.get_job(id).await.unwrap().unwrap().lease_until,
        Some(at(100))
    );
    assert_eq!(claim(store, "thief", 1, 10, at(101)).await.len(), 1);
}

/// A dedupe key already queued, running or done creates nothing new; a dead one may run again.
pub async fn dedupe_key_prevents_repeat_work(store: &dyn Store) {
    let job = NewJob::new("review").with_dedupe_key("review:octo/app#1@aaa");
    let first = store.enqueue(&job, at(0)).await.unwrap();
    assert!(matches!(first, EnqueueOutcome::Created(_)));
    assert_eq!(
        store.enqueue(&job, at(1)).await.unwrap(),
        EnqueueOutcome::Deduplicated(first.job_id())
    );
    claim(store, "w", 1, 60, at(2)).await;
    store
        .complete_job(first.job_id(), "w", at(3))
        .await
        .unwrap();
    // A redelivered event after the work is done: recorded, but no new job.
    let out = store
        .record_delivery(&delivery("redelivery"), Some(&job))
        .await
        .unwrap();
    let DeliveryOutcome::Inserted {
        job: Some(EnqueueOutcome::Deduplicated(existing)),
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(existing, first.job_id());

    let j2 = NewJob::new("review")
        .with_dedupe_key("other")
        .with_max_attempts(1);
    let id2 = store.enqueue(&j2, at(0)).await.unwrap().job_id();
    claim(store, "w", 1, 60, at(4)).await;
    store.fail_job(id2, "w", "x", at(5)).await.unwrap();
    assert!(matches!(
        store.enqueue(&j2, at(6)).await.unwrap(),
        EnqueueOutcome::Created(_)
    ));
}

/// A newer job with the same coalescing key supersedes queued (not running) older ones.
pub async fn coalesce_key_supersedes_queued_work(store: &dyn Store) {
    let key = "review:octo/app#7";
    let mut d1 = delivery("sha-1");
    d1.received_at = at(0);
    let old = store
        .record_delivery(
            &d1,
            Some(
                &NewJob::new("review")
                    .with_coalesce_key(key)
                    .with_dedupe_key("r@1"),
            ),
        )
        .await
        .unwrap();
    let old_job = match old {
        DeliveryOutcome::Inserted { job: Some(j), .. } => j.job_id(),
        other => panic!("{other:?}"),
    };
    let running = store
        .enqueue(&NewJob::new("review").with_coalesce_key("other-key"), at(0))
        .await
        .unwrap();
    let newer = store
        .record_delivery(
            &delivery("sha-2"),
            Some(
                &NewJob::new("review")
                    .with_coalesce_key(key)
                    .with_dedupe_key("r@2"),
            ),
        )
        .await
        .unwrap();
    let old_row = store.get_job(old_job).await.unwrap().unwrap();
    assert_eq!(old_row.status, JobStatus::Superseded);
    let old_event = store.get_event(old.event_id()).await.unwrap().unwrap();
    assert_eq!(old_event.status, EventStatus::Ignored);
    let claimed = claim(store, "w", 10, 60, at(1)).await;
    let ids: HashSet<JobId> = claimed.iter().map(|j| j.id).collect();
    assert!(!ids.contains(&old_job), "superseded work never runs");
    assert!(ids.contains(&running.job_id()));
    let DeliveryOutcome::Inserted { job: Some(nj), .. } = newer else {
        panic!()
    };
    assert!(ids.contains(&nj.job_id()));

    // A running job is not superseded: it finishes, the newer one runs after.
    let r1 = store
        .enqueue(&NewJob::new("r").with_coalesce_key("k2"), at(2))
        .await
        .unwrap()
        .job_id();
    claim(store, "w", 1, 60, at(2)).await;
    store
        .enqueue(&NewJob::new("r").with_coalesce_key("k2"), at(3))
        .await
        .unwrap();
    assert_eq!(
        store.get_job(r1).await.unwrap().unwrap().status,
        JobStatus::Running
    );
}

/// Completing a job marks its event processed; a dead job marks it failed.
pub async fn events_follow_their_jobs(store: &dyn Store) {
    let ok = store
        .record_delivery(&delivery("ok"), Some(&NewJob::new("k")))
        .await
        .unwrap();
    let bad = store
        .record_delivery(
            &delivery("bad"),
            Some(&NewJob::new("k").with_max_attempts(1)),
        )
        .await
        .unwrap();
    let jobs = claim(store, "w", 2, 60, at(1)).await;
    assert_eq!(jobs.len(), 2);
    for j in jobs {
        if j.event_id == Some(ok.event_id()) {
            store.complete_job(j.id, "w", at(2)).await.unwrap();
        } else {
            let out = store
                .retry_job(j.id, "w", at(10), "broken", at(2))
                .await
                .unwrap();
            assert_eq!(out, RetryOutcome::Dead);
        }
    }
    assert_eq!(
        store
            .get_event(ok.event_id())
            .await
            .unwrap()
            .unwrap()
            .status,
        EventStatus::Processed
    );
    assert_eq!(
        store
            .get_event(bad.event_id())
            .await
            .unwrap()
            .unwrap()
            .status,
        EventStatus::Failed
    );
    store
        .set_event_status(ok.event_id(), EventStatus::Ignored)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_event(ok.event_id())
            .await
            .unwrap()
            .unwrap()
            .status,
        EventStatus::Ignored
    );
    assert!(matches!(
        store
            .set_event_status(EventId(999_999), EventStatus::Ignored)
            .await,
        Err(crate::Error::NotFound { .. })
    ));
}

/// The summary counts jobs by status and knows the oldest queued one.
pub async fn jobs_summary_counts_by_status(store: &dyn Store) {
    assert_eq!(store.jobs_summary().await.unwrap(), JobsSummary::default());
    let ids = enqueue_n(store, 5, at(0)).await;
    store.enqueue(&NewJob::new("late"), at(50)).await.unwrap();
    let got = claim(store, "w", 3, 60, at(1)).await;
    store.complete_job(got[0].id, "w", at(2)).await.unwrap();
    store.fail_job(got[1].id, "w", "x", at(2)).await.unwrap();
    let s = store.jobs_summary().await.unwrap();
    assert_eq!(
        (s.queued, s.running, s.done, s.dead, s.superseded),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(s.oldest_queued_at, Some(at(0)));
    assert_eq!(ids.len(), 5);
}

/// Paging through events while others are inserted returns no event twice and misses none of
/// those that existed when paging began.
pub async fn pagination_is_stable_under_concurrent_inserts(store: &dyn Store) {
    for i in 0..30 {
        store
            .record_delivery(&delivery(&format!("p-{i}")), None)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut opts = ListOptions::default().with_limit(7);
    let mut extra = 0;
    loop {
        // Insert between pages, concurrently with the read.
        let filter = EventFilter::default();
        let newcomer = delivery(&format!("new-{extra}"));
        let (page, inserted) = futures::join!(
            store.list_events(&filter, &opts),
            store.record_delivery(&newcomer, None)
        );
        inserted.unwrap();
        extra += 1;
        let page = page.unwrap();
        seen.extend(page.items.iter().map(|e| e.delivery.delivery_id.clone()));
        match page.next_cursor {
            Some(c) => opts = opts.with_cursor(c),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event appeared on two pages");
    for i in 0..30 {
        assert!(seen.contains(&format!("p-{i}")), "p-{i} was skipped");
    }
}

/// Filters on events, jobs, artifacts and interactions narrow the lists.
pub async fn filters_narrow_lists(store: &dyn Store) {
    let mut a = delivery("f-a");
    a.event = "push".into();
    a.repo = Some(repo("one"));
    let mut b = delivery("f-b");
    b.repo = Some(repo("two"));
    store
        .record_delivery(&a, Some(&NewJob::new("push-summary")))
        .await
        .unwrap();
    store
        .record_delivery(&b, Some(&NewJob::new("review")))
        .await
        .unwrap();
    let f = EventFilter::default().with_event("push");
    let got = store
        .list_events(&f, &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].delivery.delivery_id, "f-a");
    let f = EventFilter::default()
        .with_repo(repo("two"))
        .with_status(EventStatus::Received);
    assert_eq!(
        store
            .list_events(&f, &ListOptions::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let f = EventFilter::default().with_status(EventStatus::Processed);
    assert!(store
        .list_events(&f, &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
    let jf = JobFilter::default()
        .with_kind("review")
        .with_status(JobStatus::Queued);
    assert_eq!(
        store
            .list_jobs(&jf, &ListOptions::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let jf = JobFilter::default().with_status(JobStatus::Done);
    assert!(store
        .list_jobs(&jf, &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

/// Artifacts round-trip; versions count per (repository, kind, name); an idempotency key
/// returns the first artifact.
pub async fn artifacts_round_trip_with_versions_and_idempotency(store: &dyn Store) {
    let ev = store
        .record_delivery(&delivery("art"), None)
        .await
        .unwrap()
        .event_id();
    let mut a = NewArtifact::new("architecture", ArtifactKind::Diagram, "graph TD; A-->B");
    a.language = Some("mermaid".into());
    a.repo = Some(repo("app"));
    a.source = ArtifactSource::Event(ev);
    a.validation = Validation::Repaired;
    a.metadata.model = Some("m".into());
    a.metadata.usage = Usage {
        input_tokens: 10,
        output_tokens: 20,
        cache_read_tokens: 3,
        cache_creation_tokens: 4,
    };
    a.metadata.cost_usd = Some(0.25);
    a.metadata
        .extra
        .insert("skipped".into(), serde_json::json!(["Cargo.lock"]));
    let first = store.insert_artifact(&a, at(1)).await.unwrap();
    let ArtifactOutcome::Inserted(first) = first else {
        panic!()
    };
    assert_eq!(first.version, 1);
    assert_eq!(first.content_hash, content_hash("graph TD; A-->B"));
    assert_eq!(first.created_at, at(1));
    let got = store.get_artifact(first.id).await.unwrap().unwrap();
    assert_eq!(got, first, "round trip");

    let second = store
        .insert_artifact(&a, at(2))
        .await
        .unwrap()
        .into_artifact();
    assert_eq!(second.version, 2);
    let mut other = a.clone();
    other.kind = ArtifactKind::Document;
    assert_eq!(
        store
            .insert_artifact(&other, at(3))
            .await
            .unwrap()
            .into_artifact()
            .version,
        1
    );

    let mut keyed = NewArtifact::new("gen", ArtifactKind::Code, "fn main() {}");
    keyed.idempotency_key = Some("req-1".into());
    let k1 = store.insert_artifact(&keyed, at(4)).await.unwrap();
    assert!(matches!(k1, ArtifactOutcome::Inserted(_)));
    keyed.content = "different".into();
    let k2 = store.insert_artifact(&keyed, at(5)).await.unwrap();
    let ArtifactOutcome::Existing(k2) = k2 else {
        panic!("same key must return the existing artifact")
    };
    assert_eq!(k2.content, "fn main() {}");
    let found = store.find_artifact_by_key("req-1").await.unwrap();
    assert_eq!(found.map(|a| a.id), Some(k2.id));
    assert!(store.find_artifact_by_key("req-2").await.unwrap().is_none());

    let by_event = store
        .list_artifacts(
            &ArtifactFilter::default().with_event(ev),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(by_event.items.len(), 3);
    let diagrams = store
        .list_artifacts(
            &ArtifactFilter::default()
                .with_kind(ArtifactKind::Diagram)
                .with_repo(repo("app")),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        diagrams.items.iter().map(|a| a.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
}

/// Interactions round-trip; totals sum tokens (cache included), failures and cost.
pub async fn interactions_round_trip_with_usage_totals(store: &dyn Store) {
    let mk = |i: u64, model: &str, success: bool| LlmInteraction {
        id: InteractionId(0),
        purpose: if i % 2 == 0 {
            "pr_review".into()
        } else {
            "artifact:code".into()
        },
        provider: "anthropic".into(),
        model: model.into(),
        prompt_digest: content_hash("p"),
        prompt: "p".into(),
        response: if success { "r".into() } else { String::new() },
        usage: Usage {
            input_tokens: 100 * i,
            output_tokens: 10 * i,
            cache_read_tokens: i,
            cache_creation_tokens: 2 * i,
        },
        cost_usd: Some(0.5),
        duration_ms: 12,
        success,
        error: (!success).then(|| "rate limited".to_string()),
        repo: Some(repo("app")),
        event_id: None,
        created_at: to_micros(at(i as i64)),
    };
    let mut ids = Vec::new();
    for i in 1..=4 {
        ids.push(
            store
                .record_interaction(&mk(i, if i < 4 { "m1" } else { "m2" }, i != 3))
                .await
                .unwrap(),
        );
    }
    let all = store
        .list_interactions(&InteractionFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 4);
    let mut expect = mk(4, "m2", true);
    expect.id = ids[3];
    assert_eq!(all.items[0], expect, "newest first, round trip");
    let t = store
        .usage_totals(&InteractionFilter::default())
        .await
        .unwrap();
    assert_eq!(t.calls, 4);
    assert_eq!(t.failures, 1);
    assert_eq!(
        t.usage,
        Usage {
            input_tokens: 1000,
            output_tokens: 100,
            cache_read_tokens: 10,
            cache_creation_tokens: 20
        }
    );
    assert!((t.cost_usd - 2.0).abs() < 1e-9);
    let t = store
        .usage_totals(&InteractionFilter::default().with_model("m1"))
        .await
        .unwrap();
    assert_eq!((t.calls, t.usage.input_tokens), (3, 600));
    let t = store
        .usage_totals(&InteractionFilter::default().with_purpose("pr_review"))
        .await
        .unwrap();
    assert_eq!(t.calls, 2);
}

/// Sync logs and repository errors round-trip, newest first, filterable by repository.
pub async fn sync_logs_and_repo_errors_round_trip(store: &dyn Store) {
    for (i, name) in ["a", "b", "a"].iter().enumerate() {
        let log = SyncLog {
            id: SyncLogId(0),
            repo: repo(name),
            outcome: if i == 1 {
                SyncOutcome::Failed
            } else {
                SyncOutcome::Updated
            },
            started_at: at(i as i64),
            duration_ms: 100 + i as u64,
            requests: 5,
            not_modified: 2,
            files: 40,
            manifests: 3,
            attempts: 1,
            error: (i == 1).then(|| "boom".to_string()),
        };
        store.record_sync_log(&log).await.unwrap();
    }
    let a = store
        .list_sync_logs(Some(&repo("a")), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(
        a.items.iter().map(|l| l.duration_ms).collect::<Vec<_>>(),
        vec![102, 100]
    );
    let all = store
        .list_sync_logs(None, &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(all.items[1].error.as_deref(), Some("boom"));
    assert_eq!(all.items[1].outcome, SyncOutcome::Failed);

    let e = RepoError {
        id: RepoErrorId(0),
        repo: repo("a"),
        source: "workflow_run".into(),
        title: "CI failed".into(),
        detail: "test x failed".into(),
        head_sha: Some("abc".into()),
        url: Some("https://example.invalid/run/1".into()),
        analysis: Some("fix the test".into()),
        created_at: at(9),
    };
    let id = store.record_repo_error(&e).await.unwrap();
    let got = store
        .list_repo_errors(Some(&repo("a")), &ListOptions::default())
        .await
        .unwrap();
    let mut expect = e.clone();
    expect.id = id;
    assert_eq!(got.items, vec![expect]);
    assert!(store
        .list_repo_errors(Some(&repo("b")), &ListOptions::default())
        .await
        .unwrap()
        .items
        .is_empty());
}
