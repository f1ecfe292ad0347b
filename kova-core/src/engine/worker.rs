//! The worker: claim due jobs in batches, run their handlers, store what they produced, and
//! complete, reschedule or bury each job.

use super::Kova;
use crate::error::{Error, Result};
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{ArtifactSource, ClaimRequest, Job, JobId, RetryOutcome, WebhookEvent};
use crate::time::{chrono_duration, Timestamp};
use futures::future::{select, Either};
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

/// What a round of processing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessReport {
    /// Jobs claimed.
    pub claimed: usize,
    /// Jobs completed.
    pub completed: usize,
    /// Jobs that failed and were rescheduled.
    pub retried: usize,
    /// Jobs refused by a rate limit and queued again for later, without spending an attempt.
    pub deferred: usize,
    /// Jobs that are now dead.
    pub dead: usize,
    /// Jobs whose lease was lost to another worker (its result was dropped).
    pub lost: usize,
}

impl ProcessReport {
    fn add(&mut self, r: JobResult) {
        match r {
            JobResult::Completed => self.completed += 1,
            JobResult::Retried => self.retried += 1,
            JobResult::Deferred => self.deferred += 1,
            JobResult::Dead => self.dead += 1,
            JobResult::Lost => self.lost += 1,
        }
    }
}

/// Adds another round's counts (several workers' reports make one).
impl std::ops::AddAssign for ProcessReport {
    fn add_assign(&mut self, o: ProcessReport) {
        self.claimed += o.claimed;
        self.completed += o.completed;
        self.retried += o.retried;
        self.deferred += o.deferred;
        self.dead += o.dead;
        self.lost += o.lost;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobResult {
    Completed,
    Retried,
    Deferred,
    Dead,
    Lost,
}

/// Jobs a worker holds right now, so a shutdown can release the ones it abandons.
pub(super) type InFlight = Arc<Mutex<HashSet<JobId>>>;

impl Kova {
    /// Processes up to `limit` due jobs as `worker`, in batches of `settings.batch_size` run
    /// concurrently, and returns what happened. Returns early when no job is due.
    pub async fn process_pending(&self, worker: &str, limit: usize) -> Result<ProcessReport> {
        let in_flight = InFlight::default();
        let mut report = ProcessReport::default();
        while report.claimed < limit {
            let n = (limit - report.claimed).min(self.inner.settings.batch_size);
            let batch = self.run_batch(worker, n, &in_flight).await?;
            report += batch;
            if batch.claimed < n {
                break;
            }
        }
        Ok(report)
    }

    /// Claims up to `n` jobs and runs them concurrently.
    pub(super) async fn run_batch(
        &self,
        worker: &str,
        n: usize,
        in_flight: &InFlight,
    ) -> Result<ProcessReport> {
        let now = self.inner.clock.now();
        let jobs = self
            .inner
            .store
            .claim_jobs(&ClaimRequest::new(
                worker,
                n,
                self.inner.settings.lease,
                now,
            ))
            .await?;
        let mut report = ProcessReport {
            claimed: jobs.len(),
            ..ProcessReport::default()
        };
        lock(in_flight).extend(jobs.iter().map(|j| j.id));
        let results = futures::future::join_all(jobs.into_iter().map(|job| async move {
            let id = job.id;
            let r = self.run_job(worker, job).await;
            lock(in_flight).remove(&id);
            r
        }))
        .await;
        for r in results {
            report.add(r);
        }
        Ok(report)
    }

    async fn run_job(&self, worker: &str, job: Job) -> JobResult {
        let handler = self
            .inner
            .handlers
            .iter()
            .find(|h| h.name() == job.kind)
            .cloned();
        let Some(handler) = handler else {
            let msg = format!("no handler named '{}' is registered", job.kind);
            return self.bury(worker, &job, &msg).await;
        };
        let event = match job.event_id {
            None => {
                return self
                    .bury(worker, &job, "job has no webhook event to handle")
                    .await
            }
            Some(id) => match self.inner.store.get_event(id).await {
                Ok(Some(e)) => e,
                Ok(None) => {
                    return self
                        .bury(worker, &job, &format!("event {id} not found"))
                        .await
                }
                Err(e) => return self.after_failure(worker, &job, e).await,
            },
        };
        let outcome = match self
            .handle_with_lease(worker, &job, handler.as_ref(), &event)
            .await
        {
            None => {
                tracing::warn!(job_id = %job.id, "lease lost while the handler ran; result dropped");
                return JobResult::Lost;
            }
            Some(Ok(outcome)) => outcome,
            Some(Err(e)) => return self.after_failure(worker, &job, e).await,
        };
        if let Err(e) = self.store_outcome(handler.name(), &event, outcome).await {
            return self.after_failure(worker, &job, e).await;
        }
        match self
            .inner
            .store
            .complete_job(job.id, worker, self.inner.clock.now())
            .await
        {
            Ok(()) => {
                tracing::info!(
                    job_id = %job.id,
                    delivery_id = %event.delivery.delivery_id,
                    handler = handler.name(),
                    "job done"
                );
                JobResult::Completed
            }
            Err(Error::Conflict { .. }) => JobResult::Lost,
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "could not complete job");
                JobResult::Lost
            }
        }
    }

    /// Runs the handler, renewing the lease meanwhile; `None` if the lease was lost. A panic
    /// in a handler is an error of the job, not of the worker.
    async fn handle_with_lease(
        &self,
        worker: &str,
        job: &Job,
        handler: &dyn EventHandler,
        event: &WebhookEvent,
    ) -> Option<Result<HandlerOutcome>> {
        let ctx = HandlerContext::new(
            self.inner.store.clone(),
            self.inner.llm.clone(),
            self.inner.source.clone(),
            self.inner.clock.clone(),
            job.clone(),
        );
        let work = AssertUnwindSafe(handler.handle(&ctx, event))
            .catch_unwind()
            .map(|r| match r {
                Ok(r) => r,
                Err(panic) => Err(Error::Internal(format!(
                    "handler '{}' panicked: {}",
                    handler.name(),
                    panic_message(&*panic)
                ))),
            });
        let Some(sleeper) = self.inner.sleeper.clone() else {
            return Some(work.await);
        };
        let lease = self.inner.settings.lease;
        let renew = async {
            loop {
                sleeper.sleep(lease / 3).await;
                let until = self.inner.clock.now() + chrono_duration(lease);
                match self.inner.store.renew_lease(job.id, worker, until).await {
                    Ok(()) => {}
                    Err(Error::Conflict { .. }) => return,
                    // A transient store error: the lease still runs; try again next period.
                    Err(e) => tracing::warn!(job_id = %job.id, error = %e, "lease renewal failed"),
                }
            }
        };
        let result = match select(Box::pin(work), Box::pin(renew)).await {
            Either::Left((r, _)) => Some(r),
            Either::Right(((), _)) => None,
        };
        result
    }

    /// Stores artifacts and repository errors. Artifacts get an idempotency key per
    /// (event, handler, position), so a job re-run after a crash stores nothing twice.
    async fn store_outcome(
        &self,
        handler: &str,
        event: &WebhookEvent,
        outcome: HandlerOutcome,
    ) -> Result<()> {
        let now = self.inner.clock.now();
        for (i, mut a) in outcome.artifacts.into_iter().enumerate() {
            if a.repo.is_none() {
                a.repo = event.delivery.repo.clone();
            }
            if a.source == ArtifactSource::Request {
                a.source = ArtifactSource::Event(event.id);
            }
            if a.idempotency_key.is_none() {
                a.idempotency_key = Some(format!("event:{}:{handler}:{i}", event.id));
            }
            self.inner.store.insert_artifact(&a, now).await?;
        }
        for e in outcome.repo_errors {
            self.inner.store.record_repo_error(&e).await?;
        }
        Ok(())
    }

    /// Reschedules a retryable failure with backoff, or buries a permanent one.
    async fn after_failure(&self, worker: &str, job: &Job, error: Error) -> JobResult {
        let message = error.to_string();
        if !error.is_retryable() {
            return self.bury(worker, job, &message).await;
        }
        let now = self.inner.clock.now();
        let wait =
            self.inner
                .settings
                .backoff
                .delay(job.attempts, job.id.0 as u64, error.retry_after());
        let run_at = now + chrono_duration(wait);
        let patience = chrono_duration(self.inner.settings.rate_limit_patience);
        if matches!(error, Error::RateLimited { .. }) && now - job.created_at < patience {
            return self.defer(worker, job, run_at, &message, now).await;
        }
        match self
            .inner
            .store
            .retry_job(job.id, worker, run_at, &message, now)
            .await
        {
            Ok(RetryOutcome::Rescheduled) => {
                tracing::warn!(job_id = %job.id, attempt = job.attempts, wait_ms = wait.as_millis() as u64, error = %message, "job failed; retrying");
                JobResult::Retried
            }
            Ok(RetryOutcome::Dead) => {
                tracing::error!(job_id = %job.id, attempts = job.attempts, error = %message, "job dead after its last attempt");
                JobResult::Dead
            }
            Err(Error::Conflict { .. }) => JobResult::Lost,
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "could not reschedule job");
                JobResult::Lost
            }
        }
    }

    /// Queues a job refused by a rate limit again without spending its attempt.
    async fn defer(
        &self,
        worker: &str,
        job: &Job,
        run_at: Timestamp,
        message: &str,
        now: Timestamp,
    ) -> JobResult {
        match self
            .inner
            .store
            .defer_job(job.id, worker, run_at, message, now)
            .await
        {
            Ok(()) => {
                tracing::info!(job_id = %job.id, run_at = %run_at, reason = %message, "job deferred by a rate limit; no attempt spent");
                JobResult::Deferred
            }
            Err(Error::Conflict { .. }) => JobResult::Lost,
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "could not defer job");
                JobResult::Lost
            }
        }
    }

    async fn bury(&self, worker: &str, job: &Job, message: &str) -> JobResult {
        match self
            .inner
            .store
            .fail_job(job.id, worker, message, self.inner.clock.now())
            .await
        {
            Ok(()) => {
                tracing::error!(job_id = %job.id, error = %message, "job dead");
                JobResult::Dead
            }
            Err(Error::Conflict { .. }) => JobResult::Lost,
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "could not mark job dead");
                JobResult::Lost
            }
        }
    }
}

pub(super) fn lock(m: &InFlight) -> std::sync::MutexGuard<'_, HashSet<JobId>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".into())
}
