//! Scanning a repository through the source host: its tree at a ref, the host's language
//! statistics, and manifests fetched a few at a time.

use super::{Builder, ScanOptions, ScanReport, ScanTarget};
use crate::artifacts::ArtifactService;
use crate::error::{Error, Result};
use crate::model::RepoRef;
use crate::source::EntryKind;
use futures::StreamExt;

/// Manifest fetches in flight at once.
const FETCH_CONCURRENCY: usize = 8;

impl ArtifactService {
    /// Scans a repository on the source host: tree, languages by extension (and the host's own
    /// statistics), manifests, sizes. No LLM is involved.
    ///
    /// Errors: [`Error::NotConfigured`] without a source host, [`Error::NotFound`] for a
    /// missing repository or ref, the host's errors otherwise.
    pub async fn scan_repository(&self, repo: &RepoRef, opts: &ScanOptions) -> Result<ScanReport> {
        if let Some(r) = &opts.git_ref {
            if r.trim().is_empty()
                || r.len() > 255
                || r.contains("..")
                || r.chars().any(char::is_whitespace)
            {
                return Err(Error::invalid(
                    "git_ref",
                    "must be a branch, tag or commit name",
                ));
            }
        }
        let source = self.source()?;
        let git_ref = match &opts.git_ref {
            Some(r) => r.clone(),
            None => source.get_repo(repo).await?.default_branch,
        };
        let tree = source.get_tree(repo, &git_ref).await?;
        let host_languages = source.get_languages(repo).await?;
        let mut b = Builder::new(
            ScanTarget::Repository {
                repository: repo.clone(),
                git_ref: git_ref.clone(),
            },
            opts,
        );
        b.report.host_languages = Some(host_languages);
        if tree.truncated {
            b.report.truncated = true;
            b.report
                .notes
                .push("the host's tree listing is incomplete".into());
        }
        let skipped = |path: &str| path.split('/').rev().skip(1).any(|dir| opts.skips(dir));
        for e in &tree.entries {
            match e.kind {
                EntryKind::Tree if !skipped(&format!("{}/x", e.path)) => {
                    b.report.directory_count += 1;
                }
                EntryKind::Blob if !skipped(&e.path) => {
                    if !b.room() {
                        break;
                    }
                    b.add_file(&e.path, e.size.unwrap_or(0));
                }
                _ => {}
            }
        }
        let candidates = b.take_candidates();
        let fetched: Vec<_> =
            futures::stream::iter(candidates.into_iter().map(|(path, _, kind)| {
                let git_ref = git_ref.clone();
                async move {
                    let r = source.get_file(repo, &path, Some(&git_ref)).await;
                    (path, kind, r)
                }
            }))
            .buffered(FETCH_CONCURRENCY)
            .collect()
            .await;
        for (path, kind, result) in fetched {
            match result {
                Ok(f) => b.add_manifest(&path, kind, &f.content),
                Err(Error::NotFound { .. }) => {
                    b.report.notes.push(format!("{path}: listed but not found"))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(b.finish())
    }
}
