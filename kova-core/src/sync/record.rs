//! The end of a pass: the sync log, the artifacts linked to it (summary, analysis) and the
//! repository record, written in that order so artifacts can name the log.

use crate::error::{Error, Result};
use crate::model::{
    ArtifactKind, ArtifactMetadata, ArtifactSource, NewArtifact, RepoStatus, Repository, SyncLog,
    SyncLogId, SyncOutcome, Validation,
};
use crate::sync::inflight::Emitter;
use crate::sync::pipeline::{
    Counters, Deep, Failure, Fetched, ANALYSIS_ARTIFACT, SUMMARY_ARTIFACT,
};
use crate::sync::progress::SyncStage;
use crate::sync::report::{AnalysisResult, RepoSyncResult};
use crate::sync::service::{Inner, Target};
use crate::time::Timestamp;
use std::time::Instant;

impl Inner {
    /// Records the pass: sync log, then artifacts linked to it, then the repository.
    pub(super) async fn finish(
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
            not_modified: c.not_modified,
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
    pub(super) async fn untracked(
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
