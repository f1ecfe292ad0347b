//! What the fake server answers: scripted responses and realistic Anthropic payloads.

use bytes::Bytes;
use kova_core::Usage;
use serde_json::{json, Value};
use std::time::Duration;

/// The model fake answers report.
const FAKE_MODEL: &str = "claude-sonnet-4-5-20250929";

/// A piece of a streamed body.
#[derive(Debug, Clone)]
pub enum Chunk {
    /// Bytes sent as one write.
    Bytes(Bytes),
    /// A pause before the next piece.
    Delay(Duration),
    /// The connection breaks here (the body ends with an error).
    Abort,
}

#[derive(Debug, Clone)]
pub(crate) enum FakeBody {
    Full(Bytes),
    Chunks(Vec<Chunk>),
}

/// One scripted response: status, headers, body (whole or in timed chunks) and a delay before
/// the response headers are sent.
#[derive(Debug, Clone)]
pub struct FakeResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: FakeBody,
    pub(crate) delay: Duration,
}

impl FakeResponse {
    /// A JSON body with this status.
    pub fn json(status: u16, body: Value) -> Self {
        Self::raw(status, "application/json", body.to_string())
    }

    /// Any body with this status and content type (malformed JSON, an HTML error page…).
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        FakeResponse {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: FakeBody::Full(body.into()),
            delay: Duration::ZERO,
        }
    }

    /// A finished message with this text, `end_turn`, and a small usage.
    pub fn text(text: &str) -> Self {
        Self::message(text, "end_turn", None, default_usage())
    }

    /// A finished message with this text, stop reason (and stop sequence) and usage.
    pub fn message(
        text: &str,
        stop_reason: &str,
        stop_sequence: Option<&str>,
        usage: Usage,
    ) -> Self {
        Self::json(200, message_json(text, stop_reason, stop_sequence, usage))
    }

    /// Anthropic's error envelope with this status, `error.type` and message.
    pub fn error(status: u16, kind: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"type": "error", "error": {"type": kind, "message": message}}),
        )
    }

    /// The answer of `count_tokens`.
    pub fn count_tokens(input_tokens: u64) -> Self {
        Self::json(200, json!({ "input_tokens": input_tokens }))
    }

    /// A 200 event stream made of these pieces.
    pub fn sse(chunks: Vec<Chunk>) -> Self {
        FakeResponse {
            status: 200,
            headers: vec![
                ("content-type".to_owned(), "text/event-stream".to_owned()),
                ("cache-control".to_owned(), "no-cache".to_owned()),
            ],
            body: FakeBody::Chunks(chunks),
            delay: Duration::ZERO,
        }
    }

    /// A realistic stream of a message whose text arrives in `pieces`, one event per write.
    pub fn stream_text(pieces: &[&str], stop_reason: &str, usage: Usage) -> Self {
        let chunks = stream_events(pieces, stop_reason, usage)
            .iter()
            .map(|e| Chunk::Bytes(Bytes::from(encode_sse(std::slice::from_ref(e)))))
            .collect();
        Self::sse(chunks)
    }

    /// Adds a response header (`retry-after`, `x-should-retry`, `request-id`…).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering (to exercise timeouts).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

fn default_usage() -> Usage {
    Usage {
        input_tokens: 12,
        output_tokens: 6,
        ..Usage::default()
    }
}

fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "output_tokens": u.output_tokens,
        "service_tier": "standard",
    })
}

/// A non-streaming Messages API response.
pub fn message_json(
    text: &str,
    stop_reason: &str,
    stop_sequence: Option<&str>,
    usage: Usage,
) -> Value {
    json!({
        "id": "msg_01FakeFakeFakeFakeFake",
        "type": "message",
        "role": "assistant",
        "model": FAKE_MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage_json(&usage),
    })
}

/// The events Anthropic sends for a streamed text answer, as `(event name, data)`: initial
/// usage in `message_start` (one output token), a ping, the text block, then the stop reason
/// and cumulative usage in `message_delta`.
pub fn stream_events(pieces: &[&str], stop_reason: &str, usage: Usage) -> Vec<(String, Value)> {
    let start_usage = Usage {
        output_tokens: 1,
        ..usage
    };
    let mut message = message_json("", "", None, start_usage);
    message["content"] = json!([]);
    message["stop_reason"] = Value::Null;
    let mut events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": message}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
    ];
    for p in pieces {
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}),
        ));
    }
    events.push((
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": usage.output_tokens}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    events
        .into_iter()
        .map(|(name, data)| (name.to_owned(), data))
        .collect()
}

/// Encodes events as Anthropic writes them: `event: …`, `data: …`, a blank line.
pub fn encode_sse(events: &[(String, Value)]) -> String {
    let mut out = String::new();
    for (name, data) in events {
        out.push_str("event: ");
        out.push_str(name);
        out.push_str("\ndata: ");
        out.push_str(&data.to_string());
        out.push_str("\n\n");
    }
    out
}
