//! Typed, lenient views of the webhook payloads Kova's handlers use, parsed only when a handler
//! asks (ingest reads just the [`Envelope`](crate::webhook::Envelope)).
//!
//! Every field has a default and unknown fields are ignored, so a payload with fields GitHub
//! added later, or without ones older servers do not send, still parses. Events without a view
//! stay available as raw JSON ([`GitHubEvent::Other`]).
//!
//! ```
//! use kova_github::events::{parse_event, GitHubEvent};
//! let body = br#"{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"o/r"}}"#;
//! match parse_event("push", body).unwrap() {
//!     GitHubEvent::Push(push) => assert_eq!(push.branch(), Some("main")),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod common;
mod installation;
mod issues;
mod ping;
mod pull_request;
mod push;
mod workflow_run;

pub use common::{BranchRef, InstallationRef, Label, Repository, User};
pub use installation::{
    Installation, InstallationEvent, InstallationRepositoriesEvent, InstallationRepository,
};
pub use issues::{Comment, Issue, IssueCommentEvent, IssuesEvent};
pub use ping::{Hook, HookConfig, PingEvent};
pub use pull_request::{PullRequestEvent, PullRequestPayload};
pub use push::{CommitUser, PushCommit, PushEvent};
pub use workflow_run::{RunPullRequest, Workflow, WorkflowRun, WorkflowRunEvent};

use kova_core::{Error, Result, WebhookDelivery};
use serde::de::DeserializeOwned;

/// A webhook payload, typed when Kova has a view for its event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GitHubEvent {
    /// `push`.
    Push(Box<PushEvent>),
    /// `pull_request`.
    PullRequest(Box<PullRequestEvent>),
    /// `issues`.
    Issues(Box<IssuesEvent>),
    /// `issue_comment`.
    IssueComment(Box<IssueCommentEvent>),
    /// `workflow_run`.
    WorkflowRun(Box<WorkflowRunEvent>),
    /// `ping`.
    Ping(Box<PingEvent>),
    /// `installation`.
    Installation(Box<InstallationEvent>),
    /// `installation_repositories`.
    InstallationRepositories(Box<InstallationRepositoriesEvent>),
    /// Any other event, as raw JSON.
    Other {
        /// The `X-GitHub-Event` name.
        event: String,
        /// The payload.
        payload: serde_json::Value,
    },
}

impl GitHubEvent {
    /// The event name this value was parsed as.
    pub fn name(&self) -> &str {
        match self {
            GitHubEvent::Push(_) => "push",
            GitHubEvent::PullRequest(_) => "pull_request",
            GitHubEvent::Issues(_) => "issues",
            GitHubEvent::IssueComment(_) => "issue_comment",
            GitHubEvent::WorkflowRun(_) => "workflow_run",
            GitHubEvent::Ping(_) => "ping",
            GitHubEvent::Installation(_) => "installation",
            GitHubEvent::InstallationRepositories(_) => "installation_repositories",
            GitHubEvent::Other { event, .. } => event,
        }
    }

    /// Parses a stored delivery's body according to its event.
    pub fn from_delivery(delivery: &WebhookDelivery) -> Result<Self> {
        parse_event(&delivery.event, &delivery.body)
    }
}

/// Parses `body` as the payload of `event` (the `X-GitHub-Event` header).
///
/// Malformed JSON is [`Error::Invalid`] naming `body`.
pub fn parse_event(event: &str, body: &[u8]) -> Result<GitHubEvent> {
    Ok(match event {
        "push" => GitHubEvent::Push(parse(body)?),
        "pull_request" => GitHubEvent::PullRequest(parse(body)?),
        "issues" => GitHubEvent::Issues(parse(body)?),
        "issue_comment" => GitHubEvent::IssueComment(parse(body)?),
        "workflow_run" => GitHubEvent::WorkflowRun(parse(body)?),
        "ping" => GitHubEvent::Ping(parse(body)?),
        "installation" => GitHubEvent::Installation(parse(body)?),
        "installation_repositories" => GitHubEvent::InstallationRepositories(parse(body)?),
        other => GitHubEvent::Other {
            event: other.to_string(),
            payload: *parse::<serde_json::Value>(body)?,
        },
    })
}

/// Parses one typed view (for a handler that knows its event).
pub fn parse_payload<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    // As in `Envelope::parse`: serde_json does not check UTF-8 in the strings a view skips.
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::invalid("body", format!("not valid UTF-8: {e}")))?;
    serde_json::from_str(text).map_err(|e| Error::invalid("body", e.to_string()))
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<Box<T>> {
    parse_payload(body).map(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_events_stay_raw() {
        let e = parse_event("star", br#"{"action":"created","starred_at":null}"#).unwrap();
        assert_eq!(e.name(), "star");
        match e {
            GitHubEvent::Other { payload, .. } => assert_eq!(payload["action"], "created"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn views_are_lenient_but_json_must_be_json() {
        let e = parse_event(
            "pull_request",
            br#"{"action":"opened","future_field":{"x":1}}"#,
        )
        .unwrap();
        assert!(matches!(e, GitHubEvent::PullRequest(p) if p.action == "opened" && p.number == 0));
        assert!(matches!(
            parse_event("push", b"{not json"),
            Err(Error::Invalid { field, .. }) if field == "body"
        ));
    }

    #[test]
    fn invalid_utf8_in_a_skipped_field_is_malformed() {
        // Found by the `envelope` fuzz target: views skip unknown fields without reading them.
        let body = b"{\"ref\":\"refs/heads/main\",\"unknown\":\"\xfa\"}";
        for event in ["push", "pull_request", "star"] {
            assert!(matches!(
                parse_event(event, body),
                Err(Error::Invalid { field, .. }) if field == "body"
            ));
        }
    }
}
