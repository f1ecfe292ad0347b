//! Test tools (feature `testing`): [`FakeAnthropic`], a local server that speaks the Messages
//! API's wire format from a script (or from a [`Responder`] that looks at each request) and
//! records every request, and [`RecordingSleeper`], which records backoff waits instead of
//! waiting.
//!
//! ```
//! use kova_claude::testing::{FakeAnthropic, FakeResponse, RecordingSleeper};
//! use kova_claude::Anthropic;
//! use kova_core::{CompletionRequest, LlmProvider};
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = FakeAnthropic::start().await;
//! fake.push(FakeResponse::error(529, "overloaded_error", "Overloaded"));
//! fake.push(FakeResponse::text("Hello!"));
//! let sleeper = RecordingSleeper::default();
//! let claude = Anthropic::builder()
//!     .api_key("sk-ant-test-not-a-real-key")
//!     .base_url(fake.base_url())
//!     .sleeper(Arc::new(sleeper.clone()))
//!     .build()
//!     .unwrap();
//! let answer = claude.complete(&CompletionRequest::new("Hi")).await.unwrap();
//! assert_eq!(answer.text, "Hello!");
//! assert_eq!(fake.requests().len(), 2);
//! assert_eq!(sleeper.sleeps().len(), 1);
//! # }
//! ```

mod fake;
mod script;

pub use fake::{FakeAnthropic, RecordedRequest, Responder};
pub use script::{encode_sse, message_json, stream_events, Chunk, FakeResponse};

use crate::retry::Sleeper;
use async_trait::async_trait;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A [`Sleeper`] that records each requested wait and returns at once. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct RecordingSleeper {
    sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingSleeper {
    /// The waits requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, d: Duration) {
        self.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(d);
    }
}
