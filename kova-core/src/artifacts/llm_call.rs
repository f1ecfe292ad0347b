//! One LLM call, recorded: every completion the artifact service makes (success or failure) is
//! stored as an [`LlmInteraction`], exactly as [`HandlerContext::complete`] records handler
//! calls.
//!
//! [`HandlerContext::complete`]: crate::handler::HandlerContext::complete

use crate::error::{Error, Result};
use crate::model::{content_hash, EventId, InteractionId, LlmInteraction, RepoRef};
use crate::provider::{estimate_tokens, Completion, CompletionRequest, LlmProvider};
use crate::store::Store;
use crate::time::Clock;
use std::time::Instant;

/// A completion and the id of its stored interaction.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedCompletion {
    /// What the model answered.
    pub completion: Completion,
    /// The stored [`LlmInteraction`].
    pub interaction_id: InteractionId,
}

/// Refuses a prompt that cannot fit the model's context window with room for the answer,
/// before paying for a call that would fail (the estimate errs on the high side).
pub fn check_budget(llm: &dyn LlmProvider, req: &CompletionRequest) -> Result<()> {
    let caps = llm.capabilities();
    let prompt = estimate_tokens(&req.render());
    let answer = u64::from(req.max_tokens.unwrap_or(0));
    if prompt + answer > u64::from(caps.context_window) {
        return Err(Error::ContextTooLong {
            message: format!(
                "about {prompt} prompt tokens + {answer} output tokens exceed the {} token context window of {}",
                caps.context_window, caps.model
            ),
        });
    }
    Ok(())
}

/// Runs `req` on `llm` and records the call as an [`LlmInteraction`] with `purpose`, `repo` and
/// `event_id`, whether it succeeded or not. A failed call's error is returned after it is
/// recorded; a failure to record is returned too, since an unrecorded call breaks the
/// accounting callers rely on.
pub async fn record_completion(
    store: &dyn Store,
    llm: &dyn LlmProvider,
    clock: &dyn Clock,
    purpose: &str,
    repo: Option<&RepoRef>,
    event_id: Option<EventId>,
    req: &CompletionRequest,
) -> Result<RecordedCompletion> {
    let started = Instant::now();
    let result = llm.complete(req).await;
    let prompt = req.render();
    let interaction = LlmInteraction {
        id: InteractionId(0),
        purpose: purpose.to_string(),
        provider: llm.name().to_string(),
        model: match &result {
            Ok(c) => c.model.clone(),
            Err(_) => req
                .model
                .clone()
                .unwrap_or_else(|| llm.capabilities().model),
        },
        prompt_digest: content_hash(&prompt),
        prompt,
        response: result.as_ref().map(|c| c.text.clone()).unwrap_or_default(),
        usage: result.as_ref().map(|c| c.usage).unwrap_or_default(),
        cost_usd: result.as_ref().ok().and_then(|c| c.cost_usd),
        duration_ms: started.elapsed().as_millis() as u64,
        success: result.is_ok(),
        error: result.as_ref().err().map(|e| e.to_string()),
        repo: repo.cloned(),
        event_id,
        created_at: clock.now(),
    };
    let interaction_id = store.record_interaction(&interaction).await?;
    Ok(RecordedCompletion {
        completion: result?,
        interaction_id,
    })
}
