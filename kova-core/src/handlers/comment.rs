//! Commands in comments: `/kova review`, `/kova ask <question>`, `/kova describe`,
//! `/kova diagram`; anything else after `/kova` is answered with help.

use super::payload::{self, IssueCommentEvent};
use super::pull_request::{append_skipped, review};
use super::respond::{is_kova_comment, upsert_comment};
use super::{budget::plan_review, HandlerSettings};
use crate::error::Result;
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{ArtifactKind, NewArtifact, NewJob, RepoRef, WebhookDelivery, WebhookEvent};
use crate::provider::CompletionRequest;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// Job kind of comment commands.
pub const COMMENT_COMMAND: &str = "comment_command";

/// Prompt budget for the diff context of `ask`, `describe` and `diagram`.
const CONTEXT_TOKENS: u64 = 60_000;

/// The help text, also the answer to unknown commands.
pub const HELP: &str = "Kova understands these commands in a comment:\n\
- `/kova review` — review this pull request\n\
- `/kova ask <question>` — answer a question about this pull request or issue\n\
- `/kova describe` — write a description of this pull request\n\
- `/kova diagram` — draw a Mermaid diagram of this pull request's changes";

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Review the pull request.
    Review,
    /// Answer a question.
    Ask(String),
    /// Describe the pull request.
    Describe,
    /// Diagram the pull request's changes.
    Diagram,
    /// Unknown or empty: answer with help (the text that was given).
    Help(String),
}

/// The first `/kova …` line of a comment, if any.
pub fn parse_command(body: &str) -> Option<Command> {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("/kova"))?;
    let rest = line.strip_prefix("/kova")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None; // `/kovax` is not a command
    }
    let rest = rest.trim();
    let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    Some(match word.to_ascii_lowercase().as_str() {
        "review" => Command::Review,
        "ask" if !arg.trim().is_empty() => Command::Ask(arg.trim().to_string()),
        "describe" => Command::Describe,
        "diagram" => Command::Diagram,
        _ => Command::Help(rest.to_string()),
    })
}

/// Runs commands found in new comments.
#[derive(Debug)]
pub struct CommentCommands {
    settings: Arc<HandlerSettings>,
}

impl CommentCommands {
    /// A command runner with the given settings.
    pub fn new(settings: Arc<HandlerSettings>) -> Self {
        CommentCommands { settings }
    }
}

#[async_trait]
impl EventHandler for CommentCommands {
    fn name(&self) -> &str {
        COMMENT_COMMAND
    }

    fn accepts(&self, event: &str, action: Option<&str>) -> bool {
        event == "issue_comment" && action == Some("created")
    }

    fn job_for(&self, delivery: &WebhookDelivery) -> NewJob {
        let job = NewJob::new(COMMENT_COMMAND);
        match payload::parse::<payload::keys::IssueCommentEvent>("issue_comment", &delivery.body) {
            // One run per comment, whatever GitHub redelivers.
            Ok(p) if p.comment.id != 0 => job.with_dedupe_key(format!(
                "{COMMENT_COMMAND}:{}:{}",
                p.repository.full_name, p.comment.id
            )),
            _ => job,
        }
    }

    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: IssueCommentEvent = payload::parse("issue_comment", &event.delivery.body)?;
        // Never answer a bot or ourselves: that way lies a comment loop.
        if p.comment.user.is_bot() || p.sender.is_bot() || is_kova_comment(&p.comment.body) {
            return Ok(HandlerOutcome::empty());
        }
        let Some(command) = parse_command(&p.comment.body) else {
            return Ok(HandlerOutcome::empty());
        };
        let repo: RepoRef = p.repository.full_name.parse()?;
        let number = p.issue.number;
        let is_pr = p.issue.pull_request.is_some();
        let (purpose, artifact) = match (&command, is_pr) {
            (Command::Review, true) => {
                let pr = ctx.source()?.get_pull_request(&repo, number).await?;
                (
                    "pr_review",
                    review(ctx, &self.settings, &repo, &pr, false).await?,
                )
            }
            (Command::Ask(q), _) => ("ask", self.answer(ctx, &repo, &p, is_pr, "ask", q).await?),
            (Command::Describe, true) => (
                "describe",
                self.answer(ctx, &repo, &p, true, "describe", "").await?,
            ),
            (Command::Diagram, true) => (
                "diagram",
                self.answer(ctx, &repo, &p, true, "diagram", "").await?,
            ),
            (Command::Review | Command::Describe | Command::Diagram, false) => (
                "help",
                help_artifact(
                    &repo,
                    number,
                    "That command works on pull requests only.\n\n",
                ),
            ),
            (Command::Help(_), _) => ("help", help_artifact(&repo, number, "")),
        };
        // A review posts its own comment; the others are posted here.
        if purpose != "pr_review" && self.settings.respond.allows(&repo) {
            upsert_comment(
                ctx.source()?.as_ref(),
                &repo,
                number,
                purpose,
                &artifact.content,
            )
            .await?;
        }
        Ok(HandlerOutcome::empty().with_artifact(artifact))
    }
}

impl CommentCommands {
    async fn answer(
        &self,
        ctx: &HandlerContext,
        repo: &RepoRef,
        p: &IssueCommentEvent,
        is_pr: bool,
        purpose: &str,
        question: &str,
    ) -> Result<NewArtifact> {
        let number = p.issue.number;
        let mut context = format!(
            "{} #{number} in {repo}: {}\n\n{}\n",
            if is_pr { "Pull request" } else { "Issue" },
            p.issue.title,
            p.issue.body.as_deref().unwrap_or("")
        );
        let mut skipped = Vec::new();
        if is_pr {
            let files = ctx.source()?.pull_request_files(repo, number).await?;
            let plan = plan_review(&files, CONTEXT_TOKENS);
            for f in &plan.included {
                context.push_str(&format!(
                    "\n--- {}\n{}\n",
                    f.filename,
                    f.patch.as_deref().unwrap_or("")
                ));
            }
            skipped = plan.skipped;
        }
        let (task, kind, language) = match purpose {
            "describe" => (
                "Write a pull request description: a one-paragraph summary, then a bullet list of the changes, then how to test them.".to_string(),
                ArtifactKind::Document,
                "markdown",
            ),
            "diagram" => (
                "Draw one Mermaid diagram (flowchart or sequenceDiagram) of what this pull request changes. Answer with the diagram in a ```mermaid fenced block and one sentence.".to_string(),
                ArtifactKind::Diagram,
                "mermaid",
            ),
            _ => (format!("Answer this question: {question}"), ArtifactKind::Analysis, "markdown"),
        };
        let req = CompletionRequest::new(format!("{context}\n\n{task}")).with_max_tokens(2048);
        let c = ctx
            .complete(&format!("command:{purpose}"), Some(repo), &req)
            .await?;
        let mut content = if kind == ArtifactKind::Diagram {
            fenced_block(&c.text, "mermaid")
                .unwrap_or(&c.text)
                .to_string()
        } else {
            c.text.clone()
        };
        if kind != ArtifactKind::Diagram {
            append_skipped(&mut content, &skipped);
        }
        let mut a = NewArtifact::new(format!("{purpose} on #{number}"), kind, content);
        a.language = Some(language.into());
        a.repo = Some(repo.clone());
        a.metadata.model = Some(c.model);
        a.metadata.usage = c.usage;
        a.metadata.cost_usd = c.cost_usd;
        a.metadata
            .extra
            .insert("purpose".into(), json!(format!("command:{purpose}")));
        a.metadata.extra.insert("number".into(), json!(number));
        a.metadata
            .extra
            .insert("skipped_files".into(), json!(skipped));
        a.metadata.extra.insert(
            "truncated".into(),
            json!(c.stop_reason == crate::provider::StopReason::MaxTokens),
        );
        Ok(a)
    }
}

fn help_artifact(repo: &RepoRef, number: u64, prefix: &str) -> NewArtifact {
    let mut a = NewArtifact::new(
        format!("help on #{number}"),
        ArtifactKind::Document,
        format!("{prefix}{HELP}"),
    );
    a.language = Some("markdown".into());
    a.repo = Some(repo.clone());
    a.metadata
        .extra
        .insert("purpose".into(), json!("command:help"));
    a
}

/// The body of the first fenced block tagged `tag`.
fn fenced_block<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("```{tag}");
    let start = text.find(&open)? + open.len();
    let body_start = start + text[start..].find('\n')? + 1;
    let end = body_start + text[body_start..].find("```")?;
    Some(text[body_start..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(parse_command("/kova review"), Some(Command::Review));
        assert_eq!(
            parse_command("thanks!\n  /kova ask why is this slow?"),
            Some(Command::Ask("why is this slow?".into()))
        );
        assert_eq!(parse_command("/kova DESCRIBE"), Some(Command::Describe));
        assert_eq!(parse_command("/kova diagram"), Some(Command::Diagram));
        assert_eq!(
            parse_command("/kova dance"),
            Some(Command::Help("dance".into()))
        );
        assert_eq!(
            parse_command("/kova ask"),
            Some(Command::Help("ask".into()))
        );
        assert_eq!(parse_command("/kova"), Some(Command::Help(String::new())));
        assert_eq!(parse_command("/kovax review"), None);
        assert_eq!(parse_command("please review"), None);
    }

    #[test]
    fn extracts_fenced_blocks() {
        let t = "Here:\n```mermaid\ngraph TD\n  A-->B\n```\nDone.";
        assert_eq!(fenced_block(t, "mermaid"), Some("graph TD\n  A-->B"));
        assert_eq!(fenced_block("none", "mermaid"), None);
    }
}
