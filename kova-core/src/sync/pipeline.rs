//! One pass over one repository: metadata → snapshot → head check → (tree, README,
//! manifests, languages → analysis) → sync log, artifacts and repository record.
//!
//! The request sequence is minimal: an unchanged repository costs two requests (metadata and
//! the default branch's head, both conditional for a host that caches by ETag); a changed one
//! adds the tree, the README, each manifest and the languages. Requests are made one after
//! another, so the concurrency limit is also the number of requests in flight.

use crate::error::{Error, Result};
use crate::model::{RepoRef, RepoSnapshot, RepoStatus};
use crate::source::{CommitQuery, RemoteRepo, Tallied};
use crate::sync::analysis::{self, Analysis};
use crate::sync::inflight::{Emitter, RepoJob};
use crate::sync::manifests::{self, Manifest, ManifestKind};
use crate::sync::progress::SyncStage;
use crate::sync::report::{RepoSummary, RepoSyncResult};
use crate::sync::select::{self, SkippedFile};
use crate::sync::service::{Inner, Target};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The name of the `data` artifact holding a repository's [`RepoSummary`].
pub const SUMMARY_ARTIFACT: &str = "repository summary";
/// The name of the `analysis` artifact holding a repository's LLM analysis.
pub const ANALYSIS_ARTIFACT: &str = "repository analysis";

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: u32,
    /// Requests the host answered from its cache (304), as it reported them.
    pub(super) not_modified: u32,
    pub(super) retries: u32,
}

/// Why a pass stopped.
pub(super) struct Failure {
    /// The host does not have the repository.
    pub(super) missing: bool,
    pub(super) error: Error,
}

impl Failure {
    fn at(stage: &'static str) -> impl FnOnce(Error) -> Failure {
        move |error| Failure {
            missing: stage == "metadata" && matches!(error, Error::NotFound { .. }),
            error,
        }
    }
}

/// What a successful pass fetched.
pub(super) struct Fetched {
    pub(super) remote: RemoteRepo,
    pub(super) head: Option<String>,
    pub(super) deep: Option<Deep>,
}

pub(super) struct Deep {
    pub(super) summary: RepoSummary,
    pub(super) analysis: Option<std::result::Result<Analysis, String>>,
}

impl Inner {
    /// Runs one pass; never fails: a failure is in the result (and the log, and the record).
    pub(crate) async fn sync_once(&self, em: &Emitter<'_>, job: RepoJob) -> RepoSyncResult {
        let repo = em.repo;
        let started_at = self.clock.now();
        let t0 = Instant::now();
        em.emit(SyncStage::Started);
        let mut c = Counters::default();
        let target = match self.target(repo).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                let e = Error::not_found("tracked repository", repo);
                return self
                    .untracked(em, started_at, t0, e, RepoStatus::Planned)
                    .await;
            }
            Err(e) => {
                return self
                    .untracked(em, started_at, t0, e, RepoStatus::Error)
                    .await
            }
        };
        let fetched = self.fetch(&target, job, em, &mut c).await;
        self.finish(em, target, fetched, c, started_at, t0).await
    }

    /// Calls the host (or the store), retrying retryable failures with backoff; `count`
    /// says whether the attempts are host requests.
    pub(super) async fn call<T, F, Fut>(
        &self,
        c: &mut Counters,
        em: &Emitter<'_>,
        count: bool,
        mut op: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        // Atomics only because the future must be `Send`; the not-modified count is shared
        // with the host's reports (see `source::tally`), the others are not shared.
        let requests = AtomicU32::new(0);
        let not_modified = Arc::new(AtomicU32::new(0));
        let retries = AtomicU32::new(0);
        let out = self
            .retrying(
                || {
                    requests.fetch_add(1, Ordering::Relaxed);
                    Tallied::new(Box::pin(op()), not_modified.clone())
                },
                |attempt, wait, error| {
                    retries.fetch_add(1, Ordering::Relaxed);
                    em.emit(SyncStage::Retrying {
                        attempt,
                        wait_ms: wait.as_millis() as u64,
                        error: error.to_string(),
                    });
                },
            )
            .await;
        if count {
            c.requests += requests.into_inner();
            c.not_modified += not_modified.load(Ordering::Relaxed);
        }
        c.retries += retries.into_inner();
        out
    }

    async fn fetch(
        &self,
        target: &Target,
        job: RepoJob,
        em: &Emitter<'_>,
        c: &mut Counters,
    ) -> std::result::Result<Fetched, Failure> {
        let repo = &target.repo.repo;
        let src = &self.source;
        let remote = self
            .call(c, em, true, || src.get_repo(repo))
            .await
            .map_err(Failure::at("metadata"))?;
        let snapshot = RepoSnapshot {
            repo: repo.clone(),
            stars: remote.stars,
            forks: remote.forks,
            watchers: remote.watchers,
            open_issues: remote.open_issues,
            size_kb: remote.size_kb,
            pushed_at: remote.pushed_at,
            recorded_at: self.clock.now(),
        };
        self.call(c, em, false, || self.store.record_snapshot(&snapshot))
            .await
            .map_err(Failure::at("snapshot"))?;
        em.emit(SyncStage::Metadata);

        let branch = remote.default_branch.clone();
        let query = CommitQuery::default().with_ref(branch).with_limit(1);
        let commits = self
            .call(c, em, true, || async {
                match src.list_commits(repo, &query).await {
                    // GitHub answers 409 for a repository without commits.
                    Err(Error::Upstream { status: 409, .. }) => Ok(Vec::new()),
                    r => r,
                }
            })
            .await
            .map_err(Failure::at("head"))?;
        let head = commits.into_iter().next().map(|c| c.sha);
        let moved = head.is_some() && (job.force || head != target.repo.head_sha);
        if !moved {
            em.emit(SyncStage::Unchanged);
            return Ok(Fetched {
                remote,
                head,
                deep: None,
            });
        }
        let head_sha = head.clone().unwrap_or_default();
        let deep = self
            .fetch_content(target, &remote, &head_sha, job, em, c)
            .await?;
        Ok(Fetched {
            remote,
            head,
            deep: Some(deep),
        })
    }

    async fn fetch_content(
        &self,
        target: &Target,
        remote: &RemoteRepo,
        head: &str,
        job: RepoJob,
        em: &Emitter<'_>,
        c: &mut Counters,
    ) -> std::result::Result<Deep, Failure> {
        let repo = &target.repo.repo;
        let src = &self.source;
        let tree = self
            .call(c, em, true, || src.get_tree(repo, head))
            .await
            .map_err(Failure::at("tree"))?;
        let tree_summary = select::summarize(&tree);
        em.emit(SyncStage::Tree {
            files: tree_summary.files,
            truncated: tree.truncated,
        });

        let mut skipped: Vec<SkippedFile> = Vec::new();
        let readme_path = select::readme(&tree);
        let mut readme: Option<String> = None;
        if let Some(path) = &readme_path {
            let size = tree
                .entries
                .iter()
                .find(|e| &e.path == path)
                .and_then(|e| e.size);
            if size.is_some_and(|s| s > self.options.max_file_bytes) {
                skipped.push(SkippedFile {
                    path: path.clone(),
                    reason: "too large".into(),
                });
            } else {
                readme = self
                    .read_text(repo, path, head, em, c, &mut skipped)
                    .await?;
            }
        }

        let (wanted, over) = select::manifests(
            &tree,
            self.options.max_manifests,
            self.options.max_file_bytes,
        );
        skipped.extend(over);
        let mut found: Vec<Manifest> = Vec::new();
        for w in wanted {
            let Some(text) = self
                .read_text(repo, &w.path, head, em, c, &mut skipped)
                .await?
            else {
                continue;
            };
            match w.kind {
                Some(kind) => found.push(manifests::parse(kind, &w.path, &text)),
                None => {
                    let m = manifests::parse(ManifestKind::Kubernetes, &w.path, &text);
                    // Only YAML that declares objects is a Kubernetes manifest.
                    if !m.kubernetes.is_empty() {
                        found.push(m);
                    }
                }
            }
        }
        em.emit(SyncStage::Manifests {
            count: found.len() as u32,
        });

        let languages = self
            .call(c, em, true, || src.get_languages(repo))
            .await
            .map_err(Failure::at("languages"))?;

        let summary = RepoSummary {
            repo: repo.clone(),
            head_sha: head.to_string(),
            default_branch: remote.default_branch.clone(),
            tree: tree_summary,
            readme_bytes: readme.as_ref().map(|r| r.len() as u64),
            readme_path: readme.as_ref().and(readme_path),
            languages,
            manifests: found,
            skipped_files: skipped,
        };
        let analysis = if job.analysis {
            Some(match &self.llm {
                Some(llm) => {
                    em.emit(SyncStage::Analysis);
                    Ok(analysis::run(self, llm, remote, &summary, readme.as_deref()).await)
                }
                None => Err(Error::NotConfigured {
                    what: "llm",
                    hint: "set ANTHROPIC_API_KEY".into(),
                }
                .to_string()),
            })
        } else {
            None
        };
        Ok(Deep { summary, analysis })
    }

    /// A file's text at `head`; `None` (and a skipped entry) when it vanished or is not UTF-8.
    async fn read_text(
        &self,
        repo: &RepoRef,
        path: &str,
        head: &str,
        em: &Emitter<'_>,
        c: &mut Counters,
        skipped: &mut Vec<SkippedFile>,
    ) -> std::result::Result<Option<String>, Failure> {
        let src = &self.source;
        match self
            .call(c, em, true, || src.get_file(repo, path, Some(head)))
            .await
        {
            Ok(f) => match f.text() {
                Some(t) => Ok(Some(t.to_string())),
                None => {
                    skipped.push(SkippedFile {
                        path: path.to_string(),
                        reason: "not UTF-8".into(),
                    });
                    Ok(None)
                }
            },
            Err(Error::NotFound { .. }) => {
                skipped.push(SkippedFile {
                    path: path.to_string(),
                    reason: "not found".into(),
                });
                Ok(None)
            }
            Err(e) => Err(Failure::at("files")(e)),
        }
    }
}
