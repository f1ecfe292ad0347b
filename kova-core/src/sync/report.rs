//! What a caller asks a sync for and what it gets back.

use crate::model::{ArtifactId, RepoRef, RepoStatus, SyncLogId, SyncOutcome};
use crate::sync::manifests::Manifest;
use crate::sync::select::{SkippedFile, TreeSummary};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to sync. `Default` syncs every enabled repository without analysis.
///
/// ```
/// use kova_core::sync::SyncRequest;
/// let all = SyncRequest::all().with_analysis(true);
/// let one = SyncRequest::repos(vec!["octo/app".parse().unwrap()]).with_force(true);
/// assert!(all.repos.is_none() && one.force);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SyncRequest {
    /// These repositories (enabled or not), or `None` for every enabled one.
    pub repos: Option<Vec<RepoRef>>,
    /// Run the LLM analysis for repositories whose content is fetched.
    pub include_analysis: bool,
    /// Fetch tree, README and manifests even when the default branch has not moved (e.g. to
    /// analyse a repository first synced without analysis).
    pub force: bool,
    /// The request follows a change (a push): if a sync of the repository is already running,
    /// it may have missed the change, so another pass runs after it instead of reusing its
    /// result.
    pub fresh: bool,
}

impl SyncRequest {
    /// Every enabled repository.
    pub fn all() -> Self {
        Self::default()
    }
    /// Only these repositories.
    pub fn repos(repos: Vec<RepoRef>) -> Self {
        SyncRequest {
            repos: Some(repos),
            ..Self::default()
        }
    }
    /// Sets [`include_analysis`](Self::include_analysis).
    pub fn with_analysis(mut self, on: bool) -> Self {
        self.include_analysis = on;
        self
    }
    /// Sets [`force`](Self::force).
    pub fn with_force(mut self, on: bool) -> Self {
        self.force = on;
        self
    }
    /// Sets [`fresh`](Self::fresh).
    pub fn with_fresh(mut self, on: bool) -> Self {
        self.fresh = on;
        self
    }
}

/// What a sync found out about a repository whose content it fetched. Stored as a `data`
/// artifact (JSON) named [`SUMMARY_ARTIFACT`](crate::sync::SUMMARY_ARTIFACT) of the
/// repository, one version per head commit, and returned in [`RepoSyncResult::summary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoSummary {
    /// Which repository.
    pub repo: RepoRef,
    /// The commit the content was read at.
    pub head_sha: String,
    /// The default branch.
    pub default_branch: String,
    /// The tree in numbers.
    pub tree: TreeSummary,
    /// The README's path, if there is one.
    pub readme_path: Option<String>,
    /// The README's size in bytes.
    pub readme_bytes: Option<u64>,
    /// Languages by bytes of code.
    pub languages: BTreeMap<String, u64>,
    /// Parsed manifests.
    pub manifests: Vec<Manifest>,
    /// Chosen files not read, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_files: Vec<SkippedFile>,
}

impl RepoSummary {
    /// Every declared dependency name, deduplicated and sorted.
    pub fn dependency_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .manifests
            .iter()
            .flat_map(|m| m.dependencies.iter().map(|d| d.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The LLM analysis of one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisResult {
    /// The stored `analysis` artifact, if the call succeeded.
    pub artifact_id: Option<ArtifactId>,
    /// Why it failed, if it did (the sync itself still counts).
    pub error: Option<String>,
}

/// One repository's sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoSyncResult {
    /// Which repository.
    pub repo: RepoRef,
    /// How it ended.
    pub outcome: SyncOutcome,
    /// The repository's status afterwards.
    pub status: RepoStatus,
    /// The recorded sync log.
    pub sync_log_id: Option<SyncLogId>,
    /// This request joined a sync already running instead of starting one.
    pub joined: bool,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it took.
    pub duration_ms: u64,
    /// Host requests made (retries included).
    pub requests: u32,
    /// Attempts (1 + retries).
    pub attempts: u32,
    /// Files in the tree (0 when it was not fetched).
    pub files: u32,
    /// Manifests parsed.
    pub manifests: u32,
    /// The tree listing was partial.
    pub tree_truncated: bool,
    /// The default branch's head after the sync.
    pub head_sha: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// What was found, when the content was fetched.
    pub summary: Option<RepoSummary>,
    /// The stored summary artifact.
    pub summary_artifact_id: Option<ArtifactId>,
    /// The analysis, when one was asked for and run.
    pub analysis: Option<AnalysisResult>,
}

/// A repository a request named but that was not synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRepo {
    /// Which repository.
    pub repo: RepoRef,
    /// Why.
    pub reason: String,
}

/// Counts of a sync run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncTotals {
    /// Repositories synced.
    pub repos: u32,
    /// Outcome `updated`.
    pub updated: u32,
    /// Outcome `unchanged`.
    pub unchanged: u32,
    /// Outcome `missing`.
    pub missing: u32,
    /// Outcome `failed`.
    pub failed: u32,
    /// Host requests made.
    pub requests: u32,
}

/// The result of a sync run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// One result per repository, first priority first.
    pub results: Vec<RepoSyncResult>,
    /// Repositories named but not synced.
    pub skipped: Vec<SkippedRepo>,
    /// Counts.
    pub totals: SyncTotals,
}

impl SyncReport {
    /// The result for a repository.
    pub fn result(&self, repo: &RepoRef) -> Option<&RepoSyncResult> {
        self.results.iter().find(|r| r.repo.same_as(repo))
    }

    pub(crate) fn total(results: &[RepoSyncResult]) -> SyncTotals {
        let mut t = SyncTotals::default();
        for r in results {
            t.repos += 1;
            t.requests += r.requests;
            match r.outcome {
                SyncOutcome::Updated => t.updated += 1,
                SyncOutcome::Unchanged => t.unchanged += 1,
                SyncOutcome::Missing => t.missing += 1,
                SyncOutcome::Failed => t.failed += 1,
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_from_json_with_defaults() {
        let req: SyncRequest =
            serde_json::from_str(r#"{"repos": ["octo/app"], "include_analysis": true}"#).unwrap();
        assert_eq!(
            req.repos.as_deref(),
            Some(&["octo/app".parse().unwrap()][..])
        );
        assert!(req.include_analysis && !req.force && !req.fresh);
        let all: SyncRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(all, SyncRequest::all());
        assert!(serde_json::from_str::<SyncRequest>(r#"{"repos": ["bad"]}"#).is_err());
    }
}
