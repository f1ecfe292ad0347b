//! # kova-core
//!
//! Kova's domain model, its plugin traits and its configuration, with no I/O library in sight:
//! backends ([`Store`]), LLM providers ([`LlmProvider`]), source hosts ([`SourceHost`]),
//! webhook receivers ([`WebhookReceiver`]) and event handlers ([`EventHandler`]) live in other
//! crates and plug in here.
//!
//! With the `testing` feature, [`testing`] holds the Store conformance suite every backend
//! runs, and test doubles: `ScriptedLlm`, `FakeSource`, `ManualClock`.

pub mod artifacts;
pub mod config;
pub mod engine;
pub mod error;
pub mod handler;
pub mod handlers;
pub mod model;
pub mod provider;
pub mod source;
pub mod store;
pub mod sync;
pub mod time;
pub mod webhook;

#[cfg(feature = "testing")]
pub mod testing;

pub use artifacts::{
    supported_types, AnalyzeRequest, ArtifactRequest, ArtifactService, CommandRequest,
    CommandResponse, GeneratedArtifact, RepoSyncer, ScanOptions, ScanReport, SupportedTypes,
};
pub use engine::{EngineSettings, IngestOutcome, Kova, KovaBuilder, ProcessReport};
pub use error::{BoxError, Error, Result, SignatureError};
pub use handler::{EventHandler, HandlerContext, HandlerOutcome};
pub use model::*;
pub use provider::{
    estimate_tokens, Completion, CompletionRequest, CompletionStream, LlmCapabilities, LlmProvider,
    Message, Role, StopReason, StreamEvent, SystemBlock,
};
pub use source::{
    ChangedFile, CommitQuery, CommitSummary, Comparison, EntryKind, FileContent, IssueComment,
    PullRequest, RemoteRepo, SourceHost, Tree, TreeEntry,
};
pub use store::{
    initial_status, ArtifactFilter, DeliveryOutcome, EventFilter, InteractionFilter, JobFilter,
    Store, StoreCapabilities, StoreExt,
};
pub use sync::{
    AutoSync, SyncProgress, SyncReport, SyncRequest, SyncService, SyncServiceBuilder, SyncStage,
};
#[cfg(feature = "tokio")]
pub use time::TokioSleeper;
pub use time::{Clock, Sleeper, SystemClock, Timestamp};
pub use webhook::{HeaderSource, WebhookReceiver};
