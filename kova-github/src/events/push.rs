//! `push`: commits pushed to a branch or tag.

use super::common::{lenient_timestamp, InstallationRef, Repository, User};
use kova_core::Timestamp;
use serde::Deserialize;

/// A `push` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PushEvent {
    /// Full ref pushed, e.g. `refs/heads/main`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Commit id before the push (zeros for a new ref).
    pub before: String,
    /// Commit id after the push (zeros for a deleted ref).
    pub after: String,
    /// The ref was created.
    pub created: bool,
    /// The ref was deleted.
    pub deleted: bool,
    /// The push was forced.
    pub forced: bool,
    /// Base ref, for a tag push.
    pub base_ref: Option<String>,
    /// Compare URL.
    pub compare: String,
    /// Pushed commits (at most 20 in a payload).
    pub commits: Vec<PushCommit>,
    /// The newest commit.
    pub head_commit: Option<PushCommit>,
    /// Who pushed.
    pub pusher: CommitUser,
    /// The repository.
    pub repository: Repository,
    /// Who triggered it.
    pub sender: Option<User>,
    /// GitHub App installation.
    pub installation: Option<InstallationRef>,
}

impl PushEvent {
    /// The branch name, if a branch (not a tag) was pushed.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }
}

/// A commit in a push payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PushCommit {
    /// Commit id.
    pub id: String,
    /// Message.
    pub message: String,
    /// Commit time.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub timestamp: Option<Timestamp>,
    /// Web address.
    pub url: String,
    /// Author.
    pub author: CommitUser,
    /// Committer.
    pub committer: CommitUser,
    /// Not already pushed elsewhere.
    pub distinct: bool,
    /// Paths added.
    pub added: Vec<String>,
    /// Paths removed.
    pub removed: Vec<String>,
    /// Paths modified.
    pub modified: Vec<String>,
}

/// A git identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CommitUser {
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// GitHub login, when GitHub knows it.
    pub username: Option<String>,
}
