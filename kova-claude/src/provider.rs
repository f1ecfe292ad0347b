//! `LlmProvider` for [`Anthropic`]: requests in kova-core's types out, completions back.

use crate::client::{Answer, Anthropic};
use crate::errors::protocol;
use crate::models::{model_limits, UNKNOWN_MODEL_LIMITS};
use crate::stream::{completion_stream, Assembler, Body};
use crate::wire::{
    stop_reason, CacheControl, CountTokensResponse, MessageResponse, MessagesRequest, SystemText,
    WireMessage,
};
use async_trait::async_trait;
use bytes::Bytes;
use kova_core::{
    Completion, CompletionRequest, CompletionStream, LlmCapabilities, LlmProvider, Result, Role,
};

/// What a request body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Complete,
    Stream,
    CountTokens,
}

impl Anthropic {
    /// The JSON body for `req`, after validating it.
    fn body(&self, req: &CompletionRequest, purpose: Purpose) -> Result<(String, Bytes)> {
        req.validate()?;
        let model = req.model.as_deref().unwrap_or(&self.inner.model);
        // The cache breakpoint goes on the last block marked cacheable: Anthropic caches the
        // whole prefix up to it (system prompt + repository context) in one entry.
        let last_cached = req.system.iter().rposition(|b| b.cache);
        let system = req
            .system
            .iter()
            .enumerate()
            .map(|(i, b)| SystemText {
                kind: "text",
                text: &b.text,
                cache_control: (Some(i) == last_cached).then_some(CacheControl::EPHEMERAL),
            })
            .collect();
        let messages = req
            .messages
            .iter()
            .map(|m| WireMessage {
                role: match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                },
                content: &m.content,
            })
            .collect();
        let generating = purpose != Purpose::CountTokens;
        let wire = MessagesRequest {
            model,
            max_tokens: generating.then(|| {
                req.max_tokens
                    .unwrap_or_else(|| self.default_max_tokens(model))
            }),
            system,
            messages,
            temperature: if generating {
                req.temperature.or(self.inner.temperature)
            } else {
                None
            },
            stop_sequences: if generating { &req.stop_sequences } else { &[] },
            stream: purpose == Purpose::Stream,
        };
        let json = serde_json::to_vec(&wire)
            .map_err(|e| kova_core::Error::Internal(format!("serialize request: {e}")))?;
        Ok((model.to_owned(), Bytes::from(json)))
    }
}

fn expect_body(answer: Answer) -> Result<(Bytes, Option<String>)> {
    match answer {
        Answer::Body { bytes, request_id } => Ok((bytes, request_id)),
        Answer::Stream(_) => Err(kova_core::Error::Internal(
            "expected a body, got a stream".to_owned(),
        )),
    }
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], request_id: Option<&str>) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| match request_id {
        Some(id) => protocol(format!("{e} (request-id: {id})")),
        None => protocol(e.to_string()),
    })
}

#[async_trait]
impl LlmProvider for Anthropic {
    fn name(&self) -> &str {
        crate::errors::SERVICE
    }

    fn capabilities(&self) -> LlmCapabilities {
        let model = &self.inner.model;
        let limits = model_limits(model).unwrap_or(UNKNOWN_MODEL_LIMITS);
        let mut caps = LlmCapabilities::new(
            model.clone(),
            limits.context_window,
            limits.max_output_tokens,
        );
        caps.streaming = true;
        caps.prompt_caching = true;
        caps.exact_token_count = true;
        caps
    }

    async fn complete(&self, req: &CompletionRequest) -> Result<Completion> {
        let (model, body) = self.body(req, Purpose::Complete)?;
        let answer = self.send(&self.inner.messages_url, body, false).await?;
        let (bytes, request_id) = expect_body(answer)?;
        let msg: MessageResponse = parse(&bytes, request_id.as_deref())?;
        let text = msg.text();
        let usage = msg.usage.to_usage();
        // Price what answered (a dated id), falling back to what was asked for.
        let model = if msg.model.is_empty() {
            model
        } else {
            msg.model
        };
        Ok(Completion {
            id: msg.id,
            cost_usd: self.inner.prices.cost(&model, &usage),
            model,
            text,
            stop_reason: stop_reason(msg.stop_reason.as_deref(), msg.stop_sequence),
            usage,
        })
    }

    async fn stream(&self, req: &CompletionRequest) -> Result<CompletionStream> {
        let (_, body) = self.body(req, Purpose::Stream)?;
        let answer = self.send(&self.inner.messages_url, body, true).await?;
        let bytes = match answer {
            Answer::Stream(bytes) => bytes,
            Answer::Body { .. } => {
                return Err(kova_core::Error::Internal(
                    "expected a stream, got a body".to_owned(),
                ))
            }
        };
        let body = Body {
            bytes,
            idle_timeout: self.inner.stream_idle_timeout,
        };
        let assembler = Assembler::new(self.inner.prices.clone(), self.inner.key.clone());
        Ok(completion_stream(body, assembler))
    }

    async fn count_tokens(&self, req: &CompletionRequest) -> Result<u64> {
        let (_, body) = self.body(req, Purpose::CountTokens)?;
        let answer = self.send(&self.inner.count_tokens_url, body, false).await?;
        let (bytes, request_id) = expect_body(answer)?;
        let counted: CountTokensResponse = parse(&bytes, request_id.as_deref())?;
        Ok(counted.input_tokens)
    }
}
