//! Records of LLM calls: token usage and interactions.

use crate::model::ids::{EventId, InteractionId};
use crate::model::repo::RepoRef;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

/// Tokens one call (or a sum of calls) used, with the prompt-cache tokens counted apart, as
/// Anthropic bills them: `input_tokens` excludes cached tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation_tokens: u64,
}

impl Usage {
    /// All input tokens, cached or not.
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(mut self, rhs: Usage) -> Usage {
        self += rhs;
        self
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        self.input_tokens += rhs.input_tokens;
        self.output_tokens += rhs.output_tokens;
        self.cache_read_tokens += rhs.cache_read_tokens;
        self.cache_creation_tokens += rhs.cache_creation_tokens;
    }
}

/// One LLM call as recorded: what was asked, what came back, what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmInteraction {
    /// Row id (ignored on insert).
    pub id: InteractionId,
    /// Why the call was made (`pr_review`, `artifact:diagram`, `command:ask`…).
    pub purpose: String,
    /// Provider name (`anthropic`).
    pub provider: String,
    /// The model that answered (or was asked, if the call failed).
    pub model: String,
    /// Hex SHA-256 of the prompt text, to find repeated prompts cheaply.
    pub prompt_digest: String,
    /// The prompt (system and messages, rendered).
    pub prompt: String,
    /// The answer text (empty on failure).
    pub response: String,
    /// Tokens used.
    pub usage: Usage,
    /// Cost in US dollars, if the provider has a price for the model.
    pub cost_usd: Option<f64>,
    /// Wall time of the call, retries included.
    pub duration_ms: u64,
    /// Whether the call succeeded.
    pub success: bool,
    /// The error, when it failed.
    pub error: Option<String>,
    /// The repository it concerned.
    pub repo: Option<RepoRef>,
    /// The webhook event it served.
    pub event_id: Option<EventId>,
    /// When it finished.
    pub created_at: Timestamp,
}

/// Sums over a set of interactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageTotals {
    /// Number of calls.
    pub calls: u64,
    /// Number of failed calls.
    pub failures: u64,
    /// Tokens, summed.
    pub usage: Usage,
    /// Cost in US dollars, summed over calls with a known cost.
    pub cost_usd: f64,
}

impl UsageTotals {
    /// Adds one interaction.
    pub fn add(&mut self, i: &LlmInteraction) {
        self.calls += 1;
        if !i.success {
            self.failures += 1;
        }
        self.usage += i.usage;
        self.cost_usd += i.cost_usd.unwrap_or(0.0);
    }
}
