//! Anthropic's JSON, as sent and received. Private: the crate's API speaks kova-core's types.

use kova_core::{StopReason, Usage};
use serde::{Deserialize, Serialize};

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

/// One server-sent event's JSON payload, by its `type`. Unknown types parse as `Unknown`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamPayload {
    MessageStart {
        message: MessageResponse,
    },
    ContentBlockStart {
        #[serde(default)]
        content_block: Option<ContentBlock>,
    },
    ContentBlockDelta {
        delta: Delta,
    },
    ContentBlockStop {},
    MessageDelta {
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop {},
    Ping {},
    Error {
        error: ErrorBody,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Delta {
    TextDelta {
        text: String,
    },
    /// `input_json_delta`, `thinking_delta`, `signature_delta`…: not answer text.
    #[serde(other)]
    Other,
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
        let p: StreamPayload = serde_json::from_str(r#"{"type":"brand_new","x":1}"#).unwrap();
        assert!(matches!(p, StreamPayload::Unknown));
        let p: StreamPayload = serde_json::from_str(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
        )
        .unwrap();
        assert!(matches!(
            p,
            StreamPayload::ContentBlockDelta {
                delta: Delta::Other
            }
        ));
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
