//! Running workers from Python: blocking until stopped (Ctrl-C or `stop_workers()`), or as an
//! awaitable whose cancellation stops its workers gracefully.

use crate::runtime::runtime;
use futures::future::select;
use pyo3::prelude::*;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often a blocking `run_worker` takes the GIL back to let Python run signal handlers
/// (Ctrl-C): Python only delivers signals to code holding the GIL.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Stops every worker started before the call, however it was started.
#[derive(Debug)]
pub struct StopSignal {
    epoch: watch::Sender<u64>,
    runs: AtomicU64,
}

impl Default for StopSignal {
    fn default() -> Self {
        StopSignal {
            epoch: watch::Sender::new(0),
            runs: AtomicU64::new(0),
        }
    }
}

impl StopSignal {
    /// Tells every running worker to finish (or release) its jobs and return.
    pub fn stop_all(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }
}

/// Workers started by one `run_worker` call.
#[derive(Debug)]
pub struct Run {
    /// Stops just this run.
    local: watch::Sender<bool>,
    join: JoinHandle<()>,
}

/// Spawns `n` workers named `{prefix}-{i}` on the shared runtime.
pub fn start(
    engine: &kova_core::Kova,
    signal: &StopSignal,
    n: usize,
    prefix: Option<String>,
) -> Run {
    let run_no = signal.runs.fetch_add(1, Ordering::Relaxed);
    // Worker names must be unique across processes sharing a store.
    let prefix = prefix.unwrap_or_else(|| format!("py-{}-{run_no}", std::process::id()));
    let started_at = *signal.epoch.borrow();
    let (local, local_rx) = watch::channel(false);
    let workers: Vec<_> = (0..n.max(1))
        .map(|i| {
            let engine = engine.clone();
            let name = format!("{prefix}-{i}");
            let mut global = signal.epoch.subscribe();
            let mut local = local_rx.clone();
            async move {
                let shutdown = async move {
                    let g = pin!(global.wait_for(|e| *e > started_at));
                    let l = pin!(local.wait_for(|stop| *stop));
                    // Either signal (or its sender going away) stops the worker.
                    let _ = select(g, l).await;
                };
                if let Err(e) = engine.run_worker(&name, shutdown).await {
                    tracing::error!(worker = %name, error = %e, "worker could not run");
                }
            }
        })
        .collect();
    let join = runtime().spawn(async move {
        futures::future::join_all(workers).await;
    });
    Run { local, join }
}

impl Run {
    /// Blocks until the workers stop, checking for Ctrl-C meanwhile. A signal handler's
    /// exception (KeyboardInterrupt) stops the workers gracefully and is then re-raised.
    pub fn wait_blocking(mut self, py: Python<'_>) -> PyResult<()> {
        loop {
            let finished = py.detach(|| {
                runtime()
                    .block_on(async { tokio::time::timeout(SIGNAL_CHECK, &mut self.join).await })
            });
            if let Ok(joined) = finished {
                return joined.map_err(join_error);
            }
            if let Err(interrupt) = py.check_signals() {
                let _ = self.local.send(true);
                let _ = py.detach(|| runtime().block_on(&mut self.join));
                return Err(interrupt);
            }
        }
    }

    /// Waits for the workers to stop. Dropping the future (a cancelled asyncio task) tells
    /// them to stop; they finish or release their jobs in the background.
    pub async fn wait(self) -> kova_core::Result<()> {
        let Run { local, join } = self;
        let guard = StopOnDrop(local);
        let r = join.await;
        drop(guard);
        r.map_err(|e| kova_core::Error::Internal(format!("worker task failed: {e}")))
    }
}

struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

fn join_error(e: tokio::task::JoinError) -> PyErr {
    crate::errors::to_py_err(kova_core::Error::Internal(format!(
        "worker task failed: {e}"
    )))
}
