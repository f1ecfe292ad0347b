//! The `SourceHost` plugin trait (GitHub, or anything that hosts repositories) and the
//! host-neutral types it speaks.

use crate::error::Result;
use crate::model::RepoRef;
use crate::time::Timestamp;
use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;

mod tally;
pub use tally::report_not_modified;
pub(crate) use tally::Tallied;

/// A repository as the host describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteRepo {
    /// `owner/name`.
    pub repo: RepoRef,
    /// Free text.
    pub description: Option<String>,
    /// The default branch.
    pub default_branch: String,
    /// Primary language.
    pub language: Option<String>,
    /// Topics.
    pub topics: Vec<String>,
    /// Private repository.
    pub private: bool,
    /// Archived (read-only).
    pub archived: bool,
    /// A fork.
    pub fork: bool,
    /// Stargazers.
    pub stars: u64,
    /// Forks.
    pub forks: u64,
    /// Watchers (subscribers).
    pub watchers: u64,
    /// Open issues and pull requests.
    pub open_issues: u64,
    /// Size in KB.
    pub size_kb: u64,
    /// Last push.
    pub pushed_at: Option<Timestamp>,
    /// Last update of the repository object.
    pub updated_at: Option<Timestamp>,
    /// Web address.
    pub html_url: Option<String>,
}

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A file.
    Blob,
    /// A directory.
    Tree,
    /// A submodule.
    Commit,
}

/// One entry of a repository tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    /// Path from the repository root.
    pub path: String,
    /// File, directory or submodule.
    pub kind: EntryKind,
    /// Size in bytes (files only).
    pub size: Option<u64>,
    /// Object id.
    pub sha: String,
}

/// A repository's file tree at one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// The tree's object id.
    pub sha: String,
    /// Every entry, recursively.
    pub entries: Vec<TreeEntry>,
    /// True if the host's listing was cut short and the fallback could not complete it
    /// either: callers must treat the listing as partial.
    pub truncated: bool,
}

/// A file's content at one ref.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContent {
    /// Path from the repository root.
    pub path: String,
    /// Blob id.
    pub sha: String,
    /// The bytes, decoded.
    pub content: Bytes,
}

impl FileContent {
    /// The content as UTF-8 text, if it is.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.content).ok()
    }
}

/// A commit, as much as listings show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSummary {
    /// Commit id.
    pub sha: String,
    /// Full message.
    pub message: String,
    /// Author name (or login).
    pub author: Option<String>,
    /// Author date.
    pub date: Option<Timestamp>,
}

/// How a file changed in a pull request or comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    /// Path after the change.
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    /// Lines added.
    pub additions: u64,
    /// Lines removed.
    pub deletions: u64,
    /// The unified diff hunk text; `None` when the host omits it (binary or too large).
    pub patch: Option<String>,
    /// Path before a rename.
    pub previous_filename: Option<String>,
}

/// Two refs compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// `ahead`, `behind`, `diverged` or `identical`.
    pub status: String,
    /// Commits in head not in base.
    pub ahead_by: u64,
    /// Commits in base not in head.
    pub behind_by: u64,
    /// The commits from base to head.
    pub commits: Vec<CommitSummary>,
    /// The files changed from base to head.
    pub files: Vec<ChangedFile>,
}

/// A pull request, as much as reviews need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// Draft.
    pub draft: bool,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub head_ref: String,
    /// Base commit.
    pub base_sha: String,
    /// Base branch.
    pub base_ref: String,
    /// Author login.
    pub author: Option<String>,
}

/// A comment on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueComment {
    /// Comment id.
    pub id: u64,
    /// Markdown body.
    pub body: String,
    /// Author login.
    pub author: Option<String>,
    /// Web address.
    pub html_url: Option<String>,
}

/// Options for listing commits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitQuery {
    /// Branch or commit to start from; `None` is the default branch.
    pub git_ref: Option<String>,
    /// Only commits after this time.
    pub since: Option<Timestamp>,
    /// At most this many (newest first).
    pub limit: Option<usize>,
}

impl CommitQuery {
    /// Starts from `git_ref`.
    pub fn with_ref(mut self, git_ref: impl Into<String>) -> Self {
        self.git_ref = Some(git_ref.into());
        self
    }
    /// At most `n` commits.
    pub fn with_limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
    /// Only commits after `since`.
    pub fn with_since(mut self, since: Timestamp) -> Self {
        self.since = Some(since);
        self
    }
}

/// A place that hosts repositories (GitHub, GitHub Enterprise Server, a fake in tests).
///
/// # Contract
/// - A missing repository, file or pull request is [`Error::NotFound`](crate::Error::NotFound).
/// - Listings are complete: implementations follow every page (by the host's own links, never by
///   guessing page URLs) and say when a listing is partial ([`Tree::truncated`]).
/// - Conditional requests and rate limits are the implementation's business: an unchanged
///   resource should cost a 304, an exhausted limit a wait (or
///   [`Error::RateLimited`](crate::Error::RateLimited) with `retry_after` when the wait is
///   too long). Each 304 is reported with [`report_not_modified`] from inside the call, so
///   sync logs can count them.
/// - Writes (comments) are not retried blindly: a failed write is reported, not repeated.
#[async_trait]
pub trait SourceHost: Send + Sync + Debug + 'static {
    /// The host's name (`github`).
    fn name(&self) -> &str;

    /// One repository.
    async fn get_repo(&self, repo: &RepoRef) -> Result<RemoteRepo>;

    /// Every repository of a user or organisation (all pages).
    async fn list_owner_repos(&self, owner: &str) -> Result<Vec<RemoteRepo>>;

    /// Repositories matching a search query (e.g. `topic:kubernetes org:x`), all pages up to
    /// the host's cap.
    async fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>>;

    /// The recursive file tree at a ref.
    async fn get_tree(&self, repo: &RepoRef, git_ref: &str) -> Result<Tree>;

    /// A file's content at a ref (`None`: the default branch).
    async fn get_file(
        &self,
        repo: &RepoRef,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<FileContent>;

    /// Languages by bytes of code.
    async fn get_languages(&self, repo: &RepoRef) -> Result<BTreeMap<String, u64>>;

    /// Commits, newest first.
    async fn list_commits(&self, repo: &RepoRef, query: &CommitQuery)
        -> Result<Vec<CommitSummary>>;

    /// Compares two refs (`base...head`).
    async fn compare(&self, repo: &RepoRef, base: &str, head: &str) -> Result<Comparison>;

    /// One pull request.
    async fn get_pull_request(&self, repo: &RepoRef, number: u64) -> Result<PullRequest>;

    /// The files a pull request changes (all pages).
    async fn pull_request_files(&self, repo: &RepoRef, number: u64) -> Result<Vec<ChangedFile>>;

    /// Comments on an issue or pull request (all pages).
    async fn list_issue_comments(&self, repo: &RepoRef, number: u64) -> Result<Vec<IssueComment>>;

    /// Posts a comment on an issue or pull request.
    async fn create_issue_comment(
        &self,
        repo: &RepoRef,
        number: u64,
        body: &str,
    ) -> Result<IssueComment>;

    /// Replaces a comment's body.
    async fn update_issue_comment(
        &self,
        repo: &RepoRef,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment>;
}
