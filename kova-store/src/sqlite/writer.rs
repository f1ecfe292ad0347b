//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and a commit's cost (the WAL write, and with
//! `synchronous=FULL` an fsync) barely depends on how much it carries. So every write goes to
//! one thread that owns the write connection: it takes all requests waiting in its queue, runs
//! them in one transaction, each under its own SAVEPOINT (a request that fails rolls back only
//! itself), commits once, and only then answers each caller. Callers never touch SQLite on an
//! async worker thread: they send a closure and await a oneshot answer.

use kova_core::{Error, Result};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// At most this many requests share one transaction, so one group's latency stays bounded.
const MAX_GROUP: usize = 1024;

/// A write waiting for the writer thread.
trait Request: Send {
    /// Runs the request inside the group's transaction (under its savepoint); whether it
    /// succeeded, i.e. whether its changes are kept.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the group's commit succeeded or failed.
    fn answer(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>);
}

struct Call<T, F> {
    f: Option<F>,
    out: Option<Result<T>>,
    tx: oneshot::Sender<Result<T>>,
}

impl<T, F> Request for Call<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else {
            return false;
        };
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
    tx: Mutex<Option<mpsc::Sender<Box<dyn Request>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<Stats>,
}

/// What the writer did so far: how well group commit works under the current load.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Transactions committed (or attempted).
    pub(super) groups: AtomicU64,
    /// Requests run in them.
    pub(super) requests: AtomicU64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer thread on an open, migrated connection.
    pub(super) fn start(conn: Connection) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Box<dyn Request>>();
        let stats = Arc::new(Stats::default());
        let s = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("kova-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, &s))
            .map_err(|e| {
                Error::backend("sqlite", format!("cannot start the writer thread: {e}"))
            })?;
        Ok(Writer {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            stats,
        })
    }

    /// (transactions, requests) so far.
    pub(super) fn stats(&self) -> (u64, u64) {
        (
            self.stats.groups.load(Ordering::Relaxed),
            self.stats.requests.load(Ordering::Relaxed),
        )
    }

    /// Runs `f` in the writer's next group and answers once that group committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let req: Box<dyn Request> = Box::new(Call {
            f: Some(f),
            out: None,
            tx,
        });
        {
            let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
            let sender = guard.as_ref().ok_or_else(stopped)?;
            sender.send(req).map_err(|_| stopped())?;
        }
        rx.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::backend("sqlite", "the writer thread has stopped")
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn Request>>, stats: &Stats) {
    // recv() fails only when every sender is gone: the store was dropped.
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let commit = run_group(&conn, &mut group);
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

/// One transaction for the whole group, one savepoint per request.
fn run_group(
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
        Writer::start(conn).unwrap()
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
        let (groups, requests) = w.stats();
        assert_eq!(requests, 401);
        assert!(
            groups < requests,
            "concurrent writes were grouped: {groups} transactions for {requests} requests"
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
