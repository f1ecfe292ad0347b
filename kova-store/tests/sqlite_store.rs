//! SQLite beyond the conformance suite: durability across reopen, refusing newer schemas,
//! damaged files, URLs, filtered event lists across the lookup tables' batches.
#![cfg(feature = "sqlite")]

use kova_core::{
    Error, EventFilter, EventId, EventStatus, ListOptions, NewJob, Store, WebhookDelivery,
};
use kova_store::{SqliteOptions, SqliteStore, Synchronous};

fn delivery(id: &str) -> WebhookDelivery {
    WebhookDelivery::new(
        id,
        "ping",
        bytes::Bytes::from_static(b"{}"),
        chrono::Utc::now(),
    )
}

#[tokio::test]
async fn data_survives_reopen_with_either_synchronous_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kova.db");
    for (i, sync) in [Synchronous::Normal, Synchronous::Full]
        .into_iter()
        .enumerate()
    {
        let store = SqliteStore::open(&path, SqliteOptions::default().with_synchronous(sync))
            .await
            .unwrap();
        store
            .record_delivery(&delivery(&format!("d{i}")), Some(&NewJob::new("k")))
            .await
            .unwrap();
        drop(store);
    }
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let events = store
        .list_events(&EventFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 2);
    assert!(store
        .record_delivery(&delivery("d0"), None)
        .await
        .unwrap()
        .is_duplicate());
    assert!(store.capabilities().durable);
}

#[tokio::test]
async fn a_database_from_a_newer_kova_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kova.db");
    drop(
        SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap(),
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (999, 0)",
        [],
    )
    .unwrap();
    drop(conn);
    match SqliteStore::open(&path, SqliteOptions::default()).await {
        Err(Error::Config(m)) => {
            assert!(m.contains("schema version 999"), "{m}");
            assert!(m.contains("upgrade Kova"), "{m}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_damaged_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kova.db");
    // Random-looking bytes, more than a SQLite header's worth.
    let junk: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, junk).unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect_err("junk is not a database");
    let msg = err.to_string();
    assert!(msg.contains("kova.db"), "names the file: {msg}");
    assert!(
        msg.contains("damaged or not a SQLite database"),
        "says what is wrong: {msg}"
    );
}

#[tokio::test]
async fn open_accepts_every_sqlite_url_form() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    let s = kova_store::open(&format!("sqlite://{}", a.display()))
        .await
        .unwrap();
    assert_eq!(s.backend(), "sqlite");
    assert!(s.capabilities().durable);
    let s = kova_store::open(&format!("sqlite:{}?synchronous=full", b.display()))
        .await
        .unwrap();
    s.health().await.unwrap();
    assert!(b.exists());
    let m = kova_store::open("sqlite::memory:").await.unwrap();
    assert!(!m.capabilities().durable);
    for bad in [
        "sqlite://",
        "sqlite:x.db?synchronous=sometimes",
        "sqlite:x.db?mode=rw",
    ] {
        assert!(
            matches!(kova_store::open(bad).await, Err(Error::Config(_))),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn debug_shows_the_file_and_options() {
    let store = SqliteStore::open_in_memory(SqliteOptions::default())
        .await
        .unwrap();
    let s = format!("{store:?}");
    assert!(s.contains("SqliteStore") && s.contains(":memory:"), "{s}");
}

#[tokio::test]
async fn a_version_1_database_is_upgraded_and_its_bodies_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kova.db");
    // A database as schema version 1 wrote it: bodies stored as received, no codec column.
    let old_body = r#"{"zen":"Half measures are as bad as nothing at all.","pad":"#.to_string()
        + &"\"x\"".repeat(300)
        + "}";
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/sqlite/0001_init.sql"))
            .unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1, 0);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO events (hook_key, delivery_id, event, body, received_at, status)
             VALUES (0, 'old-1', 'ping', ?1, 0, 'received')",
            [old_body.as_bytes()],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    // A new, large body is stored compressed; both read back byte for byte.
    let new_body = bytes::Bytes::from(r#"{"url":"https://api.github.com/repos/o/r"}"#.repeat(100));
    let mut d = delivery("new-1");
    d.body = new_body.clone();
    store.record_delivery(&d, None).await.unwrap();
    let events = store
        .list_events(&EventFilter::default(), &ListOptions::default())
        .await
        .unwrap();
    let body_of = |id: &str| {
        events
            .items
            .iter()
            .find(|e| e.delivery.delivery_id == id)
            .map(|e| e.delivery.body.clone())
            .unwrap()
    };
    assert_eq!(body_of("old-1"), old_body.as_bytes());
    assert_eq!(body_of("new-1"), new_body);
    // The old event was filed in the type lookup by the upgrade, the new one not yet: a
    // filtered list finds both.
    let pings = store
        .list_events(
            &EventFilter::default().with_event("ping"),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    let ids: Vec<&str> = pings
        .items
        .iter()
        .map(|e| e.delivery.delivery_id.as_str())
        .collect();
    assert_eq!(ids, ["new-1", "old-1"]);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (stored, codec): (usize, i64) = conn
        .query_row(
            "SELECT length(body), body_codec FROM events WHERE delivery_id = 'new-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(codec, 1);
    assert!(stored * 4 < new_body.len(), "{stored} bytes stored");
    let filed: (i64, i64) = conn
        .query_row(
            "SELECT (SELECT indexed_to FROM event_lookup_mark), (SELECT COUNT(*) FROM events_by_type)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(filed, (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_moves_everything_into_the_file_and_empties_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kova.db");
    let wal = dir.path().join("kova.db-wal");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let items = (0..500)
        .map(|i| (delivery(&format!("c{i}")), Some(NewJob::new("k"))))
        .collect();
    store.record_deliveries(items).await.unwrap();
    store.checkpoint().await.unwrap();
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    // Everything is in the database file alone: a copy of it is a complete backup.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let backup = SqliteStore::open(&copy, SqliteOptions::default())
        .await
        .unwrap();
    let opts = ListOptions::default().with_limit(1000);
    let events = backup
        .list_events(&EventFilter::default(), &opts)
        .await
        .unwrap();
    assert_eq!(events.items.len(), 500);
    // In memory there is nothing to move.
    let mem = SqliteStore::open_in_memory(SqliteOptions::default())
        .await
        .unwrap();
    mem.checkpoint().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_lists_span_filed_and_newest_events_across_batches() {
    // Events by type and repository are filed in lookup tables in batches of 512; the newest
    // are read from the table itself. 1,300 events leave two batches filed and 276 not, and
    // every page must come out the same as a filter over all events would give.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("kova.db"), SqliteOptions::default())
        .await
        .unwrap();
    let types = ["push", "issues", "pull_request"];
    let repos: [Option<kova_core::RepoRef>; 4] = [
        Some("octo/a".parse().unwrap()),
        Some("octo/b".parse().unwrap()),
        None,
        Some("octo/c".parse().unwrap()),
    ];
    let mut all = Vec::new();
    for i in 0..1300usize {
        let mut d = delivery(&format!("d-{i}"));
        d.event = types[i % 3].into();
        d.repo = repos[i % 4].clone();
        let out = store.record_delivery(&d, None).await.unwrap();
        let status = if i % 5 == 0 {
            store
                .set_event_status(out.event_id(), EventStatus::Failed)
                .await
                .unwrap();
            EventStatus::Failed
        } else {
            EventStatus::Ignored
        };
        all.push((out.event_id(), d.event, d.repo, status));
    }
    // Ids 1..=1024 are filed (two batches), in both lookups (a quarter have no repository).
    let conn = rusqlite::Connection::open(dir.path().join("kova.db")).unwrap();
    let filed: (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT indexed_to FROM event_lookup_mark),
                    (SELECT COUNT(*) FROM events_by_type), (SELECT COUNT(*) FROM events_by_repo)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(filed, (1024, 1024, 768));
    let a: kova_core::RepoRef = "octo/a".parse().unwrap();
    let filters = [
        EventFilter::default().with_event("push"),
        EventFilter::default().with_repo(a.clone()),
        EventFilter::default()
            .with_repo(a.clone())
            .with_event("issues"),
        EventFilter::default()
            .with_event("pull_request")
            .with_status(EventStatus::Failed),
        EventFilter::default()
            .with_repo(a.clone())
            .with_status(EventStatus::Failed),
        EventFilter::default().with_event("deployment"),
    ];
    for filter in filters {
        let mut expected: Vec<EventId> = all
            .iter()
            .filter(|(_, event, repo, status)| {
                filter.event.as_ref().is_none_or(|e| e == event)
                    && filter
                        .repo
                        .as_ref()
                        .is_none_or(|r| Some(r) == repo.as_ref())
                    && filter.status.is_none_or(|s| s == *status)
            })
            .map(|(id, ..)| *id)
            .collect();
        expected.reverse();
        for limit in [7, 100] {
            let mut got = Vec::new();
            let mut opts = ListOptions::default().with_limit(limit);
            loop {
                let page = store.list_events(&filter, &opts).await.unwrap();
                assert!(page.items.len() <= limit);
                got.extend(page.items.iter().map(|e| e.id));
                match page.next_cursor {
                    Some(c) => opts = ListOptions::default().with_limit(limit).with_cursor(c),
                    None => break,
                }
            }
            assert_eq!(got, expected, "{filter:?}, pages of {limit}");
        }
    }
}
