//! Repositories: their reference (`owner/name`), what Kova knows of them, and snapshots.

use crate::error::{Error, Result};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A GitHub repository reference, `owner/name`, validated on construction.
///
/// ```
/// use kova_core::RepoRef;
/// let r: RepoRef = "octo-org/hello.world".parse().unwrap();
/// assert_eq!(r.owner(), "octo-org");
/// assert_eq!(r.to_string(), "octo-org/hello.world");
/// assert!("no-slash".parse::<RepoRef>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoRef {
    owner: String,
    name: String,
}

/// GitHub's limits: logins are at most 39 characters, repository names at most 100.
const MAX_OWNER_LEN: usize = 39;
const MAX_NAME_LEN: usize = 100;

impl RepoRef {
    /// Validates and builds a reference from its two parts.
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Result<Self> {
        let owner = owner.into();
        let name = name.into();
        validate_owner(&owner)?;
        validate_name(&name)?;
        Ok(RepoRef { owner, name })
    }

    /// The user or organisation that owns the repository.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name without the owner.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `owner/name`.
    pub fn full_name(&self) -> String {
        self.to_string()
    }

    /// Case-insensitive equality, as GitHub compares repository names.
    pub fn same_as(&self, other: &RepoRef) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner) && self.name.eq_ignore_ascii_case(&other.name)
    }
}

fn validate_owner(owner: &str) -> Result<()> {
    if owner.is_empty() {
        return Err(Error::invalid("owner", "must not be empty"));
    }
    if owner.len() > MAX_OWNER_LEN {
        return Err(Error::invalid(
            "owner",
            format!("must be at most {MAX_OWNER_LEN} characters"),
        ));
    }
    // Enterprise managed users carry an `_shortcode` suffix, so `_` is allowed too.
    if !owner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid(
            "owner",
            "may contain only ASCII letters, digits, '-' and '_'",
        ));
    }
    if owner.starts_with('-') {
        return Err(Error::invalid("owner", "must not start with '-'"));
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid("name", "must not be '.' or '..'"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::invalid(
            "name",
            "may contain only ASCII letters, digits, '-', '_' and '.'",
        ));
    }
    Ok(())
}

impl FromStr for RepoRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let (owner, name) = s.split_once('/').ok_or_else(|| {
            Error::invalid("repository", format!("'{s}' is not in owner/name form"))
        })?;
        if name.contains('/') {
            return Err(Error::invalid(
                "repository",
                format!("'{s}' is not in owner/name form (too many '/')"),
            ));
        }
        RepoRef::new(owner, name)
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl Serialize for RepoRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RepoRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The role a repository plays, from the repositories file's `type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    /// Backend / orchestration core.
    Core,
    /// A service.
    Service,
    /// A user-facing frontend.
    Frontend,
    /// Experimental or legacy.
    Experimental,
}

impl RepoKind {
    /// Every kind, in the order the repositories file documents them.
    pub const ALL: [RepoKind; 4] = [
        RepoKind::Core,
        RepoKind::Service,
        RepoKind::Frontend,
        RepoKind::Experimental,
    ];

    /// The lowercase name used in files and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Core => "core",
            RepoKind::Service => "service",
            RepoKind::Frontend => "frontend",
            RepoKind::Experimental => "experimental",
        }
    }
}

impl FromStr for RepoKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        RepoKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::invalid("type", "must be core|service|frontend|experimental"))
    }
}

impl fmt::Display for RepoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Kova last found out about a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RepoStatus {
    /// Configured but not found on GitHub yet (the original recorded these as planned).
    Planned,
    /// Exists and syncs.
    Active,
    /// Archived on GitHub.
    Archived,
    /// The last sync failed.
    Error,
}

impl RepoStatus {
    /// The lowercase name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            RepoStatus::Planned => "planned",
            RepoStatus::Active => "active",
            RepoStatus::Archived => "archived",
            RepoStatus::Error => "error",
        }
    }
}

impl FromStr for RepoStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "planned" => RepoStatus::Planned,
            "active" => RepoStatus::Active,
            "archived" => RepoStatus::Archived,
            "error" => RepoStatus::Error,
            _ => {
                return Err(Error::invalid(
                    "status",
                    "must be planned|active|archived|error",
                ))
            }
        })
    }
}

/// A repository Kova tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub repo: RepoRef,
    /// Free text.
    pub description: Option<String>,
    /// The default branch, once known from GitHub.
    pub default_branch: Option<String>,
    /// Role from the repositories file.
    pub kind: RepoKind,
    /// Disabled repositories are kept but not synced.
    pub enabled: bool,
    /// 1 (first) ..= 5 (last).
    pub sync_priority: u8,
    /// Feature tags from the repositories file.
    pub features: Vec<String>,
    /// GitHub topics.
    pub topics: Vec<String>,
    /// Primary language reported by GitHub.
    pub language: Option<String>,
    /// What Kova last found out.
    pub status: RepoStatus,
    /// When the last successful sync finished.
    pub last_synced_at: Option<Timestamp>,
    /// The default branch's head commit at the last sync (tells whether it moved).
    pub head_sha: Option<String>,
    /// The ETag of the last repository metadata response (conditional requests).
    pub etag: Option<String>,
    /// When Kova first recorded it.
    pub created_at: Timestamp,
    /// When Kova last changed it.
    pub updated_at: Timestamp,
}

impl Repository {
    /// A new enabled repository of the given kind, priority 3, status planned.
    pub fn new(repo: RepoRef, kind: RepoKind, now: Timestamp) -> Self {
        Repository {
            repo,
            description: None,
            default_branch: None,
            kind,
            enabled: true,
            sync_priority: 3,
            features: Vec::new(),
            topics: Vec::new(),
            language: None,
            status: RepoStatus::Planned,
            last_synced_at: None,
            head_sha: None,
            etag: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Checks the invariants the types cannot express.
    pub fn validate(&self) -> Result<()> {
        validate_priority(self.sync_priority)
    }
}

/// Sync priorities run from 1 (first) to 5 (last).
pub fn validate_priority(p: u8) -> Result<()> {
    if (1..=5).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid("sync_priority", "must be between 1 and 5"))
    }
}

/// Counters of a repository at one moment, kept as history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoSnapshot {
    /// Which repository.
    pub repo: RepoRef,
    /// Stargazers.
    pub stars: u64,
    /// Forks.
    pub forks: u64,
    /// Watchers (subscribers).
    pub watchers: u64,
    /// Open issues and pull requests.
    pub open_issues: u64,
    /// Size in KB as GitHub reports it.
    pub size_kb: u64,
    /// Last push, as GitHub reports it.
    pub pushed_at: Option<Timestamp>,
    /// When Kova took the snapshot.
    pub recorded_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_refs() {
        for s in [
            "a/b",
            "Kathrynhiggs21/Kova-ai-SYSTEM",
            "org_x/.github",
            "o/a.b-c_d",
        ] {
            let r: RepoRef = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
        }
    }

    #[test]
    fn rejects_invalid_refs_with_the_field_named() {
        for (s, field) in [
            ("noslash", "repository"),
            ("a/b/c", "repository"),
            ("/b", "owner"),
            ("a/", "name"),
            ("-a/b", "owner"),
            ("a b/c", "owner"),
            ("a/..", "name"),
            ("a/b c", "name"),
        ] {
            match s.parse::<RepoRef>() {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
        assert!(RepoRef::new("a".repeat(40), "b").is_err());
        assert!(RepoRef::new("a", "b".repeat(101)).is_err());
    }

    #[test]
    fn serde_uses_full_name() {
        let r = RepoRef::new("o", "n").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"o/n\"");
        assert!(serde_json::from_str::<RepoRef>("\"bad\"").is_err());
    }

    #[test]
    fn kind_and_priority_rules() {
        assert_eq!("core".parse::<RepoKind>().unwrap(), RepoKind::Core);
        assert!("world".parse::<RepoKind>().is_err());
        assert!(validate_priority(0).is_err());
        assert!(validate_priority(6).is_err());
        assert!(validate_priority(5).is_ok());
    }
}
