//! Anthropic's JSON, as sent and received. Private: the crate's API speaks kova-core's types.

use kova_core::{StopReason, Usage};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The body of `POST /v1/messages` and (without `max_tokens`, `stream`, sampling) of
/// `POST /v1/messages/count_tokens`.
#[derive(Debug, Serialize)]
pub(crate) struct MessagesRequest<'a> {
    pub model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<SystemText<'a>>,
    pub messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct SystemText<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CacheControl {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl CacheControl {
    /// The 5-minute cache, priced at 1.25x input to write and 0.1x to read.
    pub const EPHEMERAL: CacheControl = CacheControl { kind: "ephemeral" };
}

#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

/// A finished message (`POST /v1/messages` without streaming; `message_start` carries the
/// same shape with empty content and no stop reason).
#[derive(Debug, Deserialize)]
pub(crate) struct MessageResponse {
    pub id: String,
    pub model: String,
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Required: an answer without its token counts would be recorded as free.
    pub usage: WireUsage,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ContentBlock {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

impl MessageResponse {
    /// All text blocks, concatenated (tool use and thinking blocks carry no answer text).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect()
    }
}

/// Token counts as Anthropic reports them. Every field is optional because `message_delta`
/// reports only what changed, and nulls appear in the wild.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    pub fn to_usage(self) -> Usage {
        let mut u = Usage::default();
        self.update(&mut u);
        u
    }

    /// Overwrites the fields this report carries. Reports are cumulative, so the latest value
    /// is the total; adding them would count tokens twice.
    pub fn update(self, u: &mut Usage) {
        if let Some(n) = self.input_tokens {
            u.input_tokens = n;
        }
        if let Some(n) = self.output_tokens {
            u.output_tokens = n;
        }
        if let Some(n) = self.cache_creation_input_tokens {
            u.cache_creation_tokens = n;
        }
        if let Some(n) = self.cache_read_input_tokens {
            u.cache_read_tokens = n;
        }
    }
}

/// Maps `stop_reason` (and `stop_sequence`) to the domain's reason. A missing reason on a
/// finished message is reported as `Other("unknown")` rather than guessed to be a normal end.
pub(crate) fn stop_reason(reason: Option<&str>, sequence: Option<String>) -> StopReason {
    match reason {
        Some("end_turn") => StopReason::EndTurn,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("stop_sequence") => StopReason::StopSequence(sequence.unwrap_or_default()),
        Some("tool_use") => StopReason::ToolUse,
        Some("refusal") => StopReason::Refusal,
        Some(other) => StopReason::Other(other.to_owned()),
        None => StopReason::Other("unknown".to_owned()),
    }
}

/// `{"input_tokens": n}` from `count_tokens`.
#[derive(Debug, Deserialize)]
pub(crate) struct CountTokensResponse {
    pub input_tokens: u64,
}

/// `{"type":"error","error":{"type","message"}}`, in error responses and `error` stream events.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

/// One server-sent event's JSON payload.
#[derive(Debug)]
pub(crate) enum StreamPayload {
    MessageStart {
        message: MessageResponse,
    },
    ContentBlockStart {
        content_block: Option<ContentBlock>,
    },
    ContentBlockDelta {
        delta: Delta,
    },
    ContentBlockStop,
    MessageDelta {
        delta: MessageDeltaBody,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorBody,
    },
    /// An event type this version does not know: ignored, as Anthropic's versioning asks.
    Unknown,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delta {
    TextDelta {
        text: String,
    },
    /// `input_json_delta`, `thinking_delta`, `signature_delta`…: not answer text.
    Other,
}

impl StreamPayload {
    /// Parses an event's data by the event's name. Anthropic names every event after its
    /// payload's `type`, so each payload is read straight into its own shape (an internally
    /// tagged enum would buffer every event into an intermediate tree first: this is the
    /// streaming hot path). Payloads that carry nothing (`ping`, `*_stop`) are not parsed.
    pub fn parse(event: &str, data: &str) -> serde_json::Result<StreamPayload> {
        #[derive(Deserialize)]
        struct Start {
            message: MessageResponse,
        }
        #[derive(Deserialize)]
        struct BlockStart {
            #[serde(default)]
            content_block: Option<ContentBlock>,
        }
        #[derive(Deserialize)]
        struct BlockDelta<'a> {
            #[serde(borrow)]
            delta: RawDelta<'a>,
        }
        #[derive(Deserialize)]
        struct RawDelta<'a> {
            #[serde(rename = "type", borrow)]
            kind: Cow<'a, str>,
            #[serde(default)]
            text: Option<String>,
        }
        #[derive(Deserialize)]
        struct MessageDelta {
            delta: MessageDeltaBody,
            #[serde(default)]
            usage: Option<WireUsage>,
        }
        #[derive(Deserialize)]
        struct Typed<'a> {
            #[serde(rename = "type", borrow)]
            kind: Cow<'a, str>,
        }
        Ok(match event {
            "message_start" => StreamPayload::MessageStart {
                message: serde_json::from_str::<Start>(data)?.message,
            },
            "content_block_start" => StreamPayload::ContentBlockStart {
                content_block: serde_json::from_str::<BlockStart>(data)?.content_block,
            },
            "content_block_delta" => {
                let d = serde_json::from_str::<BlockDelta<'_>>(data)?.delta;
                StreamPayload::ContentBlockDelta {
                    delta: match (d.kind.as_ref(), d.text) {
                        ("text_delta", Some(text)) => Delta::TextDelta { text },
                        _ => Delta::Other,
                    },
                }
            }
            "content_block_stop" => StreamPayload::ContentBlockStop,
            "message_delta" => {
                let d = serde_json::from_str::<MessageDelta>(data)?;
                StreamPayload::MessageDelta {
                    delta: d.delta,
                    usage: d.usage,
                }
            }
            "message_stop" => StreamPayload::MessageStop,
            "ping" => StreamPayload::Ping,
            "error" => StreamPayload::Error {
                error: serde_json::from_str::<ErrorEnvelope>(data)?.error,
            },
            // Without an `event:` line, the payload's own type says what it is.
            "message" => match serde_json::from_str::<Typed<'_>>(data) {
                Ok(t) if t.kind != "message" => return Self::parse(&t.kind, data),
                _ => StreamPayload::Unknown,
            },
            _ => StreamPayload::Unknown,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_omits_what_is_unset() {
        let system = vec![SystemText {
            kind: "text",
            text: "be brief",
            cache_control: Some(CacheControl::EPHEMERAL),
        }];
        let req = MessagesRequest {
            model: "m",
            max_tokens: Some(10),
            system,
            messages: vec![WireMessage {
                role: "user",
                content: "hi",
            }],
            temperature: None,
            stop_sequences: &[],
            stream: false,
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"model":"m","max_tokens":10,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}"#
        );
    }

    #[test]
    fn unknown_events_and_deltas_parse() {
        let p = StreamPayload::parse("brand_new", "not even json").unwrap();
        assert!(matches!(p, StreamPayload::Unknown));
        let p = StreamPayload::parse(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
        )
        .unwrap();
        assert!(matches!(
            p,
            StreamPayload::ContentBlockDelta {
                delta: Delta::Other
            }
        ));
        // Unnamed events are read by their payload's type; escapes in text are decoded.
        let p = StreamPayload::parse(
            "message",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b\u00e9"}}"#,
        )
        .unwrap();
        match p {
            StreamPayload::ContentBlockDelta { delta } => {
                assert_eq!(
                    delta,
                    Delta::TextDelta {
                        text: "a\"b\u{e9}".into()
                    }
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            StreamPayload::parse("message", "{}").unwrap(),
            StreamPayload::Unknown
        ));
        assert!(StreamPayload::parse("message_delta", "{").is_err());
    }

    #[test]
    fn stop_reasons_map() {
        assert_eq!(stop_reason(Some("max_tokens"), None), StopReason::MaxTokens);
        assert_eq!(
            stop_reason(Some("stop_sequence"), Some("###".into())),
            StopReason::StopSequence("###".into())
        );
        assert_eq!(
            stop_reason(Some("pause_turn"), None),
            StopReason::Other("pause_turn".into())
        );
        assert_eq!(stop_reason(Some("refusal"), None), StopReason::Refusal);
    }
}
