//! Pushes to the default branch: a summary of the commits and changed files (with an LLM
//! summary when one is configured), and a nudge to re-sync the repository.

use super::payload::{self, PushEvent};
use super::HandlerSettings;
use crate::error::Result;
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{ArtifactKind, NewArtifact, RepoRef, WebhookEvent};
use crate::provider::CompletionRequest;
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Job kind and artifact purpose of push summaries.
pub const PUSH_SUMMARY: &str = "push_summary";

/// Summarises pushes to a repository's default branch.
#[derive(Debug)]
pub struct PushSummary {
    settings: Arc<HandlerSettings>,
}

impl PushSummary {
    /// A summariser with the given settings.
    pub fn new(settings: Arc<HandlerSettings>) -> Self {
        PushSummary { settings }
    }
}

#[async_trait]
impl EventHandler for PushSummary {
    fn name(&self) -> &str {
        PUSH_SUMMARY
    }

    fn accepts(&self, event: &str, _action: Option<&str>) -> bool {
        event == "push"
    }

    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: PushEvent = payload::parse("push", &event.delivery.body)?;
        let default_ref = format!("refs/heads/{}", p.repository.default_branch);
        if p.deleted || p.repository.default_branch.is_empty() || p.git_ref != default_ref {
            return Ok(HandlerOutcome::empty());
        }
        let repo: RepoRef = p.repository.full_name.parse()?;
        let (mut added, mut modified, mut removed) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut text = format!(
            "Push to `{}` by {}: {} commit(s), {} → {}{}\n\n",
            p.repository.default_branch,
            p.pusher.name,
            p.commits.len(),
            &p.before[..p.before.len().min(7)],
            &p.after[..p.after.len().min(7)],
            if p.forced { " (force-pushed)" } else { "" }
        );
        for c in &p.commits {
            let first_line = c.message.lines().next().unwrap_or("");
            text.push_str(&format!(
                "- {} {} ({})\n",
                &c.id[..c.id.len().min(7)],
                first_line,
                c.author.name
            ));
            added.extend(c.added.iter().cloned());
            modified.extend(c.modified.iter().cloned());
            removed.extend(c.removed.iter().cloned());
        }
        text.push_str(&format!(
            "\nFiles: {} added, {} modified, {} removed.\n",
            added.len(),
            modified.len(),
            removed.len()
        ));
        for (label, set) in [
            ("Added", &added),
            ("Modified", &modified),
            ("Removed", &removed),
        ] {
            if !set.is_empty() {
                text.push_str(&format!(
                    "{label}: {}\n",
                    set.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let mut a = NewArtifact::new(
            format!("push to {}", p.repository.default_branch),
            ArtifactKind::Analysis,
            String::new(),
        );
        // Without an LLM the factual summary still stands on its own.
        if ctx.llm.is_some() && !p.commits.is_empty() {
            let req = CompletionRequest::new(format!(
                "Summarise this push for the team in three to six bullet points: what changed and why it matters.\n\n{text}"
            ))
            .with_max_tokens(1024);
            let c = ctx.complete(PUSH_SUMMARY, Some(&repo), &req).await?;
            text = format!("{}\n\n---\n{text}", c.text);
            a.metadata.model = Some(c.model);
            a.metadata.usage = c.usage;
            a.metadata.cost_usd = c.cost_usd;
        }
        a.content = text;
        a.language = Some("markdown".into());
        a.repo = Some(repo.clone());
        let x = &mut a.metadata.extra;
        x.insert("purpose".into(), json!(PUSH_SUMMARY));
        x.insert("after".into(), json!(p.after));
        x.insert("commits".into(), json!(p.commits.len()));
        x.insert(
            "files".into(),
            json!({"added": added, "modified": modified, "removed": removed}),
        );
        if let Some(hook) = &self.settings.on_default_branch_push {
            hook(&repo);
            a.metadata
                .extra
                .insert("resync_requested".into(), json!(true));
        }
        Ok(HandlerOutcome::empty().with_artifact(a))
    }
}
