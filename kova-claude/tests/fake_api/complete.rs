//! Non-streaming completions, count_tokens, caching, cost, errors.

use crate::{assert_no_key, builder, setup, KEY};
use kova_claude::testing::{FakeAnthropic, FakeResponse, RecordingSleeper};
use kova_claude::{ModelPrice, PriceTable, DEFAULT_MODEL};
use kova_core::{CompletionRequest, Error, LlmProvider, Message, StopReason, Usage};
use serde_json::json;

#[tokio::test]
async fn success_sends_the_real_wire_format_and_parses_the_answer() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::message(
        "Looks good.",
        "end_turn",
        None,
        Usage {
            input_tokens: 25,
            output_tokens: 7,
            ..Usage::default()
        },
    ));
    let c = claude
        .complete(&CompletionRequest::new("Review this"))
        .await
        .unwrap();
    assert_eq!(c.text, "Looks good.");
    assert_eq!(c.id, "msg_01FakeFakeFakeFakeFake");
    assert_eq!(c.model, "claude-sonnet-4-5-20250929");
    assert_eq!(c.stop_reason, StopReason::EndTurn);
    assert!(!c.is_truncated());
    assert_eq!(c.usage.input_tokens, 25);
    assert_eq!(c.usage.output_tokens, 7);

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("user-agent").unwrap().starts_with("kova/"));
    assert_eq!(
        r.json(),
        json!({"model": DEFAULT_MODEL, "max_tokens": 8192,
               "messages": [{"role": "user", "content": "Review this"}]})
    );
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn multi_turn_system_stop_sequences_and_which_one_stopped() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::message(
        "a, b",
        "stop_sequence",
        Some("###"),
        Usage::default(),
    ));
    let req = CompletionRequest::new("ignored")
        .with_messages(vec![
            Message::user("List letters"),
            Message::assistant("a"),
            Message::user("more"),
        ])
        .with_system("You are terse.")
        .with_model("claude-haiku-4-5")
        .with_max_tokens(100)
        .with_temperature(0.25)
        .with_stop_sequence("###");
    let c = claude.complete(&req).await.unwrap();
    assert_eq!(c.stop_reason, StopReason::StopSequence("###".into()));
    assert_eq!(
        fake.requests()[0].json(),
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 100,
            "system": [{"type": "text", "text": "You are terse."}],
            "messages": [
                {"role": "user", "content": "List letters"},
                {"role": "assistant", "content": "a"},
                {"role": "user", "content": "more"}
            ],
            "temperature": 0.25,
            "stop_sequences": ["###"]
        })
    );
}

#[tokio::test]
async fn max_tokens_truncation_is_visible() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::message(
        "The answer is cut",
        "max_tokens",
        None,
        Usage::default(),
    ));
    let c = claude
        .complete(&CompletionRequest::new("Essay").with_max_tokens(4))
        .await
        .unwrap();
    assert_eq!(c.stop_reason, StopReason::MaxTokens);
    assert!(c.is_truncated());
    assert_eq!(fake.requests()[0].json()["max_tokens"], 4);
}

#[tokio::test]
async fn other_stop_reasons_surface() {
    let (fake, _sleeper, claude) = setup().await;
    for r in [
        "refusal",
        "tool_use",
        "pause_turn",
        "model_context_window_exceeded",
    ] {
        fake.push(FakeResponse::message("", r, None, Usage::default()));
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(
            claude
                .complete(&CompletionRequest::new("x"))
                .await
                .unwrap()
                .stop_reason,
        );
    }
    assert_eq!(
        got,
        [
            StopReason::Refusal,
            StopReason::ToolUse,
            StopReason::Other("pause_turn".into()),
            StopReason::Other("model_context_window_exceeded".into())
        ]
    );
}

#[tokio::test]
async fn prompt_caching_marks_the_last_cacheable_block_only() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::text("ok"));
    fake.push(FakeResponse::text("ok"));
    let req = CompletionRequest::new("What changed?")
        .with_cached_system("You review code.")
        .with_cached_system("Repository context: …")
        .with_system("Today is Tuesday.");
    claude.complete(&req).await.unwrap();
    claude
        .complete(&CompletionRequest::new("x").with_system("plain"))
        .await
        .unwrap();
    let reqs = fake.requests();
    assert_eq!(
        reqs[0].json()["system"],
        json!([
            {"type": "text", "text": "You review code."},
            {"type": "text", "text": "Repository context: …", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Today is Tuesday."}
        ])
    );
    assert_eq!(
        reqs[1].json()["system"],
        json!([{"type": "text", "text": "plain"}])
    );
}

#[tokio::test]
async fn cache_tokens_are_counted_apart_and_priced() {
    let (fake, _sleeper, claude) = setup().await;
    let usage = Usage {
        input_tokens: 100_000,
        output_tokens: 10_000,
        cache_creation_tokens: 200_000,
        cache_read_tokens: 1_000_000,
    };
    fake.push(FakeResponse::message("ok", "end_turn", None, usage));
    let c = claude.complete(&CompletionRequest::new("x")).await.unwrap();
    assert_eq!(c.usage, usage);
    // Sonnet 4.5: $3/MTok in, $15 out, $3.75 cache write, $0.30 cache read.
    let expected = 0.3 + 0.15 + 0.75 + 0.3;
    assert!(
        (c.cost_usd.unwrap() - expected).abs() < 1e-9,
        "{:?}",
        c.cost_usd
    );

    // A configured table: an unknown model has no cost rather than a guessed one.
    let sleeper = RecordingSleeper::default();
    let priced = builder(&fake, &sleeper)
        .prices(PriceTable::empty().with_price("claude-sonnet-4-5", ModelPrice::new(1.0, 2.0)))
        .build()
        .unwrap();
    fake.push(FakeResponse::message("ok", "end_turn", None, usage));
    let c = priced.complete(&CompletionRequest::new("x")).await.unwrap();
    assert!((c.cost_usd.unwrap() - (0.1 + 0.02 + 0.25 + 0.1)).abs() < 1e-9);
    let mut other = kova_claude::testing::message_json("ok", "end_turn", None, usage);
    other["model"] = json!("some-other-model");
    fake.push(FakeResponse::json(200, other));
    assert_eq!(
        claude
            .complete(&CompletionRequest::new("x"))
            .await
            .unwrap()
            .cost_usd,
        None
    );
}

#[tokio::test]
async fn count_tokens_asks_the_api() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::count_tokens(1234));
    let req = CompletionRequest::new("Count me")
        .with_cached_system("sys")
        .with_max_tokens(10)
        .with_temperature(0.5);
    assert_eq!(claude.count_tokens(&req).await.unwrap(), 1234);
    let r = &fake.requests()[0];
    assert_eq!(r.path, "/v1/messages/count_tokens");
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        r.json(),
        json!({"model": DEFAULT_MODEL,
               "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
               "messages": [{"role": "user", "content": "Count me"}]})
    );
}

#[tokio::test]
async fn capabilities_come_from_the_model_table() {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let caps = builder(&fake, &sleeper).build().unwrap().capabilities();
    assert_eq!(caps.model, DEFAULT_MODEL);
    assert_eq!(
        (caps.context_window, caps.max_output_tokens),
        (200_000, 64_000)
    );
    assert!(caps.streaming && caps.prompt_caching && caps.exact_token_count);
    let haiku3 = builder(&fake, &sleeper)
        .model("claude-3-haiku-20240307")
        .build()
        .unwrap();
    assert_eq!(haiku3.capabilities().max_output_tokens, 4_096);
    assert_eq!(haiku3.name(), "anthropic");
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error_and_not_retried() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::raw(
        200,
        "application/json",
        "{\"id\": \"msg_1\", \"content\": [",
    ));
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Protocol { ref service, .. } if service == "anthropic"),
        "{e:?}"
    );
    assert!(e.to_string().contains("req_fake_0123456789"), "{e}");
    assert_eq!(fake.requests().len(), 1);
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn client_errors_are_typed_and_not_retried() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::error(
        400,
        "invalid_request_error",
        "prompt is too long: 210345 tokens > 200000 maximum",
    ));
    fake.push(FakeResponse::error(
        400,
        "invalid_request_error",
        "messages.0.content: must not be empty",
    ));
    fake.push(
        FakeResponse::error(401, "authentication_error", "invalid x-api-key")
            .with_header("request-id", "req_401"),
    );
    fake.push(FakeResponse::error(403, "permission_error", "not allowed"));
    fake.push(FakeResponse::error(
        404,
        "not_found_error",
        "model: claude-nope",
    ));
    fake.push(FakeResponse::error(
        413,
        "request_too_large",
        "Request exceeds the maximum size",
    ));
    let req = CompletionRequest::new("x");
    let mut errors = Vec::new();
    for _ in 0..6 {
        errors.push(claude.complete(&req).await.unwrap_err());
    }
    assert!(
        matches!(errors[0], Error::ContextTooLong { .. }),
        "{:?}",
        errors[0]
    );
    assert!(
        matches!(errors[1], Error::Invalid { ref message, .. } if message.contains("must not be empty"))
    );
    assert!(
        matches!(errors[2], Error::Unauthenticated { ref message, .. } if message.contains("req_401"))
    );
    assert!(matches!(errors[3], Error::PermissionDenied { .. }));
    assert!(matches!(errors[4], Error::NotFound { ref id, .. } if id.contains("claude-nope")));
    assert!(
        matches!(errors[5], Error::Invalid { ref message, .. } if message.contains("too large"))
    );
    for e in &errors {
        assert!(!e.is_retryable(), "{e:?}");
        assert_no_key(e);
    }
    assert_eq!(fake.requests().len(), 6);
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let (fake, _sleeper, claude) = setup().await;
    let bad = CompletionRequest::new("x").with_messages(vec![Message::assistant("hi")]);
    assert!(matches!(
        claude.complete(&bad).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        claude
            .complete(&CompletionRequest::new("x").with_temperature(1.5))
            .await,
        Err(Error::Invalid { .. })
    ));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_fake_rejects_requests_without_credentials_like_the_api() {
    let fake = FakeAnthropic::start().await;
    let no_key = reqwest_post(&fake, &[("anthropic-version", "2023-06-01")]).await;
    assert_eq!(no_key.0, 401);
    let no_version = reqwest_post(&fake, &[("x-api-key", KEY)]).await;
    assert_eq!(no_version.0, 400);
    assert!(no_version.1.contains("anthropic-version"));
    assert_eq!(fake.requests().len(), 2);
}

async fn reqwest_post(fake: &FakeAnthropic, headers: &[(&str, &str)]) -> (u16, String) {
    let mut rb = reqwest_client().post(format!("{}/v1/messages", fake.base_url()));
    for (n, v) in headers {
        rb = rb.header(*n, *v);
    }
    let r = rb.body("{}").send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn reqwest_client() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn an_answer_without_usage_is_not_recorded_as_free() {
    let (fake, _sleeper, claude) = setup().await;
    let mut body = kova_claude::testing::message_json("ok", "end_turn", None, Usage::default());
    body.as_object_mut().unwrap().remove("usage");
    fake.push(FakeResponse::json(200, body));
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Protocol { ref message, .. } if message.contains("usage")),
        "{e:?}"
    );
}

#[tokio::test]
async fn recorded_requests_hide_the_key_in_debug() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::text("ok"));
    claude.complete(&CompletionRequest::new("x")).await.unwrap();
    let debug = format!("{:?} {claude:?}", fake.requests());
    assert!(
        !debug.contains(KEY) && debug.contains("anthropic-version"),
        "{debug}"
    );
}
