//! The few payload fields the shipped handlers read. Lenient: every field defaults, unknown
//! fields are skipped, so a payload shape GitHub adds to never breaks a handler.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Parses a payload view, naming the event on failure.
pub(crate) fn parse<T: DeserializeOwned>(event: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::invalid("body", format!("unreadable {event} payload: {e}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct User {
    pub login: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl User {
    pub fn is_bot(&self) -> bool {
        self.kind == "Bot" || self.login.ends_with("[bot]")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Repo {
    pub full_name: String,
    pub default_branch: String,
    pub description: Option<String>,
    pub language: Option<String>,
    pub topics: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GitRef {
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PullRequest {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub draft: bool,
    pub state: String,
    pub head: GitRef,
    pub base: GitRef,
    pub user: User,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PullRequestEvent {
    pub action: String,
    pub number: u64,
    pub before: Option<String>,
    pub after: Option<String>,
    pub pull_request: PullRequest,
    pub repository: Repo,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PushCommit {
    pub id: String,
    pub message: String,
    pub author: PushAuthor,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PushAuthor {
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PushEvent {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    pub created: bool,
    pub deleted: bool,
    pub forced: bool,
    pub commits: Vec<PushCommit>,
    pub repository: Repo,
    pub pusher: PushAuthor,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Label {
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Issue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub labels: Vec<Label>,
    pub user: User,
    /// Present when the issue is a pull request.
    pub pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IssuesEvent {
    pub action: String,
    pub issue: Issue,
    pub repository: Repo,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Comment {
    pub id: u64,
    pub body: String,
    pub user: User,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IssueCommentEvent {
    pub action: String,
    pub issue: Issue,
    pub comment: Comment,
    pub repository: Repo,
    pub sender: User,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WorkflowRun {
    pub id: u64,
    pub name: String,
    pub head_branch: String,
    pub head_sha: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub run_attempt: u64,
    pub event: String,
    pub display_title: String,
    pub head_commit: Option<HeadCommit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct HeadCommit {
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WorkflowRunEvent {
    pub action: String,
    pub workflow_run: WorkflowRun,
    pub repository: Repo,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InstallationRepo {
    pub full_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InstallationEvent {
    pub action: String,
    pub repositories: Vec<InstallationRepo>,
    pub repositories_added: Vec<InstallationRepo>,
    pub repositories_removed: Vec<InstallationRepo>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PingHook {
    pub id: Option<i64>,
    pub events: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PingEvent {
    pub zen: String,
    pub hook_id: Option<i64>,
    pub hook: PingHook,
}

/// The fields the shipped handlers' dedupe and coalesce keys are made of, read at ingest
/// (`job_for`, on the webhook's hot path). Everything else, titles and bodies included, is
/// skipped by serde without being unescaped or allocated: the full views above own every string
/// they read, and a pull request's or comment's body can be tens of kilobytes.
pub(crate) mod keys {
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct RepoName {
        pub full_name: String,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct Head {
        pub sha: String,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct PullRequest {
        pub number: u64,
        pub head: Head,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct PullRequestEvent {
        pub pull_request: PullRequest,
        pub repository: RepoName,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct Comment {
        pub id: u64,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct IssueCommentEvent {
        pub comment: Comment,
        pub repository: RepoName,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct WorkflowRun {
        pub id: u64,
        pub run_attempt: u64,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(crate) struct WorkflowRunEvent {
        pub workflow_run: WorkflowRun,
        pub repository: RepoName,
    }
}
