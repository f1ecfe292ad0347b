//! N workers on tokio tasks, stopped together.

use super::Kova;
use std::fmt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Workers running on tokio tasks; [`WorkerPool::shutdown`] stops them gracefully.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.handles.len())
            .finish()
    }
}

impl Kova {
    /// Spawns `n` workers named `{prefix}-{i}` (names must be unique across processes sharing a
    /// store; include the host or process id in `prefix`).
    pub fn spawn_workers(&self, n: usize, prefix: &str) -> WorkerPool {
        let (stop, rx) = watch::channel(false);
        let handles = (0..n)
            .map(|i| {
                let kova = self.clone();
                let name = format!("{prefix}-{i}");
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = rx.wait_for(|stop| *stop).await;
                    };
                    if let Err(e) = kova.run_worker(&name, shutdown).await {
                        tracing::error!(worker = %name, error = %e, "worker could not run");
                    }
                })
            })
            .collect();
        WorkerPool { stop, handles }
    }
}

impl WorkerPool {
    /// How many workers run.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether the pool has no workers.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Tells every worker to stop and waits until they have finished or released their jobs.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            if let Err(e) = h.await {
                tracing::error!(error = %e, "worker task failed");
            }
        }
    }
}
