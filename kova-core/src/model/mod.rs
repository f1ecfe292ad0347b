//! The domain model: plain data, validated at construction, shared by every face and backend.

pub mod artifact;
pub mod event;
pub mod ids;
pub mod job;
pub mod llm;
pub mod page;
pub mod repo;
pub mod sync;

pub use artifact::{
    content_hash, Artifact, ArtifactKind, ArtifactMetadata, ArtifactOutcome, ArtifactSource,
    NewArtifact, Validation,
};
pub use event::{EventStatus, WebhookDelivery, WebhookEvent};
pub use ids::{ArtifactId, EventId, InteractionId, JobId, RepoErrorId, SyncLogId};
pub use job::{
    ClaimRequest, EnqueueOutcome, Job, JobStatus, JobsSummary, NewJob, RetryOutcome,
    DEFAULT_MAX_ATTEMPTS,
};
pub use llm::{LlmInteraction, Usage, UsageTotals};
pub use page::{ListOptions, Page, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use repo::{RepoKind, RepoRef, RepoSnapshot, RepoStatus, Repository};
pub use sync::{RepoError, SyncLog, SyncOutcome};
