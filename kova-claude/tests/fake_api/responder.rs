//! The fake's responder: answers chosen from the request, ahead of the queue.

use crate::{setup, KEY};
use kova_claude::testing::{FakeAnthropic, FakeResponse};
use kova_claude::Anthropic;
use kova_core::{CompletionRequest, Error, LlmProvider};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn responder_answers_from_the_request_and_falls_through_on_none() {
    let (fake, sleeper, claude) = setup().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    fake.set_responder(move |req| {
        counter.fetch_add(1, Ordering::SeqCst);
        let prompt = req.json()["messages"][0]["content"].to_string();
        if prompt.contains("poison") {
            Some(FakeResponse::error(
                400,
                "invalid_request_error",
                "bad prompt",
            ))
        } else if prompt.contains("echo") {
            Some(FakeResponse::text(&format!("echo of {}", req.body.len())))
        } else {
            None
        }
    });
    fake.push(FakeResponse::text("from the queue"));

    let echo = claude
        .complete(&CompletionRequest::new("echo me"))
        .await
        .unwrap();
    assert!(echo.text.starts_with("echo of "), "{}", echo.text);
    let poison = claude
        .complete(&CompletionRequest::new("poison"))
        .await
        .unwrap_err();
    assert!(matches!(poison, Error::Invalid { .. }), "{poison:?}");
    // `None`: the queue answers, and the responder used no scripted response before.
    let queued = claude
        .complete(&CompletionRequest::new("other"))
        .await
        .unwrap();
    assert_eq!(queued.text, "from the queue");
    assert_eq!(fake.remaining(), 0);
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!(fake.requests().len(), 3);
    assert!(sleeper.sleeps().is_empty(), "a 400 is not retried");

    fake.clear_responder();
    fake.push(FakeResponse::text("queue again"));
    let c = claude
        .complete(&CompletionRequest::new("echo"))
        .await
        .unwrap();
    assert_eq!(c.text, "queue again");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "a cleared responder is not asked"
    );
}

#[tokio::test]
async fn unauthenticated_requests_never_reach_the_responder() {
    let fake = FakeAnthropic::start().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    fake.set_responder(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Some(FakeResponse::text("should not be seen"))
    });
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/v1/messages", fake.base_url()))
        .header("anthropic-version", "2023-06-01")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(seen.load(Ordering::SeqCst), 0);
    // With the key, the responder answers.
    let claude = Anthropic::builder()
        .api_key(KEY)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    let c = claude
        .complete(&CompletionRequest::new("hi"))
        .await
        .unwrap();
    assert_eq!(c.text, "should not be seen");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
