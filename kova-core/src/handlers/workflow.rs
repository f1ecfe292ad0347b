//! Failed CI runs: a repository error with the run's facts, and a fix suggestion when an LLM is
//! configured.

use super::payload::{self, WorkflowRunEvent};
use crate::error::Result;
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{
    ArtifactKind, NewArtifact, NewJob, RepoError, RepoErrorId, RepoRef, WebhookDelivery,
    WebhookEvent,
};
use crate::provider::CompletionRequest;
use async_trait::async_trait;
use serde_json::json;

/// Job kind and artifact purpose of CI failure analysis.
pub const WORKFLOW_FAILURE: &str = "workflow_failure";

const FAILED: [&str; 3] = ["failure", "timed_out", "startup_failure"];

/// Analyses completed workflow runs that failed.
#[derive(Debug, Default)]
pub struct WorkflowFailure;

#[async_trait]
impl EventHandler for WorkflowFailure {
    fn name(&self) -> &str {
        WORKFLOW_FAILURE
    }

    fn accepts(&self, event: &str, action: Option<&str>) -> bool {
        event == "workflow_run" && action == Some("completed")
    }

    fn job_for(&self, delivery: &WebhookDelivery) -> NewJob {
        let job = NewJob::new(WORKFLOW_FAILURE);
        match payload::parse::<payload::keys::WorkflowRunEvent>("workflow_run", &delivery.body) {
            Ok(p) if p.workflow_run.id != 0 => job.with_dedupe_key(format!(
                "{WORKFLOW_FAILURE}:{}:{}:{}",
                p.repository.full_name, p.workflow_run.id, p.workflow_run.run_attempt
            )),
            _ => job,
        }
    }

    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: WorkflowRunEvent = payload::parse("workflow_run", &event.delivery.body)?;
        let run = &p.workflow_run;
        let conclusion = run.conclusion.as_deref().unwrap_or("");
        if !FAILED.contains(&conclusion) {
            return Ok(HandlerOutcome::empty());
        }
        let repo: RepoRef = p.repository.full_name.parse()?;
        let title = format!("{} {conclusion} on {}", run.name, run.head_branch);
        let detail = format!(
            "Workflow '{}' (run {}, attempt {}, triggered by {}) concluded '{conclusion}' on branch {} at {}.\nHead commit: {}\n{}",
            run.name,
            run.id,
            run.run_attempt,
            run.event,
            run.head_branch,
            run.head_sha,
            run.head_commit.as_ref().map(|c| c.message.as_str()).unwrap_or(""),
            run.display_title,
        );
        let mut outcome = HandlerOutcome::empty();
        let mut analysis = None;
        if ctx.llm.is_some() {
            let req = CompletionRequest::new(format!(
                "A CI run failed in {repo}.\n\n{detail}\n\nSuggest the most likely causes and how to fix them, most likely first. Be concrete and brief."
            ))
            .with_max_tokens(1024);
            let c = ctx.complete(WORKFLOW_FAILURE, Some(&repo), &req).await?;
            let mut a = NewArtifact::new(
                format!("fix suggestion for {}", run.name),
                ArtifactKind::Analysis,
                c.text.clone(),
            );
            a.language = Some("markdown".into());
            a.repo = Some(repo.clone());
            a.metadata.model = Some(c.model);
            a.metadata.usage = c.usage;
            a.metadata.cost_usd = c.cost_usd;
            a.metadata
                .extra
                .insert("purpose".into(), json!(WORKFLOW_FAILURE));
            a.metadata.extra.insert("run_id".into(), json!(run.id));
            analysis = Some(c.text);
            outcome = outcome.with_artifact(a);
        }
        Ok(outcome.with_repo_error(RepoError {
            id: RepoErrorId(0),
            repo,
            source: "workflow_run".into(),
            title,
            detail,
            head_sha: Some(run.head_sha.clone()).filter(|s| !s.is_empty()),
            url: run.html_url.clone(),
            analysis,
            created_at: ctx.clock.now(),
        }))
    }
}
