//! Discovery: every repository of the configured owner whose name matches the glob, the ones
//! not tracked yet, optionally added; and an optional topic search.

use crate::error::{Error, Result};
use crate::model::{RepoKind, RepoRef};
use crate::source::RemoteRepo;
use crate::sync::service::{lock, AddRepo, SyncService};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Options for [`SyncService::discover_with`]; `Default` follows `discovery_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DiscoverOptions {
    /// Add the new repositories; `None` follows `discovery_settings.auto_add()`.
    pub auto_add: Option<bool>,
    /// Run the topic searches of `discovery_settings.topics`.
    pub topics: bool,
    /// The kind given to added repositories.
    pub kind: RepoKind,
    /// The priority given to added repositories.
    pub sync_priority: u8,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            auto_add: None,
            topics: true,
            kind: RepoKind::Service,
            sync_priority: 3,
        }
    }
}

impl DiscoverOptions {
    /// Overrides `auto_add`.
    pub fn with_auto_add(mut self, on: bool) -> Self {
        self.auto_add = Some(on);
        self
    }
    /// Turns topic searches on or off.
    pub fn with_topics(mut self, on: bool) -> Self {
        self.topics = on;
        self
    }
    /// Sets the kind of added repositories.
    pub fn with_kind(mut self, kind: RepoKind) -> Self {
        self.kind = kind;
        self
    }
}

/// A repository discovery saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveredRepo {
    /// `owner/name`.
    pub repo: RepoRef,
    /// Free text.
    pub description: Option<String>,
    /// Primary language.
    pub language: Option<String>,
    /// Topics.
    pub topics: Vec<String>,
    /// Archived on the host.
    pub archived: bool,
    /// A fork.
    pub fork: bool,
    /// Private.
    pub private: bool,
    /// Web address.
    pub html_url: Option<String>,
    /// Already tracked (configured, stored or listed as excluded).
    pub known: bool,
}

impl DiscoveredRepo {
    fn from_remote(r: &RemoteRepo, known: bool) -> Self {
        DiscoveredRepo {
            repo: r.repo.clone(),
            description: r.description.clone(),
            language: r.language.clone(),
            topics: r.topics.clone(),
            archived: r.archived,
            fork: r.fork,
            private: r.private,
            html_url: r.html_url.clone(),
            known,
        }
    }
}

/// The repositories one topic search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMatches {
    /// The topic.
    pub topic: String,
    /// What the search found (any owner).
    pub repos: Vec<DiscoveredRepo>,
    /// Why the search failed, if it did.
    pub error: Option<String>,
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverReport {
    /// The owner listed.
    pub owner: String,
    /// The name glob applied, if any.
    pub pattern: Option<String>,
    /// Repositories the owner has.
    pub scanned: usize,
    /// Those whose name matches the glob.
    pub matched: Vec<DiscoveredRepo>,
    /// Matching repositories not tracked yet.
    pub new: Vec<RepoRef>,
    /// Those added now.
    pub added: Vec<RepoRef>,
    /// Those that could not be added, and why.
    pub add_errors: Vec<(RepoRef, String)>,
    /// Topic searches (reported, never added: they may belong to anyone).
    pub topics: Vec<TopicMatches>,
}

impl SyncService {
    /// Discovers repositories per `discovery_settings`.
    pub async fn discover(&self) -> Result<DiscoverReport> {
        self.discover_with(DiscoverOptions::default()).await
    }

    /// Discovers repositories: every page of the owner's repositories filtered by
    /// `repo_name_pattern` (a case-insensitive glob), the new ones added when asked, and a
    /// `topic:<t>` search per configured topic.
    pub async fn discover_with(&self, opts: DiscoverOptions) -> Result<DiscoverReport> {
        let inner = &self.inner;
        let (owner, settings, excluded) = match &inner.config {
            Some(c) => {
                let g = lock(c);
                (
                    g.github_owner.clone(),
                    g.discovery_settings.clone(),
                    excluded_names(&g.extra),
                )
            }
            None => {
                return Err(Error::NotConfigured {
                    what: "repositories file",
                    hint: "discovery lists the github_owner of kova_repos_config.json".into(),
                })
            }
        };
        let mut known: HashSet<String> = excluded;
        for r in self.tracked().await? {
            known.insert(r.repo.full_name().to_ascii_lowercase());
        }
        let is_known = |r: &RepoRef| known.contains(&r.full_name().to_ascii_lowercase());

        let all = inner
            .retrying(|| inner.source.list_owner_repos(&owner), |_, _, _| {})
            .await?;
        let pattern = settings.repo_name_pattern.clone();
        let matched: Vec<&RemoteRepo> = all
            .iter()
            .filter(|r| pattern.as_ref().is_none_or(|p| p.matches(r.repo.name())))
            .collect();
        let new: Vec<&RemoteRepo> = matched
            .iter()
            .copied()
            .filter(|r| !is_known(&r.repo))
            .collect();

        let mut added = Vec::new();
        let mut add_errors = Vec::new();
        if opts.auto_add.unwrap_or(settings.auto_add()) {
            for r in &new {
                let req = AddRepo::new(r.repo.clone(), opts.kind)
                    .with_priority(opts.sync_priority)
                    .with_features(r.topics.clone());
                match self.record_added(req, Some(r)).await {
                    Ok(_) => added.push(r.repo.clone()),
                    Err(e) => add_errors.push((r.repo.clone(), e.to_string())),
                }
            }
        }

        let mut topics = Vec::new();
        if opts.topics {
            for t in &settings.topics {
                let (repos, error) = match inner.source.search_repos(&format!("topic:{t}")).await {
                    Ok(found) => (
                        found
                            .iter()
                            .map(|r| DiscoveredRepo::from_remote(r, is_known(&r.repo)))
                            .collect(),
                        None,
                    ),
                    Err(e) => (Vec::new(), Some(e.to_string())),
                };
                topics.push(TopicMatches {
                    topic: t.clone(),
                    repos,
                    error,
                });
            }
        }

        Ok(DiscoverReport {
            owner,
            pattern: pattern.map(|p| p.as_str().to_string()),
            scanned: all.len(),
            matched: matched
                .iter()
                .map(|r| DiscoveredRepo::from_remote(r, is_known(&r.repo)))
                .collect(),
            new: new.iter().map(|r| r.repo.clone()).collect(),
            added,
            add_errors,
            topics,
        })
    }
}

/// Repositories the file lists outside `repositories` (`excluded_repositories`, `worlds`):
/// known, so never reported as new.
fn excluded_names(extra: &serde_json::Map<String, serde_json::Value>) -> HashSet<String> {
    extra
        .values()
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|v| v.get("full_name").and_then(serde_json::Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect()
}
