//! Fitting a pull request into the model's context: source first, generated and lock files
//! last, and every file left out listed with the reason — never dropped silently.

use crate::provider::estimate_tokens;
use crate::source::ChangedFile;
use serde::{Deserialize, Serialize};

/// A file left out of a review, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    /// The file's path.
    pub file: String,
    /// Why it was not reviewed.
    pub reason: String,
}

/// Which files a review covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPlan<'a> {
    /// Files whose diffs go into the prompt, in priority order.
    pub included: Vec<&'a ChangedFile>,
    /// Files left out, with reasons.
    pub skipped: Vec<SkippedFile>,
    /// Estimated prompt tokens of the included diffs.
    pub tokens: u64,
}

/// Tokens each file costs beyond its diff (its header in the prompt).
const PER_FILE_OVERHEAD: u64 = 24;

/// How much a file matters to a reviewer: lower first.
fn priority(path: &str) -> u8 {
    if is_generated(path) {
        2
    } else if is_source(path) {
        0
    } else {
        1
    }
}

/// Lock files, vendored and built output, minified and generated code.
pub fn is_generated(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    const LOCKS: [&str; 12] = [
        "cargo.lock",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "pipfile.lock",
        "go.sum",
        "composer.lock",
        "gemfile.lock",
        "uv.lock",
        "npm-shrinkwrap.json",
        "bun.lockb",
    ];
    LOCKS.contains(&name)
        || [
            ".min.js",
            ".min.css",
            ".map",
            ".snap",
            ".pb.go",
            "_pb2.py",
            ".generated.cs",
            ".g.dart",
        ]
        .iter()
        .any(|s| name.ends_with(s))
        || [
            "vendor/",
            "dist/",
            "build/",
            "node_modules/",
            "generated/",
            "__generated__/",
        ]
        .iter()
        .any(|d| lower.starts_with(d) || lower.contains(&format!("/{d}")))
}

fn is_source(path: &str) -> bool {
    const EXT: [&str; 28] = [
        "rs", "py", "go", "js", "jsx", "ts", "tsx", "java", "kt", "c", "h", "cc", "cpp", "hpp",
        "cs", "rb", "php", "swift", "scala", "sh", "sql", "vue", "svelte", "ex", "exs", "hs",
        "lua", "dart",
    ];
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| EXT.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Chooses the files to review within `budget` prompt tokens: source before other files before
/// generated ones (each group in the pull request's order), skipping what has no diff or does
/// not fit.
pub fn plan_review(files: &[ChangedFile], budget: u64) -> ReviewPlan<'_> {
    let mut order: Vec<&ChangedFile> = files.iter().collect();
    order.sort_by_key(|f| priority(&f.filename));
    let mut plan = ReviewPlan {
        included: Vec::new(),
        skipped: Vec::new(),
        tokens: 0,
    };
    for f in order {
        let Some(patch) = &f.patch else {
            plan.skipped.push(SkippedFile {
                file: f.filename.clone(),
                reason: "no diff available (binary, or too large for the host to show)".into(),
            });
            continue;
        };
        let cost = estimate_tokens(patch) + PER_FILE_OVERHEAD;
        let left = budget.saturating_sub(plan.tokens);
        if cost > left {
            plan.skipped.push(SkippedFile {
                file: f.filename.clone(),
                reason: if is_generated(&f.filename) {
                    format!("generated or lock file, left out to fit the token budget (~{cost} tokens, {left} left)")
                } else {
                    format!("over the token budget (~{cost} tokens needed, {left} left)")
                },
            });
            continue;
        }
        plan.tokens += cost;
        plan.included.push(f);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, patch_len: Option<usize>) -> ChangedFile {
        ChangedFile {
            filename: name.into(),
            status: "modified".into(),
            additions: 1,
            deletions: 0,
            patch: patch_len.map(|n| "+".repeat(n)),
            previous_filename: None,
        }
    }

    #[test]
    fn source_first_generated_last_nothing_dropped_silently() {
        let files = vec![
            file("Cargo.lock", Some(6_000)),
            file("README.md", Some(300)),
            file("src/main.rs", Some(300)),
            file("logo.png", None),
            file("src/big.rs", Some(30_000)),
        ];
        let plan = plan_review(&files, 1_500);
        let inc: Vec<&str> = plan.included.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(inc, ["src/main.rs", "README.md"]);
        let skipped: Vec<&str> = plan.skipped.iter().map(|s| s.file.as_str()).collect();
        assert_eq!(skipped, ["src/big.rs", "logo.png", "Cargo.lock"]);
        assert!(plan.skipped[0].reason.contains("over the token budget"));
        assert!(plan.skipped[1].reason.contains("no diff"));
        assert!(plan.skipped[2].reason.contains("generated or lock file"));
        assert_eq!(plan.included.len() + plan.skipped.len(), files.len());
        assert!(plan.tokens <= 1_500);
    }

    #[test]
    fn recognises_generated_paths() {
        for p in [
            "web/package-lock.json",
            "vendor/x/y.go",
            "a/dist/app.min.js",
            "api.pb.go",
            "src/__generated__/q.ts",
        ] {
            assert!(is_generated(p), "{p}");
        }
        for p in ["src/lib.rs", "docs/build.md", "rebuild/x.rs"] {
            assert!(!is_generated(p), "{p}");
        }
    }
}
