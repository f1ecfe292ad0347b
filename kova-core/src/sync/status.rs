//! Read side for the faces: what is tracked and how it stands, and the latest stored summary
//! of a repository.

use crate::error::{Error, Result};
use crate::model::{ArtifactKind, ListOptions, RepoRef, RepoStatus, Repository};
use crate::store::ArtifactFilter;
use crate::sync::pipeline::SUMMARY_ARTIFACT;
use crate::sync::report::RepoSummary;
use crate::sync::service::SyncService;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How the tracked repositories stand (`GET /multi-repo/status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The owner of the repositories file, if there is one.
    pub owner: Option<String>,
    /// Tracked repositories.
    pub total: usize,
    /// Of those, enabled.
    pub enabled: usize,
    /// Planned (not on the host yet).
    pub planned: usize,
    /// Active.
    pub active: usize,
    /// Archived.
    pub archived: usize,
    /// Whose last sync failed.
    pub error: usize,
    /// Syncing right now.
    pub syncing: Vec<RepoRef>,
    /// The most recent successful sync of any repository.
    pub last_synced_at: Option<Timestamp>,
    /// Auto-sync on a timer.
    pub auto_sync_enabled: bool,
    /// Its period.
    pub sync_interval_minutes: u32,
    /// Sync after pushes.
    pub sync_on_push: bool,
    /// Every tracked repository, first priority first.
    pub repositories: Vec<Repository>,
}

impl SyncService {
    /// How the tracked repositories stand.
    pub async fn status(&self) -> Result<SyncStatus> {
        let repos = self.tracked().await?;
        let count = |s: RepoStatus| repos.iter().filter(|r| r.status == s).count();
        let settings = self.sync_settings();
        Ok(SyncStatus {
            owner: self.config().map(|c| c.github_owner),
            total: repos.len(),
            enabled: repos.iter().filter(|r| r.enabled).count(),
            planned: count(RepoStatus::Planned),
            active: count(RepoStatus::Active),
            archived: count(RepoStatus::Archived),
            error: count(RepoStatus::Error),
            syncing: self.syncing(),
            last_synced_at: repos.iter().filter_map(|r| r.last_synced_at).max(),
            auto_sync_enabled: settings.auto_sync_enabled,
            sync_interval_minutes: settings.sync_interval_minutes,
            sync_on_push: settings.sync_on_push,
            repositories: repos,
        })
    }

    /// The latest stored [`RepoSummary`] of a repository (from its last content fetch), if any.
    pub async fn summary(&self, repo: &RepoRef) -> Result<Option<RepoSummary>> {
        let filter = ArtifactFilter::default()
            .with_repo(repo.clone())
            .with_kind(ArtifactKind::Data);
        let mut opts = ListOptions::default();
        loop {
            let page = self.inner.store.list_artifacts(&filter, &opts).await?;
            // Newest first: the first summary found is the latest.
            if let Some(a) = page.items.iter().find(|a| a.name == SUMMARY_ARTIFACT) {
                return serde_json::from_str(&a.content).map(Some).map_err(|e| {
                    Error::Internal(format!("stored summary of {repo} is not valid: {e}"))
                });
            }
            match page.next_cursor {
                Some(c) => opts = opts.with_cursor(c),
                None => return Ok(None),
            }
        }
    }
}
