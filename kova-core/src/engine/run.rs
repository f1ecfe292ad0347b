//! A worker's life: process batches until told to stop, then finish or release what it holds.

use super::worker::{lock, InFlight};
use super::Kova;
use crate::error::Result;
use futures::future::{select, Either};
use futures::FutureExt;
use std::future::Future;

impl Kova {
    /// Runs one worker until `shutdown` completes: claims batches, sleeps `poll_interval` when
    /// idle. On shutdown, in-flight jobs get `shutdown_grace` to finish; the rest are released
    /// to the queue without spending an attempt. Needs a sleeper.
    pub async fn run_worker(
        &self,
        worker: &str,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<()> {
        let sleeper = self.sleeper()?.clone();
        let settings = self.inner.settings.clone();
        let shutdown = shutdown.boxed().shared();
        let in_flight = InFlight::default();
        tracing::info!(worker, "worker started");
        loop {
            if shutdown.peek().is_some() {
                break;
            }
            let batch = Box::pin(self.run_batch(worker, settings.batch_size, &in_flight));
            match select(batch, shutdown.clone()).await {
                Either::Left((report, _)) => {
                    let idle = match report {
                        Ok(r) => r.claimed == 0,
                        Err(e) => {
                            tracing::error!(worker, error = %e, "claiming jobs failed");
                            true
                        }
                    };
                    if idle {
                        let nap = sleeper.sleep(settings.poll_interval);
                        if let Either::Right(_) = select(nap, shutdown.clone()).await {
                            break;
                        }
                    }
                }
                Either::Right(((), batch)) => {
                    tracing::info!(worker, "shutting down: finishing in-flight jobs");
                    let grace = sleeper.sleep(settings.shutdown_grace);
                    if let Either::Right((_, batch)) = select(batch, grace).await {
                        drop(batch);
                        self.release_all(worker, &in_flight).await;
                    }
                    break;
                }
            }
        }
        tracing::info!(worker, "worker stopped");
        Ok(())
    }

    async fn release_all(&self, worker: &str, in_flight: &InFlight) {
        let ids: Vec<_> = lock(in_flight).drain().collect();
        let now = self.inner.clock.now();
        for id in ids {
            match self.inner.store.release_job(id, worker, now).await {
                Ok(()) => tracing::info!(job_id = %id, "released unfinished job"),
                Err(e) => tracing::warn!(job_id = %id, error = %e, "could not release job"),
            }
        }
    }
}
