//! `issues` and `issue_comment`.

use super::common::{lenient_timestamp, InstallationRef, Label, Repository, User};
use kova_core::Timestamp;
use serde::Deserialize;

/// An `issues` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct IssuesEvent {
    /// `opened`, `edited`, `closed`, `labeled`, `assigned`…
    pub action: String,
    /// The issue.
    pub issue: Issue,
    /// The label, for `labeled`/`unlabeled`.
    pub label: Option<Label>,
    /// The assignee, for `assigned`/`unassigned`.
    pub assignee: Option<User>,
    /// The changes, for `edited` (kept as raw JSON: its shape varies by field).
    pub changes: Option<serde_json::Value>,
    /// The repository.
    pub repository: Repository,
    /// Who triggered it.
    pub sender: Option<User>,
    /// GitHub App installation.
    pub installation: Option<InstallationRef>,
}

/// An `issue_comment` payload (comments on issues and on pull requests).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct IssueCommentEvent {
    /// `created`, `edited` or `deleted`.
    pub action: String,
    /// The issue (or pull request) commented on.
    pub issue: Issue,
    /// The comment.
    pub comment: Comment,
    /// The repository.
    pub repository: Repository,
    /// Who triggered it.
    pub sender: Option<User>,
    /// GitHub App installation.
    pub installation: Option<InstallationRef>,
}

impl IssueCommentEvent {
    /// True when the comment is on a pull request rather than an issue.
    pub fn is_pull_request(&self) -> bool {
        self.issue.pull_request.is_some()
    }
}

/// An issue in a payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Issue {
    /// Global id.
    pub id: u64,
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// Author.
    pub user: User,
    /// Labels.
    pub labels: Vec<Label>,
    /// Assignees.
    pub assignees: Vec<User>,
    /// Comment count.
    pub comments: u64,
    /// Web address.
    pub html_url: String,
    /// Present when the issue is a pull request (its links, kept raw).
    pub pull_request: Option<serde_json::Value>,
    /// Created.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
    /// Last updated.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub updated_at: Option<Timestamp>,
    /// Closed.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub closed_at: Option<Timestamp>,
}

/// A comment in a payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Comment {
    /// Comment id.
    pub id: u64,
    /// Markdown body.
    pub body: String,
    /// Author.
    pub user: User,
    /// Web address.
    pub html_url: String,
    /// Author's relation to the repository (`OWNER`, `MEMBER`, `CONTRIBUTOR`, `NONE`…).
    pub author_association: Option<String>,
    /// Created.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
    /// Last updated.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub updated_at: Option<Timestamp>,
}
