//! Records of sync runs and of repository errors (failed CI runs and their analysis).

use crate::model::ids::{RepoErrorId, SyncLogId};
use crate::model::repo::RepoRef;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How one repository's sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncOutcome {
    /// Synced, something changed.
    Updated,
    /// Nothing changed (only conditional requests were spent).
    Unchanged,
    /// The repository does not exist (yet) on GitHub.
    Missing,
    /// It failed; see the error.
    Failed,
}

/// One repository's sync, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLog {
    /// Row id (ignored on insert).
    pub id: SyncLogId,
    /// Which repository.
    pub repo: RepoRef,
    /// How it ended.
    pub outcome: SyncOutcome,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it took.
    pub duration_ms: u64,
    /// GitHub requests made (304s included).
    pub requests: u32,
    /// HTTP answers 304 Not Modified the host reported
    /// ([`report_not_modified`](crate::source::report_not_modified)); a paged listing counts
    /// each page.
    pub not_modified: u32,
    /// Files looked at (tree entries).
    pub files: u32,
    /// Manifests parsed.
    pub manifests: u32,
    /// Attempts (1 without retries).
    pub attempts: u32,
    /// The error of the last attempt, if it failed.
    pub error: Option<String>,
}

/// An error found in a repository: a failed workflow run, with what Kova made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoError {
    /// Row id (ignored on insert).
    pub id: RepoErrorId,
    /// Which repository.
    pub repo: RepoRef,
    /// Where it came from (`workflow_run`, `sync`…).
    pub source: String,
    /// A short title (workflow name and conclusion).
    pub title: String,
    /// Details (failing job, log excerpt, link).
    pub detail: String,
    /// The commit it happened on.
    pub head_sha: Option<String>,
    /// A link to the run.
    pub url: Option<String>,
    /// Kova's analysis and fix suggestion, if made.
    pub analysis: Option<String>,
    /// When it was recorded.
    pub created_at: Timestamp,
}
