//! Choosing what to fetch from a tree (the README, manifests, Kubernetes YAML) and
//! summarising the tree, so one repository costs a bounded number of requests.

use crate::source::{EntryKind, Tree};
use crate::sync::kubernetes;
use crate::sync::manifests::{self, ManifestKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tree in numbers, for reports and prompts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeSummary {
    /// Files.
    pub files: u32,
    /// Directories.
    pub dirs: u32,
    /// Bytes in files.
    pub bytes: u64,
    /// The host's listing was partial: manifests beyond it were not seen.
    pub truncated: bool,
    /// Files per top-level entry (`src/`: 120, `README.md`: 1), largest first, at most 40.
    pub top_level: Vec<(String, u32)>,
    /// Files per extension, most common first, at most 15.
    pub extensions: Vec<(String, u32)>,
}

/// A file chosen for fetching, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub path: String,
    /// `None` for Kubernetes candidates: only the content tells.
    pub kind: Option<ManifestKind>,
}

/// A file that was chosen but not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    /// Path from the repository root.
    pub path: String,
    /// Why (`too large`, `over the manifest budget`, `not UTF-8`, `not found`…).
    pub reason: String,
}

/// The README at the root: `README.md` first, then `README`, then any other `readme.*`.
pub(crate) fn readme(tree: &Tree) -> Option<String> {
    let mut best: Option<(u8, &str)> = None;
    for e in tree.entries.iter().filter(|e| e.kind == EntryKind::Blob) {
        if e.path.contains('/') {
            continue;
        }
        let lower = e.path.to_ascii_lowercase();
        let rank = match lower.as_str() {
            "readme.md" => 0,
            "readme" => 1,
            l if l.starts_with("readme.") => 2,
            _ => continue,
        };
        if best.is_none_or(|(r, p)| rank < r || (rank == r && e.path.as_str() < p)) {
            best = Some((rank, &e.path));
        }
    }
    best.map(|(_, p)| p.to_string())
}

/// The manifests to fetch: root files first, then by depth and path; Kubernetes candidates
/// after every named manifest. At most `budget` files; the rest and files over `max_bytes`
/// are returned as skipped.
pub(crate) fn manifests(
    tree: &Tree,
    budget: usize,
    max_bytes: u64,
) -> (Vec<Wanted>, Vec<SkippedFile>) {
    let mut named = Vec::new();
    let mut yaml = Vec::new();
    for e in tree.entries.iter().filter(|e| e.kind == EntryKind::Blob) {
        if manifests::is_foreign(&e.path) {
            continue;
        }
        let wanted = match manifests::kind_of(&e.path) {
            Some(kind) => (e, Some(kind)),
            None if kubernetes::is_candidate_path(&e.path) => (e, None),
            None => continue,
        };
        if wanted.1.is_some() {
            named.push(wanted);
        } else {
            yaml.push(wanted);
        }
    }
    let depth = |p: &str| p.matches('/').count();
    for list in [&mut named, &mut yaml] {
        list.sort_by(|a, b| {
            depth(&a.0.path)
                .cmp(&depth(&b.0.path))
                .then_with(|| a.0.path.cmp(&b.0.path))
        });
    }
    let mut chosen = Vec::new();
    let mut skipped = Vec::new();
    for (e, kind) in named.into_iter().chain(yaml) {
        if e.size.is_some_and(|s| s > max_bytes) {
            skipped.push(SkippedFile {
                path: e.path.clone(),
                reason: format!("too large ({} bytes)", e.size.unwrap_or(0)),
            });
        } else if chosen.len() >= budget {
            skipped.push(SkippedFile {
                path: e.path.clone(),
                reason: "over the manifest budget".into(),
            });
        } else {
            chosen.push(Wanted {
                path: e.path.clone(),
                kind,
            });
        }
    }
    (chosen, skipped)
}

/// Counts a tree.
pub(crate) fn summarize(tree: &Tree) -> TreeSummary {
    let mut s = TreeSummary {
        truncated: tree.truncated,
        ..TreeSummary::default()
    };
    let mut top: BTreeMap<String, u32> = BTreeMap::new();
    let mut ext: BTreeMap<String, u32> = BTreeMap::new();
    for e in &tree.entries {
        match e.kind {
            EntryKind::Tree => s.dirs += 1,
            EntryKind::Commit => {}
            EntryKind::Blob => {
                s.files += 1;
                s.bytes += e.size.unwrap_or(0);
                let key = match e.path.split_once('/') {
                    Some((dir, _)) => format!("{dir}/"),
                    None => e.path.clone(),
                };
                *top.entry(key).or_default() += 1;
                let file = e.path.rsplit('/').next().unwrap_or(&e.path);
                if let Some((stem, x)) = file.rsplit_once('.') {
                    if !stem.is_empty() {
                        *ext.entry(x.to_ascii_lowercase()).or_default() += 1;
                    }
                }
            }
        }
    }
    s.top_level = largest(top, 40);
    s.extensions = largest(ext, 15);
    s
}

fn largest(map: BTreeMap<String, u32>, n: usize) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TreeEntry;

    fn tree(paths: &[(&str, u64)]) -> Tree {
        Tree {
            sha: "t".into(),
            truncated: false,
            entries: paths
                .iter()
                .map(|(p, size)| TreeEntry {
                    path: p.to_string(),
                    kind: EntryKind::Blob,
                    size: Some(*size),
                    sha: "0".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn picks_readme_by_rank() {
        let t = tree(&[("docs/README.md", 1), ("readme.rst", 1), ("README.md", 1)]);
        assert_eq!(readme(&t).as_deref(), Some("README.md"));
        let t = tree(&[("README.txt", 1), ("README", 1)]);
        assert_eq!(readme(&t).as_deref(), Some("README"));
        assert_eq!(readme(&tree(&[("src/main.rs", 1)])), None);
    }

    #[test]
    fn manifests_in_order_within_budget() {
        let t = tree(&[
            ("web/package.json", 10),
            ("Cargo.toml", 10),
            ("k8s/app.yaml", 10),
            ("node_modules/x/package.json", 10),
            ("big/Dockerfile", 10_000_000),
            ("go.mod", 10),
            (".github/workflows/ci.yml", 10),
        ]);
        let (chosen, skipped) = manifests(&t, 3, 1024 * 1024);
        let paths: Vec<_> = chosen.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(paths, vec!["Cargo.toml", "go.mod", "web/package.json"]);
        let reasons: Vec<_> = skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(reasons, vec!["big/Dockerfile", "k8s/app.yaml"]);
    }
}
