//! The durable job queue's rows.

use crate::error::{Error, Result};
use crate::model::ids::{EventId, JobId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `run_at`, then for a worker.
    Queued,
    /// Claimed by a worker until `lease_until`.
    Running,
    /// Finished successfully.
    Done,
    /// Gave up after `max_attempts` or on a permanent error; `last_error` says why.
    Dead,
    /// Newer work with the same coalescing key replaced it before it ran.
    Superseded,
}

impl JobStatus {
    /// The lowercase name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
            JobStatus::Superseded => "superseded",
        }
    }

    /// Whether the job can still change (queued or running).
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

impl FromStr for JobStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "dead" => JobStatus::Dead,
            "superseded" => JobStatus::Superseded,
            _ => {
                return Err(Error::invalid(
                    "status",
                    "must be queued|running|done|dead|superseded",
                ))
            }
        })
    }
}

/// Default number of attempts before a job is dead.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewJob {
    /// What to run (the handler or task name).
    pub kind: String,
    /// Task input (for webhook jobs usually empty: the event is the input).
    pub payload: serde_json::Value,
    /// Work with the same key is done once: enqueueing it again while a job with this key is
    /// queued, running or done creates nothing. E.g. `review:owner/repo#12@<head sha>`.
    pub dedupe_key: Option<String>,
    /// A newer job with the same key supersedes queued (not yet running) older ones.
    /// E.g. `review:owner/repo#12`.
    pub coalesce_key: Option<String>,
    /// Attempts before the job is dead (at least 1).
    pub max_attempts: u32,
    /// Not before this time; `None` means as soon as possible.
    pub run_at: Option<Timestamp>,
}

impl NewJob {
    /// A job of the given kind with an empty payload and default attempts.
    pub fn new(kind: impl Into<String>) -> Self {
        NewJob {
            kind: kind.into(),
            payload: serde_json::Value::Null,
            dedupe_key: None,
            coalesce_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: None,
        }
    }

    /// Sets the payload.
    pub fn with_payload(mut self, payload: serde_json::Value) -> Self {
        self.payload = payload;
        self
    }

    /// Sets the dedupe key.
    pub fn with_dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    /// Sets the coalescing key.
    pub fn with_coalesce_key(mut self, key: impl Into<String>) -> Self {
        self.coalesce_key = Some(key.into());
        self
    }

    /// Sets the attempt budget.
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Delays the job until `at`.
    pub fn with_run_at(mut self, at: Timestamp) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Checks the job before any store writes it.
    pub fn validate(&self) -> Result<()> {
        if self.kind.is_empty() || self.kind.len() > 128 {
            return Err(Error::invalid("kind", "must be 1..=128 characters"));
        }
        if self.max_attempts == 0 {
            return Err(Error::invalid("max_attempts", "must be at least 1"));
        }
        Ok(())
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Row id.
    pub id: JobId,
    /// What to run.
    pub kind: String,
    /// The webhook event this job processes, if any.
    pub event_id: Option<EventId>,
    /// Task input.
    pub payload: serde_json::Value,
    /// See [`NewJob::dedupe_key`].
    pub dedupe_key: Option<String>,
    /// See [`NewJob::coalesce_key`].
    pub coalesce_key: Option<String>,
    /// Claims so far (a claim counts as an attempt).
    pub attempts: u32,
    /// Attempts before the job is dead.
    pub max_attempts: u32,
    /// Due time.
    pub run_at: Timestamp,
    /// While running: the lease's end, after which another worker may claim it.
    pub lease_until: Option<Timestamp>,
    /// While running: the worker holding the lease.
    pub leased_by: Option<String>,
    /// Where the job is.
    pub status: JobStatus,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// The result of enqueueing a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "job_id", rename_all = "snake_case")]
pub enum EnqueueOutcome {
    /// A new job was queued.
    Created(JobId),
    /// A job with the same dedupe key already exists (queued, running or done); nothing new.
    Deduplicated(JobId),
}

impl EnqueueOutcome {
    /// The job's id, new or existing.
    pub fn job_id(self) -> JobId {
        match self {
            EnqueueOutcome::Created(id) | EnqueueOutcome::Deduplicated(id) => id,
        }
    }
}

/// How a claim asks for work.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClaimRequest {
    /// Who claims (kept on the job; only this worker may complete it).
    pub worker: String,
    /// At most this many jobs.
    pub limit: usize,
    /// The lease length: until `now + lease` no one else can claim the job.
    pub lease: std::time::Duration,
    /// The current time (jobs with `run_at <= now`, or an expired lease, are due).
    pub now: Timestamp,
}

impl ClaimRequest {
    /// A claim of up to `limit` jobs with the given lease.
    pub fn new(
        worker: impl Into<String>,
        limit: usize,
        lease: std::time::Duration,
        now: Timestamp,
    ) -> Self {
        ClaimRequest {
            worker: worker.into(),
            limit,
            lease,
            now,
        }
    }

    /// The lease's end for jobs claimed now.
    pub fn lease_until(&self) -> Timestamp {
        self.now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::MAX)
    }
}

/// What a failed attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOutcome {
    /// Queued again for the given time.
    Rescheduled,
    /// Out of attempts: the job is dead.
    Dead,
}

/// Queue counts for dashboards and health checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsSummary {
    /// Queued jobs (due or not).
    pub queued: u64,
    /// Jobs under lease.
    pub running: u64,
    /// Finished jobs.
    pub done: u64,
    /// Dead jobs.
    pub dead: u64,
    /// Superseded jobs.
    pub superseded: u64,
    /// The creation time of the oldest queued job.
    pub oldest_queued_at: Option<Timestamp>,
}
