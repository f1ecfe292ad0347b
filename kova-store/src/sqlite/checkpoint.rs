//! WAL checkpoints off the write connection.
//!
//! SQLite's automatic checkpoint runs on the connection that commits: our one write connection,
//! which then spends its time reading the WAL back, writing pages into the database file and
//! fsyncing while every caller waits. A background thread with its own connection instead runs
//! a PASSIVE checkpoint (it never blocks the writer or readers) soon after each commit, at most
//! every few milliseconds, and sleeps while nothing is written.
//!
//! The writer keeps an automatic checkpoint only as a backstop: under sustained writes the WAL
//! cannot restart while new frames keep arriving, so once it is long the writer checkpoints the
//! frames the background thread has not copied yet, and the WAL starts over. That backstop is
//! where the writer used to stall. SQLite fsyncs the database file only when a checkpoint
//! reaches the end of the WAL, which under load only the writer's does: its fsync flushed every
//! page the background thread had copied since the last one (1.3–3.4 ms with a 4,096-page
//! backstop, more with larger ones), and, when the WAL had grown past the size limit, the
//! restart truncated it (12 ms). Every request waiting meanwhile showed in the ingest p99. So
//! the background thread also fsyncs the database file after each round, which leaves the
//! writer's fsync little to flush; the WAL size limit sits above the backstop, so a restart
//! never truncates; and with both, a rarer backstop (16,384 pages) is cheaper than a frequent
//! one. Measured in
//! the same hour against the 4,096-page backstop without these syncs: webhook ingest (wrk, 64
//! connections) p99 6.8–7.6 ms instead of 10.0–11.0 ms, with 1.05× the deliveries per second;
//! store bench, 64 writers, 55–58k instead of 40–51k deliveries/s (41k instead of 33–35k with
//! 1M events stored). A longer pause between rounds (10 or 25 ms instead of 3) copies less but
//! gave a worse p99 (9.7–9.9 and 15.5–16.9 ms).
//!
//! The backstop still stalls the writer: finishing the WAL ends in `ftruncate` and `fsync` of
//! the database file (1.5–2.3 ms each time under strace at ~32k deliveries/s, one every ~250 ms
//! with 16,384 pages), and every request of the waiting groups shows it. So it runs four times
//! less often now (65,536 pages, a WAL of about 260 MiB under sustained writes): ingest p99
//! 5.25–5.28 ms instead of 5.79–6.13 ms (with wrk -t1 4.11 instead of 6.00 ms) at the same
//! throughput, on a fast day (2026-12-05). The price is disk: the WAL file keeps that size
//! after a burst, and recovery after a crash reads up to that much.

use super::error::SqlResultExt;
use kova_core::{Error, Result};
use rusqlite::Connection;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The shortest time between two background checkpoints: each one fsyncs the database file,
/// and the WAL too when it copies pages.
const MIN_INTERVAL: Duration = Duration::from_millis(3);
/// The writer's own automatic checkpoint, in pages (the backstop described above): the WAL
/// restarts after about 256 MiB.
pub(super) const WRITER_AUTOCHECKPOINT: u32 = 65536;
/// The WAL file is cut back to this size when it restarts: above the backstop's 256 MiB (plus
/// frame headers), so the file is reused rather than truncated (a stall of the writer) and
/// grown again every cycle.
pub(super) const WAL_SIZE_LIMIT: u64 = 512 << 20;

/// Tells the checkpoint thread that something was committed. Cheap: never blocks.
#[derive(Debug, Clone)]
pub(super) struct Nudge(mpsc::SyncSender<()>);

impl Nudge {
    pub(super) fn nudge(&self) {
        // A full channel means a nudge is already pending.
        let _ = self.0.try_send(());
    }
}

/// The background checkpoint thread; dropping it stops the thread.
pub(super) struct Checkpointer {
    nudge: Nudge,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode).
    pub(super) fn start(path: &Path, busy_timeout: Duration) -> Result<Checkpointer> {
        let conn = Connection::open(path).db()?;
        conn.busy_timeout(busy_timeout).db()?;
        let database = sync_handle(path).map_err(|e| {
            Error::backend(
                "sqlite",
                format!("cannot open the database file to sync it: {e}"),
            )
        })?;
        let (tx, rx) = mpsc::sync_channel::<()>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("kova-sqlite-checkpoint".into())
            .spawn(move || {
                super::sched::run_as_batch();
                while rx.recv().is_ok() && !stopping.load(Ordering::Acquire) {
                    // A round runs only after commits, so it has nearly always copied pages. The
                    // fsync only makes durable what SQLite wrote already: if it fails, the
                    // writer's next checkpoint has more to flush, and reports the error itself.
                    let round = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        .map_err(|e| e.to_string())
                        .and_then(|()| database.sync_data().map_err(|e| e.to_string()));
                    if let Err(e) = round {
                        tracing::debug!(error = %e, "background sqlite checkpoint failed");
                    }
                    // Commits during the pause leave one nudge waiting: the next round starts
                    // right after it.
                    std::thread::sleep(MIN_INTERVAL);
                }
            })
            .map_err(|e| {
                Error::backend("sqlite", format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            nudge: Nudge(tx),
            stop,
            thread: Some(thread),
        })
    }

    /// The handle the writer nudges after each commit.
    pub(super) fn nudge(&self) -> Nudge {
        self.nudge.clone()
    }
}

/// A descriptor of the database file for fsyncing it, opened once per file and process and
/// never closed: closing *any* descriptor of a file drops every POSIX lock the process holds on
/// it, SQLite's included (<https://sqlite.org/howtocorrupt.html>, "POSIX advisory locks canceled
/// by a separate thread doing close()"). SQLite's own descriptors defer their closes for that
/// reason; this one is simply kept: one per database file the process opened.
#[cfg(unix)]
fn sync_handle(path: &Path) -> std::io::Result<&'static File> {
    use std::collections::HashMap;
    use std::os::unix::fs::MetadataExt;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static OPEN: OnceLock<Mutex<HashMap<(u64, u64), &'static File>>> = OnceLock::new();
    let id = |m: std::fs::Metadata| (m.dev(), m.ino());
    let mut open = OPEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    // Looked up by the path's identity first, so that a file already held is not opened (and
    // then closed) again.
    if let Some(f) = open.get(&id(std::fs::metadata(path)?)) {
        return Ok(f);
    }
    let file: &'static File = Box::leak(Box::new(File::open(path)?));
    open.insert(id(file.metadata()?), file);
    Ok(file)
}

/// Elsewhere closing a descriptor drops no other descriptor's locks, but the handle is kept
/// (one per opened store) all the same, so that the thread has one way to hold it.
#[cfg(not(unix))]
fn sync_handle(path: &Path) -> std::io::Result<&'static File> {
    Ok(Box::leak(Box::new(File::open(path)?)))
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the thread if it waits; the writer may still hold a clone of the sender.
        self.nudge.nudge();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn each_database_file_is_opened_for_syncing_once_whatever_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        std::fs::write(&a, b"").unwrap();
        std::fs::write(&b, b"").unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let first = sync_handle(&a).unwrap();
        // The same file through its path again and through a symlink: the one kept descriptor,
        // so no second descriptor is ever opened and closed (which would drop SQLite's locks).
        assert!(std::ptr::eq(first, sync_handle(&a).unwrap()));
        assert!(std::ptr::eq(first, sync_handle(&link).unwrap()));
        assert!(!std::ptr::eq(first, sync_handle(&b).unwrap()));
        first.sync_data().unwrap();
    }
}
