//! `pull_request`: a pull request opened, synchronized, closed, labelled…

use super::common::{lenient_timestamp, BranchRef, InstallationRef, Label, Repository, User};
use kova_core::Timestamp;
use serde::Deserialize;

/// A `pull_request` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PullRequestEvent {
    /// `opened`, `synchronize`, `closed`, `reopened`, `edited`, `labeled`…
    pub action: String,
    /// The pull request number.
    pub number: u64,
    /// The pull request.
    pub pull_request: PullRequestPayload,
    /// Head before a `synchronize`.
    pub before: Option<String>,
    /// Head after a `synchronize`.
    pub after: Option<String>,
    /// The label, for `labeled`/`unlabeled`.
    pub label: Option<Label>,
    /// The repository.
    pub repository: Repository,
    /// Who triggered it.
    pub sender: Option<User>,
    /// GitHub App installation.
    pub installation: Option<InstallationRef>,
}

/// A pull request in a payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PullRequestPayload {
    /// Global id.
    pub id: u64,
    /// Number.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Title.
    pub title: String,
    /// Description.
    pub body: Option<String>,
    /// Draft.
    pub draft: bool,
    /// Merged (closed by a merge).
    pub merged: Option<bool>,
    /// The merge commit, once merged (or the test merge commit while open).
    pub merge_commit_sha: Option<String>,
    /// Author.
    pub user: User,
    /// Head branch.
    pub head: BranchRef,
    /// Base branch.
    pub base: BranchRef,
    /// Labels.
    pub labels: Vec<Label>,
    /// Web address.
    pub html_url: String,
    /// Diff address.
    pub diff_url: Option<String>,
    /// Created.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
    /// Last updated.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub updated_at: Option<Timestamp>,
    /// Closed.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub closed_at: Option<Timestamp>,
    /// Merged.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub merged_at: Option<Timestamp>,
    /// Commits in the pull request.
    pub commits: Option<u64>,
    /// Lines added.
    pub additions: Option<u64>,
    /// Lines removed.
    pub deletions: Option<u64>,
    /// Files changed.
    pub changed_files: Option<u64>,
}
