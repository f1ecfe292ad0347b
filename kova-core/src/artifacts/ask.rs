//! Choosing the repository files that answer a question: score tree paths against the
//! question's keywords, fetch the best candidates, score their contents, and keep the top few
//! within a byte budget. The files kept are cited in the answer.

use crate::artifacts::repo_context::{clip_bytes, RepoContext};
use crate::artifacts::scan::is_skipped_dir;
use crate::error::{Error, Result};
use crate::source::{SourceHost, TreeEntry};
use serde::{Deserialize, Serialize};

/// Files fetched to score their contents.
pub const MAX_CANDIDATES: usize = 12;
/// Files given to the model.
pub const MAX_FILES: usize = 5;
/// Bytes of file content given to the model, all files together.
pub const FILES_BUDGET: usize = 48 * 1024;
/// Bytes of one file given to the model.
pub const FILE_BUDGET: usize = 16 * 1024;
/// Files larger than this are never fetched.
const MAX_FETCH_SIZE: u64 = 512 * 1024;

/// A file used to answer, as cited in the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitedFile {
    /// Path in the repository.
    pub path: String,
    /// Relevance score (path and content matches).
    pub score: u32,
    /// The file's size in bytes.
    pub bytes: u64,
    /// Bytes of it given to the model.
    pub included_bytes: u64,
    /// Whether only the beginning was given.
    pub truncated: bool,
}

/// A chosen file with the text given to the model.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    pub cited: CitedFile,
    pub text: String,
}

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "are",
    "was",
    "were",
    "what",
    "how",
    "does",
    "did",
    "where",
    "which",
    "who",
    "why",
    "when",
    "this",
    "that",
    "these",
    "those",
    "with",
    "from",
    "into",
    "about",
    "can",
    "could",
    "should",
    "would",
    "you",
    "your",
    "our",
    "its",
    "there",
    "their",
    "have",
    "has",
    "had",
    "not",
    "all",
    "any",
    "use",
    "used",
    "uses",
    "using",
    "repo",
    "repository",
    "file",
    "files",
    "code",
    "project",
    "please",
    "explain",
    "tell",
    "show",
    "work",
    "works",
    "also",
    "some",
    "get",
    "set",
    "out",
    "one",
    "other",
    "here",
    "then",
    "than",
    "them",
];

const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "ico", "bmp", "webp", "svg", "pdf", "zip", "gz", "tgz", "bz2",
    "xz", "7z", "tar", "jar", "war", "class", "so", "dylib", "dll", "exe", "bin", "o", "a", "woff",
    "woff2", "ttf", "otf", "eot", "mp3", "mp4", "mov", "avi", "wav", "wasm", "pyc", "db", "sqlite",
    "lock",
];

const LOCK_FILES: &[&str] = &[
    "cargo.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "composer.lock",
    "gemfile.lock",
    "go.sum",
    "uv.lock",
];

/// The question's keywords: lowercase words of three or more characters, stopwords removed,
/// each once, in order.
pub(crate) fn keywords(question: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in question
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_lowercase)
    {
        if w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Whether a tree entry is worth reading as text.
fn readable(e: &TreeEntry) -> bool {
    let lower = e.path.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = file.rsplit_once('.').map(|(_, x)| x).unwrap_or("");
    let dirs = lower.split('/').rev().skip(1);
    !BINARY_EXTENSIONS.contains(&ext)
        && !LOCK_FILES.contains(&file)
        && e.size.is_none_or(|s| s > 0 && s <= MAX_FETCH_SIZE)
        && !dirs.into_iter().any(is_skipped_dir)
}

/// How well a path matches the keywords.
pub(crate) fn path_score(path: &str, keywords: &[String]) -> u32 {
    let lower = path.to_lowercase();
    let (dirs, file) = match lower.rsplit_once('/') {
        Some((d, f)) => (d, f),
        None => ("", lower.as_str()),
    };
    let stem = file.split('.').next().unwrap_or(file);
    let mut score = 0;
    for k in keywords {
        score += if stem == k {
            10
        } else if file.contains(k.as_str()) {
            6
        } else if dirs.split('/').any(|d| d == k) {
            3
        } else if lower.contains(k.as_str()) {
            1
        } else {
            0
        };
    }
    score
}

/// How well a file's text matches the keywords: each keyword found counts 3, plus one per
/// occurrence up to 10, so a file mentioning every keyword beats one repeating one.
pub(crate) fn content_score(text: &str, keywords: &[String]) -> u32 {
    let lower = text.to_lowercase();
    keywords
        .iter()
        .map(|k| {
            let n = lower.matches(k.as_str()).take(10).count() as u32;
            if n > 0 {
                3 + n
            } else {
                0
            }
        })
        .sum()
}

/// Candidates to fetch: the best path matches; with none, the README, manifests and the
/// shallowest source files (contents may still match).
fn candidates<'a>(
    ctx: &'a RepoContext,
    keywords: &[String],
    pinned: Option<&str>,
) -> Vec<(&'a TreeEntry, u32)> {
    let readable: Vec<&TreeEntry> = ctx.blobs().filter(|e| readable(e)).collect();
    let mut scored: Vec<(&TreeEntry, u32)> = readable
        .iter()
        .map(|e| (*e, path_score(&e.path, keywords)))
        .filter(|(_, s)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.path.cmp(&b.0.path)));
    scored.truncate(MAX_CANDIDATES);
    if scored.len() < MAX_CANDIDATES {
        // Fill with likely-relevant files whose contents may match: README first, then
        // shallow files, smaller first.
        let mut rest: Vec<&TreeEntry> = readable
            .iter()
            .copied()
            .filter(|e| !scored.iter().any(|(s, _)| s.path == e.path))
            .collect();
        rest.sort_by_key(|e| {
            let readme = e.path.to_ascii_lowercase().starts_with("readme");
            (
                !readme,
                e.path.matches('/').count(),
                e.size.unwrap_or(u64::MAX),
            )
        });
        let room = MAX_CANDIDATES - scored.len();
        scored.extend(rest.into_iter().take(room).map(|e| (e, 0)));
    }
    if let Some(p) = pinned {
        scored.retain(|(e, _)| e.path != p);
        if let Some(e) = ctx.blobs().find(|e| e.path == p) {
            scored.insert(0, (e, u32::MAX / 2));
        }
    }
    scored
}

/// Fetches and scores candidates; returns the chosen files, best first, within the budgets.
/// `pinned` (the request's `file_path`) is always included first when it exists.
pub(crate) async fn choose_files(
    source: &dyn SourceHost,
    ctx: &RepoContext,
    question: &str,
    pinned: Option<&str>,
) -> Result<Vec<Chosen>> {
    let kws = keywords(question);
    let cands = candidates(ctx, &kws, pinned);
    let branch = ctx.remote.default_branch.as_str();
    let fetches = cands
        .iter()
        .map(|(e, _)| source.get_file(ctx.repo(), &e.path, Some(branch)));
    let files = futures::future::join_all(fetches).await;
    let mut scored: Vec<(u32, usize, String, String)> = Vec::new();
    for (idx, ((entry, pscore), file)) in cands.iter().zip(files).enumerate() {
        let file = match file {
            Ok(f) => f,
            // Listed but gone (or not a file): nothing to cite.
            Err(Error::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let Some(text) = file.text() else { continue };
        let score = pscore
            .saturating_mul(2)
            .saturating_add(content_score(text, &kws));
        let is_pinned = pinned == Some(entry.path.as_str());
        if score == 0 && !is_pinned && !kws.is_empty() {
            continue;
        }
        scored.push((score, idx, entry.path.clone(), text.to_string()));
    }
    // Ties keep the candidate order (README and shallow files first).
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = Vec::new();
    let mut used = 0usize;
    for (score, _, path, text) in scored {
        if out.len() == MAX_FILES || used >= FILES_BUDGET {
            break;
        }
        let room = FILE_BUDGET.min(FILES_BUDGET - used);
        let (kept, truncated) = clip_bytes(&text, room);
        used += kept.len();
        out.push(Chosen {
            cited: CitedFile {
                path,
                score: score.min(u32::MAX / 2),
                bytes: text.len() as u64,
                included_bytes: kept.len() as u64,
                truncated,
            },
            text: kept.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_drop_stopwords_and_duplicates() {
        assert_eq!(
            keywords("How does the webhook signature verification work? Webhook!"),
            ["webhook", "signature", "verification"]
        );
        assert!(keywords("how is it?").is_empty());
    }

    #[test]
    fn paths_score_by_name_before_directory() {
        let k = keywords("webhook signature");
        let stem = path_score("src/webhook.rs", &k);
        let name = path_score("src/webhook_util.rs", &k);
        let dir = path_score("webhook/mod.rs", &k);
        assert!(stem > name && name > dir && dir > 0, "{stem} {name} {dir}");
        assert_eq!(path_score("src/other.rs", &k), 0);
    }

    #[test]
    fn content_scores_reward_breadth() {
        let k = keywords("retry backoff");
        assert!(content_score("retry backoff", &k) > content_score("retry retry retry", &k));
        assert_eq!(content_score("nothing", &k), 0);
    }

    #[test]
    fn unreadable_entries_are_skipped() {
        let e = |p: &str, size| TreeEntry {
            path: p.into(),
            kind: crate::source::EntryKind::Blob,
            size: Some(size),
            sha: String::new(),
        };
        assert!(readable(&e("src/a.rs", 10)));
        assert!(!readable(&e("logo.png", 10)));
        assert!(!readable(&e("Cargo.lock", 10)));
        assert!(!readable(&e("node_modules/x/index.js", 10)));
        assert!(!readable(&e("big.txt", MAX_FETCH_SIZE + 1)));
    }
}
