//! The [`SourceHost`] endpoints over GitHub's REST API.

use super::transport::{parse_json, Request, ACCEPT_RAW};
use super::wire;
use super::{GitHub, Inner, SERVICE};
use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use kova_core::{
    CommitQuery, CommitSummary, Comparison, Error, FileContent, IssueComment, PullRequest,
    RemoteRepo, RepoRef, Result, SourceHost, Tree, TreeEntry,
};
use reqwest::Method;
use std::collections::BTreeMap;

/// GitHub's page size maximum.
const PER_PAGE: &str = "100";
/// The search API returns at most this many results per query.
const SEARCH_CAP: usize = 1000;
/// Subtrees fetched at once while completing a truncated tree.
const TREE_WALK_CONCURRENCY: usize = 4;
/// Requests one truncated-tree walk may make before giving up and reporting `truncated`.
const TREE_WALK_MAX_REQUESTS: usize = 2000;

fn repo_id(repo: &RepoRef) -> String {
    repo.to_string()
}

impl Inner {
    pub(super) fn repo_url(&self, repo: &RepoRef, rest: &[&str]) -> url::Url {
        let mut segments = vec!["repos", repo.owner(), repo.name()];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    async fn tree(&self, repo: &RepoRef, sha: &str, recursive: bool) -> Result<wire::GitTree> {
        let mut url = self.repo_url(repo, &["git", "trees", sha]);
        if recursive {
            url.query_pairs_mut().append_pair("recursive", "1");
        }
        self.send(Request::get(url, "tree", format!("{repo}@{sha}")))
            .await?
            .json()
    }

    /// Completes a tree GitHub truncated: lists the root without recursion, then each subtree
    /// recursively; a subtree still truncated is listed level by level. Only a level that is
    /// itself truncated (or an exhausted request budget) leaves the result incomplete.
    async fn walk_tree(&self, repo: &RepoRef, root_sha: &str) -> Result<(Vec<TreeEntry>, bool)> {
        let mut entries = Vec::new();
        let mut truncated = false;
        let mut requests = 0usize;
        // (path prefix, sha, try recursive first)
        let mut pending: Vec<(String, String, bool)> =
            vec![(String::new(), root_sha.to_string(), false)];
        while !pending.is_empty() {
            if requests + pending.len() > TREE_WALK_MAX_REQUESTS {
                tracing::warn!(%repo, "github: tree walk budget exhausted; tree stays truncated");
                return Ok((entries, true));
            }
            requests += pending.len();
            let level = std::mem::take(&mut pending);
            let results: Vec<_> = stream::iter(level)
                .map(|(prefix, sha, recursive)| async move {
                    let tree = self.tree(repo, &sha, recursive).await?;
                    Ok::<_, Error>((prefix, sha, recursive, tree))
                })
                .buffer_unordered(TREE_WALK_CONCURRENCY)
                .try_collect()
                .await?;
            for (prefix, sha, recursive, tree) in results {
                if recursive && tree.truncated {
                    // Too big even on its own: go one level at a time.
                    pending.push((prefix, sha, false));
                    continue;
                }
                truncated |= tree.truncated;
                for e in tree.tree {
                    let Some(entry) = e.into_entry(&prefix) else {
                        continue;
                    };
                    if !recursive && entry.kind == kova_core::EntryKind::Tree {
                        pending.push((entry.path.clone(), entry.sha.clone(), true));
                    }
                    entries.push(entry);
                }
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((entries, truncated))
    }

    /// `/users/{owner}` says whether the owner is an organisation: `/orgs/{owner}/repos`
    /// includes an organisation's private repositories the token can see, `/users/…` does not.
    async fn owner_is_org(&self, owner: &str) -> Result<bool> {
        let resp = self
            .send(Request::get(self.url(&["users", owner]), "owner", owner))
            .await?;
        let o: wire::Owner = resp.json()?;
        Ok(o.kind == "Organization")
    }
}

fn repos_page(resp: &super::transport::Response) -> Result<Vec<RemoteRepo>> {
    let repos: Vec<wire::Repo> = resp.json()?;
    repos.into_iter().map(wire::Repo::into_remote).collect()
}

#[async_trait]
impl SourceHost for GitHub {
    fn name(&self) -> &str {
        SERVICE
    }

    async fn get_repo(&self, repo: &RepoRef) -> Result<RemoteRepo> {
        let url = self.inner.repo_url(repo, &[]);
        let r: wire::Repo = self
            .inner
            .send(Request::get(url, "repository", repo_id(repo)))
            .await?
            .json()?;
        r.into_remote()
    }

    async fn list_owner_repos(&self, owner: &str) -> Result<Vec<RemoteRepo>> {
        let inner = &self.inner;
        let mut url = if inner.owner_is_org(owner).await? {
            let mut u = inner.url(&["orgs", owner, "repos"]);
            u.query_pairs_mut().append_pair("type", "all");
            u
        } else {
            let mut u = inner.url(&["users", owner, "repos"]);
            u.query_pairs_mut().append_pair("type", "owner");
            u
        };
        url.query_pairs_mut().append_pair("per_page", PER_PAGE);
        inner.get_pages(url, "owner", owner, None, repos_page).await
    }

    async fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>> {
        let mut url = self.inner.url(&["search", "repositories"]);
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("per_page", PER_PAGE);
        self.inner
            .get_pages(url, "search", query, Some(SEARCH_CAP), |resp| {
                let page: wire::SearchPage = resp.json()?;
                if page.incomplete_results {
                    tracing::warn!(
                        query,
                        total = page.total_count,
                        "github: search results incomplete (timed out upstream)"
                    );
                }
                page.items
                    .into_iter()
                    .map(wire::Repo::into_remote)
                    .collect()
            })
            .await
    }

    async fn get_tree(&self, repo: &RepoRef, git_ref: &str) -> Result<Tree> {
        let first = self.inner.tree(repo, git_ref, true).await?;
        if !first.truncated {
            let mut entries: Vec<TreeEntry> = first
                .tree
                .into_iter()
                .filter_map(|e| e.into_entry(""))
                .collect();
            entries.sort_by(|a, b| a.path.cmp(&b.path));
            return Ok(Tree {
                sha: first.sha,
                entries,
                truncated: false,
            });
        }
        tracing::debug!(%repo, git_ref, "github: recursive tree truncated, walking subtrees");
        let (entries, truncated) = self.inner.walk_tree(repo, &first.sha).await?;
        Ok(Tree {
            sha: first.sha,
            entries,
            truncated,
        })
    }

    async fn get_file(
        &self,
        repo: &RepoRef,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<FileContent> {
        let inner = &self.inner;
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.is_empty() || parts.iter().any(|p| *p == "." || *p == "..") {
            return Err(Error::invalid(
                "path",
                format!("'{path}' is not a file path in the repository"),
            ));
        }
        let mut segments = vec!["contents"];
        segments.extend(parts);
        let mut url = inner.repo_url(repo, &segments);
        if let Some(r) = git_ref {
            url.query_pairs_mut().append_pair("ref", r);
        }
        let id = format!("{repo}:{path}@{}", git_ref.unwrap_or("HEAD"));
        let resp = inner.send(Request::get(url.clone(), "file", &id)).await?;
        if resp.body.first() == Some(&b'[') {
            return Err(Error::invalid("path", format!("'{path}' is a directory")));
        }
        let c: wire::Content = resp.json()?;
        if c.kind != "file" {
            return Err(Error::invalid(
                "path",
                format!("'{path}' is a {}, not a file", c.kind),
            ));
        }
        let content = match (c.encoding.as_deref(), c.content.as_deref()) {
            (Some("base64"), Some(text)) if !text.is_empty() || c.size == 0 => {
                let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                Bytes::from(
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .map_err(|e| Error::Protocol {
                            service: SERVICE.into(),
                            message: format!("file content is not base64: {e}"),
                        })?,
                )
            }
            // Above 1 MB the JSON carries no content (`encoding: none`): fetch the raw bytes.
            _ => {
                let mut raw = Request::get(url, "file", id);
                raw.accept = ACCEPT_RAW;
                inner.send(raw).await?.body
            }
        };
        Ok(FileContent {
            path: if c.path.is_empty() {
                path.to_string()
            } else {
                c.path
            },
            sha: c.sha,
            content,
        })
    }

    async fn get_languages(&self, repo: &RepoRef) -> Result<BTreeMap<String, u64>> {
        let url = self.inner.repo_url(repo, &["languages"]);
        self.inner
            .send(Request::get(url, "repository", repo_id(repo)))
            .await?
            .json()
    }

    async fn list_commits(
        &self,
        repo: &RepoRef,
        query: &CommitQuery,
    ) -> Result<Vec<CommitSummary>> {
        if query.limit == Some(0) {
            return Ok(Vec::new());
        }
        let mut url = self.inner.repo_url(repo, &["commits"]);
        {
            let mut q = url.query_pairs_mut();
            if let Some(r) = &query.git_ref {
                q.append_pair("sha", r);
            }
            if let Some(since) = query.since {
                q.append_pair(
                    "since",
                    &since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                );
            }
            let per_page = query.limit.map_or(100, |l| l.clamp(1, 100));
            q.append_pair("per_page", &per_page.to_string());
        }
        let result = self
            .inner
            .get_pages(url, "repository", &repo_id(repo), query.limit, |resp| {
                let commits: Vec<wire::Commit> = resp.json()?;
                Ok(commits.into_iter().map(CommitSummary::from).collect())
            })
            .await;
        match result {
            // 409 "Git Repository is empty": no commits, not a failure.
            Err(Error::Conflict { .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    async fn compare(&self, repo: &RepoRef, base: &str, head: &str) -> Result<Comparison> {
        let basehead = format!("{base}...{head}");
        let mut url = self.inner.repo_url(repo, &["compare", &basehead]);
        url.query_pairs_mut().append_pair("per_page", PER_PAGE);
        let id = format!("{repo}@{basehead}");
        // Files come with the first page only; later pages add commits.
        let mut first: Option<wire::Comparison> = None;
        let pages = self
            .inner
            .get_pages(url, "comparison", &id, None, |resp| {
                let page: wire::Comparison = parse_json(&resp.body)?;
                Ok(vec![page])
            })
            .await?;
        let mut commits = Vec::new();
        for page in pages {
            match &mut first {
                None => first = Some(page),
                Some(_) => commits.extend(page.commits),
            }
        }
        let first = first.ok_or_else(|| Error::Protocol {
            service: SERVICE.into(),
            message: "empty comparison".into(),
        })?;
        let mut all: Vec<CommitSummary> = first.commits.into_iter().map(Into::into).collect();
        all.extend(commits.into_iter().map(CommitSummary::from));
        Ok(Comparison {
            status: first.status,
            ahead_by: first.ahead_by,
            behind_by: first.behind_by,
            commits: all,
            files: first.files.into_iter().map(Into::into).collect(),
        })
    }

    async fn get_pull_request(&self, repo: &RepoRef, number: u64) -> Result<PullRequest> {
        let n = number.to_string();
        let url = self.inner.repo_url(repo, &["pulls", &n]);
        let p: wire::Pull = self
            .inner
            .send(Request::get(
                url,
                "pull request",
                format!("{repo}#{number}"),
            ))
            .await?
            .json()?;
        Ok(p.into())
    }

    async fn pull_request_files(
        &self,
        repo: &RepoRef,
        number: u64,
    ) -> Result<Vec<kova_core::ChangedFile>> {
        let n = number.to_string();
        let mut url = self.inner.repo_url(repo, &["pulls", &n, "files"]);
        url.query_pairs_mut().append_pair("per_page", PER_PAGE);
        self.inner
            .get_pages(
                url,
                "pull request",
                &format!("{repo}#{number}"),
                None,
                |resp| {
                    let files: Vec<wire::File> = resp.json()?;
                    Ok(files.into_iter().map(Into::into).collect())
                },
            )
            .await
    }

    async fn list_issue_comments(&self, repo: &RepoRef, number: u64) -> Result<Vec<IssueComment>> {
        let n = number.to_string();
        let mut url = self.inner.repo_url(repo, &["issues", &n, "comments"]);
        url.query_pairs_mut().append_pair("per_page", PER_PAGE);
        self.inner
            .get_pages(url, "issue", &format!("{repo}#{number}"), None, |resp| {
                let comments: Vec<wire::Comment> = resp.json()?;
                Ok(comments.into_iter().map(Into::into).collect())
            })
            .await
    }

    async fn create_issue_comment(
        &self,
        repo: &RepoRef,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        let n = number.to_string();
        let url = self.inner.repo_url(repo, &["issues", &n, "comments"]);
        let req = Request::write(
            Method::POST,
            url,
            serde_json::json!({ "body": body }),
            "issue",
            format!("{repo}#{number}"),
        );
        let c: wire::Comment = self.inner.send(req).await?.json()?;
        Ok(c.into())
    }

    async fn update_issue_comment(
        &self,
        repo: &RepoRef,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment> {
        let id = comment_id.to_string();
        let url = self.inner.repo_url(repo, &["issues", "comments", &id]);
        let req = Request::write(
            Method::PATCH,
            url,
            serde_json::json!({ "body": body }),
            "comment",
            format!("{repo} comment {comment_id}"),
        );
        let c: wire::Comment = self.inner.send(req).await?.json()?;
        Ok(c.into())
    }
}
