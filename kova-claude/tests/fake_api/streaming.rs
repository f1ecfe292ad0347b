//! Streaming: events as they arrive, split anywhere; errors inside a 200 stream.

use crate::{builder, setup};
use bytes::Bytes;
use futures::StreamExt;
use kova_claude::testing::{
    encode_sse, stream_events, Chunk, FakeAnthropic, FakeResponse, RecordingSleeper,
};
use kova_core::{
    Completion, CompletionRequest, Error, LlmProvider, Result, StopReason, StreamEvent, Usage,
};
use serde_json::json;
use std::time::Duration;

fn usage() -> Usage {
    Usage {
        input_tokens: 40,
        output_tokens: 9,
        cache_creation_tokens: 0,
        cache_read_tokens: 3000,
    }
}

async fn collect(claude: &impl LlmProvider) -> Vec<Result<StreamEvent>> {
    let stream = claude
        .stream(&CompletionRequest::new("Tell me"))
        .await
        .unwrap();
    stream.collect().await
}

fn text_of(events: &[Result<StreamEvent>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::TextDelta { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn done(events: &[Result<StreamEvent>]) -> &Completion {
    match events.last() {
        Some(Ok(StreamEvent::Done { completion })) => completion,
        other => panic!("stream did not end with Done: {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_yields_deltas_cumulative_usage_and_done() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::stream_text(
        &["Hel", "lo, ", "world"],
        "end_turn",
        usage(),
    ));
    let events = collect(&claude).await;
    assert_eq!(text_of(&events), "Hello, world");
    let usages: Vec<Usage> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Usage { usage }) => Some(*usage),
            _ => None,
        })
        .collect();
    // message_start's initial count, then message_delta's final one: replaced, not added.
    assert_eq!(
        usages,
        [
            Usage {
                output_tokens: 1,
                ..usage()
            },
            usage()
        ]
    );
    let c = done(&events);
    assert_eq!((c.text.as_str(), c.usage), ("Hello, world", usage()));
    assert_eq!(c.id, "msg_01FakeFakeFakeFakeFake");
    assert_eq!(c.stop_reason, StopReason::EndTurn);
    assert!(c.cost_usd.is_some());
    let r = &fake.requests()[0];
    assert_eq!(r.json()["stream"], json!(true));
    assert_eq!(r.header("x-api-key"), Some(crate::KEY));
}

#[tokio::test]
async fn max_tokens_in_a_stream_is_visible() {
    let (fake, _sleeper, claude) = setup().await;
    fake.push(FakeResponse::stream_text(
        &["Once upon"],
        "max_tokens",
        usage(),
    ));
    let events = collect(&claude).await;
    assert!(done(&events).is_truncated());
}

#[tokio::test]
async fn pings_unknown_events_and_an_error_event_mid_stream() {
    let (fake, sleeper, claude) = setup().await;
    let mut events = stream_events(&["partial ", "answer"], "end_turn", usage());
    events.truncate(5); // message_start, block start, ping, two deltas
    events.push(("ping".into(), json!({"type": "ping"})));
    events.push((
        "brand_new_event".into(),
        json!({"type": "brand_new_event", "x": 1}),
    ));
    events.push((
        "content_block_delta".into(),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
    ));
    events.push((
        "error".into(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ));
    let mut body = encode_sse(&events);
    body.push_str(": keep-alive comment\n\n");
    fake.push(FakeResponse::sse(vec![Chunk::Bytes(Bytes::from(body))]));
    let out = collect(&claude).await;
    assert_eq!(text_of(&out), "partial answer");
    assert!(
        matches!(out.last(), Some(Err(Error::Overloaded { .. }))),
        "{:?}",
        out.last()
    );
    assert_eq!(out.iter().filter(|e| e.is_err()).count(), 1);
    // Nothing is retried once a 200 stream has begun.
    assert_eq!(fake.requests().len(), 1);
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn chunk_boundaries_anywhere_even_mid_utf8() {
    let (fake, _sleeper, claude) = setup().await;
    let pieces = ["héllo ", "wörld ✓ ", "🦀", "\r\n∑"];
    let bytes = encode_sse(&stream_events(&pieces, "end_turn", usage())).into_bytes();
    // Odd sizes put boundaries inside `event:`, `data:`, "\n\n", JSON and multi-byte characters.
    for size in [1usize, 2, 3, 5, 7, 11, 64] {
        let chunks = bytes
            .chunks(size)
            .map(|c| Chunk::Bytes(Bytes::copy_from_slice(c)))
            .collect();
        fake.push(FakeResponse::sse(chunks));
        let out = collect(&claude).await;
        let c = done(&out);
        assert_eq!(c.text, pieces.concat(), "chunk size {size}");
        assert_eq!(text_of(&out), pieces.concat());
        assert_eq!(c.usage, usage());
    }
    // Also with CRLF line endings and a pause in the middle of an event.
    let crlf = String::from_utf8(bytes.clone())
        .unwrap()
        .replace('\n', "\r\n");
    let (a, b) = crlf.as_bytes().split_at(crlf.len() / 2 + 1);
    fake.push(FakeResponse::sse(vec![
        Chunk::Bytes(Bytes::copy_from_slice(a)),
        Chunk::Delay(Duration::from_millis(20)),
        Chunk::Bytes(Bytes::copy_from_slice(b)),
    ]));
    assert_eq!(done(&collect(&claude).await).text, pieces.concat());
}

#[tokio::test]
async fn an_error_status_before_the_stream_is_retried() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::error(529, "overloaded_error", "Overloaded"));
    fake.push(FakeResponse::stream_text(&["ok"], "end_turn", usage()));
    let out = collect(&claude).await;
    assert_eq!(done(&out).text, "ok");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(sleeper.sleeps().len(), 1);

    fake.push(FakeResponse::error(
        401,
        "authentication_error",
        "invalid x-api-key",
    ));
    let e = claude
        .stream(&CompletionRequest::new("x"))
        .await
        .err()
        .unwrap();
    assert!(matches!(e, Error::Unauthenticated { .. }));
}

#[tokio::test]
async fn a_broken_or_truncated_stream_ends_with_an_error() {
    let (fake, sleeper, claude) = setup().await;
    let events = stream_events(&["a", "b"], "end_turn", usage());
    let head = Bytes::from(encode_sse(&events[..4]));

    fake.push(FakeResponse::sse(vec![
        Chunk::Bytes(head.clone()),
        Chunk::Abort,
    ]));
    let out = collect(&claude).await;
    assert_eq!(text_of(&out), "a");
    assert!(
        matches!(out.last(), Some(Err(Error::Connection { .. }))),
        "{:?}",
        out.last()
    );

    // The server closes cleanly but never sent message_stop.
    fake.push(FakeResponse::sse(vec![Chunk::Bytes(head.clone())]));
    let out = collect(&claude).await;
    assert!(
        matches!(out.last(), Some(Err(Error::Protocol { .. }))),
        "{:?}",
        out.last()
    );

    // A malformed known event.
    let mut bad = head.to_vec();
    bad.extend_from_slice(
        b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n",
    );
    fake.push(FakeResponse::sse(vec![Chunk::Bytes(bad.into())]));
    let out = collect(&claude).await;
    assert!(
        matches!(out.last(), Some(Err(Error::Protocol { .. }))),
        "{:?}",
        out.last()
    );

    assert_eq!(fake.requests().len(), 3);
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn a_silent_stream_times_out() {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let claude = builder(&fake, &sleeper)
        .stream_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let events = stream_events(&["a"], "end_turn", usage());
    fake.push(FakeResponse::sse(vec![
        Chunk::Bytes(Bytes::from(encode_sse(&events[..4]))),
        Chunk::Delay(Duration::from_secs(5)),
        Chunk::Bytes(Bytes::from(encode_sse(&events[4..]))),
    ]));
    let started = std::time::Instant::now();
    let out = collect(&claude).await;
    assert!(
        matches!(out.last(), Some(Err(Error::Timeout { .. }))),
        "{:?}",
        out.last()
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_stream_that_breaks_before_its_first_byte_is_retried() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::sse(vec![Chunk::Abort]));
    fake.push(FakeResponse::sse(vec![]));
    fake.push(FakeResponse::stream_text(&["ok"], "end_turn", usage()));
    let out = collect(&claude).await;
    assert_eq!(done(&out).text, "ok");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(sleeper.sleeps().len(), 2);
}

#[tokio::test]
async fn a_finished_stream_ends_without_waiting_for_a_lingering_server() {
    // The server sends message_stop and then keeps the connection open: `Done` arrives at once
    // and the stream ends within the bounded drain, not at the idle timeout.
    let (fake, _sleeper, claude) = setup().await;
    let events = stream_events(&["done"], "end_turn", usage());
    fake.push(FakeResponse::sse(vec![
        Chunk::Bytes(Bytes::from(encode_sse(&events))),
        Chunk::Delay(Duration::from_secs(30)),
    ]));
    let started = std::time::Instant::now();
    let out = collect(&claude).await;
    assert_eq!(done(&out).text, "done");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_but_steady_stream_is_not_cut_off() {
    // Silent for at most 100 ms at a time, 700 ms in all: the 250 ms idle limit is per silence.
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let claude = builder(&fake, &sleeper)
        .stream_idle_timeout(Duration::from_millis(250))
        .build()
        .unwrap();
    let events = stream_events(&["a", "b", "c", "d"], "end_turn", usage());
    let mut chunks = Vec::new();
    for e in &events {
        chunks.push(Chunk::Delay(Duration::from_millis(70)));
        chunks.push(Chunk::Bytes(Bytes::from(encode_sse(std::slice::from_ref(
            e,
        )))));
    }
    fake.push(FakeResponse::sse(chunks));
    assert_eq!(done(&collect(&claude).await).text, "abcd");
}
