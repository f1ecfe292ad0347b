//! The event handlers Kova ships: pull request review, push summary, issue triage, comment
//! commands, CI failure analysis, ping and installation. Register them with
//! [`KovaBuilder::default_handlers`](crate::KovaBuilder::default_handlers); register your own
//! first to replace one (the first handler that accepts an event gets it).

mod budget;
mod comment;
mod issues;
mod lifecycle;
mod payload;
mod pull_request;
mod push;
mod respond;
mod workflow;

pub use budget::{is_generated, plan_review, ReviewPlan, SkippedFile};
pub use comment::{parse_command, Command, CommentCommands, COMMENT_COMMAND, HELP};
pub use issues::{IssueTriage, ISSUE_TRIAGE};
pub use lifecycle::{Installation, Ping};
pub use pull_request::{PullRequestReview, PR_REVIEW};
pub use push::{PushSummary, PUSH_SUMMARY};
pub use respond::Respond;
pub use workflow::{WorkflowFailure, WORKFLOW_FAILURE};

use crate::handler::EventHandler;
use crate::model::RepoRef;
use std::fmt;
use std::sync::Arc;

/// Called with a repository when its default branch received a push (e.g. to re-sync it).
pub type PushHook = Arc<dyn Fn(&RepoRef) + Send + Sync>;

/// What the shipped handlers are allowed and asked to do.
#[derive(Clone)]
#[non_exhaustive]
pub struct HandlerSettings {
    /// Where Kova may post its results as comments (off by default).
    pub respond: Respond,
    /// Output tokens a review may use.
    pub review_max_output_tokens: u32,
    /// An upper bound on the diff tokens of a review (cost control); `None`: as much as the
    /// model's context window allows.
    pub review_budget_tokens: Option<u64>,
    /// The kind recorded for repositories added by an installation.
    pub installed_repo_kind: crate::model::RepoKind,
    /// Called after a push to a default branch.
    pub on_default_branch_push: Option<PushHook>,
}

impl Default for HandlerSettings {
    fn default() -> Self {
        HandlerSettings {
            respond: Respond::Off,
            review_max_output_tokens: 4096,
            review_budget_tokens: None,
            installed_repo_kind: crate::model::RepoKind::Service,
            on_default_branch_push: None,
        }
    }
}

impl fmt::Debug for HandlerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerSettings")
            .field("respond", &self.respond)
            .field("review_max_output_tokens", &self.review_max_output_tokens)
            .field("review_budget_tokens", &self.review_budget_tokens)
            .field("installed_repo_kind", &self.installed_repo_kind)
            .field(
                "on_default_branch_push",
                &self.on_default_branch_push.is_some(),
            )
            .finish()
    }
}

impl HandlerSettings {
    /// Sets where Kova may comment.
    pub fn with_respond(mut self, respond: Respond) -> Self {
        self.respond = respond;
        self
    }
    /// Caps the diff tokens of a review.
    pub fn with_review_budget(mut self, tokens: u64) -> Self {
        self.review_budget_tokens = Some(tokens);
        self
    }
    /// Sets the hook called after default-branch pushes.
    pub fn with_push_hook(mut self, hook: PushHook) -> Self {
        self.on_default_branch_push = Some(hook);
        self
    }
}

/// Every shipped handler, in matching order.
pub fn default_handlers(settings: HandlerSettings) -> Vec<Arc<dyn EventHandler>> {
    let s = Arc::new(settings);
    vec![
        Arc::new(PullRequestReview::new(s.clone())),
        Arc::new(PushSummary::new(s.clone())),
        Arc::new(IssueTriage::new(s.clone())),
        Arc::new(CommentCommands::new(s.clone())),
        Arc::new(WorkflowFailure),
        Arc::new(Ping),
        Arc::new(Installation::new(s)),
    ]
}
