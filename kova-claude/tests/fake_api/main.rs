//! The provider against `FakeAnthropic` on 127.0.0.1: requests as sent, answers as parsed,
//! retries and waits as recorded.

mod complete;
mod responder;
mod retries;
mod streaming;

use kova_claude::testing::{FakeAnthropic, RecordingSleeper};
use kova_claude::{Anthropic, AnthropicBuilder};
use std::sync::Arc;

/// Obviously fake; asserted never to leak into errors or `Debug`.
pub const KEY: &str = "sk-ant-test-not-a-real-key";

/// A builder aimed at `fake`, waiting through `sleeper`.
pub fn builder(fake: &FakeAnthropic, sleeper: &RecordingSleeper) -> AnthropicBuilder {
    Anthropic::builder()
        .api_key(KEY)
        .base_url(fake.base_url())
        .sleeper(Arc::new(sleeper.clone()))
}

/// A fake server, a recording sleeper and a default client.
pub async fn setup() -> (FakeAnthropic, RecordingSleeper, Anthropic) {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let client = builder(&fake, &sleeper).build().unwrap();
    (fake, sleeper, client)
}

/// Asserts that no rendering of `e` contains the key.
pub fn assert_no_key(e: &kova_core::Error) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(KEY), "key leaked: {text}");
}
