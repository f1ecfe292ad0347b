//! The generation pipeline shared by `generate` and `analyze_code`: prompt → LLM → extract →
//! validate → (one repair round) → store with usage and validation status.

use crate::artifacts::analyze::AnalyzeRequest;
use crate::artifacts::extract::{extract, extract_document, Extracted};
use crate::artifacts::idempotency::KeyClaim;
use crate::artifacts::llm_call::{check_budget, record_completion};
use crate::artifacts::request::{ArtifactRequest, GeneratedArtifact, DEFAULT_OUTPUT_TOKENS};
use crate::artifacts::{repo_context, templates, validate, ArtifactService};
use crate::error::Result;
use crate::model::{
    ArtifactKind, ArtifactMetadata, ArtifactOutcome, ArtifactSource, EventId, NewArtifact, RepoRef,
    Validation,
};
use crate::provider::{Completion, CompletionRequest, LlmProvider, Message};
use serde_json::{json, Map, Value};

/// Everything the pipeline needs, built from either request type.
struct Plan {
    kind: ArtifactKind,
    /// Canonical language or format the content is checked against.
    target: &'static str,
    name: String,
    repo: Option<RepoRef>,
    event_id: Option<EventId>,
    key: Option<String>,
    request: CompletionRequest,
    extra: Map<String, Value>,
    /// Whether a validation failure gets a repair round.
    repair: bool,
}

impl ArtifactService {
    /// Generates, validates (with one repair round) and stores an artifact.
    ///
    /// Errors: [`Error::Invalid`] naming the field for a bad request (before any LLM call),
    /// [`Error::NotConfigured`] without an LLM (or without a source host when `repository` is
    /// set), the LLM's or the store's errors otherwise. A stored artifact's
    /// [`Validation`] says whether its content passed; a truncated answer is flagged in its
    /// metadata (`truncated: true`).
    ///
    /// [`Error::Invalid`]: crate::Error::Invalid
    /// [`Error::NotConfigured`]: crate::Error::NotConfigured
    pub async fn generate(&self, req: ArtifactRequest) -> Result<GeneratedArtifact> {
        let valid = req.validate()?;
        let _key_lock = match self.claim_key(req.idempotency_key.as_deref()).await? {
            KeyClaim::Replay(done) => return Ok(*done),
            KeyClaim::Held(guard) => guard,
        };
        let llm = self.llm()?.clone();
        let mut extra = Map::new();
        let mut request = CompletionRequest::new(templates::user_prompt(
            valid.kind,
            valid.target,
            &valid.title,
            &req.description,
            req.context.as_deref(),
            req.repository.is_some(),
        ))
        .with_system(templates::system_prompt(valid.kind, valid.target));
        if let Some(repo) = &req.repository {
            let ctx = repo_context::fetch(&**self.source()?, repo).await?;
            extra.insert("repository_context".into(), ctx.metadata());
            // The repository block is the same for every request about this repository:
            // cacheable, with the kind's system prompt before it.
            request = request.with_cached_system(ctx.render());
        }
        let request = apply_options(request, &*llm, req.model, req.max_tokens, req.temperature);
        self.run(
            &*llm,
            Plan {
                kind: valid.kind,
                target: valid.target,
                name: valid.title,
                repo: req.repository,
                event_id: req.event_id,
                key: req.idempotency_key,
                request,
                extra,
                repair: req.repair,
            },
        )
        .await
    }

    /// Analyses code and stores the analysis as an `analysis` artifact (Markdown). Same
    /// validation, idempotency and recording rules as [`generate`](Self::generate).
    pub async fn analyze_code(&self, req: AnalyzeRequest) -> Result<GeneratedArtifact> {
        let (language, analysis_type, title) = req.validate()?;
        let _key_lock = match self.claim_key(req.idempotency_key.as_deref()).await? {
            KeyClaim::Replay(done) => return Ok(*done),
            KeyClaim::Held(guard) => guard,
        };
        let llm = self.llm()?.clone();
        let mut extra = Map::new();
        extra.insert("analysis_type".into(), analysis_type.into());
        if let Some(l) = language {
            extra.insert("code_language".into(), l.into());
        }
        if let Some(p) = &req.file_path {
            extra.insert("file_path".into(), p.clone().into());
        }
        let mut request = CompletionRequest::new(templates::analyze_prompt(
            &req.code,
            language,
            analysis_type,
            req.file_path.as_deref(),
            req.context.as_deref(),
        ))
        .with_system(templates::system_prompt(ArtifactKind::Analysis, "markdown"));
        if let Some(repo) = &req.repository {
            let ctx = repo_context::fetch(&**self.source()?, repo).await?;
            extra.insert("repository_context".into(), ctx.metadata());
            request = request.with_cached_system(ctx.render());
        }
        let request = apply_options(request, &*llm, req.model, req.max_tokens, req.temperature);
        self.run(
            &*llm,
            Plan {
                kind: ArtifactKind::Analysis,
                target: "markdown",
                name: title,
                repo: req.repository,
                event_id: req.event_id,
                key: req.idempotency_key,
                request,
                extra,
                repair: true,
            },
        )
        .await
    }

    /// Calls the LLM, validates, repairs once if needed, and stores the result.
    async fn run(&self, llm: &dyn LlmProvider, plan: Plan) -> Result<GeneratedArtifact> {
        let Plan {
            kind,
            target,
            name,
            repo,
            event_id,
            key,
            request,
            mut extra,
            repair,
        } = plan;
        check_budget(llm, &request)?;
        let purpose = format!("artifact:{kind}");
        let first = self
            .call(llm, &purpose, repo.as_ref(), event_id, &request)
            .await?;
        let mut usage = first.usage;
        let mut cost = first.cost_usd;
        let mut truncated_calls = Vec::new();
        if first.is_truncated() {
            truncated_calls.push(1);
        }
        let mut extracted = pick(kind, target, &first.text);
        let mut model = first.model.clone();
        let mut calls = 1;
        let mut stored_truncated = first.is_truncated();
        let validation = match checked(kind, target, &extracted, &first) {
            Ok(()) => Validation::Valid,
            Err(first_error) if !repair => Validation::Invalid(first_error),
            Err(first_error) => {
                extra.insert("first_validation_error".into(), first_error.clone().into());
                let mut retry = request.clone().with_messages(vec![
                    request.messages[0].clone(),
                    Message::assistant(first.text.clone()),
                    Message::user(templates::repair_prompt(
                        kind,
                        target,
                        &first_error,
                        first.is_truncated(),
                    )),
                ]);
                if first.is_truncated() {
                    // Cut off: allow a longer answer (up to the model's limit) besides asking
                    // for a more concise one.
                    let cap = llm.capabilities().max_output_tokens.max(1);
                    retry.max_tokens = retry.max_tokens.map(|n| n.saturating_mul(2).min(cap));
                }
                let second = self
                    .call(
                        llm,
                        &format!("{purpose}:repair"),
                        repo.as_ref(),
                        event_id,
                        &retry,
                    )
                    .await?;
                usage += second.usage;
                cost = match (cost, second.cost_usd) {
                    (None, None) => None,
                    (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                };
                calls = 2;
                stored_truncated = second.is_truncated();
                if second.is_truncated() {
                    truncated_calls.push(2);
                }
                model = second.model.clone();
                extracted = pick(kind, target, &second.text);
                match checked(kind, target, &extracted, &second) {
                    Ok(()) => Validation::Repaired,
                    Err(e) => Validation::Invalid(e),
                }
            }
        };
        extra.insert("llm_calls".into(), calls.into());
        extra.insert("extraction".into(), json!(extracted.how));
        extra.insert(
            "fallback_extraction".into(),
            extracted.how.is_fallback().into(),
        );
        if let Some(tag) = &extracted.tag {
            extra.insert("fence_tag".into(), tag.clone().into());
        }
        // `truncated`: the stored content comes from a cut-off answer; `truncated_calls`: which
        // calls were cut off, even if the repair round then completed the content.
        extra.insert("truncated".into(), stored_truncated.into());
        if !truncated_calls.is_empty() {
            extra.insert("truncated_calls".into(), json!(truncated_calls));
        }
        let mut artifact = NewArtifact::new(name, kind, extracted.content);
        artifact.language = Some(target.to_string());
        artifact.repo = repo;
        artifact.source = event_id.map_or(ArtifactSource::Request, ArtifactSource::Event);
        artifact.validation = validation;
        artifact.metadata = ArtifactMetadata {
            model: Some(model),
            usage,
            cost_usd: cost,
            extra,
        };
        artifact.idempotency_key = key;
        let outcome = self
            .store
            .insert_artifact(&artifact, self.clock.now())
            .await?;
        let replayed = matches!(outcome, ArtifactOutcome::Existing(_));
        let artifact = outcome.into_artifact();
        Ok(GeneratedArtifact { artifact, replayed })
    }

    async fn call(
        &self,
        llm: &dyn LlmProvider,
        purpose: &str,
        repo: Option<&RepoRef>,
        event_id: Option<EventId>,
        req: &CompletionRequest,
    ) -> Result<Completion> {
        let r = record_completion(
            &*self.store,
            llm,
            &*self.clock,
            purpose,
            repo,
            event_id,
            req,
        )
        .await?;
        Ok(r.completion)
    }
}

/// Sets model, output limit (default capped by the model) and temperature.
pub(crate) fn apply_options(
    mut req: CompletionRequest,
    llm: &dyn LlmProvider,
    model: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
) -> CompletionRequest {
    let cap = llm.capabilities().max_output_tokens.max(1);
    req = req.with_max_tokens(max_tokens.unwrap_or(DEFAULT_OUTPUT_TOKENS).min(cap));
    if let Some(m) = model {
        req = req.with_model(m.trim());
    }
    if let Some(t) = temperature {
        req = req.with_temperature(t);
    }
    req
}

/// Extraction for `kind`: documents and analyses keep their inner code blocks; other kinds
/// take one fenced block.
pub(crate) fn pick(kind: ArtifactKind, target: &str, answer: &str) -> Extracted {
    match kind {
        ArtifactKind::Document | ArtifactKind::Analysis => extract_document(answer, target),
        _ => extract(answer, target),
    }
}

/// Validation, with a truncated answer counted as a failure: its content is incomplete even
/// when what survived happens to parse.
fn checked(
    kind: ArtifactKind,
    target: &str,
    extracted: &Extracted,
    completion: &Completion,
) -> std::result::Result<(), String> {
    validate::check(kind, target, extracted)?;
    if completion.is_truncated() {
        return Err(format!(
            "the answer was cut off at the output token limit ({} tokens)",
            completion.usage.output_tokens
        ));
    }
    Ok(())
}
