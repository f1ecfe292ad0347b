//! GitHub's JSON as the REST API sends it, private to the crate, and its conversion into
//! Kova's host-neutral types. Lenient: missing fields take defaults, unknown ones are ignored.

use kova_core::{
    ChangedFile, CommitSummary, EntryKind, Error, IssueComment, PullRequest, RemoteRepo, RepoRef,
    Result, Timestamp, TreeEntry,
};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Owner {
    pub login: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Repo {
    pub full_name: String,
    pub description: Option<String>,
    pub default_branch: Option<String>,
    pub language: Option<String>,
    pub topics: Vec<String>,
    pub private: bool,
    pub archived: bool,
    pub fork: bool,
    pub stargazers_count: u64,
    pub forks_count: u64,
    pub subscribers_count: Option<u64>,
    pub watchers_count: u64,
    pub open_issues_count: u64,
    pub size: u64,
    pub pushed_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub html_url: Option<String>,
}

impl Repo {
    pub fn into_remote(self) -> Result<RemoteRepo> {
        let repo: RepoRef = self.full_name.parse().map_err(|_| Error::Protocol {
            service: super::SERVICE.into(),
            message: format!(
                "repository full_name '{}' is not owner/name",
                self.full_name
            ),
        })?;
        Ok(RemoteRepo {
            repo,
            description: self.description,
            default_branch: self.default_branch.unwrap_or_else(|| "main".to_string()),
            language: self.language,
            topics: self.topics,
            private: self.private,
            archived: self.archived,
            fork: self.fork,
            stars: self.stargazers_count,
            forks: self.forks_count,
            // Listings omit `subscribers_count`; `watchers_count` there is the star count.
            watchers: self.subscribers_count.unwrap_or(self.watchers_count),
            open_issues: self.open_issues_count,
            size_kb: self.size,
            pushed_at: self.pushed_at,
            updated_at: self.updated_at,
            html_url: self.html_url,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchPage {
    pub total_count: u64,
    pub incomplete_results: bool,
    pub items: Vec<Repo>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GitTree {
    pub sha: String,
    pub tree: Vec<GitTreeEntry>,
    pub truncated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GitTreeEntry {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
}

impl GitTreeEntry {
    /// The entry with `prefix/` before its path; `None` for kinds Kova does not know.
    pub fn into_entry(self, prefix: &str) -> Option<TreeEntry> {
        let kind = match self.kind.as_str() {
            "blob" => EntryKind::Blob,
            "tree" => EntryKind::Tree,
            "commit" => EntryKind::Commit,
            _ => return None,
        };
        let path = if prefix.is_empty() {
            self.path
        } else {
            format!("{prefix}/{}", self.path)
        };
        Some(TreeEntry {
            path,
            kind,
            size: self.size,
            sha: self.sha,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Content {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    pub sha: String,
    pub size: u64,
    pub encoding: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Commit {
    pub sha: String,
    pub commit: CommitDetail,
    pub author: Option<Owner>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommitDetail {
    pub message: String,
    pub author: Option<GitIdentity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GitIdentity {
    pub name: Option<String>,
    pub date: Option<Timestamp>,
}

impl From<Commit> for CommitSummary {
    fn from(c: Commit) -> Self {
        let git_author = c.commit.author.unwrap_or_default();
        CommitSummary {
            sha: c.sha,
            message: c.commit.message,
            author: git_author
                .name
                .or_else(|| c.author.map(|a| a.login).filter(|l| !l.is_empty())),
            date: git_author.date,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct File {
    pub filename: String,
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
    pub patch: Option<String>,
    pub previous_filename: Option<String>,
}

impl From<File> for ChangedFile {
    fn from(f: File) -> Self {
        ChangedFile {
            filename: f.filename,
            status: f.status,
            additions: f.additions,
            deletions: f.deletions,
            patch: f.patch,
            previous_filename: f.previous_filename,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Comparison {
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
    pub commits: Vec<Commit>,
    pub files: Vec<File>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pull {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub draft: bool,
    pub head: Branch,
    pub base: Branch,
    pub user: Option<Owner>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Branch {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
}

impl From<Pull> for PullRequest {
    fn from(p: Pull) -> Self {
        PullRequest {
            number: p.number,
            title: p.title,
            body: p.body,
            state: p.state,
            draft: p.draft,
            head_sha: p.head.sha,
            head_ref: p.head.git_ref,
            base_sha: p.base.sha,
            base_ref: p.base.git_ref,
            author: p.user.map(|u| u.login),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Comment {
    pub id: u64,
    pub body: Option<String>,
    pub user: Option<Owner>,
    pub html_url: Option<String>,
}

impl From<Comment> for IssueComment {
    fn from(c: Comment) -> Self {
        IssueComment {
            id: c.id,
            body: c.body.unwrap_or_default(),
            author: c.user.map(|u| u.login),
            html_url: c.html_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_repository_converts() {
        let raw = include_str!("../../tests/fixtures/rest/get-repository.json");
        let v: serde_json::Value = serde_json::from_str(raw).unwrap();
        let repo: Repo = serde_json::from_value(v[0]["response"].clone()).unwrap();
        let remote = repo.into_remote().unwrap();
        assert_eq!(remote.repo.to_string(), "octokit-fixture-org/hello-world");
        assert_eq!(remote.default_branch, "master");
        assert!(!remote.private && !remote.fork);
    }
}
