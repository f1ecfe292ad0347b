//! The `LlmProvider` plugin trait and the provider-neutral request and response types.

use crate::error::{Error, Result};
use crate::model::Usage;
use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The caller.
    User,
    /// The model.
    Assistant,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    /// An assistant turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A block of the system prompt. Blocks marked `cache` form the stable prefix that providers
/// with prompt caching store and re-read at a discount (system prompt + repository context).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemBlock {
    /// The text.
    pub text: String,
    /// Cache the prompt up to and including this block.
    pub cache: bool,
}

/// A provider-neutral completion request. Build with [`CompletionRequest::new`] and setters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionRequest {
    /// The model; `None` means the provider's configured default.
    pub model: Option<String>,
    /// System prompt blocks, in order.
    pub system: Vec<SystemBlock>,
    /// The conversation; must start with a user turn.
    pub messages: Vec<Message>,
    /// Output token limit; `None` means the provider's default.
    pub max_tokens: Option<u32>,
    /// Sampling temperature (0.0..=1.0).
    pub temperature: Option<f32>,
    /// Stop generating at any of these.
    pub stop_sequences: Vec<String>,
}

impl CompletionRequest {
    /// A one-turn request.
    pub fn new(user: impl Into<String>) -> Self {
        CompletionRequest {
            model: None,
            system: Vec::new(),
            messages: vec![Message::user(user)],
            max_tokens: None,
            temperature: None,
            stop_sequences: Vec::new(),
        }
    }

    /// Appends an uncached system block.
    pub fn with_system(mut self, text: impl Into<String>) -> Self {
        self.system.push(SystemBlock {
            text: text.into(),
            cache: false,
        });
        self
    }

    /// Appends a system block and marks the prefix up to it cacheable.
    pub fn with_cached_system(mut self, text: impl Into<String>) -> Self {
        self.system.push(SystemBlock {
            text: text.into(),
            cache: true,
        });
        self
    }

    /// Replaces the conversation.
    pub fn with_messages(mut self, messages: Vec<Message>) -> Self {
        self.messages = messages;
        self
    }

    /// Sets the model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the output token limit.
    pub fn with_max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Sets the temperature.
    pub fn with_temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Adds a stop sequence.
    pub fn with_stop_sequence(mut self, s: impl Into<String>) -> Self {
        self.stop_sequences.push(s.into());
        self
    }

    /// Checks what every provider requires.
    pub fn validate(&self) -> Result<()> {
        match self.messages.first() {
            None => return Err(Error::invalid("messages", "must not be empty")),
            Some(m) if m.role != Role::User => {
                return Err(Error::invalid("messages", "must start with a user turn"))
            }
            _ => {}
        }
        if let Some(t) = self.temperature {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::invalid("temperature", "must be between 0.0 and 1.0"));
            }
        }
        if self.max_tokens == Some(0) {
            return Err(Error::invalid("max_tokens", "must be at least 1"));
        }
        Ok(())
    }

    /// The prompt as one text (system blocks, then turns), for records and digests.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for b in &self.system {
            out.push_str("[system]\n");
            out.push_str(&b.text);
            out.push('\n');
        }
        for m in &self.messages {
            out.push_str(match m.role {
                Role::User => "[user]\n",
                Role::Assistant => "[assistant]\n",
            });
            out.push_str(&m.content);
            out.push('\n');
        }
        out
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It hit `max_tokens`: the answer is truncated.
    MaxTokens,
    /// It produced one of the stop sequences (which one).
    StopSequence(String),
    /// It asked to use a tool.
    ToolUse,
    /// It declined to answer.
    Refusal,
    /// A reason this version does not know.
    Other(String),
}

/// A finished completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The provider's message id.
    pub id: String,
    /// The model that answered.
    pub model: String,
    /// The answer's text (all text blocks, concatenated).
    pub text: String,
    /// Why it stopped; [`StopReason::MaxTokens`] means truncated.
    pub stop_reason: StopReason,
    /// Tokens used.
    pub usage: Usage,
    /// Cost in US dollars, if the provider has a price for the model.
    pub cost_usd: Option<f64>,
}

impl Completion {
    /// Whether the answer was cut off by the output limit.
    pub fn is_truncated(&self) -> bool {
        self.stop_reason == StopReason::MaxTokens
    }
}

/// One event of a streamed completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StreamEvent {
    /// A piece of the answer's text.
    TextDelta {
        /// The new text.
        text: String,
    },
    /// Usage so far (providers report it cumulatively).
    Usage {
        /// Tokens so far.
        usage: Usage,
    },
    /// The completion is finished; this is the last event.
    Done {
        /// The whole completion.
        completion: Completion,
    },
}

/// A stream of completion events; an `Err` item ends the stream.
pub type CompletionStream = BoxStream<'static, Result<StreamEvent>>;

/// What a provider and its configured model can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LlmCapabilities {
    /// The default model's name.
    pub model: String,
    /// Prompt tokens the model accepts.
    pub context_window: u32,
    /// Output tokens the model can produce in one answer.
    pub max_output_tokens: u32,
    /// Whether `stream` streams (otherwise it yields one `Done`).
    pub streaming: bool,
    /// Whether cacheable system blocks are cached.
    pub prompt_caching: bool,
    /// Whether `count_tokens` asks the provider (otherwise it estimates).
    pub exact_token_count: bool,
}

impl LlmCapabilities {
    /// Capabilities with the given model and limits, nothing optional supported.
    pub fn new(model: impl Into<String>, context_window: u32, max_output_tokens: u32) -> Self {
        LlmCapabilities {
            model: model.into(),
            context_window,
            max_output_tokens,
            streaming: false,
            prompt_caching: false,
            exact_token_count: false,
        }
    }
}

/// A large language model behind an API.
///
/// # Contract
/// - Requests are validated ([`CompletionRequest::validate`]) before anything is sent.
/// - Errors are typed: [`Error::RateLimited`] (with `retry_after` when the service said),
///   [`Error::Overloaded`], [`Error::ContextTooLong`], [`Error::Unauthenticated`],
///   [`Error::Invalid`], [`Error::Upstream`], [`Error::Timeout`], [`Error::Connection`];
///   [`Error::is_retryable`] tells which may be retried. An implementation that retries
///   internally returns the last error once its retries are spent.
/// - `usage` is what the provider billed, with cache reads and writes apart; a truncated answer
///   says so in `stop_reason`, never silently.
/// - Secrets (API keys) never appear in `Debug` output, logs or errors.
#[async_trait]
pub trait LlmProvider: Send + Sync + Debug + 'static {
    /// The provider's name (`anthropic`).
    fn name(&self) -> &str;

    /// What the provider and its default model can do.
    fn capabilities(&self) -> LlmCapabilities;

    /// Runs a completion to the end.
    async fn complete(&self, req: &CompletionRequest) -> Result<Completion>;

    /// Runs a completion, yielding text as it arrives and a final [`StreamEvent::Done`].
    async fn stream(&self, req: &CompletionRequest) -> Result<CompletionStream>;

    /// Input tokens the request would use.
    async fn count_tokens(&self, req: &CompletionRequest) -> Result<u64>;
}

/// A rough token estimate (about 4 bytes per token for English and code), for budgets when a
/// provider cannot count exactly. Errs on the high side so budgets are not overrun.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(3)
}
