//! The `EventHandler` plugin trait: what to do with a stored webhook event.

use crate::error::{Error, Result};
use crate::model::{Job, NewArtifact, NewJob, RepoError, RepoRef, WebhookDelivery, WebhookEvent};
use crate::provider::{Completion, CompletionRequest, LlmProvider};
use crate::source::SourceHost;
use crate::store::Store;
use crate::time::Clock;
use async_trait::async_trait;
use std::fmt::Debug;
use std::sync::Arc;

/// What a handler works with: the store, the LLM and source host (if configured), the clock,
/// and the job being run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandlerContext {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The LLM, if configured.
    pub llm: Option<Arc<dyn LlmProvider>>,
    /// The source host, if configured.
    pub source: Option<Arc<dyn SourceHost>>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The job being run.
    pub job: Job,
}

impl HandlerContext {
    /// A context for running `job`.
    pub fn new(
        store: Arc<dyn Store>,
        llm: Option<Arc<dyn LlmProvider>>,
        source: Option<Arc<dyn SourceHost>>,
        clock: Arc<dyn Clock>,
        job: Job,
    ) -> Self {
        HandlerContext {
            store,
            llm,
            source,
            clock,
            job,
        }
    }

    /// The LLM, or [`Error::NotConfigured`] saying how to configure one.
    pub fn llm(&self) -> Result<&Arc<dyn LlmProvider>> {
        self.llm.as_ref().ok_or_else(|| Error::NotConfigured {
            what: "llm",
            hint: "set ANTHROPIC_API_KEY".into(),
        })
    }

    /// The source host, or [`Error::NotConfigured`] saying how to configure one.
    pub fn source(&self) -> Result<&Arc<dyn SourceHost>> {
        self.source.as_ref().ok_or_else(|| Error::NotConfigured {
            what: "github",
            hint: "set GITHUB_TOKEN".into(),
        })
    }

    /// Runs a completion and records it as an [`LlmInteraction`](crate::model::LlmInteraction) (success or failure), linked
    /// to the job's event and `repo`.
    pub async fn complete(
        &self,
        purpose: &str,
        repo: Option<&RepoRef>,
        req: &CompletionRequest,
    ) -> Result<Completion> {
        let recorded = crate::artifacts::record_completion(
            self.store.as_ref(),
            self.llm()?.as_ref(),
            self.clock.as_ref(),
            purpose,
            repo,
            self.job.event_id,
            req,
        )
        .await?;
        Ok(recorded.completion)
    }
}

/// What a handler produced; the worker stores it and completes the job.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct HandlerOutcome {
    /// Artifacts to store (linked to the event by the worker).
    pub artifacts: Vec<NewArtifact>,
    /// Repository errors to record.
    pub repo_errors: Vec<RepoError>,
}

impl HandlerOutcome {
    /// Nothing to store.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds an artifact.
    pub fn with_artifact(mut self, a: NewArtifact) -> Self {
        self.artifacts.push(a);
        self
    }

    /// Adds a repository error.
    pub fn with_repo_error(mut self, e: RepoError) -> Self {
        self.repo_errors.push(e);
        self
    }
}

/// What to do with a stored webhook event of some type.
///
/// # Contract
/// - [`accepts`](EventHandler::accepts) is cheap and pure: it runs on the ingest path.
/// - [`job_for`](EventHandler::job_for) builds the job queued with the event; override it to set
///   a dedupe key (work done once) or a coalescing key (newer work supersedes older).
/// - [`handle`](EventHandler::handle) may run more than once for one event (a worker can die
///   after the work and before completing the job): it must be idempotent per delivery.
///   Retryable errors ([`Error::is_retryable`]) are retried with backoff, others make the job
///   dead.
#[async_trait]
pub trait EventHandler: Send + Sync + Debug + 'static {
    /// A stable name; also the kind of the jobs it runs.
    fn name(&self) -> &str;

    /// Whether this handler processes this event type and action.
    fn accepts(&self, event: &str, action: Option<&str>) -> bool;

    /// The job to queue for a delivery this handler accepts.
    fn job_for(&self, delivery: &WebhookDelivery) -> NewJob {
        let _ = delivery;
        NewJob::new(self.name())
    }

    /// Processes the event.
    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome>;
}
