//! The optional LLM analysis of a synced repository: a prompt built from what the sync read
//! (README excerpt, tree summary, manifests, languages), kept within a token budget, and the
//! call recorded as an [`LlmInteraction`].

use crate::model::{content_hash, InteractionId, LlmInteraction};
use crate::provider::{estimate_tokens, Completion, CompletionRequest, LlmProvider};
use crate::source::RemoteRepo;
use crate::sync::report::RepoSummary;
use crate::sync::service::Inner;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// Why the call is made, as recorded in [`LlmInteraction::purpose`].
pub const ANALYSIS_PURPOSE: &str = "sync:analysis";

const SYSTEM: &str = "You are a senior software engineer keeping an overview of many \
repositories. From the material given (README excerpt, file tree summary, manifests with \
their dependencies, Kubernetes objects, languages) write a concise Markdown analysis with \
these sections: Purpose, Architecture, Tech stack, Dependencies and risks, Deployment, \
Suggested next steps. Base every statement on the material and say when something is \
unknown; do not invent files or services.";

/// The analysis call's result and the id of its recorded interaction.
pub(crate) struct Analysis {
    pub(crate) completion: Result<Completion, String>,
    pub(crate) interaction_id: Option<InteractionId>,
}

/// How much of each part of the material goes into the prompt.
#[derive(Clone, Copy)]
struct Caps {
    readme_chars: usize,
    deps_per_manifest: usize,
    objects: usize,
    top_level: usize,
}

impl Caps {
    fn halve(self) -> Caps {
        Caps {
            readme_chars: self.readme_chars / 2,
            deps_per_manifest: self.deps_per_manifest / 2,
            objects: self.objects / 2,
            top_level: self.top_level / 2,
        }
    }
}

/// The prompt for a repository, shrunk until it fits `budget` tokens (estimated).
pub(crate) fn prompt(
    remote: &RemoteRepo,
    summary: &RepoSummary,
    readme: Option<&str>,
    readme_chars: usize,
    budget: u64,
) -> String {
    let mut caps = Caps {
        readme_chars,
        deps_per_manifest: 80,
        objects: 60,
        top_level: 40,
    };
    loop {
        let text = render(remote, summary, readme, caps);
        if estimate_tokens(&text) + estimate_tokens(SYSTEM) <= budget || caps.top_level <= 1 {
            return text;
        }
        caps = caps.halve();
    }
}

fn render(remote: &RemoteRepo, s: &RepoSummary, readme: Option<&str>, caps: Caps) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Repository {}", s.repo);
    if let Some(d) = &remote.description {
        let _ = writeln!(out, "Description: {d}");
    }
    let _ = writeln!(
        out,
        "Default branch: {} at {}; topics: {}; archived: {}",
        s.default_branch,
        s.head_sha,
        if remote.topics.is_empty() {
            "none".to_string()
        } else {
            remote.topics.join(", ")
        },
        remote.archived
    );
    out.push_str("\n## Languages (bytes)\n");
    let mut langs: Vec<_> = s.languages.iter().collect();
    langs.sort_by(|a, b| b.1.cmp(a.1));
    for (l, b) in langs {
        let _ = writeln!(out, "- {l}: {b}");
    }
    let t = &s.tree;
    let _ = writeln!(
        out,
        "\n## Tree\n{} files, {} directories, {} bytes{}",
        t.files,
        t.dirs,
        t.bytes,
        if t.truncated {
            " (listing truncated by the host: partial)"
        } else {
            ""
        }
    );
    for (entry, n) in t.top_level.iter().take(caps.top_level) {
        let _ = writeln!(out, "- {entry} ({n} files)");
    }
    if !t.extensions.is_empty() {
        let exts: Vec<String> = t
            .extensions
            .iter()
            .map(|(e, n)| format!(".{e}: {n}"))
            .collect();
        let _ = writeln!(out, "Extensions: {}", exts.join(", "));
    }
    out.push_str("\n## Manifests\n");
    if s.manifests.is_empty() {
        out.push_str("none found\n");
    }
    for m in &s.manifests {
        let _ = write!(out, "### {} ({:?})", m.path, m.kind);
        if let Some(n) = &m.name {
            let _ = write!(out, " name {n}");
        }
        if let Some(v) = &m.version {
            let _ = write!(out, " version {v}");
        }
        out.push('\n');
        for d in m.dependencies.iter().take(caps.deps_per_manifest) {
            let _ = writeln!(
                out,
                "- {} {} ({:?})",
                d.name,
                d.version.as_deref().unwrap_or("*"),
                d.scope
            );
        }
        if m.dependencies.len() > caps.deps_per_manifest {
            let _ = writeln!(
                out,
                "- … {} more",
                m.dependencies.len() - caps.deps_per_manifest
            );
        }
        if !m.images.is_empty() {
            let _ = writeln!(out, "Images: {}", m.images.join(", "));
        }
        if !m.services.is_empty() {
            let _ = writeln!(out, "Services: {}", m.services.join(", "));
        }
        for o in m.kubernetes.iter().take(caps.objects) {
            let _ = writeln!(
                out,
                "- {} {} {}{}",
                o.api_version,
                o.kind,
                o.name.as_deref().unwrap_or("(unnamed)"),
                o.namespace
                    .as_deref()
                    .map(|n| format!(" in {n}"))
                    .unwrap_or_default()
            );
        }
        if let Some(e) = &m.error {
            let _ = writeln!(out, "(could not be parsed: {e})");
        }
    }
    out.push_str("\n## README excerpt\n");
    match readme {
        Some(text) if caps.readme_chars > 0 => {
            let excerpt: String = text.chars().take(caps.readme_chars).collect();
            out.push_str(&excerpt);
            if excerpt.len() < text.len() {
                out.push_str("\n[… README truncated]");
            }
            out.push('\n');
        }
        Some(_) => out.push_str("(omitted for length)\n"),
        None => out.push_str("(no README)\n"),
    }
    out
}

/// Runs the analysis and records the call (success or failure).
pub(crate) async fn run(
    inner: &Inner,
    llm: &Arc<dyn LlmProvider>,
    remote: &RemoteRepo,
    summary: &RepoSummary,
    readme: Option<&str>,
) -> Analysis {
    let o = &inner.options;
    let caps = llm.capabilities();
    let window = u64::from(caps.context_window)
        .saturating_sub(u64::from(o.analysis_max_tokens))
        .saturating_sub(1_000);
    let budget = o.analysis_prompt_tokens.min(window).max(1_000);
    let text = prompt(remote, summary, readme, o.readme_excerpt_chars, budget);
    let mut req = CompletionRequest::new(text)
        .with_cached_system(SYSTEM)
        .with_max_tokens(o.analysis_max_tokens.min(caps.max_output_tokens.max(1)))
        .with_temperature(0.2);
    if let Some(m) = &o.analysis_model {
        req = req.with_model(m.clone());
    }
    let started = Instant::now();
    let result = llm.complete(&req).await;
    let rendered = req.render();
    let interaction = LlmInteraction {
        id: InteractionId(0),
        purpose: ANALYSIS_PURPOSE.to_string(),
        provider: llm.name().to_string(),
        model: match &result {
            Ok(c) => c.model.clone(),
            Err(_) => req.model.clone().unwrap_or_else(|| caps.model.clone()),
        },
        prompt_digest: content_hash(&rendered),
        prompt: rendered,
        response: result.as_ref().map(|c| c.text.clone()).unwrap_or_default(),
        usage: result.as_ref().map(|c| c.usage).unwrap_or_default(),
        cost_usd: result.as_ref().ok().and_then(|c| c.cost_usd),
        duration_ms: started.elapsed().as_millis() as u64,
        success: result.is_ok(),
        error: result.as_ref().err().map(|e| e.to_string()),
        repo: Some(summary.repo.clone()),
        event_id: None,
        created_at: inner.clock.now(),
    };
    // A failure to record the call must not lose the analysis itself.
    let interaction_id = inner.store.record_interaction(&interaction).await.ok();
    Analysis {
        completion: result.map_err(|e| e.to_string()),
        interaction_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::RemoteRepo;
    use crate::sync::select::TreeSummary;

    #[test]
    fn prompt_shrinks_to_budget() {
        let repo: crate::model::RepoRef = "o/r".parse().unwrap();
        let remote = RemoteRepo {
            repo: repo.clone(),
            description: Some("desc".into()),
            default_branch: "main".into(),
            language: None,
            topics: vec![],
            private: false,
            archived: false,
            fork: false,
            stars: 0,
            forks: 0,
            watchers: 0,
            open_issues: 0,
            size_kb: 0,
            pushed_at: None,
            updated_at: None,
            html_url: None,
        };
        let summary = RepoSummary {
            repo,
            head_sha: "abc".into(),
            default_branch: "main".into(),
            tree: TreeSummary::default(),
            readme_path: Some("README.md".into()),
            readme_bytes: Some(100_000),
            languages: Default::default(),
            manifests: vec![],
            skipped_files: vec![],
        };
        let readme = "word ".repeat(20_000);
        let big = prompt(&remote, &summary, Some(&readme), 50_000, 1_000_000);
        let small = prompt(&remote, &summary, Some(&readme), 50_000, 2_000);
        assert!(big.contains("README truncated"));
        assert!(estimate_tokens(&small) + estimate_tokens(SYSTEM) <= 2_000);
        assert!(small.len() < big.len());
        assert!(small.contains("# Repository o/r"));
    }
}
