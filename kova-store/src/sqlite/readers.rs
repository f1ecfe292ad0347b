//! A small pool of read-only connections. In WAL mode readers never wait for the writer and
//! see the last committed state; each read runs on tokio's blocking pool, never on an async
//! worker thread.

use super::error::SqlResultExt;
use kova_core::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Idle read connections and a limit on how many reads run at once.
#[derive(Debug)]
pub(super) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    /// A pool of at most `size` connections to the database at `path`, opened when first
    /// needed.
    pub(super) fn new(path: PathBuf, size: usize, busy_timeout: Duration) -> Readers {
        Readers {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// The database file the readers open.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .db()?;
        conn.busy_timeout(self.busy_timeout).db()?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `f` on an idle (or new) read connection on the blocking pool.
    pub(super) async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::backend("sqlite", "the read pool is closed"))?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let idle = this.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match idle {
                Some(c) => c,
                None => this.open()?,
            };
            let out = f(&conn);
            this.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
            out
        })
        .await
        .map_err(|e| Error::Internal(format!("a sqlite read did not finish: {e}")))?
    }
}
