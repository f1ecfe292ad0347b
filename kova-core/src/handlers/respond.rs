//! Replying on GitHub: opt-in per repository, and one comment per pull request or issue and
//! purpose, found again by a hidden marker and updated in place, so repeated deliveries never
//! produce duplicate comments.

use crate::config::ReposConfig;
use crate::error::Result;
use crate::model::RepoRef;
use crate::source::{IssueComment, SourceHost};
use std::collections::HashSet;

/// Where Kova may post comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Respond {
    /// Nowhere (the default: Kova only records its results).
    #[default]
    Off,
    /// On every repository.
    All,
    /// On these repositories (full names, compared case-insensitively).
    Only(HashSet<String>),
}

impl Respond {
    /// Reads the repositories file: `"respond": true` in `integration_settings` turns replies on
    /// everywhere; `"respond": true` on a repository entry turns them on for that repository.
    pub fn from_config(config: &ReposConfig) -> Self {
        let on = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_bool()).unwrap_or(false);
        if on(config.integration_settings.extra.get("respond")) {
            return Respond::All;
        }
        let repos: HashSet<String> = config
            .repositories
            .iter()
            .filter(|e| on(e.extra.get("respond")))
            .map(|e| e.repo.full_name().to_ascii_lowercase())
            .collect();
        if repos.is_empty() {
            Respond::Off
        } else {
            Respond::Only(repos)
        }
    }

    /// Whether Kova may comment on `repo`.
    pub fn allows(&self, repo: &RepoRef) -> bool {
        match self {
            Respond::Off => false,
            Respond::All => true,
            Respond::Only(set) => set.contains(&repo.full_name().to_ascii_lowercase()),
        }
    }
}

/// The hidden marker that identifies Kova's comment for one purpose.
pub(crate) fn marker(purpose: &str) -> String {
    format!("<!-- kova:{purpose} -->")
}

/// Whether a comment body was written by Kova (so Kova never answers itself).
pub(crate) fn is_kova_comment(body: &str) -> bool {
    body.contains("<!-- kova:")
}

/// Creates Kova's comment for `purpose` on an issue or pull request, or updates the existing
/// one in place; an unchanged body costs no write.
pub(crate) async fn upsert_comment(
    source: &dyn SourceHost,
    repo: &RepoRef,
    number: u64,
    purpose: &str,
    body: &str,
) -> Result<IssueComment> {
    let marker = marker(purpose);
    let full = format!("{body}\n\n{marker}");
    let existing = source.list_issue_comments(repo, number).await?;
    match existing.into_iter().find(|c| c.body.contains(&marker)) {
        Some(c) if c.body == full => Ok(c),
        Some(c) => source.update_issue_comment(repo, c.id, &full).await,
        None => source.create_issue_comment(repo, number, &full).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_from_config() {
        let text = r#"{"github_owner":"o","repositories":[
            {"name":"a","full_name":"o/a","type":"core","respond":true},
            {"name":"b","full_name":"o/b","type":"core"}]}"#;
        let c = ReposConfig::parse(text).unwrap();
        let r = Respond::from_config(&c);
        assert!(r.allows(&"O/A".parse().unwrap()));
        assert!(!r.allows(&"o/b".parse().unwrap()));
        let all =
            ReposConfig::parse(r#"{"github_owner":"o","integration_settings":{"respond":true}}"#)
                .unwrap();
        assert_eq!(Respond::from_config(&all), Respond::All);
        assert_eq!(Respond::from_config(&ReposConfig::new("o")), Respond::Off);
    }
}
