//! Scans (the future `POST /api/scan`): a repository through the [`SourceHost`], or a local
//! directory through `std::fs`, summarised as a [`ScanReport`] — file tree, languages by
//! extension, manifests (Cargo, npm, Python, Go, Docker, Compose, Kubernetes) and sizes. No LLM.
//!
//! [`SourceHost`]: crate::source::SourceHost

mod local;
mod manifests;
mod remote;

pub use local::scan_local_path;
pub use manifests::{K8sResource, Manifest, ManifestKind};

use crate::artifacts::languages;
use crate::model::RepoRef;
use manifests::Candidate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Directories never descended into (vendored code, build output, VCS data).
pub const DEFAULT_SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".gradle",
    ".idea",
    "vendor",
    "dist",
    "build",
];

/// Whether a directory name is skipped by default.
pub(crate) fn is_skipped_dir(name: &str) -> bool {
    DEFAULT_SKIP_DIRS.contains(&name)
}

/// Limits and choices for a scan. `Default` suits an interactive request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanOptions {
    /// Files counted at most; the walk stops there and the report says `truncated`.
    pub max_files: usize,
    /// Files listed in [`ScanReport::files`] (all are counted in the totals).
    pub max_listed_files: usize,
    /// Manifests read at most.
    pub max_manifests: usize,
    /// Manifests larger than this are listed but not parsed.
    pub max_manifest_bytes: u64,
    /// Directory names not descended into.
    pub skip_dirs: Vec<String>,
    /// Local scans only: when non-empty, the path must lie inside one of these directories
    /// (servers should set it, so a client cannot scan the whole machine).
    pub allowed_roots: Vec<PathBuf>,
    /// Repository scans only: the branch, tag or commit (`None`: the default branch).
    pub git_ref: Option<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_files: 20_000,
            max_listed_files: 2_000,
            max_manifests: 100,
            max_manifest_bytes: 1024 * 1024,
            skip_dirs: DEFAULT_SKIP_DIRS.iter().map(|s| s.to_string()).collect(),
            allowed_roots: Vec::new(),
            git_ref: None,
        }
    }
}

impl ScanOptions {
    /// Sets the file limit.
    pub fn with_max_files(mut self, n: usize) -> Self {
        self.max_files = n;
        self
    }
    /// Sets the manifest limit.
    pub fn with_max_manifests(mut self, n: usize) -> Self {
        self.max_manifests = n;
        self
    }
    /// Restricts local scans to paths inside `root`.
    pub fn with_allowed_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.allowed_roots.push(root.into());
        self
    }
    /// Scans a repository at `git_ref`.
    pub fn with_git_ref(mut self, git_ref: impl Into<String>) -> Self {
        self.git_ref = Some(git_ref.into());
        self
    }

    fn skips(&self, dir_name: &str) -> bool {
        self.skip_dirs.iter().any(|d| d == dir_name)
    }
}

/// What was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScanTarget {
    /// A repository on the source host.
    Repository {
        /// `owner/name`.
        repository: RepoRef,
        /// The ref scanned.
        git_ref: String,
    },
    /// A local directory.
    Local {
        /// The directory, as given.
        path: String,
    },
}

/// One file of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedFile {
    /// Path from the root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Language by extension, if known.
    pub language: Option<String>,
}

/// Files and bytes of one language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageStats {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScanReport {
    /// What was scanned.
    pub target: ScanTarget,
    /// Files counted.
    pub file_count: u64,
    /// Directories seen (skipped ones excluded).
    pub directory_count: u64,
    /// Bytes of all counted files.
    pub total_bytes: u64,
    /// Files by language (display name), from extensions.
    pub languages: BTreeMap<String, LanguageStats>,
    /// Languages by bytes as the host reports them (repository scans).
    pub host_languages: Option<BTreeMap<String, u64>>,
    /// Manifests found and parsed.
    pub manifests: Vec<Manifest>,
    /// The first files, in path order (see [`ScanOptions::max_listed_files`]).
    pub files: Vec<ScannedFile>,
    /// A limit was hit or the host's listing was incomplete: counts are lower bounds.
    pub truncated: bool,
    /// What was skipped and why.
    pub notes: Vec<String>,
}

/// Builds a report from files seen one by one (local walk or host tree).
struct Builder {
    report: ScanReport,
    opts: ScanOptions,
    candidates: Vec<(String, u64, Candidate)>,
    file_limit_hit: bool,
}

impl Builder {
    fn new(target: ScanTarget, opts: &ScanOptions) -> Self {
        Builder {
            report: ScanReport {
                target,
                file_count: 0,
                directory_count: 0,
                total_bytes: 0,
                languages: BTreeMap::new(),
                host_languages: None,
                manifests: Vec::new(),
                files: Vec::new(),
                truncated: false,
                notes: Vec::new(),
            },
            opts: opts.clone(),
            candidates: Vec::new(),
            file_limit_hit: false,
        }
    }

    /// Whether another file may be counted; records the truncation when not.
    fn room(&mut self) -> bool {
        if self.report.file_count as usize >= self.opts.max_files {
            if !self.file_limit_hit {
                self.file_limit_hit = true;
                self.report.truncated = true;
                self.report.notes.push(format!(
                    "stopped after {} files (max_files)",
                    self.opts.max_files
                ));
            }
            return false;
        }
        true
    }

    fn add_file(&mut self, path: &str, size: u64) {
        let lang = languages::for_path(path);
        self.report.file_count += 1;
        self.report.total_bytes += size;
        if let Some(l) = lang {
            let s = self
                .report
                .languages
                .entry(l.display.to_string())
                .or_default();
            s.files += 1;
            s.bytes += size;
        }
        if self.report.files.len() < self.opts.max_listed_files {
            self.report.files.push(ScannedFile {
                path: path.to_string(),
                size,
                language: lang.map(|l| l.display.to_string()),
            });
        }
        if let Some(c) = manifests::candidate(path) {
            self.candidates.push((path.to_string(), size, c));
        }
    }

    /// The manifest candidates to read, known manifests first, then YAML that may be
    /// Kubernetes (shallow first); the rest is noted.
    fn take_candidates(&mut self) -> Vec<(String, u64, Candidate)> {
        let mut c = std::mem::take(&mut self.candidates);
        c.sort_by_key(|(p, _, k)| (*k == Candidate::Yaml, p.matches('/').count(), p.clone()));
        let mut chosen = Vec::new();
        for (path, size, kind) in c {
            if size > self.opts.max_manifest_bytes {
                if kind != Candidate::Yaml {
                    self.report.notes.push(format!(
                        "{path}: {size} bytes, larger than max_manifest_bytes; not parsed"
                    ));
                }
                continue;
            }
            if chosen.len() >= self.opts.max_manifests {
                self.report.truncated = true;
                self.report.notes.push(format!(
                    "more manifest candidates than max_manifests ({}); the rest not read",
                    self.opts.max_manifests
                ));
                break;
            }
            chosen.push((path, size, kind));
        }
        chosen
    }

    fn add_manifest(&mut self, path: &str, kind: Candidate, content: &[u8]) {
        match std::str::from_utf8(content) {
            Ok(text) => {
                if let Some(m) = manifests::parse(path, kind, text) {
                    self.report.manifests.push(m);
                }
            }
            Err(_) => self
                .report
                .notes
                .push(format!("{path}: not UTF-8; not parsed")),
        }
    }

    fn finish(mut self) -> ScanReport {
        self.report.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.report.manifests.sort_by(|a, b| a.path.cmp(&b.path));
        self.report
    }
}
