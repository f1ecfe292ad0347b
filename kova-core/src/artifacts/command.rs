//! The AI command (`POST /ai/command`): a free-form command with optional repository, file and
//! context, and the actions `analyze`, `sync`, `process` and `ask`.

use crate::artifacts::ask::{choose_files, CitedFile};
use crate::artifacts::generate::apply_options;
use crate::artifacts::llm_call::{check_budget, record_completion};
use crate::artifacts::repo_context::{self, clip_bytes, RepoContext};
use crate::artifacts::request::{non_blank, validate_common, validate_path, MAX_INPUT_BYTES};
use crate::artifacts::ArtifactService;
use crate::config::ReposConfig;
use crate::error::{Error, Result};
use crate::model::{InteractionId, ListOptions, RepoRef, Usage};
use crate::provider::{CompletionRequest, LlmProvider};
use crate::source::CommitQuery;
use crate::store::StoreExt;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// The actions with their own behaviour; any other action is a free-form command.
pub const ACTIONS: &[&str] = &["analyze", "sync", "process", "ask"];
/// Longest command text.
pub const MAX_COMMAND_BYTES: usize = 32 * 1024;
/// Bytes of a file named by `file_path` given to the model.
const FILE_PATH_BUDGET: usize = 32 * 1024;
/// Recent commits shown to the model by `analyze`.
const RECENT_COMMITS: usize = 10;
/// Repositories whose last sync log `process` looks up.
const PROCESS_LOG_LOOKUPS: usize = 200;

/// Syncs one repository on demand: the multi-repository sync engine implements it, and the
/// `sync` action calls it before answering.
#[async_trait]
pub trait RepoSyncer: Send + Sync + Debug + 'static {
    /// Syncs `repo` now and describes what happened (as the sync API reports it).
    async fn sync_one(&self, repo: &RepoRef) -> Result<Value>;

    /// The repositories file as it is now, if the syncer keeps one (it changes when
    /// repositories are added).
    fn repos_config(&self) -> Option<ReposConfig> {
        None
    }
}

/// What the command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CommandAction {
    /// Analyse a repository (structure, recent commits, optionally one file).
    Analyze,
    /// Sync a repository, then answer.
    Sync,
    /// Report on every configured repository.
    Process,
    /// Answer a question from the repository's files.
    Ask,
    /// Anything else: a free-form answer.
    General,
}

impl CommandAction {
    /// The action named by a request (`None`, empty or unknown: [`CommandAction::General`]).
    pub fn parse(action: Option<&str>) -> Self {
        match action.map(|a| a.trim().to_ascii_lowercase()).as_deref() {
            Some("analyze" | "analyse") => CommandAction::Analyze,
            Some("sync") => CommandAction::Sync,
            Some("process") => CommandAction::Process,
            Some("ask") => CommandAction::Ask,
            _ => CommandAction::General,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandAction::Analyze => "analyze",
            CommandAction::Sync => "sync",
            CommandAction::Process => "process",
            CommandAction::Ask => "ask",
            CommandAction::General => "general",
        }
    }
}

/// A command for the AI (`POST /ai/command`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandRequest {
    /// What to do or answer; required.
    pub command: String,
    /// The repository it is about (required by `analyze`, `sync` and `ask`).
    #[serde(default)]
    pub repository: Option<RepoRef>,
    /// A file in that repository to include.
    #[serde(default)]
    pub file_path: Option<String>,
    /// Extra context from the caller.
    #[serde(default)]
    pub context: Option<String>,
    /// `analyze`, `sync`, `process`, `ask`; anything else is free-form.
    #[serde(default)]
    pub action: Option<String>,
    /// The model; `None` is the provider's default.
    #[serde(default)]
    pub model: Option<String>,
    /// Output token limit.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0.0..=1.0.
    #[serde(default)]
    pub temperature: Option<f32>,
}

impl CommandRequest {
    /// A free-form command.
    pub fn new(command: impl Into<String>) -> Self {
        CommandRequest {
            command: command.into(),
            repository: None,
            file_path: None,
            context: None,
            action: None,
            model: None,
            max_tokens: None,
            temperature: None,
        }
    }
    /// Sets the action.
    pub fn with_action(mut self, a: impl Into<String>) -> Self {
        self.action = Some(a.into());
        self
    }
    /// Sets the repository.
    pub fn with_repository(mut self, r: RepoRef) -> Self {
        self.repository = Some(r);
        self
    }
    /// Sets the file.
    pub fn with_file_path(mut self, p: impl Into<String>) -> Self {
        self.file_path = Some(p.into());
        self
    }
    /// Adds context.
    pub fn with_context(mut self, c: impl Into<String>) -> Self {
        self.context = Some(c.into());
        self
    }

    /// Checks every field; returns the action.
    pub fn validate(&self) -> Result<CommandAction> {
        if self.command.trim().is_empty() {
            return Err(Error::invalid("command", "must not be empty"));
        }
        if self.command.len() > MAX_COMMAND_BYTES {
            return Err(Error::invalid(
                "command",
                format!("must be at most {MAX_COMMAND_BYTES} bytes"),
            ));
        }
        if self
            .context
            .as_ref()
            .is_some_and(|c| c.len() > MAX_INPUT_BYTES)
        {
            return Err(Error::invalid(
                "context",
                format!("must be at most {MAX_INPUT_BYTES} bytes"),
            ));
        }
        let action = CommandAction::parse(self.action.as_deref());
        if let Some(p) = non_blank(&self.file_path) {
            validate_path(p, "file_path")?;
            if self.repository.is_none() {
                return Err(Error::invalid("repository", "required with file_path"));
            }
            if action == CommandAction::Process {
                return Err(Error::invalid(
                    "file_path",
                    "not used by the process action",
                ));
            }
        }
        if matches!(
            action,
            CommandAction::Analyze | CommandAction::Sync | CommandAction::Ask
        ) && self.repository.is_none()
        {
            return Err(Error::invalid(
                "repository",
                format!("required for the {} action", action.as_str()),
            ));
        }
        validate_common(&None, self.max_tokens, self.temperature, &self.model)?;
        Ok(action)
    }
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandResponse {
    /// The action performed (`general` for free-form).
    pub action: CommandAction,
    /// The command as received.
    pub command: String,
    /// The model's answer.
    pub answer: String,
    /// The repository it was about.
    pub repository: Option<RepoRef>,
    /// Files given to the model (ask: chosen by relevance; others: `file_path`).
    pub files_used: Vec<CitedFile>,
    /// Action data: the sync result (`sync`), the status of every repository (`process`),
    /// what was looked at (`analyze`).
    pub data: Value,
    /// The model that answered.
    pub model: String,
    /// Tokens used.
    pub usage: Usage,
    /// Cost in US dollars, if known.
    pub cost_usd: Option<f64>,
    /// The answer was cut off at the output limit.
    pub truncated: bool,
    /// The recorded interaction.
    pub interaction_id: InteractionId,
}

const SYSTEM: &str = "You are Kova, an assistant for software repositories hosted on GitHub. \
Answer the user's command precisely and concisely in Markdown. Use only the information given \
here; when it is not enough, say what is missing instead of guessing. Never invent file paths, \
commits or numbers.";

impl ArtifactService {
    /// Runs an AI command. Every LLM call is recorded as an interaction with purpose
    /// `command:<action>`.
    ///
    /// Errors: [`Error::Invalid`] for a bad request (before any call), [`Error::NotConfigured`]
    /// without an LLM, without a source host (repository actions) or without a syncer (`sync`).
    pub async fn command(&self, req: CommandRequest) -> Result<CommandResponse> {
        let action = req.validate()?;
        let llm = self.llm()?.clone();
        let file_path = non_blank(&req.file_path).map(str::to_string);
        let mut files_used = Vec::new();
        let mut data = Value::Null;
        let mut system: Vec<String> = Vec::new();
        let mut body = String::new();

        let ctx = match &req.repository {
            Some(repo) if action != CommandAction::Process => {
                Some(repo_context::fetch(&**self.source()?, repo).await?)
            }
            _ => None,
        };
        if let Some(ctx) = &ctx {
            system.push(ctx.render());
        }
        match action {
            CommandAction::Analyze => {
                let ctx = ctx.as_ref().expect("validated: analyze has a repository");
                data = self.analysis_data(ctx).await?;
                body.push_str(&format!(
                    "## Repository facts\n```json\n{}\n```\n",
                    serde_json::to_string_pretty(&data).unwrap_or_default()
                ));
            }
            CommandAction::Sync => {
                let repo = req
                    .repository
                    .as_ref()
                    .expect("validated: sync has a repository");
                let syncer = self.syncer.as_ref().ok_or_else(|| Error::NotConfigured {
                    what: "sync",
                    hint: "wire the sync engine with ArtifactService::with_syncer".into(),
                })?;
                data = syncer.sync_one(repo).await?;
                body.push_str(&format!(
                    "## Sync result for {repo} (just now)\n```json\n{}\n```\n",
                    serde_json::to_string_pretty(&data).unwrap_or_default()
                ));
            }
            CommandAction::Process => {
                data = self.process_status().await?;
                body.push_str(&format!(
                    "## Status of every repository\n```json\n{}\n```\n",
                    serde_json::to_string_pretty(&data).unwrap_or_default()
                ));
            }
            CommandAction::Ask => {
                let ctx = ctx.as_ref().expect("validated: ask has a repository");
                if let Some(p) = &file_path {
                    if !ctx.tree.truncated && !ctx.blobs().any(|e| &e.path == p) {
                        return Err(Error::not_found("file", format!("{}:{p}", ctx.repo())));
                    }
                }
                let chosen =
                    choose_files(&**self.source()?, ctx, &req.command, file_path.as_deref())
                        .await?;
                body.push_str(
                    "Answer from the files below. Cite the paths you rely on, like `src/lib.rs`. \
                     If they do not contain the answer, say so.\n",
                );
                if chosen.is_empty() {
                    body.push_str("\n(No file matched the question.)\n");
                }
                for c in chosen {
                    body.push_str(&file_block(&c.cited.path, &c.text, c.cited.truncated));
                    files_used.push(c.cited);
                }
            }
            CommandAction::General => {}
        }
        // Every action but ask includes the named file as is (ask already chose it first).
        if let (Some(ctx), Some(path), false) = (&ctx, &file_path, action == CommandAction::Ask) {
            let f = self
                .source()?
                .get_file(ctx.repo(), path, Some(&ctx.remote.default_branch))
                .await?;
            let text = String::from_utf8_lossy(&f.content);
            let (kept, truncated) = clip_bytes(&text, FILE_PATH_BUDGET);
            body.push_str(&file_block(path, kept, truncated));
            files_used.push(CitedFile {
                path: path.clone(),
                score: 0,
                bytes: f.content.len() as u64,
                included_bytes: kept.len() as u64,
                truncated,
            });
        }
        if let Some(c) = non_blank(&req.context) {
            body.push_str(&format!("\n## Context from the user\n{c}\n"));
        }
        body.push_str(&format!("\n## Command\n{}\n", req.command.trim()));

        let mut request = CompletionRequest::new(body).with_system(SYSTEM);
        for s in system {
            request = request.with_cached_system(s);
        }
        let request = apply_options(request, &*llm, req.model, req.max_tokens, req.temperature);
        self.answer(
            &*llm,
            action,
            req.command,
            req.repository,
            files_used,
            data,
            request,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        llm: &dyn LlmProvider,
        action: CommandAction,
        command: String,
        repository: Option<RepoRef>,
        files_used: Vec<CitedFile>,
        data: Value,
        request: CompletionRequest,
    ) -> Result<CommandResponse> {
        check_budget(llm, &request)?;
        let purpose = format!("command:{}", action.as_str());
        let r = record_completion(
            &*self.store,
            llm,
            &*self.clock,
            &purpose,
            repository.as_ref(),
            None,
            &request,
        )
        .await?;
        let c = r.completion;
        Ok(CommandResponse {
            action,
            command,
            truncated: c.is_truncated(),
            answer: c.text,
            repository,
            files_used,
            data,
            model: c.model,
            usage: c.usage,
            cost_usd: c.cost_usd,
            interaction_id: r.interaction_id,
        })
    }

    /// Facts for `analyze`: recent commits, languages, and what the store knows.
    async fn analysis_data(&self, ctx: &RepoContext) -> Result<Value> {
        let source = self.source()?;
        let repo = ctx.repo();
        let commits = source
            .list_commits(repo, &CommitQuery::default().with_limit(RECENT_COMMITS))
            .await?;
        let languages = source.get_languages(repo).await?;
        let stored = self.store.get_repository(repo).await?;
        let commits: Vec<Value> = commits
            .iter()
            .take(RECENT_COMMITS)
            .map(|c| {
                json!({
                    "sha": c.sha.chars().take(12).collect::<String>(),
                    "message": c.message.lines().next().unwrap_or(""),
                    "author": c.author,
                    "date": c.date,
                })
            })
            .collect();
        Ok(json!({
            "repository": repo.full_name(),
            "stars": ctx.remote.stars,
            "forks": ctx.remote.forks,
            "open_issues": ctx.remote.open_issues,
            "archived": ctx.remote.archived,
            "pushed_at": ctx.remote.pushed_at,
            "languages": languages,
            "recent_commits": commits,
            "files_in_tree": ctx.blobs().count(),
            "tracked": stored.map(|r| json!({
                "kind": r.kind,
                "enabled": r.enabled,
                "status": r.status,
                "sync_priority": r.sync_priority,
                "last_synced_at": r.last_synced_at,
            })),
        }))
    }

    /// Status for `process`: every repository in the store or the repositories file, with its
    /// last sync, plus the job queue.
    async fn process_status(&self) -> Result<Value> {
        let config = self.repos_config();
        let stored = self.store.all_repositories().await?;
        let mut rows: BTreeMap<String, Value> = BTreeMap::new();
        for r in &stored {
            let configured = config.as_ref().is_some_and(|c| c.entry(&r.repo).is_some());
            rows.insert(
                r.repo.full_name().to_ascii_lowercase(),
                json!({
                    "repository": r.repo.full_name(),
                    "configured": configured,
                    "tracked": true,
                    "kind": r.kind,
                    "enabled": r.enabled,
                    "sync_priority": r.sync_priority,
                    "status": r.status,
                    "language": r.language,
                    "last_synced_at": r.last_synced_at,
                }),
            );
        }
        if let Some(c) = &config {
            for e in &c.repositories {
                rows.entry(e.repo.full_name().to_ascii_lowercase())
                    .or_insert_with(|| {
                        json!({
                            "repository": e.repo.full_name(),
                            "configured": true,
                            "tracked": false,
                            "kind": e.kind,
                            "enabled": e.enabled,
                            "sync_priority": e.sync_priority,
                            "status": "not synced yet",
                        })
                    });
            }
        }
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        for (i, row) in rows.values_mut().enumerate() {
            let status = row["status"].as_str().unwrap_or("unknown").to_string();
            *by_status.entry(status).or_default() += 1;
            if i >= PROCESS_LOG_LOOKUPS || row["tracked"] != Value::Bool(true) {
                continue;
            }
            let repo: RepoRef = match row["repository"].as_str().unwrap_or("").parse() {
                Ok(r) => r,
                Err(_) => continue,
            };
            let logs = self
                .store
                .list_sync_logs(Some(&repo), &ListOptions::default().with_limit(1))
                .await?;
            if let Some(l) = logs.items.first() {
                row["last_sync"] = json!({
                    "outcome": l.outcome,
                    "started_at": l.started_at,
                    "duration_ms": l.duration_ms,
                    "error": l.error,
                });
            }
        }
        let jobs = self.store.jobs_summary().await?;
        Ok(json!({
            "github_owner": config.as_ref().map(|c| c.github_owner.clone()),
            "totals": {
                "repositories": rows.len(),
                "configured": rows.values().filter(|r| r["configured"] == true).count(),
                "tracked": stored.len(),
                "enabled": rows.values().filter(|r| r["enabled"] == true).count(),
                "by_status": by_status,
            },
            "repositories": rows.into_values().collect::<Vec<_>>(),
            "jobs": jobs,
        }))
    }
}

fn file_block(path: &str, text: &str, truncated: bool) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let mut s = format!("\n### {path}\n{fence}\n{}\n{fence}\n", text.trim_end());
    if truncated {
        s.push_str("[file truncated]\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_leniently() {
        assert_eq!(CommandAction::parse(Some(" ASK ")), CommandAction::Ask);
        assert_eq!(
            CommandAction::parse(Some("analyse")),
            CommandAction::Analyze
        );
        assert_eq!(CommandAction::parse(Some("dance")), CommandAction::General);
        assert_eq!(CommandAction::parse(None), CommandAction::General);
    }

    #[test]
    fn validation_names_the_field() {
        let f = |r: CommandRequest| match r.validate() {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(f(CommandRequest::new(" ")), "command");
        assert_eq!(f(CommandRequest::new("x").with_action("ask")), "repository");
        assert_eq!(
            f(CommandRequest::new("x").with_file_path("a.rs")),
            "repository"
        );
        let r: RepoRef = "o/r".parse().unwrap();
        assert_eq!(
            f(CommandRequest::new("x")
                .with_repository(r)
                .with_file_path("/etc")),
            "file_path"
        );
        assert_eq!(
            CommandRequest::new("x")
                .with_action("process")
                .validate()
                .unwrap(),
            CommandAction::Process
        );
    }
}
