//! # kova-claude
//!
//! Anthropic Claude for Kova: [`Anthropic`], a Messages API client implementing
//! [`kova_core::LlmProvider`].
//!
//! - Retries like the official SDKs ([`RetryPolicy`]: 2 retries, backoff 0.5 s·2ⁿ up to 8 s
//!   with jitter, `retry-after` honoured, `x-should-retry` obeyed), waiting through an
//!   injectable [`Sleeper`].
//! - Streams server-sent events, split anywhere, into text deltas, cumulative usage and a final
//!   completion; an `error` event ends the stream with a typed error.
//! - Marks the cacheable system prefix for prompt caching and reports cache reads and writes
//!   apart, with a cost from a configurable [`PriceTable`].
//! - Surfaces `stop_reason` (a `max_tokens` truncation is never silent) and maps every error
//!   status to kova-core's typed [`kova_core::Error`]; the API key never appears in `Debug`
//!   output, logs or errors.
//!
//! ```no_run
//! use kova_claude::Anthropic;
//! use kova_core::{CompletionRequest, LlmProvider};
//!
//! # async fn demo() -> kova_core::Result<()> {
//! let claude = Anthropic::from_env()?; // ANTHROPIC_API_KEY, KOVA_CLAUDE_MODEL, …
//! let req = CompletionRequest::new("Summarise this diff: …")
//!     .with_cached_system("You review pull requests for the kova-rs organisation.")
//!     .with_max_tokens(1024);
//! let answer = claude.complete(&req).await?;
//! if answer.is_truncated() {
//!     eprintln!("answer cut off at {} output tokens", answer.usage.output_tokens);
//! }
//! println!("{} (${:.4})", answer.text, answer.cost_usd.unwrap_or(0.0));
//! # Ok(())
//! # }
//! ```
//!
//! With the `testing` feature, [`testing`] holds `FakeAnthropic`, a local server speaking the
//! real wire format, and `RecordingSleeper`.

mod builder;
mod client;
mod errors;
mod models;
mod pricing;
mod provider;
mod retry;
mod secret;
mod sse;
mod stream;
mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use builder::AnthropicBuilder;
pub use client::{
    Anthropic, API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_STREAM_IDLE_TIMEOUT,
    DEFAULT_TIMEOUT,
};
pub use models::{model_limits, ModelLimits, DEFAULT_MAX_TOKENS, DEFAULT_MODEL};
pub use pricing::{ModelPrice, PriceTable};
pub use retry::{RetryPolicy, Sleeper, TokioSleeper};
pub use secret::ApiKey;
