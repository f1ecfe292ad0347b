//! WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs on the connection that commits: our one writer thread,
//! which then spends its time reading the WAL back, writing pages into the database file and
//! fsyncing while every caller waits. A background thread with its own connection instead runs
//! a PASSIVE checkpoint (it never blocks the writer or readers) every few milliseconds. The
//! writer keeps a large automatic checkpoint only as a backstop: under sustained writes the
//! WAL cannot restart while new frames keep arriving, so once it is long the writer
//! checkpoints the few frames the background thread has not copied yet, and the WAL starts
//! over.

use super::error::SqlResultExt;
use kova_core::{Error, Result};
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the background thread checkpoints.
const INTERVAL: Duration = Duration::from_millis(20);
/// The writer's own automatic checkpoint, in pages (the backstop described above).
pub(super) const WRITER_AUTOCHECKPOINT: u32 = 4096;

/// The background checkpoint thread; dropping it stops the thread.
pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
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
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kova-sqlite-checkpoint".into())
            .spawn(move || {
                // Woken by the interval; the store closing the channel ends the loop.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "background sqlite checkpoint failed");
                    }
                }
            })
            .map_err(|e| {
                Error::backend("sqlite", format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
