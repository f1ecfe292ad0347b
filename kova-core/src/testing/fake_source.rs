use crate::error::{Error, Result};
use crate::model::RepoRef;
use crate::source::*;
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

type ErrorMaker = Box<dyn Fn() -> Error + Send + Sync>;

/// An in-memory [`SourceHost`]: repositories, files, commits, pull requests and comments set up
/// by the test, failures injected per operation, and every call recorded.
#[derive(Default)]
pub struct FakeSource {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    repos: BTreeMap<String, FakeRepo>,
    calls: Vec<String>,
    failures: Vec<(String, Option<String>, u32, ErrorMaker)>,
    next_comment_id: u64,
}

#[derive(Debug, Clone)]
struct FakeRepo {
    remote: RemoteRepo,
    files: BTreeMap<String, Bytes>,
    commits: Vec<CommitSummary>,
    languages: BTreeMap<String, u64>,
    tree_truncated: bool,
    pulls: BTreeMap<u64, (PullRequest, Vec<ChangedFile>)>,
    comments: HashMap<u64, Vec<IssueComment>>,
}

impl fmt::Debug for FakeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("FakeSource")
            .field("repos", &s.repos.keys().collect::<Vec<_>>())
            .field("calls", &s.calls.len())
            .finish()
    }
}

impl FakeSource {
    /// An empty host.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A plausible remote description for `repo` (branch `main`, nothing counted).
    pub fn remote(repo: &RepoRef) -> RemoteRepo {
        RemoteRepo {
            repo: repo.clone(),
            description: None,
            default_branch: "main".into(),
            language: None,
            topics: Vec::new(),
            private: false,
            archived: false,
            fork: false,
            stars: 0,
            forks: 0,
            watchers: 0,
            open_issues: 0,
            size_kb: 0,
            pushed_at: None,
            updated_at: None,
            html_url: Some(format!("https://github.com/{repo}")),
        }
    }

    /// Adds (or replaces) a repository.
    pub fn add_repo(&self, remote: RemoteRepo) -> &Self {
        self.lock().repos.insert(
            remote.repo.full_name(),
            FakeRepo {
                remote,
                files: BTreeMap::new(),
                commits: Vec::new(),
                languages: BTreeMap::new(),
                tree_truncated: false,
                pulls: BTreeMap::new(),
                comments: HashMap::new(),
            },
        );
        self
    }

    fn with_repo<T>(&self, repo: &RepoRef, f: impl FnOnce(&mut FakeRepo) -> T) -> T {
        let mut s = self.lock();
        let r = s
            .repos
            .get_mut(&repo.full_name())
            .unwrap_or_else(|| panic!("FakeSource: add_repo({repo}) first"));
        f(r)
    }

    /// Sets a file's content on the default branch.
    pub fn put_file(&self, repo: &RepoRef, path: &str, content: impl Into<Bytes>) -> &Self {
        let content = content.into();
        self.with_repo(repo, |r| r.files.insert(path.to_string(), content));
        self
    }

    /// Appends a commit (newest last; listings return newest first).
    pub fn push_commit(&self, repo: &RepoRef, commit: CommitSummary) -> &Self {
        self.with_repo(repo, |r| r.commits.push(commit));
        self
    }

    /// Sets the language statistics.
    pub fn set_languages(&self, repo: &RepoRef, languages: BTreeMap<String, u64>) -> &Self {
        self.with_repo(repo, |r| r.languages = languages);
        self
    }

    /// Makes `get_tree` report a truncated listing.
    pub fn set_tree_truncated(&self, repo: &RepoRef, truncated: bool) -> &Self {
        self.with_repo(repo, |r| r.tree_truncated = truncated);
        self
    }

    /// Adds a pull request and the files it changes.
    pub fn add_pull(&self, repo: &RepoRef, pr: PullRequest, files: Vec<ChangedFile>) -> &Self {
        self.with_repo(repo, |r| r.pulls.insert(pr.number, (pr, files)));
        self
    }

    /// Makes the next `times` calls of `operation` (the trait method's name), on `repo` or on
    /// any repository, fail with `make()`.
    pub fn fail(
        &self,
        operation: &str,
        repo: Option<&RepoRef>,
        times: u32,
        make: impl Fn() -> Error + Send + Sync + 'static,
    ) -> &Self {
        self.lock().failures.push((
            operation.to_string(),
            repo.map(RepoRef::full_name),
            times,
            Box::new(make),
        ));
        self
    }

    /// Every call so far, as `operation target` lines.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// The comments on an issue or pull request.
    pub fn comments(&self, repo: &RepoRef, number: u64) -> Vec<IssueComment> {
        self.with_repo(repo, |r| {
            r.comments.get(&number).cloned().unwrap_or_default()
        })
    }

    /// Records the call and applies any injected failure.
    fn enter(&self, operation: &str, target: &str, repo: Option<&RepoRef>) -> Result<()> {
        let mut s = self.lock();
        s.calls.push(format!("{operation} {target}"));
        let key = repo.map(RepoRef::full_name);
        if let Some(f) = s
            .failures
            .iter_mut()
            .find(|(op, r, n, _)| op == operation && *n > 0 && (r.is_none() || *r == key))
        {
            f.2 -= 1;
            return Err((f.3)());
        }
        Ok(())
    }

    fn get(&self, repo: &RepoRef) -> Result<FakeRepo> {
        self.lock()
            .repos
            .get(&repo.full_name())
            .cloned()
            .ok_or_else(|| Error::not_found("repository", repo))
    }
}

#[async_trait]
impl SourceHost for FakeSource {
    fn name(&self) -> &str {
        "fake"
    }

    async fn get_repo(&self, repo: &RepoRef) -> Result<RemoteRepo> {
        self.enter("get_repo", &repo.full_name(), Some(repo))?;
        Ok(self.get(repo)?.remote)
    }

    async fn list_owner_repos(&self, owner: &str) -> Result<Vec<RemoteRepo>> {
        self.enter("list_owner_repos", owner, None)?;
        Ok(self
            .lock()
            .repos
            .values()
            .filter(|r| r.remote.repo.owner().eq_ignore_ascii_case(owner))
            .map(|r| r.remote.clone())
            .collect())
    }

    async fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>> {
        self.enter("search_repos", query, None)?;
        // Understands the `topic:<t>` and `org:<o>`/`user:<o>` qualifiers; other words match
        // names and descriptions.
        let terms: Vec<&str> = query.split_whitespace().collect();
        Ok(self
            .lock()
            .repos
            .values()
            .map(|r| &r.remote)
            .filter(|r| {
                terms.iter().all(|t| {
                    if let Some(topic) = t.strip_prefix("topic:") {
                        r.topics.iter().any(|x| x == topic)
                    } else if let Some(o) =
                        t.strip_prefix("org:").or_else(|| t.strip_prefix("user:"))
                    {
                        r.repo.owner().eq_ignore_ascii_case(o)
                    } else {
                        r.repo.name().contains(t)
                            || r.description.as_deref().is_some_and(|d| d.contains(t))
                    }
                })
            })
            .cloned()
            .collect())
    }

    async fn get_tree(&self, repo: &RepoRef, git_ref: &str) -> Result<Tree> {
        self.enter("get_tree", &format!("{repo}@{git_ref}"), Some(repo))?;
        let r = self.get(repo)?;
        let mut entries = Vec::new();
        let mut dirs = std::collections::BTreeSet::new();
        for (path, content) in &r.files {
            let mut p = path.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                dirs.insert(parent.to_string());
                p = parent;
            }
            entries.push(TreeEntry {
                path: path.clone(),
                kind: EntryKind::Blob,
                size: Some(content.len() as u64),
                sha: crate::model::content_hash(&String::from_utf8_lossy(content))[..40]
                    .to_string(),
            });
        }
        for d in dirs {
            entries.push(TreeEntry {
                path: d,
                kind: EntryKind::Tree,
                size: None,
                sha: "0".repeat(40),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Tree {
            sha: format!("tree-{git_ref}"),
            entries,
            truncated: r.tree_truncated,
        })
    }

    async fn get_file(
        &self,
        repo: &RepoRef,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<FileContent> {
        self.enter(
            "get_file",
            &format!("{repo}:{path}@{}", git_ref.unwrap_or("")),
            Some(repo),
        )?;
        let r = self.get(repo)?;
        let content = r
            .files
            .get(path)
            .cloned()
            .ok_or_else(|| Error::not_found("file", format!("{repo}:{path}")))?;
        Ok(FileContent {
            path: path.to_string(),
            sha: crate::model::content_hash(&String::from_utf8_lossy(&content))[..40].to_string(),
            content,
        })
    }

    async fn get_languages(&self, repo: &RepoRef) -> Result<BTreeMap<String, u64>> {
        self.enter("get_languages", &repo.full_name(), Some(repo))?;
        Ok(self.get(repo)?.languages)
    }

    async fn list_commits(
        &self,
        repo: &RepoRef,
        query: &CommitQuery,
    ) -> Result<Vec<CommitSummary>> {
        self.enter("list_commits", &repo.full_name(), Some(repo))?;
        let r = self.get(repo)?;
        Ok(r.commits
            .iter()
            .rev()
            .filter(|c| match (query.since, c.date) {
                (Some(since), Some(d)) => d > since,
                _ => true,
            })
            .take(query.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    async fn compare(&self, repo: &RepoRef, base: &str, head: &str) -> Result<Comparison> {
        self.enter("compare", &format!("{repo}:{base}...{head}"), Some(repo))?;
        let r = self.get(repo)?;
        let pos = |sha: &str| r.commits.iter().position(|c| c.sha == sha);
        let (b, h) = match (pos(base), pos(head)) {
            (Some(b), Some(h)) => (b, h),
            _ => return Err(Error::not_found("commit", format!("{base}...{head}"))),
        };
        let commits: Vec<CommitSummary> = if h > b {
            r.commits[b + 1..=h].to_vec()
        } else {
            Vec::new()
        };
        let status = match h.cmp(&b) {
            std::cmp::Ordering::Greater => "ahead",
            std::cmp::Ordering::Less => "behind",
            std::cmp::Ordering::Equal => "identical",
        };
        Ok(Comparison {
            status: status.into(),
            ahead_by: h.saturating_sub(b) as u64,
            behind_by: b.saturating_sub(h) as u64,
            commits,
            files: Vec::new(),
        })
    }

    async fn get_pull_request(&self, repo: &RepoRef, number: u64) -> Result<PullRequest> {
        self.enter("get_pull_request", &format!("{repo}#{number}"), Some(repo))?;
        self.get(repo)?
            .pulls
            .get(&number)
            .map(|(p, _)| p.clone())
            .ok_or_else(|| Error::not_found("pull request", format!("{repo}#{number}")))
    }

    async fn pull_request_files(&self, repo: &RepoRef, number: u64) -> Result<Vec<ChangedFile>> {
        self.enter(
            "pull_request_files",
            &format!("{repo}#{number}"),
            Some(repo),
        )?;
        self.get(repo)?
            .pulls
            .get(&number)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| Error::not_found("pull request", format!("{repo}#{number}")))
    }

    async fn list_issue_comments(&self, repo: &RepoRef, number: u64) -> Result<Vec<IssueComment>> {
        self.enter(
            "list_issue_comments",
            &format!("{repo}#{number}"),
            Some(repo),
        )?;
        Ok(self
            .get(repo)?
            .comments
            .get(&number)
            .cloned()
            .unwrap_or_default())
    }

    async fn create_issue_comment(
        &self,
        repo: &RepoRef,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.enter(
            "create_issue_comment",
            &format!("{repo}#{number}"),
            Some(repo),
        )?;
        self.get(repo)?;
        let mut s = self.lock();
        s.next_comment_id += 1;
        let c = IssueComment {
            id: s.next_comment_id,
            body: body.to_string(),
            author: Some("kova[bot]".into()),
            html_url: None,
        };
        let r = s.repos.get_mut(&repo.full_name()).expect("checked above");
        r.comments.entry(number).or_default().push(c.clone());
        Ok(c)
    }

    async fn update_issue_comment(
        &self,
        repo: &RepoRef,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.enter(
            "update_issue_comment",
            &format!("{repo}/comments/{comment_id}"),
            Some(repo),
        )?;
        self.get(repo)?;
        let mut s = self.lock();
        let r = s.repos.get_mut(&repo.full_name()).expect("checked above");
        for list in r.comments.values_mut() {
            if let Some(c) = list.iter_mut().find(|c| c.id == comment_id) {
                c.body = body.to_string();
                return Ok(c.clone());
            }
        }
        Err(Error::not_found("comment", comment_id))
    }
}
