//! The memory store's job queue: the same state machine the SQL backends implement.

use super::Inner;
use kova_core::*;

impl Inner {
    /// Dedupe, coalesce, insert. The caller validated the job.
    pub(super) fn enqueue(
        &mut self,
        job: &NewJob,
        event_id: Option<EventId>,
        now: Timestamp,
    ) -> EnqueueOutcome {
        if let Some(key) = &job.dedupe_key {
            let existing = self.dedupe.get(key).and_then(|ids| {
                ids.iter().copied().find(|id| {
                    matches!(
                        self.jobs[id].status,
                        JobStatus::Queued | JobStatus::Running | JobStatus::Done
                    )
                })
            });
            if let Some(id) = existing {
                return EnqueueOutcome::Deduplicated(JobId(id));
            }
        }
        if let Some(key) = &job.coalesce_key {
            let older: Vec<i64> = self
                .coalesce
                .get(key)
                .map(|s| {
                    s.iter()
                        .copied()
                        .filter(|id| self.jobs[id].status == JobStatus::Queued)
                        .collect()
                })
                .unwrap_or_default();
            for id in older {
                self.set_status(id, JobStatus::Superseded, now);
                if let Some(ev) = self.jobs[&id].event_id {
                    if let Some(e) = self.events.get_mut(&ev.0) {
                        e.status = EventStatus::Ignored;
                    }
                }
            }
        }
        let id = self.next_id();
        let run_at = job.run_at.unwrap_or(now);
        self.jobs.insert(
            id,
            Job {
                id: JobId(id),
                kind: job.kind.clone(),
                event_id,
                payload: job.payload.clone(),
                dedupe_key: job.dedupe_key.clone(),
                coalesce_key: job.coalesce_key.clone(),
                attempts: 0,
                max_attempts: job.max_attempts,
                run_at,
                lease_until: None,
                leased_by: None,
                status: JobStatus::Queued,
                last_error: None,
                created_at: now,
                updated_at: now,
            },
        );
        self.queued.insert((run_at, id));
        if let Some(key) = &job.dedupe_key {
            self.dedupe.entry(key.clone()).or_default().push(id);
        }
        if let Some(key) = &job.coalesce_key {
            self.coalesce.entry(key.clone()).or_default().insert(id);
        }
        EnqueueOutcome::Created(JobId(id))
    }

    /// Moves a job to a new status, keeping the due-order indexes in step.
    fn set_status(&mut self, id: i64, status: JobStatus, now: Timestamp) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        match job.status {
            JobStatus::Queued => {
                self.queued.remove(&(job.run_at, id));
            }
            JobStatus::Running => {
                if let Some(l) = job.lease_until {
                    self.running.remove(&(l, id));
                }
            }
            _ => {}
        }
        job.status = status;
        job.updated_at = now;
        match status {
            JobStatus::Queued => {
                job.lease_until = None;
                job.leased_by = None;
                self.queued.insert((job.run_at, id));
            }
            JobStatus::Running => {
                if let Some(l) = job.lease_until {
                    self.running.insert((l, id));
                }
            }
            _ => {
                job.lease_until = None;
                job.leased_by = None;
            }
        }
    }

    fn set_event_status_of(&mut self, id: i64, status: EventStatus) {
        if let Some(ev) = self.jobs.get(&id).and_then(|j| j.event_id) {
            if let Some(e) = self.events.get_mut(&ev.0) {
                e.status = status;
            }
        }
    }

    pub(super) fn claim(&mut self, req: &ClaimRequest) -> Vec<Job> {
        let now = req.now;
        // Expired leases first (their workers died), then due queued jobs in due order.
        let expired: Vec<i64> = self
            .running
            .iter()
            .take_while(|(until, _)| *until <= now)
            .map(|(_, id)| *id)
            .collect();
        let mut candidates: Vec<i64> = Vec::new();
        for id in expired {
            let job = &self.jobs[&id];
            if job.attempts >= job.max_attempts {
                self.set_status(id, JobStatus::Dead, now);
                let j = self.jobs.get_mut(&id).expect("job exists");
                j.last_error = Some(format!(
                    "lease expired after the last of {} attempts (worker stopped?)",
                    j.max_attempts
                ));
                self.set_event_status_of(id, EventStatus::Failed);
            } else {
                candidates.push(id);
            }
        }
        // Only as many as asked: walking every due job made a claim O(queue length).
        let wanted = req.limit.saturating_sub(candidates.len());
        candidates.extend(
            self.queued
                .iter()
                .take_while(|(run_at, _)| *run_at <= now)
                .take(wanted)
                .map(|(_, id)| *id),
        );
        candidates.truncate(req.limit);
        let until = req.lease_until();
        let mut out = Vec::with_capacity(candidates.len());
        for id in candidates {
            if let Some(job) = self.jobs.get(&id) {
                if job.status == JobStatus::Queued {
                    self.queued.remove(&(job.run_at, id));
                } else if let Some(l) = job.lease_until {
                    self.running.remove(&(l, id));
                }
            }
            let job = self.jobs.get_mut(&id).expect("job exists");
            job.status = JobStatus::Running;
            job.attempts += 1;
            job.lease_until = Some(until);
            job.leased_by = Some(req.worker.clone());
            job.updated_at = now;
            self.running.insert((until, id));
            out.push(job.clone());
        }
        out
    }

    /// The job, if `worker` holds its lease; a clear error otherwise.
    fn held(&self, id: JobId, worker: &str) -> Result<&Job> {
        let job = self
            .jobs
            .get(&id.0)
            .ok_or_else(|| Error::not_found("job", id))?;
        if job.status != JobStatus::Running || job.leased_by.as_deref() != Some(worker) {
            return Err(Error::Conflict {
                message: format!(
                    "job {id} is not held by worker {worker} (its lease expired or it finished)"
                ),
            });
        }
        Ok(job)
    }

    pub(super) fn renew(&mut self, id: JobId, worker: &str, until: Timestamp) -> Result<()> {
        let old = self.held(id, worker)?.lease_until;
        if let Some(l) = old {
            self.running.remove(&(l, id.0));
        }
        let job = self.jobs.get_mut(&id.0).expect("held");
        job.lease_until = Some(until);
        self.running.insert((until, id.0));
        Ok(())
    }

    pub(super) fn finish(
        &mut self,
        id: JobId,
        worker: &str,
        now: Timestamp,
        status: JobStatus,
        error: Option<&str>,
    ) -> Result<()> {
        self.held(id, worker)?;
        self.set_status(id.0, status, now);
        if let Some(e) = error {
            self.jobs.get_mut(&id.0).expect("held").last_error = Some(e.to_string());
        }
        self.set_event_status_of(
            id.0,
            if status == JobStatus::Done {
                EventStatus::Processed
            } else {
                EventStatus::Failed
            },
        );
        Ok(())
    }

    pub(super) fn retry(
        &mut self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<RetryOutcome> {
        let job = self.held(id, worker)?;
        if job.attempts >= job.max_attempts {
            self.finish(id, worker, now, JobStatus::Dead, Some(error))?;
            return Ok(RetryOutcome::Dead);
        }
        let job = self.jobs.get_mut(&id.0).expect("held");
        job.run_at = run_at;
        job.last_error = Some(error.to_string());
        self.set_status(id.0, JobStatus::Queued, now);
        Ok(RetryOutcome::Rescheduled)
    }

    /// Queues a held job again at `run_at` without counting its attempt (release, defer).
    pub(super) fn release(
        &mut self,
        id: JobId,
        worker: &str,
        run_at: Timestamp,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.held(id, worker)?;
        let job = self.jobs.get_mut(&id.0).expect("held");
        job.attempts = job.attempts.saturating_sub(1);
        job.run_at = run_at;
        if let Some(r) = reason {
            job.last_error = Some(r.to_string());
        }
        self.set_status(id.0, JobStatus::Queued, now);
        Ok(())
    }
}
