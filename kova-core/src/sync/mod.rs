//! Multi-repository sync and discovery.
//!
//! [`SyncService`] keeps the tracked repositories (the `kova_repos_config.json` file and the
//! store) in step with their host:
//!
//! - **sync**: for each repository, first priority first, at most
//!   [`SyncOptions::concurrency`] at once (across every concurrent call): metadata and a
//!   snapshot; the default branch's head; and, only if the head moved (or on the first
//!   sync), the tree, README, manifests (Cargo, npm, Python, Go, Docker, Compose,
//!   Kubernetes) and languages, then an optional LLM analysis. Each repository ends with a
//!   [`SyncLog`](crate::SyncLog) and an updated [`Repository`](crate::Repository); what the
//!   content fetch found ([`RepoSummary`]) is returned in the report and stored as a `data`
//!   artifact named [`SUMMARY_ARTIFACT`], one version per head commit, linked to the sync log;
//!   an analysis is an `analysis` artifact ([`ANALYSIS_ARTIFACT`]) and its call an
//!   [`LlmInteraction`](crate::LlmInteraction).
//! - **retries**: retryable failures wait 2, 4, 8, 16 s ([`RetryPolicy`]) through an
//!   injected [`Sleeper`], longer when the host asks; one repository's failure never stops
//!   the others; a repository the host does not have is `missing` and stays `planned`.
//! - **one sync per repository**: a request for a repository that is syncing joins the
//!   running sync (see [`SyncRequest::fresh`] for pushes).
//! - **progress**: [`SyncProgress`] events per repository through a [`ProgressSink`]
//!   ([`progress_channel`] gives a stream for SSE).
//! - **discover**: the owner's repositories matching the name glob, the new ones added when
//!   `auto_add` is on, and topic searches.
//! - **auto-sync**: [`AutoSync`] syncs on an interval and after pushes, driven by any runtime.
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use kova_core::{config::ReposConfig, sync::*, testing::FakeSource, RepoKind, SyncOutcome};
//! use std::sync::Arc;
//! # futures::executor::block_on(async {
//! let host = Arc::new(FakeSource::new());
//! host.add_repo(FakeSource::remote(&"octo/app".parse()?));
//! let store = Arc::new(kova_store::MemoryStore::new());
//! let service = SyncService::builder(store, host)
//!     .with_config(ReposConfig::new("octo"), None)
//!     .build();
//! service.add(AddRepo::new("octo/app".parse()?, RepoKind::Core)).await?;
//! service.add(AddRepo::new("octo/later".parse()?, RepoKind::Service)).await?;
//! let report = service.sync(SyncRequest::all()).await?;
//! assert_eq!(report.totals.repos, 2);
//! assert_eq!(report.results[1].outcome, SyncOutcome::Missing);
//! # Ok::<(), kova_core::Error>(()) }).unwrap(); }
//! ```

mod analysis;
mod discover;
mod inflight;
mod kubernetes;
mod limit;
pub mod manifests;
mod options;
mod pipeline;
mod progress;
mod record;
mod report;
mod scheduler;
mod select;
mod service;
mod sleeper;
mod status;
mod syncer;

pub use analysis::ANALYSIS_PURPOSE;
pub use discover::{DiscoverOptions, DiscoverReport, DiscoveredRepo, TopicMatches};
pub use kubernetes::K8sObject;
pub use manifests::{Dependency, DependencyScope, Manifest, ManifestKind};
pub use options::{RetryPolicy, SyncOptions};
pub use pipeline::{ANALYSIS_ARTIFACT, SUMMARY_ARTIFACT};
pub use progress::{no_progress, progress_channel, ProgressSink, SyncProgress, SyncStage};
pub use report::{
    AnalysisResult, RepoSummary, RepoSyncResult, SkippedRepo, SyncReport, SyncRequest, SyncTotals,
};
pub use scheduler::{AutoSync, TickReport};
pub use select::{SkippedFile, TreeSummary};
pub use service::{AddOutcome, AddRepo, SyncService, SyncServiceBuilder};
pub use sleeper::{Sleeper, ThreadSleeper};
pub use status::SyncStatus;
