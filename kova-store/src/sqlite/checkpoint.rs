//! WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs on the connection that commits: our one writer thread,
//! which then spends its time reading the WAL back, writing pages into the database file and
//! fsyncing while every caller waits. A background thread with its own connection instead runs
//! a PASSIVE checkpoint (it never blocks the writer or readers) soon after each commit, at most
//! every few milliseconds, and sleeps while nothing is written.
//!
//! The writer keeps a large automatic checkpoint only as a backstop: under sustained writes the
//! WAL cannot restart while new frames keep arriving, so once it is long the writer
//! checkpoints the frames the background thread has not copied yet, and the WAL starts over.
//! The more often the background thread runs, the shorter that tail: checkpointing every 20 ms,
//! the writer's own checkpoints took 11–19% of its time in the store bench (64 writers); run
//! after commits at most every 3 ms, 9% (half of it the fsync that must precede the restart),
//! and 22% with a million events stored, where the background copy lags more. Rarer restarts
//! cost the writer less: at 16,384 pages rather than 4,096 the store bench's 64 writers went
//! from 16.9k to 19.7k deliveries/s with 1M events stored (17.0–17.5k to 18.6–19.1k on an empty
//! store), and batched claim+complete from 19.0k to 25.6k. But end to end (wrk, 64
//! connections, same hour) the webhook ingest fell from 9.6–9.7k/s to 7.7–8.7k/s and its p99
//! rose from 32–34 ms to 50–59 ms, so the backstop stays at 4,096 pages.

use super::error::SqlResultExt;
use kova_core::{Error, Result};
use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The shortest time between two background checkpoints: each one that copies pages also
/// fsyncs the WAL and the database file.
const MIN_INTERVAL: Duration = Duration::from_millis(3);
/// The writer's own automatic checkpoint, in pages (the backstop described above): the WAL
/// restarts after about 16 MiB.
pub(super) const WRITER_AUTOCHECKPOINT: u32 = 4096;
/// The WAL file is cut back to this size when it restarts: above the backstop's 16 MiB, so the
/// file is reused rather than shortened and grown again every cycle.
pub(super) const WAL_SIZE_LIMIT: u64 = 64 << 20;

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
        let (tx, rx) = mpsc::sync_channel::<()>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("kova-sqlite-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() && !stopping.load(Ordering::Acquire) {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
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
