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
use std::sync::mpsc;
use std::sync::Mutex;
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
        let thread = std::thread::Builder::new()
            .name("kova-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| {
                Error::backend("sqlite", format!("cannot start the writer thread: {e}"))
            })?;
        Ok(Writer {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
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

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn Request>>) {
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
