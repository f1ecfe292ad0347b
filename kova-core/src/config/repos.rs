//! The repositories file, `kova_repos_config.json`, in the original format: parsed,
//! validated with messages that name the field and the rule, and written back with unknown
//! fields kept.

use crate::config::glob::NamePattern;
use crate::error::{Error, Result};
use crate::model::{RepoKind, RepoRef, Repository};
use crate::time::Timestamp;
use serde_json::{Map, Value};
use std::path::Path;

/// The whole repositories file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReposConfig {
    /// The user or organisation whose repositories these are.
    pub github_owner: String,
    /// The configured repositories.
    pub repositories: Vec<RepoEntry>,
    /// When and how to sync.
    pub sync_settings: SyncSettings,
    /// How to find new repositories.
    pub discovery_settings: DiscoverySettings,
    /// Which integrations are on.
    pub integration_settings: IntegrationSettings,
    /// Top-level fields Kova does not know (`worlds`, `excluded_repositories`…), kept as is.
    pub extra: Map<String, Value>,
}

/// One entry of `repositories`.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoEntry {
    /// `owner/name` (`full_name` in the file).
    pub repo: RepoRef,
    /// Free text.
    pub description: Option<String>,
    /// `type` in the file.
    pub kind: RepoKind,
    /// Disabled entries are kept but not synced (default true).
    pub enabled: bool,
    /// 1 (first) ..= 5 (last); default 3.
    pub sync_priority: u8,
    /// Feature tags.
    pub features: Vec<String>,
    /// Fields Kova does not know, kept as is.
    pub extra: Map<String, Value>,
}

/// `sync_settings`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSettings {
    /// Sync on a timer.
    pub auto_sync_enabled: bool,
    /// The timer's period (≥ 1).
    pub sync_interval_minutes: u32,
    /// Sync a repository after a push to it.
    pub sync_on_push: bool,
    /// Sync a repository after pull request activity.
    pub sync_on_pr: bool,
    /// Notify other repositories of changes.
    pub cross_repo_notifications: bool,
    /// Fields Kova does not know.
    pub extra: Map<String, Value>,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            auto_sync_enabled: false,
            sync_interval_minutes: 30,
            sync_on_push: false,
            sync_on_pr: false,
            cross_repo_notifications: false,
            extra: Map::new(),
        }
    }
}

/// `discovery_settings`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiscoverySettings {
    /// Add repositories that discovery finds (the original's name for auto-add).
    pub auto_discover_new_repos: bool,
    /// Which names discovery reports; see [`NamePattern`]. `None` reports every repository.
    pub repo_name_pattern: Option<NamePattern>,
    /// Look for new repositories periodically.
    pub watch_for_new_repos: bool,
    /// Topic search terms (`topic:<tag>` queries), Kova's addition.
    pub topics: Vec<String>,
    /// Fields Kova does not know.
    pub extra: Map<String, Value>,
}

impl DiscoverySettings {
    /// Whether discovered repositories are added automatically.
    pub fn auto_add(&self) -> bool {
        self.auto_discover_new_repos
    }
}

/// `integration_settings`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntegrationSettings {
    /// Use Claude for analysis.
    pub claude_api_enabled: bool,
    /// Process GitHub webhooks.
    pub github_webhooks_enabled: bool,
    /// Open pull requests across repositories.
    pub cross_repo_prs: bool,
    /// Keep one changelog for all repositories.
    pub unified_changelog: bool,
    /// Fields Kova does not know.
    pub extra: Map<String, Value>,
}

/// Collects every problem in a file, so one run shows them all.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    fn into_result<T>(self, value: T) -> Result<T> {
        let mut it = self.0.into_iter();
        match it.next() {
            None => Ok(value),
            Some((field, mut message)) => {
                let rest: Vec<String> = it.map(|(f, m)| format!("{f}: {m}")).collect();
                if !rest.is_empty() {
                    message.push_str(&format!(" (and {} more: {})", rest.len(), rest.join("; ")));
                }
                Err(Error::Invalid { field, message })
            }
        }
    }
}

const KIND_RULE: &str = "must be core|service|frontend|experimental";

impl ReposConfig {
    /// An empty configuration for an owner.
    pub fn new(github_owner: impl Into<String>) -> Self {
        ReposConfig {
            github_owner: github_owner.into(),
            repositories: Vec::new(),
            sync_settings: SyncSettings::default(),
            discovery_settings: DiscoverySettings::default(),
            integration_settings: IntegrationSettings::default(),
            extra: Map::new(),
        }
    }

    /// Parses and validates the file's text. Every problem is reported; the error names the
    /// first field and rule and lists the others.
    pub fn parse(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::invalid("kova_repos_config.json", format!("not valid JSON: {e}"))
        })?;
        let Value::Object(mut root) = value else {
            return Err(Error::invalid(
                "kova_repos_config.json",
                "must be a JSON object",
            ));
        };
        let mut p = Problems::default();

        let github_owner = match root.shift_remove("github_owner") {
            Some(Value::String(s)) => {
                if let Err(Error::Invalid { message, .. }) = RepoRef::new(s.clone(), "x") {
                    p.add("github_owner", message);
                }
                s
            }
            Some(_) => {
                p.add("github_owner", "must be a string");
                String::new()
            }
            None => {
                p.add("github_owner", "is required");
                String::new()
            }
        };

        let mut repositories: Vec<RepoEntry> = Vec::new();
        match root.shift_remove("repositories") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    if let Some(entry) = parse_entry(i, item, &mut p) {
                        if let Some(j) = repositories
                            .iter()
                            .position(|e| e.repo.same_as(&entry.repo))
                        {
                            p.add(
                                format!("repositories[{i}].full_name"),
                                format!("duplicate of repositories[{j}] ({})", entry.repo),
                            );
                        } else {
                            repositories.push(entry);
                        }
                    }
                }
            }
            Some(_) => p.add("repositories", "must be an array"),
        }

        let sync_settings = parse_sync(take_object(&mut root, "sync_settings", &mut p), &mut p);
        let discovery_settings =
            parse_discovery(take_object(&mut root, "discovery_settings", &mut p), &mut p);
        let integration_settings = parse_integration(
            take_object(&mut root, "integration_settings", &mut p),
            &mut p,
        );

        p.into_result(ReposConfig {
            github_owner,
            repositories,
            sync_settings,
            discovery_settings,
            integration_settings,
            extra: root,
        })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Writes the file atomically (a temporary file renamed over the old one), so a crash
    /// never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()?;
        let tmp = path.with_extension("json.tmp");
        let text = self.to_json_string();
        std::fs::write(&tmp, text.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
    }

    /// Checks the rules of a configuration built in code (a parsed one is checked already).
    pub fn validate(&self) -> Result<()> {
        Self::parse(&self.to_json_string()).map(|_| ())
    }

    /// The file's JSON, pretty-printed, in the original field order with unknown fields kept.
    pub fn to_json_string(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The file's JSON value.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        root.insert(
            "github_owner".into(),
            Value::from(self.github_owner.clone()),
        );
        root.insert(
            "repositories".into(),
            Value::Array(self.repositories.iter().map(RepoEntry::to_json).collect()),
        );
        let mut extras = self.extra.clone();
        // Unknown top-level arrays (`worlds`, `excluded_repositories`) sat between the
        // repositories and the settings in the original; keep them there.
        let trailing: Vec<String> = extras
            .keys()
            .filter(|k| !extras[*k].is_array())
            .cloned()
            .collect();
        let mut tail = Map::new();
        for k in trailing {
            if let Some(v) = extras.shift_remove(&k) {
                tail.insert(k, v);
            }
        }
        root.extend(extras);
        let s = &self.sync_settings;
        let mut sync = Map::new();
        sync.insert("auto_sync_enabled".into(), s.auto_sync_enabled.into());
        sync.insert(
            "sync_interval_minutes".into(),
            s.sync_interval_minutes.into(),
        );
        sync.insert("sync_on_push".into(), s.sync_on_push.into());
        sync.insert("sync_on_pr".into(), s.sync_on_pr.into());
        sync.insert(
            "cross_repo_notifications".into(),
            s.cross_repo_notifications.into(),
        );
        sync.extend(s.extra.clone());
        root.insert("sync_settings".into(), Value::Object(sync));
        let d = &self.discovery_settings;
        let mut disc = Map::new();
        disc.insert(
            "auto_discover_new_repos".into(),
            d.auto_discover_new_repos.into(),
        );
        if let Some(p) = &d.repo_name_pattern {
            disc.insert("repo_name_pattern".into(), p.as_str().into());
        }
        disc.insert("watch_for_new_repos".into(), d.watch_for_new_repos.into());
        if !d.topics.is_empty() {
            disc.insert("topics".into(), d.topics.clone().into());
        }
        disc.extend(d.extra.clone());
        root.insert("discovery_settings".into(), Value::Object(disc));
        let g = &self.integration_settings;
        let mut integ = Map::new();
        integ.insert("claude_api_enabled".into(), g.claude_api_enabled.into());
        integ.insert(
            "github_webhooks_enabled".into(),
            g.github_webhooks_enabled.into(),
        );
        integ.insert("cross_repo_prs".into(), g.cross_repo_prs.into());
        integ.insert("unified_changelog".into(), g.unified_changelog.into());
        integ.extend(g.extra.clone());
        root.insert("integration_settings".into(), Value::Object(integ));
        root.extend(tail);
        Value::Object(root)
    }

    /// The entry for a repository, if configured (case-insensitive).
    pub fn entry(&self, repo: &RepoRef) -> Option<&RepoEntry> {
        self.repositories.iter().find(|e| e.repo.same_as(repo))
    }

    /// Adds an entry, or replaces the one for the same repository (keeping its unknown fields).
    pub fn upsert_entry(&mut self, entry: RepoEntry) {
        match self
            .repositories
            .iter_mut()
            .find(|e| e.repo.same_as(&entry.repo))
        {
            Some(existing) => {
                let mut extra = std::mem::take(&mut existing.extra);
                extra.extend(entry.extra.clone());
                *existing = RepoEntry { extra, ..entry };
            }
            None => self.repositories.push(entry),
        }
    }

    /// The enabled entries, first priority first (then by name, for a stable order).
    pub fn enabled_by_priority(&self) -> Vec<&RepoEntry> {
        let mut v: Vec<&RepoEntry> = self.repositories.iter().filter(|e| e.enabled).collect();
        v.sort_by(|a, b| {
            a.sync_priority
                .cmp(&b.sync_priority)
                .then_with(|| a.repo.cmp(&b.repo))
        });
        v
    }
}

impl RepoEntry {
    /// An enabled entry with priority 3 and no features.
    pub fn new(repo: RepoRef, kind: RepoKind) -> Self {
        RepoEntry {
            repo,
            description: None,
            kind,
            enabled: true,
            sync_priority: 3,
            features: Vec::new(),
            extra: Map::new(),
        }
    }

    /// The entry as a stored [`Repository`] (status planned until a sync finds it).
    pub fn to_repository(&self, now: Timestamp) -> Repository {
        let mut r = Repository::new(self.repo.clone(), self.kind, now);
        r.description = self.description.clone();
        r.enabled = self.enabled;
        r.sync_priority = self.sync_priority;
        r.features = self.features.clone();
        r
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.repo.name().into());
        m.insert("full_name".into(), self.repo.full_name().into());
        if let Some(d) = &self.description {
            m.insert("description".into(), d.clone().into());
        }
        m.insert("type".into(), self.kind.as_str().into());
        m.insert("enabled".into(), self.enabled.into());
        m.insert("sync_priority".into(), self.sync_priority.into());
        m.insert("features".into(), self.features.clone().into());
        m.extend(self.extra.clone());
        Value::Object(m)
    }
}

fn take_object(root: &mut Map<String, Value>, key: &str, p: &mut Problems) -> Map<String, Value> {
    match root.shift_remove(key) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            p.add(key, "must be an object");
            Map::new()
        }
    }
}

fn take_bool(
    m: &mut Map<String, Value>,
    section: &str,
    key: &str,
    default: bool,
    p: &mut Problems,
) -> bool {
    match m.shift_remove(key) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            p.add(format!("{section}.{key}"), "must be true or false");
            default
        }
    }
}

fn parse_entry(i: usize, item: Value, p: &mut Problems) -> Option<RepoEntry> {
    let at = |f: &str| format!("repositories[{i}].{f}");
    let Value::Object(mut m) = item else {
        p.add(format!("repositories[{i}]"), "must be an object");
        return None;
    };
    let before = p.0.len();
    let name = match m.shift_remove("name") {
        Some(Value::String(s)) => Some(s),
        None => None,
        Some(_) => {
            p.add(at("name"), "must be a string");
            None
        }
    };
    let repo = match m.shift_remove("full_name") {
        Some(Value::String(s)) => match s.parse::<RepoRef>() {
            Ok(r) => Some(r),
            Err(Error::Invalid { message, .. }) => {
                p.add(
                    at("full_name"),
                    format!("must be in owner/name form: {message}"),
                );
                None
            }
            Err(e) => {
                p.add(at("full_name"), e.to_string());
                None
            }
        },
        Some(_) => {
            p.add(at("full_name"), "must be a string in owner/name form");
            None
        }
        None => {
            p.add(at("full_name"), "is required (owner/name)");
            None
        }
    };
    if let (Some(n), Some(r)) = (&name, &repo) {
        if !n.eq_ignore_ascii_case(r.name()) {
            p.add(
                at("name"),
                format!("must match the name in full_name ('{}')", r.name()),
            );
        }
    }
    let description = match m.shift_remove("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            p.add(at("description"), "must be a string");
            None
        }
    };
    let kind = match m.shift_remove("type") {
        Some(Value::String(s)) => s
            .parse::<RepoKind>()
            .map_err(|_| p.add(at("type"), format!("{KIND_RULE} (got '{s}')")))
            .ok(),
        Some(_) => {
            p.add(at("type"), KIND_RULE);
            None
        }
        None => {
            p.add(at("type"), format!("is required; {KIND_RULE}"));
            None
        }
    };
    let enabled = take_bool(&mut m, &format!("repositories[{i}]"), "enabled", true, p);
    let sync_priority = match m.shift_remove("sync_priority") {
        None | Some(Value::Null) => 3,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v @ 1..=5) => v as u8,
            _ => {
                p.add(
                    at("sync_priority"),
                    format!("must be an integer from 1 to 5 (got {n})"),
                );
                3
            }
        },
        Some(_) => {
            p.add(at("sync_priority"), "must be an integer from 1 to 5");
            3
        }
    };
    let features = match m.shift_remove("features") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (j, f) in a.into_iter().enumerate() {
                match f {
                    Value::String(s) => out.push(s),
                    _ => p.add(
                        format!("repositories[{i}].features[{j}]"),
                        "must be a string",
                    ),
                }
            }
            out
        }
        Some(_) => {
            p.add(at("features"), "must be an array of strings");
            Vec::new()
        }
    };
    if p.0.len() != before {
        return None;
    }
    Some(RepoEntry {
        repo: repo?,
        description,
        kind: kind?,
        enabled,
        sync_priority,
        features,
        extra: m,
    })
}

fn parse_sync(mut m: Map<String, Value>, p: &mut Problems) -> SyncSettings {
    let d = SyncSettings::default();
    let s = "sync_settings";
    let sync_interval_minutes = match m.shift_remove("sync_interval_minutes") {
        None | Some(Value::Null) => d.sync_interval_minutes,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v @ 1..=10_080) => v as u32,
            _ => {
                p.add(
                    "sync_settings.sync_interval_minutes",
                    format!("must be an integer from 1 to 10080 (one week) (got {n})"),
                );
                d.sync_interval_minutes
            }
        },
        Some(_) => {
            p.add(
                "sync_settings.sync_interval_minutes",
                "must be an integer from 1 to 10080",
            );
            d.sync_interval_minutes
        }
    };
    SyncSettings {
        auto_sync_enabled: take_bool(&mut m, s, "auto_sync_enabled", false, p),
        sync_interval_minutes,
        sync_on_push: take_bool(&mut m, s, "sync_on_push", false, p),
        sync_on_pr: take_bool(&mut m, s, "sync_on_pr", false, p),
        cross_repo_notifications: take_bool(&mut m, s, "cross_repo_notifications", false, p),
        extra: m,
    }
}

fn parse_discovery(mut m: Map<String, Value>, p: &mut Problems) -> DiscoverySettings {
    let s = "discovery_settings";
    let repo_name_pattern = match m.shift_remove("repo_name_pattern") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => match NamePattern::new(&t) {
            Ok(pat) => Some(pat),
            Err(Error::Invalid { message, .. }) => {
                p.add(
                    "discovery_settings.repo_name_pattern",
                    format!("must be a glob: {message}"),
                );
                None
            }
            Err(e) => {
                p.add("discovery_settings.repo_name_pattern", e.to_string());
                None
            }
        },
        Some(_) => {
            p.add(
                "discovery_settings.repo_name_pattern",
                "must be a string (a glob such as kova-ai-*)",
            );
            None
        }
    };
    let topics = match m.shift_remove("topics") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            p.add("discovery_settings.topics", "must be an array of strings");
            Vec::new()
        }
    };
    DiscoverySettings {
        auto_discover_new_repos: take_bool(&mut m, s, "auto_discover_new_repos", false, p),
        repo_name_pattern,
        watch_for_new_repos: take_bool(&mut m, s, "watch_for_new_repos", false, p),
        topics,
        extra: m,
    }
}

fn parse_integration(mut m: Map<String, Value>, p: &mut Problems) -> IntegrationSettings {
    let s = "integration_settings";
    IntegrationSettings {
        claude_api_enabled: take_bool(&mut m, s, "claude_api_enabled", false, p),
        github_webhooks_enabled: take_bool(&mut m, s, "github_webhooks_enabled", false, p),
        cross_repo_prs: take_bool(&mut m, s, "cross_repo_prs", false, p),
        unified_changelog: take_bool(&mut m, s, "unified_changelog", false, p),
        extra: m,
    }
}
