//! One pass over one repository: metadata → snapshot → head check → (tree, README,
//! manifests, languages → analysis) → sync log, artifacts and repository record.
//!
//! The request sequence is minimal: an unchanged repository costs two requests (metadata and
//! the default branch's head, both conditional for a host that caches by ETag); a changed one
//! adds the tree, the README, each manifest and the languages. Requests are made one after
//! another, so the concurrency limit is also the number of requests in flight.

use crate::error::{Error, Result};
use crate::model::{
    ArtifactKind, ArtifactMetadata, ArtifactSource, NewArtifact, RepoRef, RepoSnapshot, RepoStatus,
    Repository, SyncLog, SyncLogId, SyncOutcome, Validation,
};
use crate::source::{CommitQuery, RemoteRepo};
use crate::sync::analysis::{self, Analysis};
use crate::sync::inflight::{Emitter, RepoJob};
use crate::sync::manifests::{self, Manifest, ManifestKind};
use crate::sync::progress::SyncStage;
use crate::sync::report::{AnalysisResult, RepoSummary, RepoSyncResult};
use crate::sync::select::{self, SkippedFile};
use crate::sync::service::{Inner, Target};
use crate::time::Timestamp;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// The name of the `data` artifact holding a repository's [`RepoSummary`].
pub const SUMMARY_ARTIFACT: &str = "repository summary";
/// The name of the `analysis` artifact holding a repository's LLM analysis.
pub const ANALYSIS_ARTIFACT: &str = "repository analysis";

#[derive(Debug, Default)]
struct Counters {
    requests: u32,
    retries: u32,
}

/// Why a pass stopped.
struct Failure {
    /// The host does not have the repository.
    missing: bool,
    error: Error,
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
struct Fetched {
    remote: RemoteRepo,
    head: Option<String>,
    deep: Option<Deep>,
}

struct Deep {
    summary: RepoSummary,
    analysis: Option<std::result::Result<Analysis, String>>,
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
    async fn call<T, F, Fut>(
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
        // Atomics only because the future must be `Send`; there is no sharing.
        let requests = AtomicU32::new(0);
        let retries = AtomicU32::new(0);
        let out = self
            .retrying(
                || {
                    requests.fetch_add(1, Ordering::Relaxed);
                    op()
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

    /// Records the pass: sync log, then artifacts linked to it, then the repository.
    async fn finish(
        &self,
        em: &Emitter<'_>,
        target: Target,
        fetched: std::result::Result<Fetched, Failure>,
        mut c: Counters,
        started_at: Timestamp,
        t0: Instant,
    ) -> RepoSyncResult {
        let now = self.clock.now();
        let repo = target.repo.repo.clone();
        let mut result = RepoSyncResult {
            repo: repo.clone(),
            outcome: SyncOutcome::Failed,
            status: RepoStatus::Error,
            sync_log_id: None,
            joined: false,
            started_at,
            duration_ms: 0,
            requests: 0,
            attempts: 0,
            files: 0,
            manifests: 0,
            tree_truncated: false,
            head_sha: target.repo.head_sha.clone(),
            error: None,
            summary: None,
            summary_artifact_id: None,
            analysis: None,
        };
        let mut record = target.repo.clone();
        record.updated_at = now;
        let fetched = match fetched {
            Ok(f) => f,
            Err(failure) => {
                let (outcome, status) = if failure.missing {
                    (SyncOutcome::Missing, RepoStatus::Planned)
                } else {
                    (SyncOutcome::Failed, RepoStatus::Error)
                };
                result.outcome = outcome;
                result.status = status;
                if !failure.missing {
                    result.error = Some(failure.error.to_string());
                }
                record.status = status;
                self.record(em, &mut result, &mut c, record, t0).await;
                return result;
            }
        };

        let remote = &fetched.remote;
        let status = if remote.archived {
            RepoStatus::Archived
        } else {
            RepoStatus::Active
        };
        let description = target
            .config_description
            .clone()
            .or_else(|| remote.description.clone());
        let metadata_changed = target.repo.last_synced_at.is_none()
            || target.repo.status != status
            || target.repo.default_branch.as_deref() != Some(remote.default_branch.as_str())
            || target.repo.topics != remote.topics
            || target.repo.language != remote.language
            || target.repo.description != description
            || target.repo.head_sha != fetched.head;
        result.outcome = if fetched.deep.is_some() || metadata_changed {
            SyncOutcome::Updated
        } else {
            SyncOutcome::Unchanged
        };
        result.status = status;
        result.head_sha = fetched.head.clone();
        record.repo = remote.repo.clone();
        record.status = status;
        record.description = description;
        record.default_branch = Some(remote.default_branch.clone());
        record.topics = remote.topics.clone();
        record.language = remote.language.clone();
        record.head_sha = fetched.head.clone();
        record.last_synced_at = Some(now);
        if let Some(deep) = &fetched.deep {
            result.files = deep.summary.tree.files;
            result.manifests = deep.summary.manifests.len() as u32;
            result.tree_truncated = deep.summary.tree.truncated;
            result.summary = Some(deep.summary.clone());
        }
        let deep = fetched.deep;
        self.record_with(em, &mut result, &mut c, record, t0, deep)
            .await;
        result
    }

    async fn record(
        &self,
        em: &Emitter<'_>,
        result: &mut RepoSyncResult,
        c: &mut Counters,
        record: Repository,
        t0: Instant,
    ) {
        self.record_with(em, result, c, record, t0, None).await
    }

    async fn record_with(
        &self,
        em: &Emitter<'_>,
        result: &mut RepoSyncResult,
        c: &mut Counters,
        mut record: Repository,
        t0: Instant,
        deep: Option<Deep>,
    ) {
        result.requests = c.requests;
        result.attempts = 1 + c.retries;
        result.duration_ms = t0.elapsed().as_millis() as u64;
        let log = SyncLog {
            id: SyncLogId(0),
            repo: result.repo.clone(),
            outcome: result.outcome,
            started_at: result.started_at,
            duration_ms: result.duration_ms,
            requests: result.requests,
            not_modified: 0,
            files: result.files,
            manifests: result.manifests,
            attempts: result.attempts,
            error: result.error.clone(),
        };
        let written = async {
            let log_id = self
                .call(c, em, false, || self.store.record_sync_log(&log))
                .await?;
            result.sync_log_id = Some(log_id);
            if let Some(deep) = &deep {
                self.store_artifacts(em, c, result, log_id, deep).await?;
            }
            self.call(c, em, false, || self.store.upsert_repository(&record))
                .await
        }
        .await;
        if let Err(e) = written {
            // The sync itself may have worked, but what it learnt is not (all) stored: report
            // it failed and keep the old head so the next sync fetches the content again.
            result.outcome = SyncOutcome::Failed;
            result.status = RepoStatus::Error;
            result.error = Some(format!("storing the sync results failed: {e}"));
            if let Ok(Some(old)) = self.store.get_repository(&record.repo).await {
                record.head_sha = old.head_sha;
                record.last_synced_at = old.last_synced_at;
            }
            record.status = RepoStatus::Error;
            let _ = self.store.upsert_repository(&record).await;
        }
        em.emit(match result.outcome {
            SyncOutcome::Failed => SyncStage::Failed {
                error: result.error.clone().unwrap_or_default(),
            },
            outcome => SyncStage::Done { outcome },
        });
    }

    async fn store_artifacts(
        &self,
        em: &Emitter<'_>,
        c: &mut Counters,
        result: &mut RepoSyncResult,
        log_id: SyncLogId,
        deep: &Deep,
    ) -> Result<()> {
        let now = self.clock.now();
        let repo = &result.repo;
        let content = serde_json::to_string_pretty(&deep.summary)
            .map_err(|e| Error::Internal(format!("summary to JSON: {e}")))?;
        let mut summary = NewArtifact::new(SUMMARY_ARTIFACT, ArtifactKind::Data, content);
        summary.language = Some("json".into());
        summary.repo = Some(repo.clone());
        summary.source = ArtifactSource::Sync(log_id);
        summary.validation = Validation::Valid;
        summary
            .metadata
            .extra
            .insert("head_sha".into(), deep.summary.head_sha.clone().into());
        // One summary per head: a forced re-sync of the same commit reuses it.
        summary.idempotency_key = Some(format!(
            "sync-summary:{}:{}",
            repo.full_name().to_ascii_lowercase(),
            deep.summary.head_sha
        ));
        let stored = self
            .call(c, em, false, || self.store.insert_artifact(&summary, now))
            .await?;
        result.summary_artifact_id = Some(stored.into_artifact().id);

        result.analysis = match &deep.analysis {
            None => None,
            Some(Err(e)) => Some(AnalysisResult {
                artifact_id: None,
                error: Some(e.clone()),
            }),
            Some(Ok(a)) => match &a.completion {
                Err(e) => Some(AnalysisResult {
                    artifact_id: None,
                    error: Some(e.clone()),
                }),
                Ok(done) => {
                    let mut art = NewArtifact::new(
                        ANALYSIS_ARTIFACT,
                        ArtifactKind::Analysis,
                        done.text.clone(),
                    );
                    art.language = Some("markdown".into());
                    art.repo = Some(repo.clone());
                    art.source = ArtifactSource::Sync(log_id);
                    art.validation = if done.text.trim().is_empty() {
                        Validation::Invalid("the model returned no text".into())
                    } else {
                        Validation::Valid
                    };
                    let mut meta = ArtifactMetadata {
                        model: Some(done.model.clone()),
                        usage: done.usage,
                        cost_usd: done.cost_usd,
                        ..ArtifactMetadata::default()
                    };
                    meta.extra
                        .insert("head_sha".into(), deep.summary.head_sha.clone().into());
                    meta.extra
                        .insert("truncated".into(), done.is_truncated().into());
                    if let Some(id) = a.interaction_id {
                        meta.extra.insert("interaction_id".into(), id.0.into());
                    }
                    art.metadata = meta;
                    let stored = self
                        .call(c, em, false, || self.store.insert_artifact(&art, now))
                        .await?;
                    Some(AnalysisResult {
                        artifact_id: Some(stored.into_artifact().id),
                        error: None,
                    })
                }
            },
        };
        Ok(())
    }

    /// A repository that is no longer tracked (or whose record cannot be read).
    async fn untracked(
        &self,
        em: &Emitter<'_>,
        started_at: Timestamp,
        t0: Instant,
        error: Error,
        status: RepoStatus,
    ) -> RepoSyncResult {
        let message = error.to_string();
        em.emit(SyncStage::Failed {
            error: message.clone(),
        });
        RepoSyncResult {
            repo: em.repo.clone(),
            outcome: SyncOutcome::Failed,
            status,
            sync_log_id: None,
            joined: false,
            started_at,
            duration_ms: t0.elapsed().as_millis() as u64,
            requests: 0,
            attempts: 1,
            files: 0,
            manifests: 0,
            tree_truncated: false,
            head_sha: None,
            error: Some(message),
            summary: None,
            summary_artifact_id: None,
            analysis: None,
        }
    }
}
