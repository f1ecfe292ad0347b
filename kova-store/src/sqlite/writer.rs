//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and a commit's cost (the WAL write, and with
//! `synchronous=FULL` an fsync) barely depends on how much it carries. So every write goes to
//! one thread that owns the write connection: it takes all requests waiting in its queue, runs
//! them in one transaction, commits once, and only then answers each caller. Callers never
//! touch SQLite on an async worker thread: they send a closure and await a oneshot answer.
//!
//! A request that fails must not take the others' writes with it. Wrapping each request in a
//! SAVEPOINT would guarantee that, but SQLite then copies every page a request touches that
//! already existed into the savepoint journal; with the group's requests all appending to the
//! same table and index pages, that is most of what they touch (13% of the writer's time in
//! the store bench). So a group first runs optimistically, without savepoints: a request that
//! fails without having changed a row (SQLite's change counter tells) leaves nothing behind.
//! Only when a request fails after changing rows is the whole group rolled back and run again
//! with one savepoint per request, so that the failure rolls back only itself.

use super::checkpoint::Nudge;
use kova_core::{Error, Result};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// At most this many requests share one transaction, so one group's latency stays bounded.
const MAX_GROUP: usize = 1024;

/// A write waiting for the writer thread.
trait Request: Send {
    /// Runs the request inside the group's transaction; whether it succeeded, i.e. whether its
    /// changes are kept. Runs again when the group is rolled back and re-run: each run replaces
    /// the outcome of the one before.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the group's commit succeeded or failed.
    fn answer(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>);
}

struct Call<T, F> {
    f: F,
    out: Option<Result<T>>,
    tx: oneshot::Sender<Result<T>>,
}

impl<T, F> Request for Call<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let f = &mut self.f;
        // A panicking request must not take the writer (and every later write) down with it.
        let out = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(Error::Internal("a sqlite write panicked".into())));
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn answer(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>) {
        let out = match commit {
            Ok(()) => self
                .out
                .unwrap_or_else(|| Err(Error::Internal("sqlite write was not run".into()))),
            Err(e) => Err(Error::Backend {
                backend: "sqlite",
                message: format!("the transaction did not commit: {e}"),
                transient: true,
                source: None,
            }),
        };
        // The caller may have stopped waiting (its future was dropped); the write stands.
        let _ = self.tx.send(out);
    }
}

/// The handle to the writer thread. Dropping it lets the thread finish the queued writes and
/// stop; the drop waits for that, so the database is closed when the store is gone.
pub(super) struct Writer {
    /// `None` only while dropping.
    tx: Option<mpsc::Sender<Box<dyn Request>>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

/// What the writer did so far: how well group commit works under the current load.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Transactions committed (or attempted).
    pub(super) groups: AtomicU64,
    /// Requests run in them.
    pub(super) requests: AtomicU64,
    /// Groups rolled back and run again with a savepoint per request, because one of their
    /// requests failed after changing rows.
    pub(super) isolated: AtomicU64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer thread on an open, migrated connection; `after_commit` (if any) is
    /// told of every commit.
    pub(super) fn start(conn: Connection, after_commit: Option<Nudge>) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Box<dyn Request>>();
        let stats = Arc::new(Stats::default());
        let s = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("kova-sqlite-writer".into())
            .spawn(move || {
                super::sched::run_as_batch();
                writer_loop(conn, rx, &s, after_commit.as_ref())
            })
            .map_err(|e| {
                Error::backend("sqlite", format!("cannot start the writer thread: {e}"))
            })?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
            stats,
        })
    }

    /// What the writer did so far.
    pub(super) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Runs `f` in the writer's next group and answers once that group committed. `f` may run
    /// twice (see the module documentation): it must act only through the connection.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let req: Box<dyn Request> = Box::new(Call { f, out: None, tx });
        let sender = self.tx.as_ref().ok_or_else(stopped)?;
        sender.send(req).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::backend("sqlite", "the writer thread has stopped")
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the loop once the queued writes are done.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<Box<dyn Request>>,
    stats: &Stats,
    after_commit: Option<&Nudge>,
) {
    // recv() fails only when every sender is gone: the store was dropped.
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let commit = run_group(&conn, &mut group, stats);
        if let Some(nudge) = after_commit {
            nudge.nudge();
        }
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats
            .requests
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        if let Err(e) = &commit {
            tracing::error!(error = %e, requests = group.len(), "sqlite group commit failed");
        }
        for r in group {
            r.answer(commit.as_ref().map(|_| ()));
        }
    }
}

/// One transaction for the whole group: optimistically without savepoints, and again with
/// one savepoint per request if a request failed after changing rows.
fn run_group(
    conn: &Connection,
    group: &mut [Box<dyn Request>],
    stats: &Stats,
) -> std::result::Result<(), rusqlite::Error> {
    if run_optimistic(conn, group)? {
        return Ok(());
    }
    stats.isolated.fetch_add(1, Ordering::Relaxed);
    run_isolated(conn, group)
}

/// Runs the group without savepoints and commits; `Ok(false)` (with everything rolled back)
/// when a request failed after changing rows.
fn run_optimistic(
    conn: &Connection,
    group: &mut [Box<dyn Request>],
) -> std::result::Result<bool, rusqlite::Error> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let mut body = || -> std::result::Result<bool, rusqlite::Error> {
        for r in group.iter_mut() {
            let before = conn.total_changes();
            // A failed statement undoes its own partial changes and counts none, so an
            // unchanged counter means the request left nothing behind.
            if !r.run(conn) && conn.total_changes() != before {
                exec(conn, "ROLLBACK")?;
                return Ok(false);
            }
        }
        exec(conn, "COMMIT")?;
        Ok(true)
    };
    body().inspect_err(|_| {
        let _ = exec(conn, "ROLLBACK");
    })
}

/// One transaction for the group, one savepoint per request.
fn run_isolated(
    conn: &Connection,
    group: &mut [Box<dyn Request>],
) -> std::result::Result<(), rusqlite::Error> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let mut body = || -> std::result::Result<(), rusqlite::Error> {
        for r in group.iter_mut() {
            exec(conn, "SAVEPOINT kova_req")?;
            if r.run(conn) {
                exec(conn, "RELEASE kova_req")?;
            } else {
                exec(conn, "ROLLBACK TO kova_req")?;
                exec(conn, "RELEASE kova_req")?;
            }
        }
        exec(conn, "COMMIT")
    };
    body().inspect_err(|_| {
        // Nothing of the group is kept; every caller hears that the commit failed.
        let _ = exec(conn, "ROLLBACK");
    })
}

fn exec(conn: &Connection, sql: &str) -> std::result::Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        Writer::start(conn, None).unwrap()
    }

    fn insert(c: &Connection, k: i64) -> Result<()> {
        c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])
            .map_err(super::super::error::sqlite_err)?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_a_failure_rolls_back_only_itself() {
        let w = writer();
        // Every 10th request writes, then fails: its write must vanish, the others' stay.
        let results = join_all((0..400i64).map(|k| {
            w.write(move |c| {
                insert(c, k)?;
                if k % 10 == 0 {
                    return Err(Error::invalid("k", "fails after writing"));
                }
                Ok(k)
            })
        }))
        .await;
        for (k, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), k % 10 != 0, "request {k}: {r:?}");
        }
        let (n, sum): (i64, i64) = w
            .write(|c| {
                c.query_row("SELECT COUNT(*), SUM(k % 10) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(super::super::error::sqlite_err)
            })
            .await
            .unwrap();
        assert_eq!(n, 360, "the failed requests' rows were rolled back");
        assert!(sum > 0);
        let groups = w.stats().groups.load(Ordering::Relaxed);
        let requests = w.stats().requests.load(Ordering::Relaxed);
        assert_eq!(requests, 401);
        assert!(
            groups < requests,
            "concurrent writes were grouped: {groups} transactions for {requests} requests"
        );
        assert!(
            w.stats().isolated.load(Ordering::Relaxed) > 0,
            "groups with a failure after a write were re-run with savepoints"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failure_before_any_change_costs_the_group_nothing() {
        let w = writer();
        // Keys 0, 10, 20, … exist already: inserting them again fails before changing a row.
        w.write(|c| (0..400).step_by(10).try_for_each(|k| insert(c, k)))
            .await
            .unwrap();
        let results =
            join_all((0..400i64).map(|k| w.write(move |c| insert(c, k).map(|()| k)))).await;
        for (k, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), k % 10 != 0, "request {k}: {r:?}");
        }
        let n: i64 = w
            .write(|c| {
                c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                    .map_err(super::super::error::sqlite_err)
            })
            .await
            .unwrap();
        assert_eq!(n, 400);
        assert_eq!(
            w.stats().isolated.load(Ordering::Relaxed),
            0,
            "no group had to be re-run"
        );
    }

    #[tokio::test]
    async fn a_panicking_request_fails_alone() {
        let w = writer();
        let bad = w.write(|_| -> Result<()> { panic!("boom") });
        assert!(matches!(bad.await, Err(Error::Internal(_))));
        w.write(|c| insert(c, 1))
            .await
            .expect("the writer lives on");
    }
}
