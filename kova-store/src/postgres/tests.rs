//! PostgreSQL beyond the conformance suite (each test skips with a notice without
//! `KOVA_TEST_POSTGRES_URL`): query plans use indexes, newer schemas are refused, passwords
//! stay out of errors, bodies are compressed and rows from before that read back, duplicates
//! racing across pools, a bad delivery in a batch, and calls on a connection that stops
//! answering.

use super::records::{event_filters, job_filters, list_sql, Val};
use super::rows::{EVENT_COLS, JOB_COLS};
use super::*;
use futures::future::join_all;
use kova_core::testing::conformance::delivery;
use rand::Rng;
use std::collections::HashMap;

fn url() -> Option<String> {
    let u = std::env::var("KOVA_TEST_POSTGRES_URL").ok();
    if u.is_none() {
        eprintln!("notice: skipping a postgres test: KOVA_TEST_POSTGRES_URL is not set");
    }
    u
}

fn schema() -> String {
    format!("kova_test_{:016x}", rand::thread_rng().gen::<u64>())
}

/// A store in a new schema, or `None` without a test database.
async fn fresh() -> Option<PostgresStore> {
    let url = url()?;
    let store = PostgresStore::connect(&url, PgOptions::default().with_schema(schema()))
        .await
        .unwrap();
    Some(store)
}

async fn drop_schema(store: &PostgresStore) {
    store.drop_schema().await.expect("drop schema");
}

async fn plan(pool: &PgPool, sql: &str, binds: Vec<Val>) -> String {
    let explain = format!("EXPLAIN {sql}");
    let mut q = sqlx::query_scalar::<_, String>(&explain);
    for b in binds {
        q = match b {
            Val::Text(s) => q.bind(s),
            Val::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(pool).await.expect("explain").join("\n")
}

fn assert_indexed(what: &str, plan: &str) {
    assert!(
        !plan.contains("Seq Scan"),
        "{what} must use an index, not a sequential scan:\n{plan}"
    );
}

#[tokio::test]
async fn claim_and_list_queries_use_indexes_on_large_tables() {
    let Some(store) = fresh().await else { return };
    let pool = store.pool();
    // 100k events and jobs, mostly finished, as in a long-running installation.
    sqlx::raw_sql(
        "INSERT INTO events (hook_id, hook_key, delivery_id, event, repo, body, received_at, status)
         SELECT 1, 1, 'd-' || g, (ARRAY['push','pull_request','issues','ping'])[g % 4 + 1],
                'octo/r' || (g % 200), '\\x7b7d', now(),
                CASE WHEN g % 50 = 0 THEN 'received' ELSE 'processed' END
         FROM generate_series(1, 100000) g;
         INSERT INTO jobs (kind, event_id, payload, attempts, max_attempts, run_at, lease_until,
                           leased_by, status, created_at, updated_at)
         SELECT (ARRAY['review','push-summary','triage'])[g % 3 + 1], g, 'null', 1, 5,
                now() - interval '1 hour',
                CASE WHEN g % 97 = 0 THEN now() - interval '1 minute' END,
                CASE WHEN g % 97 = 0 THEN 'w' END,
                CASE WHEN g % 97 = 0 THEN 'running' WHEN g % 50 = 0 THEN 'queued'
                     ELSE 'done' END,
                now(), now()
         FROM generate_series(1, 100000) g;
         ANALYZE events; ANALYZE jobs;",
    )
    .execute(pool)
    .await
    .unwrap();

    let now = chrono::Utc::now();
    let claim_sql = format!("{}{JOB_COLS}, picked.pri, picked.due", jobs::CLAIM_SQL);
    let explain_claim = format!("EXPLAIN {claim_sql}");
    let mut q = sqlx::query_scalar::<_, String>(&explain_claim)
        .bind(now)
        .bind(now + chrono::Duration::seconds(60))
        .bind("w2")
        .bind(50i64);
    q = q.persistent(false);
    let claim_plan = q.fetch_all(pool).await.unwrap().join("\n");
    assert_indexed("the claim", &claim_plan);
    assert!(claim_plan.contains("jobs_queued"), "{claim_plan}");
    assert!(claim_plan.contains("jobs_running"), "{claim_plan}");

    let event_cases = [
        EventFilter::default(),
        EventFilter::default().with_repo("octo/r7".parse().unwrap()),
        EventFilter::default().with_event("issues"),
        EventFilter::default().with_status(EventStatus::Received),
        EventFilter::default()
            .with_repo("octo/r7".parse().unwrap())
            .with_status(EventStatus::Received),
    ];
    for f in event_cases {
        let filters = event_filters(&f);
        let sql = list_sql("events", EVENT_COLS, &filters);
        let mut binds = vec![Val::Int(i64::MAX)];
        binds.extend(filters.into_iter().map(|(_, v)| v));
        binds.push(Val::Int(51));
        assert_indexed(
            &format!("list_events {f:?}"),
            &plan(pool, &sql, binds).await,
        );
    }
    let job_cases = [
        JobFilter::default(),
        JobFilter::default().with_status(JobStatus::Queued),
        JobFilter::default().with_kind("triage"),
    ];
    for f in job_cases {
        let filters = job_filters(&f);
        let sql = list_sql("jobs", JOB_COLS, &filters);
        let mut binds = vec![Val::Int(i64::MAX)];
        binds.extend(filters.into_iter().map(|(_, v)| v));
        binds.push(Val::Int(51));
        assert_indexed(&format!("list_jobs {f:?}"), &plan(pool, &sql, binds).await);
    }
    let dup = plan(
        pool,
        "SELECT id FROM events WHERE hook_key = $1 AND delivery_id = $2",
        vec![Val::Int(1), Val::Text("d-77".into())],
    )
    .await;
    assert_indexed("the duplicate lookup", &dup);

    // The claim really works on this data: due queued jobs and expired leases.
    let got = store
        .claim_jobs(&ClaimRequest::new("w2", 50, Duration::from_secs(60), now))
        .await
        .unwrap();
    assert_eq!(got.len(), 50);
    drop_schema(&store).await;
}

#[tokio::test]
async fn a_schema_from_a_newer_kova_is_refused() {
    let Some(url) = url() else { return };
    let schema = schema();
    let store = PostgresStore::connect(&url, PgOptions::default().with_schema(&schema))
        .await
        .unwrap();
    sqlx::query("INSERT INTO schema_version (version) VALUES (999)")
        .execute(store.pool())
        .await
        .unwrap();
    match PostgresStore::connect(&url, PgOptions::default().with_schema(&schema)).await {
        Err(Error::Config(m)) => {
            assert!(
                m.contains("schema version 999") && m.contains("upgrade Kova"),
                "{m}"
            )
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    drop_schema(&store).await;
}

#[tokio::test]
async fn passwords_never_appear_in_errors_or_debug() {
    // Port 1 on loopback refuses at once; no server is needed.
    let url = "postgres://kova:hunter2-secret@127.0.0.1:1/db";
    let err = PostgresStore::connect(
        url,
        PgOptions::default().with_acquire_timeout(Duration::from_secs(2)),
    )
    .await
    .expect_err("nothing listens on port 1");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "password leaked: {shown}");
    assert!(shown.contains("127.0.0.1"), "names the server: {shown}");
    let bad = PostgresStore::connect(
        "postgres://kova:hunter2@127.0.0.1:notaport/db",
        PgOptions::default(),
    )
    .await
    .expect_err("bad port");
    assert!(matches!(bad, Error::Config(_)));
    assert!(!format!("{bad} {bad:?}").contains("hunter2"));
    assert!(validate_schema("Robert'); DROP TABLE jobs;--").is_err());

    let Some(url) = url_quiet() else { return };
    let schema = schema();
    let store = PostgresStore::connect(&url, PgOptions::default().with_schema(&schema))
        .await
        .unwrap();
    assert!(format!("{store:?}").contains("PostgresStore"));
    drop_schema(&store).await;
}

#[test]
fn the_schema_parameter_is_taken_out_of_the_url() {
    let cases = [
        ("postgres://u@h/db", "postgres://u@h/db", None),
        (
            "postgres://u@h/db?schema=kova",
            "postgres://u@h/db",
            Some("kova"),
        ),
        (
            "postgres://u@h/db?sslmode=disable&schema=kova&application_name=x",
            "postgres://u@h/db?sslmode=disable&application_name=x",
            Some("kova"),
        ),
        (
            "postgres://u@h/db?schema=a&schema=b",
            "postgres://u@h/db",
            Some("b"),
        ),
        (
            "postgres://u@h/db?schemas=x",
            "postgres://u@h/db?schemas=x",
            None,
        ),
    ];
    for (url, rest, schema) in cases {
        assert_eq!(
            take_schema_param(url),
            (rest.to_string(), schema.map(str::to_string)),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_url_can_name_the_schema() {
    // Checked before connecting: no server is needed.
    for (url, options, expected) in [
        (
            "postgres://u:hunter2@127.0.0.1:1/db?schema=Bad-Name",
            PgOptions::default(),
            "got 'Bad-Name'",
        ),
        (
            "postgres://u:hunter2@127.0.0.1:1/db?schema=one",
            PgOptions::default().with_schema("two"),
            "names schema 'one' but the options name 'two'",
        ),
    ] {
        match PostgresStore::connect(url, options).await {
            Err(Error::Config(m)) => {
                assert!(m.contains(expected), "{m}");
                assert!(!m.contains("hunter2"), "password leaked: {m}");
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    let Some(url) = url() else { return };
    let schema = schema();
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = crate::open(&format!("{url}{sep}schema={schema}"))
        .await
        .unwrap();
    store
        .upsert_repository(&Repository::new(
            RepoRef::new("o", "r").unwrap(),
            RepoKind::Service,
            chrono::Utc::now(),
        ))
        .await
        .unwrap();
    // The tables, and the row, are in the named schema, not in the connection's default.
    let direct = PostgresStore::connect(&url, PgOptions::default().with_schema(&schema))
        .await
        .unwrap();
    let (tables, repos): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = $1),
                (SELECT count(*) FROM repositories)",
    )
    .bind(&schema)
    .fetch_one(direct.pool())
    .await
    .unwrap();
    assert!(tables >= 9, "{tables} tables in {schema}"); // 8 of Kova's and schema_version
    assert_eq!(repos, 1);
    drop_schema(&direct).await;
}

#[tokio::test]
async fn the_job_queue_is_vacuumed_after_a_fixed_number_of_changes() {
    let Some(store) = fresh().await else { return };
    let options: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(reloptions) FROM pg_class
         WHERE relname = 'jobs' AND relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for want in [
        "autovacuum_vacuum_scale_factor=0",
        "autovacuum_vacuum_threshold=10000",
    ] {
        assert!(options.iter().any(|o| o == want), "{want} in {options:?}");
    }
    drop_schema(&store).await;
}

#[tokio::test]
async fn a_transaction_left_idle_is_ended_by_the_server_and_the_store_goes_on() {
    let Some(url) = url() else { return };
    let store = PostgresStore::connect(
        &url,
        PgOptions::default()
            .with_schema(schema())
            .with_idle_in_transaction_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    let setting: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(setting, "300ms");
    // A client stuck after BEGIN, as a hung TLS write once left the store bench's preload.
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = sqlx::query("SELECT 1").execute(&mut *tx).await;
    assert!(
        after.is_err(),
        "the server should have ended the idle transaction"
    );
    drop(tx);
    // The pool replaces the ended connection; the store keeps working.
    let delivery = delivery("idle-1");
    let out = store.record_delivery(&delivery, None).await.unwrap();
    assert!(matches!(out, DeliveryOutcome::Inserted { .. }));
    drop_schema(&store).await;
}

fn url_quiet() -> Option<String> {
    std::env::var("KOVA_TEST_POSTGRES_URL").ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_racing_across_processes_are_recorded_once() {
    let Some(url) = url() else { return };
    let schema = schema();
    // Two pools are two processes as far as PostgreSQL can tell.
    let opts = PgOptions::default().with_schema(&schema);
    let a = PostgresStore::connect(&url, opts.clone()).await.unwrap();
    let b = PostgresStore::connect(&url, opts).await.unwrap();
    let deliveries: Vec<WebhookDelivery> = (0..300)
        .map(|i| {
            let mut d = WebhookDelivery::new(
                format!("race-{i}"),
                "push",
                bytes::Bytes::from_static(b"{}"),
                chrono::Utc::now(),
            );
            d.hook_id = Some(9);
            d
        })
        .collect();
    let job = NewJob::new("k");
    let (ra, rb) = futures::join!(
        join_all(deliveries.iter().map(|d| a.record_delivery(d, Some(&job)))),
        join_all(
            deliveries
                .iter()
                .rev()
                .map(|d| b.record_delivery(d, Some(&job)))
        ),
    );
    let rb: Vec<_> = rb.into_iter().rev().collect();
    for (i, (x, y)) in ra.into_iter().zip(rb).enumerate() {
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.event_id(), y.event_id(), "delivery {i}: one event");
        assert!(
            x.is_duplicate() != y.is_duplicate(),
            "delivery {i}: exactly one insert: {x:?} {y:?}"
        );
    }
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(jobs, 300, "one job per delivery");
    drop_schema(&a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_jobs_racing_across_processes_take_turns_on_their_keys() {
    let Some(url) = url() else { return };
    let schema = schema();
    let opts = PgOptions::default().with_schema(&schema);
    let a = PostgresStore::connect(&url, opts.clone()).await.unwrap();
    let b = PostgresStore::connect(&url, opts).await.unwrap();
    let direct = PgPool::connect(&url).await.unwrap();
    // A few rounds, each on its own keys: a missing lock shows in most rounds, not all.
    for round in 0..3 {
        let deliveries: Vec<WebhookDelivery> = (0..64)
            .map(|i| delivery(&format!("keyed-{round}-{i}")))
            .collect();
        // Even deliveries share a dedupe key: one job, the rest deduplicated onto it. Odd ones
        // share a coalescing key: each new job supersedes the queued one, so one stays queued.
        let dedupe = NewJob::new("review").with_dedupe_key(format!("octo/app#1@{round}"));
        let coalesce_key = format!("octo/app#2-{round}");
        let coalesce = NewJob::new("review").with_coalesce_key(&coalesce_key);
        let job_of = |i: usize| if i % 2 == 0 { &dedupe } else { &coalesce };
        // The calls must decide at the same moment, not one by one as the pools open
        // connections: a direct connection locks the events table, every call's insert queues
        // behind the lock (16 connections a pool), then the lock goes and they all reach their
        // keys at once.
        let mut lock = direct.begin().await.unwrap();
        sqlx::query(&format!("LOCK TABLE \"{schema}\".events IN EXCLUSIVE MODE"))
            .execute(&mut *lock)
            .await
            .unwrap();
        let release = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            lock.commit().await.unwrap();
        };
        let (ra, rb, ()) = futures::join!(
            join_all((0..32).map(|i| a.record_delivery(&deliveries[i], Some(job_of(i))))),
            join_all((32..64).map(|i| b.record_delivery(&deliveries[i], Some(job_of(i))))),
            release,
        );
        let outcomes: Vec<DeliveryOutcome> = ra.into_iter().chain(rb).map(|o| o.unwrap()).collect();

        let created: Vec<JobId> = outcomes
            .iter()
            .step_by(2)
            .filter_map(|o| match o {
                DeliveryOutcome::Inserted {
                    job: Some(EnqueueOutcome::Created(j)),
                    ..
                } => Some(*j),
                _ => None,
            })
            .collect();
        assert_eq!(
            created.len(),
            1,
            "round {round}: one job for the dedupe key: {outcomes:?}"
        );
        for o in outcomes.iter().step_by(2) {
            match o {
                DeliveryOutcome::Inserted {
                    job: Some(EnqueueOutcome::Deduplicated(j)),
                    ..
                } => assert_eq!(*j, created[0]),
                DeliveryOutcome::Inserted {
                    job: Some(EnqueueOutcome::Created(_)),
                    ..
                } => {}
                other => panic!("{other:?}"),
            }
        }
        let (ignored, queued, superseded): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM events WHERE status = 'ignored' AND delivery_id LIKE $1),
                    (SELECT COUNT(*) FROM jobs WHERE coalesce_key = $2 AND status = 'queued'),
                    (SELECT COUNT(*) FROM jobs WHERE coalesce_key = $2 AND status = 'superseded')",
        )
        .bind(format!("keyed-{round}-%"))
        .bind(&coalesce_key)
        .fetch_one(a.pool())
        .await
        .unwrap();
        assert_eq!(
            (queued, superseded),
            (1, 31),
            "round {round}: one coalesced job stays queued"
        );
        assert_eq!(
            ignored,
            31 + 31,
            "round {round}: deduplicated and superseded events are ignored"
        );
    }
    drop_schema(&a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_delivery_does_not_fail_its_batch() {
    let Some(store) = fresh().await else { return };
    // PostgreSQL text cannot hold NUL: this one fails inside the database, after validation.
    let ids: Vec<String> = (0..40)
        .map(|i| {
            if i == 17 {
                "bad\0id".to_string()
            } else {
                format!("ok-{i}")
            }
        })
        .collect();
    let ds: Vec<WebhookDelivery> = ids
        .iter()
        .map(|id| {
            WebhookDelivery::new(
                id.clone(),
                "push",
                bytes::Bytes::from_static(b"{}"),
                chrono::Utc::now(),
            )
        })
        .collect();
    let out = join_all(ds.iter().map(|d| store.record_delivery(d, None))).await;
    for (i, o) in out.iter().enumerate() {
        assert_eq!(o.is_ok(), i != 17, "delivery {i}: {o:?}");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 39);
    drop_schema(&store).await;
}

#[tokio::test]
async fn a_batch_gives_each_new_event_its_own_job_in_event_order() {
    let Some(store) = fresh().await else { return };
    let ds: Vec<WebhookDelivery> = (0..40).map(|i| delivery(&format!("d-{i:02}"))).collect();
    let job = NewJob::new("k");
    let out = join_all(ds.iter().map(|d| store.record_delivery(d, Some(&job)))).await;
    let mut answered = HashMap::new();
    for o in out {
        match o.unwrap() {
            DeliveryOutcome::Inserted {
                event_id,
                job: Some(EnqueueOutcome::Created(job)),
            } => answered.insert(job.0, event_id.0),
            other => panic!("expected a new event with a new job, got {other:?}"),
        };
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT id, event_id FROM jobs ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 40);
    for (job, event) in &rows {
        assert_eq!(
            answered.get(job),
            Some(event),
            "job {job} is its caller's event's"
        );
    }
    assert!(
        rows.windows(2).all(|w| w[0].1 < w[1].1),
        "job ids follow event ids: {rows:?}"
    );
    drop_schema(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_completions_answer_each_caller_like_single_ones() {
    let Some(store) = fresh().await else { return };
    let now = chrono::Utc::now();
    for i in 0..120 {
        let d = WebhookDelivery::new(
            format!("c-{i}"),
            "push",
            bytes::Bytes::from_static(b"{}"),
            now,
        );
        store
            .record_delivery(&d, Some(&NewJob::new("k")))
            .await
            .unwrap();
    }
    let claimed = store
        .claim_jobs(&ClaimRequest::new(
            "w1",
            100,
            std::time::Duration::from_secs(60),
            now,
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 100);
    let held: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
    // All at once: 100 held jobs, one of them twice, 5 by the wrong worker, 1 missing.
    let mut calls: Vec<(JobId, &str)> = held.iter().map(|&id| (id, "w1")).collect();
    calls.push((held[3], "w1"));
    calls.extend(held[10..15].iter().map(|&id| (id, "intruder")));
    calls.push((JobId(9_999_999), "w1"));
    let out = join_all(
        calls
            .iter()
            .map(|&(id, w)| store.complete_job(id, w, chrono::Utc::now())),
    )
    .await;
    // The two completions of one job race: whichever commits first wins, the other is told
    // the job is no longer held.
    let done: std::collections::HashSet<i64> = calls
        .iter()
        .zip(&out)
        .filter(|(_, r)| r.is_ok())
        .map(|((id, w), _)| {
            assert_eq!(*w, "w1", "only the holder completes");
            id.0
        })
        .collect();
    let ok = out.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        (ok, done.len()),
        (100, 100),
        "each held job completed once: {out:?}"
    );
    assert!(
        out[3].is_ok() != out[100].is_ok(),
        "one of the two completions of a job wins"
    );
    for r in &out[101..106] {
        let e = r.as_ref().expect_err("held by another worker");
        assert!(!matches!(e, Error::NotFound { .. }), "{e:?}");
    }
    assert!(
        matches!(out[106], Err(Error::NotFound { .. })),
        "{:?}",
        out[106]
    );
    let summary = store.jobs_summary().await.unwrap();
    assert_eq!((summary.done, summary.queued), (100, 20));
    let processed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE status = 'processed'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(processed, 100, "each completed job's event is processed");
    drop_schema(&store).await;
}

#[tokio::test]
async fn bodies_are_compressed_by_kova_and_rows_from_before_read_back() {
    let Some(url) = url() else { return };
    let schema = schema();
    // A schema as version 3 left it: bodies stored as received, no codec column.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let old_body = r#"{"zen":"Half measures are as bad as nothing at all.","pad":"#.to_string()
        + &"\"x\"".repeat(3000)
        + "}";
    let setup = format!(
        "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";
         CREATE TABLE schema_version (version BIGINT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
         {}\n{}\n{}\n
         INSERT INTO schema_version (version) VALUES (1), (2), (3);",
        include_str!("../../migrations/postgres/0001_init.sql"),
        include_str!("../../migrations/postgres/0002_body_lz4.sql"),
        include_str!("../../migrations/postgres/0003_jobs_autovacuum.sql"),
    );
    sqlx::raw_sql(&setup).execute(&mut conn).await.unwrap();
    sqlx::query(
        "INSERT INTO events (hook_key, delivery_id, event, body, received_at, status)
         VALUES (0, 'old-1', 'ping', $1, now(), 'received')",
    )
    .bind(old_body.as_bytes())
    .execute(&mut conn)
    .await
    .unwrap();
    let store = PostgresStore::connect(&url, PgOptions::default().with_schema(&schema))
        .await
        .unwrap();

    // New bodies through each write path: a batch, a keyed job's own transaction, a bulk load;
    // and one too small to be worth compressing.
    let large = |tag: &str| {
        bytes::Bytes::from(
            format!(r#"{{"url":"https://api.github.com/repos/o/{tag}"}}"#).repeat(300),
        )
    };
    let with_body = |id: &str, body: bytes::Bytes| WebhookDelivery {
        body,
        ..delivery(id)
    };
    let batched = with_body("batched", large("a"));
    let keyed = with_body("keyed", large("b"));
    let bulk = with_body("bulk", large("c"));
    let small = with_body(
        "small",
        bytes::Bytes::from_static(br#"{"zen":"Keep it simple"}"#),
    );
    store.record_delivery(&batched, None).await.unwrap();
    let job = NewJob::new("k").with_dedupe_key("keyed-body");
    store.record_delivery(&keyed, Some(&job)).await.unwrap();
    store
        .record_deliveries(vec![(bulk.clone(), None), (small.clone(), None)])
        .await
        .unwrap();

    let events = store
        .list_events(&EventFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 5);
    for e in &events.items {
        let want: &[u8] = match e.delivery.delivery_id.as_str() {
            "old-1" => old_body.as_bytes(),
            "batched" => &batched.body,
            "keyed" => &keyed.body,
            "bulk" => &bulk.body,
            "small" => &small.body,
            other => panic!("unexpected event {other}"),
        };
        assert!(
            e.delivery.body == want,
            "{} reads back byte for byte",
            e.delivery.delivery_id
        );
        let one = store.get_event(e.id).await.unwrap().unwrap();
        assert!(
            one.delivery.body == want,
            "{} by id",
            e.delivery.delivery_id
        );
    }

    let stored: Vec<(String, i16, i32)> = sqlx::query_as(
        "SELECT delivery_id, body_codec, octet_length(body) FROM events ORDER BY delivery_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for (id, codec, len) in &stored {
        match id.as_str() {
            "old-1" | "small" => assert_eq!(*codec, 0, "{id} is stored as received"),
            _ => {
                assert_eq!(*codec, 1, "{id} is stored LZ4-compressed");
                assert!(
                    *len * 5 < large("a").len() as i32,
                    "{id}: {len} bytes stored"
                );
            }
        }
    }
    // PostgreSQL does not compress again what Kova sent (storage EXTERNAL).
    let storage: String = sqlx::query_scalar(
        "SELECT attstorage::text FROM pg_attribute
         WHERE attrelid = 'events'::regclass AND attname = 'body'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(storage, "e");
    drop_schema(&store).await;
}

#[tokio::test]
async fn claims_walk_the_queue_index_even_with_stale_statistics() {
    let Some(store) = fresh().await else { return };
    let pool = store.pool();
    // Statistics taken while the queue was empty, then a backlog of 50,000 due jobs.
    sqlx::raw_sql(
        "ANALYZE jobs;
         INSERT INTO jobs (kind, payload, attempts, max_attempts, run_at, status, created_at,
                           updated_at)
         SELECT 'k', 'null', 0, 5, now() - interval '1 minute', 'queued', now(), now()
         FROM generate_series(1, 50000);",
    )
    .execute(pool)
    .await
    .unwrap();
    let mut tx = pool.begin().await.unwrap();
    for (k, v) in jobs::CLAIM_SETTINGS {
        sqlx::raw_sql(&format!("SET LOCAL {k} = {v}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let explain = format!(
        "EXPLAIN {}{JOB_COLS}, picked.pri, picked.due",
        jobs::CLAIM_SQL
    );
    let now = chrono::Utc::now();
    let plan = sqlx::query_scalar::<_, String>(&explain)
        .bind(now)
        .bind(now + chrono::Duration::seconds(60))
        .bind("w")
        .bind(50i64)
        .persistent(false)
        .fetch_all(&mut *tx)
        .await
        .unwrap()
        .join("\n");
    tx.rollback().await.unwrap();
    assert!(
        plan.contains("Index Scan using jobs_queued") && !plan.contains("Bitmap"),
        "the claim walks jobs_queued in order and stops at the limit:\n{plan}"
    );
    let claimed = store
        .claim_jobs(&ClaimRequest::new(
            "w",
            50,
            std::time::Duration::from_secs(60),
            now,
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 50);
    drop_schema(&store).await;
}

/// `host:port` of a test database URL, when it names a port.
fn host_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hp = rest.split(['/', '?']).next()?;
    hp.contains(':').then(|| hp.to_string())
}

/// A TCP proxy on 127.0.0.1 in front of the test server. Frozen, it passes no bytes either
/// way but keeps every connection open, as a half-open network looks to the client: no reset
/// ever arrives. Held bytes go on when it thaws.
struct FreezingProxy {
    addr: std::net::SocketAddr,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl FreezingProxy {
    async fn start(upstream: String) -> FreezingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (frozen, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, watch.clone()));
                tokio::spawn(pump(server_read, client_write, watch.clone()));
            }
        });
        FreezingProxy { addr, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

/// Copies bytes from one side to the other, holding them while the proxy is frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn calls_on_a_half_open_connection_fail_in_time_and_the_store_recovers() {
    let Some(url) = url() else { return };
    let Some(upstream) = host_port(&url) else {
        eprintln!("notice: skipping the half-open test: KOVA_TEST_POSTGRES_URL names no port");
        return;
    };
    let proxy = FreezingProxy::start(upstream.clone()).await;
    let proxied = url.replacen(&upstream, &proxy.addr.to_string(), 1);
    let schema = schema();
    let store = PostgresStore::connect(
        &proxied,
        PgOptions::default()
            .with_schema(&schema)
            .with_operation_timeout(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    store
        .record_delivery(&delivery("warm"), None)
        .await
        .unwrap();

    // The network must fail mid-call, after the statements went out: a connection that dies
    // while idle is already caught by the pool's check before use (and its acquire timeout).
    // So a direct connection locks the events table, the calls' statements queue behind the
    // lock, the proxy freezes, the lock goes: the server answers into the frozen proxy.
    let direct = PgPool::connect(&url).await.unwrap();
    let mut lock = direct.begin().await.unwrap();
    sqlx::query(&format!(
        "LOCK TABLE \"{schema}\".events IN ACCESS EXCLUSIVE MODE"
    ))
    .execute(&mut *lock)
    .await
    .unwrap();
    // More batched deliveries than batches may be in flight, and a plain read.
    let frozen: Vec<_> = (0..12).map(|i| delivery(&format!("frozen-{i}"))).collect();
    let started = std::time::Instant::now();
    let calls = futures::future::join(
        join_all(frozen.iter().map(|d| store.record_delivery(d, None))),
        store.get_event(EventId(1)),
    );
    let release = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.freeze(true);
        lock.commit().await.unwrap();
    };
    let ((calls, read), ()) = tokio::time::timeout(
        Duration::from_secs(10),
        futures::future::join(calls, release),
    )
    .await
    .expect("calls on a connection that stopped answering must fail in time, not hang");
    let waited = started.elapsed();
    let mut errors: Vec<Error> = calls
        .into_iter()
        .map(|c| c.expect_err("no delivery can commit through a frozen connection"))
        .collect();
    errors.push(read.expect_err("no read can answer through a frozen connection"));
    for e in errors {
        assert!(e.is_retryable(), "{e}");
        assert!(e.to_string().contains("no answer within 1s"), "{e}");
    }
    assert!(
        waited < Duration::from_secs(8),
        "the calls failed after {waited:?}, not within their limit"
    );

    proxy.freeze(false);
    // The timed-out groups gave their slots back and the pool recovers; a delivery whose call
    // timed out either stands or not, never twice.
    for d in &frozen {
        let out = store.record_delivery(d, None).await.unwrap();
        assert!(
            matches!(
                out,
                DeliveryOutcome::Inserted { .. } | DeliveryOutcome::Duplicate { .. }
            ),
            "{out:?}"
        );
    }
    let page = store
        .list_events(&EventFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        13,
        "warm and the twelve, all recorded (the unique key keeps each once)"
    );
    drop_schema(&store).await;
}
