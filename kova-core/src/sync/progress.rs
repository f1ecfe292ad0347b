//! Per-repository progress events, for a caller that streams them (SSE) or shows them
//! (Python).

use crate::model::{RepoRef, SyncOutcome};
use crate::time::Timestamp;
use futures::channel::mpsc;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One step of one repository's sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncProgress {
    /// Which repository.
    pub repo: RepoRef,
    /// What just happened.
    #[serde(flatten)]
    pub stage: SyncStage,
    /// When.
    pub at: Timestamp,
}

/// The stages of a repository's sync, in the order they happen. A pass starts with
/// [`Started`](SyncStage::Started) and ends with one [`Done`](SyncStage::Done) or
/// [`Failed`](SyncStage::Failed); a caller that joined a running sync first gets
/// [`Joined`](SyncStage::Joined). When a push asked for a fresh pass while one was running
/// ([`SyncRequest::fresh`](crate::sync::SyncRequest::fresh)), a second pass follows, from
/// `Started` again; the result is the last pass's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncStage {
    /// The sync began.
    Started,
    /// This request joined a sync of the repository already running; the events that follow
    /// are that sync's.
    Joined,
    /// Repository metadata fetched and its snapshot recorded.
    Metadata,
    /// The default branch has not moved: nothing more to fetch.
    Unchanged,
    /// The file tree was fetched.
    Tree {
        /// Files in it.
        files: u32,
        /// The listing is partial.
        truncated: bool,
    },
    /// README and manifests were fetched and parsed.
    Manifests {
        /// Manifests parsed.
        count: u32,
    },
    /// The LLM analysis is running.
    Analysis,
    /// A retryable failure; waiting before trying again.
    Retrying {
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// How long it waits first, in milliseconds.
        wait_ms: u64,
        /// The failure.
        error: String,
    },
    /// Finished.
    Done {
        /// How it ended (`updated`, `unchanged`, `missing`).
        outcome: SyncOutcome,
    },
    /// Failed; other repositories go on.
    Failed {
        /// Why.
        error: String,
    },
}

impl SyncStage {
    /// Whether this is the last event of a repository's sync.
    pub fn is_final(&self) -> bool {
        matches!(self, SyncStage::Done { .. } | SyncStage::Failed { .. })
    }
}

/// Where progress events go. Called from the sync's own task; keep it quick (push to a
/// channel, not a network write).
pub type ProgressSink = Arc<dyn Fn(&SyncProgress) + Send + Sync>;

/// A sink that drops every event.
pub fn no_progress() -> ProgressSink {
    Arc::new(|_: &SyncProgress| {})
}

/// A sink that forwards events into an unbounded channel, and the receiving end (a `Stream`),
/// e.g. for server-sent events. Events sent after the receiver is dropped are discarded.
pub fn progress_channel() -> (ProgressSink, mpsc::UnboundedReceiver<SyncProgress>) {
    let (tx, rx) = mpsc::unbounded();
    let sink: ProgressSink = Arc::new(move |p: &SyncProgress| {
        let _ = tx.unbounded_send(p.clone());
    });
    (sink, rx)
}
