//! Pull request review: the changed files under a token budget taken from the model's context
//! window, incremental on `synchronize` (only what changed since the last reviewed head; a full
//! review after a force push), stored as an analysis artifact and optionally posted.

use super::budget::{plan_review, SkippedFile};
use super::payload::{self, PullRequestEvent};
use super::respond::upsert_comment;
use super::HandlerSettings;
use crate::error::{Error, Result};
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{
    ArtifactKind, ListOptions, NewArtifact, NewJob, RepoRef, WebhookDelivery, WebhookEvent,
};
use crate::provider::{estimate_tokens, CompletionRequest};
use crate::source::{ChangedFile, PullRequest};
use crate::store::ArtifactFilter;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// Job kind and artifact purpose of reviews.
pub const PR_REVIEW: &str = "pr_review";

const REVIEW_ACTIONS: [&str; 4] = ["opened", "synchronize", "reopened", "ready_for_review"];

const REVIEW_SYSTEM: &str =
    "You are Kova, a careful senior code reviewer. Review the pull request \
diff you are given. Report bugs, security problems, missing error handling, race conditions and \
unclear code, most important first, each with the file and line and a concrete fix. Do not \
praise, do not restate the diff, say 'No issues found.' when there are none. Answer in Markdown.";

/// Reviews pull requests when they are opened, reopened, marked ready, or pushed to.
#[derive(Debug)]
pub struct PullRequestReview {
    settings: Arc<HandlerSettings>,
}

impl PullRequestReview {
    /// A reviewer with the given settings.
    pub fn new(settings: Arc<HandlerSettings>) -> Self {
        PullRequestReview { settings }
    }
}

/// The work keys of a review: one review per head commit, and a newer head supersedes queued
/// reviews of older ones.
pub(crate) fn review_keys(repo: &str, number: u64, head_sha: &str) -> (String, String) {
    (
        format!("{PR_REVIEW}:{repo}#{number}@{head_sha}"),
        format!("{PR_REVIEW}:{repo}#{number}"),
    )
}

#[async_trait]
impl EventHandler for PullRequestReview {
    fn name(&self) -> &str {
        PR_REVIEW
    }

    fn accepts(&self, event: &str, action: Option<&str>) -> bool {
        event == "pull_request" && action.is_some_and(|a| REVIEW_ACTIONS.contains(&a))
    }

    fn job_for(&self, delivery: &WebhookDelivery) -> NewJob {
        let job = NewJob::new(PR_REVIEW);
        match payload::parse::<payload::keys::PullRequestEvent>("pull_request", &delivery.body) {
            Ok(p) if !p.pull_request.head.sha.is_empty() => {
                let (dedupe, coalesce) = review_keys(
                    &p.repository.full_name,
                    p.pull_request.number,
                    &p.pull_request.head.sha,
                );
                job.with_dedupe_key(dedupe).with_coalesce_key(coalesce)
            }
            // An unreadable payload still gets a job, whose failure is then recorded.
            _ => job,
        }
    }

    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: PullRequestEvent = payload::parse("pull_request", &event.delivery.body)?;
        if p.pull_request.draft && p.action != "ready_for_review" {
            return Ok(HandlerOutcome::empty());
        }
        let repo: RepoRef = p.repository.full_name.parse()?;
        let pr = PullRequest {
            number: p.pull_request.number,
            title: p.pull_request.title,
            body: p.pull_request.body,
            state: p.pull_request.state,
            draft: p.pull_request.draft,
            head_sha: p.pull_request.head.sha,
            head_ref: p.pull_request.head.git_ref,
            base_sha: p.pull_request.base.sha,
            base_ref: p.pull_request.base.git_ref,
            author: Some(p.pull_request.user.login),
        };
        let incremental = p.action == "synchronize";
        let artifact = review(ctx, &self.settings, &repo, &pr, incremental).await?;
        Ok(HandlerOutcome::empty().with_artifact(artifact))
    }
}

/// How much of the pull request a review covers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Full,
    Since(String),
    FullAfterForcePush(String),
}

/// Reviews a pull request (also used by the `/kova review` command) and posts the review when
/// replies are on for the repository.
pub(crate) async fn review(
    ctx: &HandlerContext,
    settings: &HandlerSettings,
    repo: &RepoRef,
    pr: &PullRequest,
    incremental: bool,
) -> Result<NewArtifact> {
    let source = ctx.source()?;
    let llm = ctx.llm()?;
    let mut scope = Scope::Full;
    let mut files: Option<Vec<ChangedFile>> = None;
    if incremental {
        if let Some(prev) = last_reviewed_head(ctx, repo, pr.number).await? {
            if prev != pr.head_sha {
                match source.compare(repo, &prev, &pr.head_sha).await {
                    Ok(c) if c.status == "ahead" => {
                        scope = Scope::Since(prev);
                        files = Some(c.files);
                    }
                    // Diverged, behind, or the old head is gone: history was rewritten.
                    Ok(_) | Err(Error::NotFound { .. }) => scope = Scope::FullAfterForcePush(prev),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let files = match files {
        Some(f) => f,
        None => source.pull_request_files(repo, pr.number).await?,
    };

    let caps = llm.capabilities();
    let max_output = settings
        .review_max_output_tokens
        .min(caps.max_output_tokens);
    let header = format!(
        "Pull request #{} in {repo}: {}\n\n{}\n",
        pr.number,
        pr.title,
        pr.body.as_deref().unwrap_or("")
    );
    // The context window holds the system prompt, the header, the diffs and the answer; keep a
    // tenth in reserve because token counts are estimates.
    let fixed = estimate_tokens(REVIEW_SYSTEM) + estimate_tokens(&header) + 512;
    let window = u64::from(caps.context_window) * 9 / 10;
    let mut budget = window.saturating_sub(fixed + u64::from(max_output));
    if let Some(cap) = settings.review_budget_tokens {
        budget = budget.min(cap);
    }
    let plan = plan_review(&files, budget);

    let mut prompt = header;
    prompt.push_str(&match &scope {
        Scope::Full => "Review the whole pull request.\n".to_string(),
        Scope::Since(prev) => format!(
            "Review only the changes pushed since the last review (commit {}), shown below.\n",
            short(prev)
        ),
        Scope::FullAfterForcePush(prev) => format!(
            "The branch was force-pushed since the last review ({}): review the whole pull request again.\n",
            short(prev)
        ),
    });
    for f in &plan.included {
        prompt.push_str(&format!("\n--- {} ({})\n", f.filename, f.status));
        prompt.push_str(f.patch.as_deref().unwrap_or(""));
        prompt.push('\n');
    }
    if !plan.skipped.is_empty() {
        prompt.push_str("\nThese changed files are NOT shown (do not guess about them):\n");
        for s in &plan.skipped {
            prompt.push_str(&format!("- {}: {}\n", s.file, s.reason));
        }
    }
    let req = CompletionRequest::new(prompt)
        .with_cached_system(REVIEW_SYSTEM)
        .with_max_tokens(max_output);
    let completion = ctx.complete(PR_REVIEW, Some(repo), &req).await?;

    let mut content = completion.text.clone();
    append_skipped(&mut content, &plan.skipped);
    if completion.is_truncated() {
        content.push_str("\n\n> The review was cut off at the output token limit.");
    }
    let mut a = NewArtifact::new(
        format!("review of #{}", pr.number),
        ArtifactKind::Analysis,
        content.clone(),
    );
    a.language = Some("markdown".into());
    a.repo = Some(repo.clone());
    a.metadata.model = Some(completion.model.clone());
    a.metadata.usage = completion.usage;
    a.metadata.cost_usd = completion.cost_usd;
    let extra = &mut a.metadata.extra;
    extra.insert("purpose".into(), json!(PR_REVIEW));
    extra.insert("pr_number".into(), json!(pr.number));
    extra.insert("head_sha".into(), json!(pr.head_sha));
    extra.insert("base_sha".into(), json!(pr.base_sha));
    extra.insert(
        "scope".into(),
        match &scope {
            Scope::Full => json!({"type": "full"}),
            Scope::Since(prev) => json!({"type": "incremental", "since": prev}),
            Scope::FullAfterForcePush(prev) => {
                json!({"type": "full_after_force_push", "previous_head": prev})
            }
        },
    );
    extra.insert(
        "reviewed_files".into(),
        json!(plan
            .included
            .iter()
            .map(|f| f.filename.clone())
            .collect::<Vec<_>>()),
    );
    extra.insert("skipped_files".into(), json!(plan.skipped));
    extra.insert("truncated".into(), json!(completion.is_truncated()));
    if settings.respond.allows(repo) {
        let comment = upsert_comment(
            source.as_ref(),
            repo,
            pr.number,
            PR_REVIEW,
            &format!("### Kova review\n\n{content}"),
        )
        .await?;
        a.metadata
            .extra
            .insert("comment_id".into(), json!(comment.id));
    }
    Ok(a)
}

/// Appends the list of files a review left out, so a reader of the review sees them too.
pub(crate) fn append_skipped(content: &mut String, skipped: &[SkippedFile]) {
    if skipped.is_empty() {
        return;
    }
    content.push_str("\n\n### Not reviewed\n");
    for s in skipped {
        content.push_str(&format!("- `{}`: {}\n", s.file, s.reason));
    }
}

/// The head commit of the newest stored review of this pull request.
async fn last_reviewed_head(
    ctx: &HandlerContext,
    repo: &RepoRef,
    number: u64,
) -> Result<Option<String>> {
    let filter = ArtifactFilter::default()
        .with_repo(repo.clone())
        .with_kind(ArtifactKind::Analysis);
    let page = ctx
        .store
        .list_artifacts(&filter, &ListOptions::default().with_limit(200))
        .await?;
    Ok(page.items.into_iter().find_map(|a| {
        let x = &a.metadata.extra;
        (x.get("purpose")? == PR_REVIEW && x.get("pr_number")?.as_u64()? == number)
            .then(|| x.get("head_sha")?.as_str().map(str::to_string))
            .flatten()
    }))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}
