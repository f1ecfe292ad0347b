//! Events by type and by repository: lookup tables filled in batches, plus the newest rows.
//!
//! Ordinary indexes on `(event, id)` and `(repo, id)` cost every delivery a page write each:
//! a new entry lands on the leaf page of its event type or repository, and the few deliveries
//! of a group commit rarely share one, so each commit rewrote about a dozen scattered index
//! pages into the WAL (the checkpoint then copied them again). That was 40% of the WAL bytes per
//! delivery. Instead the writer copies `(event, id)` and `(repo, id)` into two lookup tables
//! every [`BATCH`] events, sorted, in the transaction of the delivery whose id ends the batch:
//! a few pages per type or repository for hundreds of events. A mark row says up to which id
//! the lookups are complete; a filtered list reads the newer events (at most about one batch)
//! straight from the table, then continues in the lookup.
//!
//! Webhook ingest (wrk, 64 connections), CPU per delivery, three runs alternating with the
//! build that had the indexes, same hour: writer 26.9–29.5 µs instead of 32.3–36.1,
//! checkpointer 12.5–13.8 µs instead of 16.1–18.3; 13.6–14.9k deliveries/s instead of
//! 12.0–13.2k.
//!
//! Correct without a read transaction: events are never deleted and their type and repository
//! never change, so a lookup entry at or below a mark read earlier is there in any later
//! snapshot, and an event newer than that mark is found by the table scan.

use super::error::SqlResultExt;
use super::rows::{self, EVENT_COLS};
use super::sql::{collect, opt_row, text};
use kova_core::{EventFilter, ListOptions, Page, Result, WebhookEvent};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

/// Events that may wait outside the lookups before the writer files them. A larger batch
/// shares more lookup pages between events; a filtered list scans up to this many rows.
pub(super) const BATCH: i64 = 512;

/// The lookup a filtered list walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Type,
    Repo,
}

impl Lookup {
    /// The lookup table's name and key column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Lookup::Type => ("events_by_type", "event_type"),
            Lookup::Repo => ("events_by_repo", "repo_name"),
        }
    }

    /// The events column the lookup's key copies.
    fn column(self) -> &'static str {
        match self {
            Lookup::Type => "event",
            Lookup::Repo => "repo",
        }
    }
}

/// The id up to which both lookup tables are complete.
fn indexed_to(conn: &Connection) -> Result<i64> {
    Ok(
        opt_row(conn, "SELECT indexed_to FROM event_lookup_mark", [], |r| {
            r.get(0).db()
        })?
        .unwrap_or(0),
    )
}

/// Files the events up to `newest` (the id just inserted) in the lookups when `newest` ends a
/// batch. Runs on the writer, inside the inserting delivery's transaction: if that rolls back,
/// so does this.
///
/// Event ids are dense: SQLite gives a new row the largest id plus one, events are never
/// deleted, and the id of an insert that rolled back goes to the next insert. So every multiple
/// of [`BATCH`] becomes the id of exactly one committed event, and its transaction files
/// everything since the mark; the other deliveries need not read the mark (it was 2.4% of the
/// writer's time in a profile when every delivery read it).
pub(super) fn file_new_events(conn: &Connection, newest: i64) -> Result<()> {
    if newest % BATCH != 0 {
        return Ok(());
    }
    let from = indexed_to(conn)?;
    // OR IGNORE: a range filed twice (it cannot be, with the mark in the same transaction)
    // must not make every later delivery fail.
    for sql in [
        "INSERT OR IGNORE INTO events_by_type (event_type, event_id)
         SELECT event, id FROM events WHERE id > ?1 AND id <= ?2 ORDER BY event, id",
        "INSERT OR IGNORE INTO events_by_repo (repo_name, event_id)
         SELECT repo, id FROM events WHERE id > ?1 AND id <= ?2 AND repo IS NOT NULL
         ORDER BY repo, id",
    ] {
        conn.prepare_cached(sql)
            .db()?
            .execute(params![from, newest])
            .db()?;
    }
    conn.prepare_cached("UPDATE event_lookup_mark SET indexed_to = ?1")
        .db()?
        .execute([newest])
        .db()?;
    Ok(())
}

/// A newest-first page of events filtered by repository or type (and maybe status), or `None`
/// when the filter names neither (the caller pages the table and its status index then).
pub(super) fn list_events(
    conn: &Connection,
    filter: &EventFilter,
    opts: &ListOptions,
) -> Result<Option<Page<WebhookEvent>>> {
    // A repository is usually the narrower of the two.
    let (lookup, key) = match (&filter.repo, &filter.event) {
        (Some(r), _) => (Lookup::Repo, text(r.full_name())),
        (None, Some(e)) => (Lookup::Type, text(e.as_str())),
        (None, None) => return Ok(None),
    };
    // The equalities besides the lookup's key, checked on the event rows.
    let mut rest: Vec<(&str, Value)> = Vec::new();
    if let (Lookup::Repo, Some(e)) = (lookup, &filter.event) {
        rest.push(("event", text(e.as_str())));
    }
    if let Some(s) = filter.status {
        rest.push(("status", text(s.as_str())));
    }
    let limit = opts.effective_limit();
    let below = opts.id_cursor()?.unwrap_or(i64::MAX);
    let mark = indexed_to(conn)?;
    let want = limit as i64 + 1;

    // Both queries take the key, the cursor, the mark, the other equalities, then a limit.
    let args = |n: i64| {
        let mut v = vec![key.clone(), Value::Integer(below), Value::Integer(mark)];
        v.extend(rest.iter().map(|(_, x)| x.clone()));
        v.push(Value::Integer(n));
        params_from_iter(v)
    };
    // The events not filed yet: newer than every filed one, so they come first.
    let mut items = collect(conn, &newest_sql(lookup, &rest), args(want), rows::event)?;
    let more = want - items.len() as i64;
    if more > 0 {
        items.extend(collect(
            conn,
            &filed_sql(lookup, &rest),
            args(more),
            rows::event,
        )?);
    }
    Ok(Some(Page::from_overfetch(items, limit, |e| {
        Page::<()>::id_cursor(e.id.0)
    })))
}

/// Events with the lookup's key (`?1`), below the cursor (`?2`) and above the mark (`?3`),
/// matching the other equalities, newest first: a scan of the table's newest rows.
fn newest_sql(lookup: Lookup, rest: &[(&str, Value)]) -> String {
    let mut sql = format!(
        "SELECT {EVENT_COLS} FROM events WHERE {} = ?1 AND id < ?2 AND id > ?3",
        lookup.column()
    );
    for (i, (col, _)) in rest.iter().enumerate() {
        sql.push_str(&format!(" AND {col} = ?{}", i + 4));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", rest.len() + 4));
    sql
}

/// Filed events with the lookup's key (`?1`), below the cursor (`?2`) and at or below the mark
/// (`?3`), matching the other equalities, newest first: a walk down the lookup's key joined
/// to the events by id.
fn filed_sql(lookup: Lookup, rest: &[(&str, Value)]) -> String {
    let (table, key) = lookup.table();
    // CROSS JOIN keeps the lookup as the outer loop: its order is the page's order.
    let mut sql = format!(
        "SELECT {EVENT_COLS} FROM {table} CROSS JOIN events ON events.id = {table}.event_id
         WHERE {key} = ?1 AND event_id < ?2 AND event_id <= ?3"
    );
    for (i, (col, _)) in rest.iter().enumerate() {
        sql.push_str(&format!(" AND events.{col} = ?{}", i + 4));
    }
    sql.push_str(&format!(
        " ORDER BY event_id DESC LIMIT ?{}",
        rest.len() + 4
    ));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str, n: usize) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let args = vec![Value::Integer(1); n];
        let rows: Vec<String> = stmt
            .query_map(params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        rows.join("; ")
    }

    #[test]
    fn the_batch_is_filed_even_when_the_insert_that_held_its_last_id_rolled_back() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut c, "test").unwrap();
        let insert = |c: &Connection, i: i64| {
            c.execute(
                "INSERT INTO events (hook_key, delivery_id, event, repo, body, received_at, status)
                 VALUES (0, ?1, 'push', 'o/r', x'', 0, 'ignored')",
                [format!("d-{i}")],
            )
            .unwrap();
            c.last_insert_rowid()
        };
        for i in 1..BATCH {
            assert_eq!(insert(&c, i), i);
            file_new_events(&c, i).unwrap();
        }
        assert_eq!(
            indexed_to(&c).unwrap(),
            0,
            "nothing filed before the batch ends"
        );
        // The insert that took the batch's last id rolls back; the next one gets that id.
        c.execute_batch("SAVEPOINT s").unwrap();
        assert_eq!(insert(&c, BATCH), BATCH);
        c.execute_batch("ROLLBACK TO s; RELEASE s").unwrap();
        let id = insert(&c, BATCH + 1);
        assert_eq!(id, BATCH);
        file_new_events(&c, id).unwrap();
        let filed: (i64, i64) = c
            .query_row(
                "SELECT (SELECT COUNT(*) FROM events_by_type), (SELECT COUNT(*) FROM events_by_repo)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((indexed_to(&c).unwrap(), filed), (BATCH, (BATCH, BATCH)));
    }

    #[test]
    fn filtered_lists_walk_the_lookup_key_and_the_rowid_range_without_sorting() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut c, "test").unwrap();
        let status = [("status", text("queued"))];
        let event = [("event", text("push"))];
        for (lookup, rest, index) in [
            (Lookup::Type, &[][..], "events_by_type"),
            (Lookup::Repo, &event[..], "events_by_repo"),
            (Lookup::Repo, &status[..], "events_by_repo"),
        ] {
            let p = plan(&c, &filed_sql(lookup, rest), rest.len() + 4);
            assert!(
                p.contains(&format!("SEARCH {index} USING PRIMARY KEY")),
                "{p}"
            );
            assert!(p.contains("SEARCH events USING INTEGER PRIMARY KEY"), "{p}");
            assert!(!p.contains("TEMP B-TREE"), "no sort: {p}");
        }
        let p = plan(&c, &newest_sql(Lookup::Repo, &event), 5);
        assert!(
            p.contains("USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
            "{p}"
        );
        assert!(!p.contains("TEMP B-TREE"), "no sort: {p}");
    }
}
