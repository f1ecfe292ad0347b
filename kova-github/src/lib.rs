//! # kova-github
//!
//! GitHub for Kova:
//! - [`webhook::GitHubWebhooks`], a [`WebhookReceiver`](kova_core::WebhookReceiver): verifies
//!   `X-Hub-Signature-256` in constant time against one or more secrets and reads the delivery
//!   envelope without parsing the whole payload;
//! - [`events`], typed, lenient views of the payloads handlers care about, parsed on demand;
//! - [`GitHub`], a REST client that is a [`SourceHost`](kova_core::SourceHost): pagination by
//!   `Link`, ETag caching, primary and secondary rate limits, bounded concurrency, paced writes
//!   and retries of idempotent requests only;
//! - with the `testing` feature, `testing::FakeGitHub`, a local fake of the REST API with
//!   recorded responses, request recording and fault injection.

pub mod client;
pub mod events;
mod secret;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;

pub use client::{GitHub, GitHubBuilder, GitHubStats};
pub use secret::Secret;
pub use webhook::GitHubWebhooks;
