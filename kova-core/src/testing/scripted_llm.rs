use crate::error::{Error, Result};
use crate::model::Usage;
use crate::provider::*;
use async_trait::async_trait;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

type Responder = Arc<dyn Fn(&CompletionRequest) -> Result<String> + Send + Sync>;

/// An [`LlmProvider`] that answers from a script and records every request.
///
/// Scripted answers are used in order; when the script is empty the responder (if set) answers,
/// otherwise the call fails with [`Error::Internal`] so a test notices an unexpected call.
/// Usage is estimated from the text lengths, so totals are deterministic.
pub struct ScriptedLlm {
    script: Mutex<VecDeque<Result<Completion>>>,
    requests: Mutex<Vec<CompletionRequest>>,
    capabilities: LlmCapabilities,
    responder: Option<Responder>,
    price_per_mtok: Option<(f64, f64)>,
}

impl fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedLlm")
            .field("remaining", &self.lock_script().len())
            .field("calls", &self.calls())
            .finish()
    }
}

impl Default for ScriptedLlm {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedLlm {
    /// The model name scripted completions report.
    pub const MODEL: &'static str = "scripted-model";

    /// An empty script, a 200k-token context window and 8k output tokens.
    pub fn new() -> Self {
        let mut capabilities = LlmCapabilities::new(Self::MODEL, 200_000, 8_192);
        capabilities.streaming = true;
        ScriptedLlm {
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            capabilities,
            responder: None,
            price_per_mtok: None,
        }
    }

    /// Answers every unscripted call with `f(request)`.
    pub fn with_responder(
        mut self,
        f: impl Fn(&CompletionRequest) -> Result<String> + Send + Sync + 'static,
    ) -> Self {
        self.responder = Some(Arc::new(f));
        self
    }

    /// Reports a different context window (to exercise prompt budgets).
    pub fn with_context_window(mut self, tokens: u32) -> Self {
        self.capabilities.context_window = tokens;
        self
    }

    /// Prices calls at (input, output) US dollars per million tokens.
    pub fn with_price(mut self, input: f64, output: f64) -> Self {
        self.price_per_mtok = Some((input, output));
        self
    }

    /// Queues an answer that ends normally.
    pub fn push_text(&self, text: impl Into<String>) -> &Self {
        let c = self.completion(text.into(), StopReason::EndTurn, None);
        self.lock_script().push_back(Ok(c));
        self
    }

    /// Queues an answer truncated at `max_tokens`.
    pub fn push_truncated(&self, text: impl Into<String>) -> &Self {
        let c = self.completion(text.into(), StopReason::MaxTokens, None);
        self.lock_script().push_back(Ok(c));
        self
    }

    /// Queues a failure.
    pub fn push_error(&self, error: Error) -> &Self {
        self.lock_script().push_back(Err(error));
        self
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<CompletionRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How many calls were made.
    pub fn calls(&self) -> usize {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Scripted answers not used yet.
    pub fn remaining(&self) -> usize {
        self.lock_script().len()
    }

    fn lock_script(&self) -> std::sync::MutexGuard<'_, VecDeque<Result<Completion>>> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn completion(
        &self,
        text: String,
        stop_reason: StopReason,
        req: Option<&CompletionRequest>,
    ) -> Completion {
        let usage = Usage {
            input_tokens: req.map(|r| estimate_tokens(&r.render())).unwrap_or(0),
            output_tokens: estimate_tokens(&text),
            ..Usage::default()
        };
        Completion {
            id: "msg_scripted".into(),
            model: Self::MODEL.into(),
            text,
            stop_reason,
            usage,
            cost_usd: self.cost(&usage),
        }
    }

    fn cost(&self, u: &Usage) -> Option<f64> {
        self.price_per_mtok
            .map(|(i, o)| (u.input_tokens as f64 * i + u.output_tokens as f64 * o) / 1e6)
    }

    fn answer(&self, req: &CompletionRequest) -> Result<Completion> {
        req.validate()?;
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(req.clone());
        let scripted = self.lock_script().pop_front();
        match scripted {
            Some(Ok(mut c)) => {
                c.usage.input_tokens = estimate_tokens(&req.render());
                c.cost_usd = self.cost(&c.usage);
                Ok(c)
            }
            Some(Err(e)) => Err(e),
            None => match &self.responder {
                Some(f) => Ok(self.completion(f(req)?, StopReason::EndTurn, Some(req))),
                None => Err(Error::Internal(
                    "ScriptedLlm: called with no scripted answer left".into(),
                )),
            },
        }
    }
}

#[async_trait]
impl LlmProvider for ScriptedLlm {
    fn name(&self) -> &str {
        "scripted"
    }

    fn capabilities(&self) -> LlmCapabilities {
        self.capabilities.clone()
    }

    async fn complete(&self, req: &CompletionRequest) -> Result<Completion> {
        self.answer(req)
    }

    async fn stream(&self, req: &CompletionRequest) -> Result<CompletionStream> {
        let c = self.answer(req)?;
        let mut events: Vec<Result<StreamEvent>> = c
            .text
            .split_inclusive(' ')
            .map(|piece| {
                Ok(StreamEvent::TextDelta {
                    text: piece.to_string(),
                })
            })
            .collect();
        events.push(Ok(StreamEvent::Usage { usage: c.usage }));
        events.push(Ok(StreamEvent::Done { completion: c }));
        Ok(Box::pin(futures::stream::iter(events)))
    }

    async fn count_tokens(&self, req: &CompletionRequest) -> Result<u64> {
        req.validate()?;
        Ok(estimate_tokens(&req.render()))
    }
}
