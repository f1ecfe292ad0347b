//! Repository context for prompts: description, README and a summary of the file tree, fetched
//! through the [`SourceHost`] and rendered as one stable text block (cacheable by providers
//! with prompt caching, since the same repository yields the same text).

use crate::error::{Error, Result};
use crate::model::RepoRef;
use crate::source::{EntryKind, RemoteRepo, SourceHost, Tree, TreeEntry};
use std::collections::BTreeMap;

/// Most README bytes put in a prompt.
pub(crate) const README_BUDGET: usize = 8 * 1024;
/// Most file paths listed in a prompt.
pub(crate) const TREE_PATHS_BUDGET: usize = 150;

/// What a prompt learns about a repository.
#[derive(Debug, Clone)]
pub(crate) struct RepoContext {
    pub remote: RemoteRepo,
    pub tree: Tree,
    /// (path, text, truncated)
    pub readme: Option<(String, String, bool)>,
}

impl RepoContext {
    /// The repository.
    pub fn repo(&self) -> &RepoRef {
        &self.remote.repo
    }

    /// The files (blobs) of the tree.
    pub fn blobs(&self) -> impl Iterator<Item = &TreeEntry> {
        self.tree
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Blob)
    }

    /// The context as a prompt block.
    pub fn render(&self) -> String {
        let r = &self.remote;
        let mut out = format!("# Repository {}\n", r.repo);
        if let Some(d) = r.description.as_deref().filter(|d| !d.is_empty()) {
            out.push_str(&format!("Description: {d}\n"));
        }
        out.push_str(&format!("Default branch: {}\n", r.default_branch));
        if let Some(l) = &r.language {
            out.push_str(&format!("Primary language: {l}\n"));
        }
        if !r.topics.is_empty() {
            out.push_str(&format!("Topics: {}\n", r.topics.join(", ")));
        }
        out.push('\n');
        out.push_str(&tree_summary(&self.tree, TREE_PATHS_BUDGET));
        if let Some((path, text, truncated)) = &self.readme {
            out.push_str(&format!("\n## {path}\n{text}\n"));
            if *truncated {
                out.push_str("[README truncated]\n");
            }
        }
        out
    }

    /// What was used, for artifact metadata.
    pub fn metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "repository": self.remote.repo.full_name(),
            "default_branch": self.remote.default_branch,
            "files_in_tree": self.blobs().count(),
            "tree_truncated": self.tree.truncated,
            "readme": self.readme.as_ref().map(|(p, _, _)| p.clone()),
        })
    }
}

/// Fetches a repository's description, tree and README. An empty repository (no tree) gives
/// an empty tree rather than an error.
pub(crate) async fn fetch(source: &dyn SourceHost, repo: &RepoRef) -> Result<RepoContext> {
    let remote = source.get_repo(repo).await?;
    let tree = match source.get_tree(repo, &remote.default_branch).await {
        Ok(t) => t,
        Err(Error::NotFound { .. }) => Tree {
            sha: String::new(),
            entries: Vec::new(),
            truncated: false,
        },
        Err(e) => return Err(e),
    };
    let readme_path = tree
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Blob && !e.path.contains('/'))
        .filter(|e| e.path.to_ascii_lowercase().starts_with("readme"))
        // README.md before README.rst before README.
        .min_by_key(|e| (!e.path.to_ascii_lowercase().ends_with(".md"), e.path.len()))
        .map(|e| e.path.clone());
    let readme = match readme_path {
        None => None,
        Some(path) => match source
            .get_file(repo, &path, Some(&remote.default_branch))
            .await
        {
            Ok(f) => {
                let text = String::from_utf8_lossy(&f.content);
                let (clipped, truncated) = clip_bytes(&text, README_BUDGET);
                Some((path, clipped.to_string(), truncated))
            }
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
    };
    Ok(RepoContext {
        remote,
        tree,
        readme,
    })
}

/// A summary of a tree: counts, top-level directories with their file counts, and the
/// shallowest paths up to `max_paths`.
pub(crate) fn tree_summary(tree: &Tree, max_paths: usize) -> String {
    let blobs: Vec<&TreeEntry> = tree
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Blob)
        .collect();
    let bytes: u64 = blobs.iter().filter_map(|e| e.size).sum();
    let mut out = format!("## File tree ({} files, {bytes} bytes", blobs.len());
    if tree.truncated {
        out.push_str(", listing incomplete");
    }
    out.push_str(")\n");
    let mut top: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &blobs {
        if let Some((dir, _)) = e.path.split_once('/') {
            *top.entry(dir).or_default() += 1;
        }
    }
    if !top.is_empty() {
        out.push_str("Top-level directories: ");
        let dirs: Vec<String> = top.iter().map(|(d, n)| format!("{d}/ ({n})")).collect();
        out.push_str(&dirs.join(", "));
        out.push('\n');
    }
    let mut paths: Vec<&TreeEntry> = blobs.clone();
    paths.sort_by(|a, b| {
        (a.path.matches('/').count(), &a.path).cmp(&(b.path.matches('/').count(), &b.path))
    });
    for e in paths.iter().take(max_paths) {
        out.push_str(&e.path);
        out.push('\n');
    }
    if paths.len() > max_paths {
        out.push_str(&format!("… and {} more files\n", paths.len() - max_paths));
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes ending on a character boundary, and
/// whether anything was cut.
pub(crate) fn clip_bytes(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_on_char_boundaries() {
        assert_eq!(clip_bytes("héllo", 2), ("h", true));
        assert_eq!(clip_bytes("abc", 5), ("abc", false));
    }

    #[test]
    fn summary_lists_shallow_paths_first() {
        let e = |p: &str| TreeEntry {
            path: p.into(),
            kind: EntryKind::Blob,
            size: Some(10),
            sha: String::new(),
        };
        let tree = Tree {
            sha: String::new(),
            entries: vec![e("src/a/b.rs"), e("Cargo.toml"), e("src/lib.rs")],
            truncated: true,
        };
        let s = tree_summary(&tree, 2);
        assert!(s.starts_with("## File tree (3 files, 30 bytes, listing incomplete)"));
        assert!(s.contains("src/ (2)"));
        assert!(s.contains("Cargo.toml\nsrc/lib.rs\n… and 1 more files"));
    }
}
