//! Shared set-up: a client pointed at a fake GitHub, waits recorded on a manual clock.

#![allow(dead_code)]

use kova_core::testing::ManualClock;
use kova_github::testing::{FakeGitHub, RecordingSleeper};
use kova_github::GitHub;
use std::sync::Arc;

/// An obviously fake token: tests assert it is sent, and never shown.
pub const TOKEN: &str = "ghp_test_not_a_real_token";

pub struct Harness {
    pub fake: FakeGitHub,
    pub github: GitHub,
    pub sleeper: Arc<RecordingSleeper>,
    pub clock: Arc<ManualClock>,
}

/// The epoch second the manual clock starts at.
pub const START: i64 = 1_700_000_000;

pub async fn harness() -> Harness {
    harness_with(|b| b).await
}

pub async fn harness_with(
    configure: impl FnOnce(kova_github::GitHubBuilder) -> kova_github::GitHubBuilder,
) -> Harness {
    let fake = FakeGitHub::start().await;
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::from_timestamp(START, 0).unwrap(),
    ));
    let sleeper = Arc::new(RecordingSleeper::with_clock(clock.clone()));
    let builder = GitHub::builder()
        .base_url(fake.url())
        .token(TOKEN)
        .user_agent("kova-tests")
        .clock(clock.clone())
        .sleeper(sleeper.clone());
    let github = configure(builder).build().unwrap();
    Harness {
        fake,
        github,
        sleeper,
        clock,
    }
}

pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rest")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

pub fn repo() -> kova_core::RepoRef {
    "octokit-fixture-org/hello-world".parse().unwrap()
}
