//! Anthropic's error responses and transport failures, mapped to kova-core's typed errors.

use crate::secret::ApiKey;
use crate::wire::{ErrorBody, ErrorEnvelope};
use kova_core::Error;
use std::time::Duration;

/// The `service` every error from this crate names.
pub(crate) const SERVICE: &str = "anthropic";

/// Longest upstream message kept in an error (bodies from proxies can be whole HTML pages).
const MAX_MESSAGE: usize = 500;

/// An error response, as far as it could be read.
#[derive(Debug, Default)]
pub(crate) struct ApiFailure {
    /// HTTP status; `None` for an `error` event inside a 200 stream.
    pub status: Option<u16>,
    /// `error.type` (`rate_limit_error`…), or empty when the body was not Anthropic's JSON.
    pub kind: String,
    /// `error.message`, or the start of the raw body.
    pub message: String,
    /// The `request-id` header, for support requests.
    pub request_id: Option<String>,
    /// `retry-after-ms` / `retry-after`.
    pub retry_after: Option<Duration>,
}

impl ApiFailure {
    /// Reads an error response body: Anthropic's envelope, or whatever text came.
    pub fn from_body(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(ErrorEnvelope { error }) => ApiFailure {
                status: Some(status),
                kind: error.kind,
                message: error.message,
                ..ApiFailure::default()
            },
            Err(_) => ApiFailure {
                status: Some(status),
                message: String::from_utf8_lossy(body).trim().to_owned(),
                ..ApiFailure::default()
            },
        }
    }

    /// An `error` event received in the middle of a stream.
    pub fn from_event(error: ErrorBody) -> Self {
        ApiFailure {
            status: None,
            kind: error.kind,
            message: error.message,
            ..ApiFailure::default()
        }
    }

    /// The typed error. The status decides first; the error type refines it and stands in for
    /// the status in a stream's `error` event.
    pub fn into_error(self, key: &ApiKey) -> Error {
        let status = self.status.unwrap_or_else(|| status_of_kind(&self.kind));
        let mut message = truncate(&key.redact(&self.message));
        if message.is_empty() {
            message = if self.kind.is_empty() {
                format!("HTTP {status}")
            } else {
                self.kind.clone()
            };
        }
        if let Some(id) = &self.request_id {
            message = format!("{message} (request-id: {id})");
        }
        let service = SERVICE.to_owned();
        match (status, self.kind.as_str()) {
            (_, "overloaded_error") | (529, _) => Error::Overloaded { service },
            (_, "rate_limit_error") | (429, _) => Error::RateLimited {
                service,
                retry_after: self.retry_after,
            },
            (401, _) | (_, "authentication_error") => Error::Unauthenticated { service, message },
            (403, _) | (_, "permission_error") => Error::PermissionDenied { service, message },
            (404, _) | (_, "not_found_error") => Error::NotFound {
                what: "anthropic resource",
                id: message,
            },
            (413, _) | (_, "request_too_large") => Error::Invalid {
                field: "request".to_owned(),
                message: format!("request too large: {message}"),
            },
            (400, _) | (_, "invalid_request_error") if is_prompt_too_long(&self.message) => {
                Error::ContextTooLong { message }
            }
            (400, _) | (_, "invalid_request_error") => Error::Invalid {
                field: "request".to_owned(),
                message,
            },
            (status, _) => Error::Upstream {
                service,
                status,
                message,
                retry_after: self.retry_after,
            },
        }
    }
}

fn is_prompt_too_long(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("prompt is too long") || m.contains("context window") || m.contains("context length")
}

/// The status Anthropic uses for an error type, for `error` events that carry no status.
fn status_of_kind(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_MESSAGE {
        return s.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A transport failure (no usable answer): timeouts apart from everything else.
pub(crate) fn transport_error(e: &reqwest::Error, key: &ApiKey) -> Error {
    if e.is_timeout() {
        return timeout();
    }
    // reqwest's message names the URL and the cause, never the headers; redact all the same.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Connection {
        service: SERVICE.to_owned(),
        message: truncate(&key.redact(&message)),
    }
}

pub(crate) fn timeout() -> Error {
    Error::Timeout {
        service: SERVICE.to_owned(),
    }
}

/// A response that could not be understood.
pub(crate) fn protocol(message: impl Into<String>) -> Error {
    Error::Protocol {
        service: SERVICE.to_owned(),
        message: truncate(&message.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str) -> Error {
        ApiFailure::from_body(status, body.as_bytes())
            .into_error(&ApiKey::new("sk-ant-test-not-a-real-key"))
    }

    fn body(kind: &str, message: &str) -> String {
        serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
            .to_string()
    }

    #[test]
    fn statuses_and_types_map_to_kinds() {
        assert!(matches!(
            map(400, &body("invalid_request_error", "max_tokens: field required")),
            Error::Invalid { ref message, .. } if message == "max_tokens: field required"
        ));
        assert!(matches!(
            map(
                400,
                &body(
                    "invalid_request_error",
                    "prompt is too long: 210000 tokens > 200000 maximum"
                )
            ),
            Error::ContextTooLong { .. }
        ));
        assert!(matches!(
            map(401, &body("authentication_error", "invalid x-api-key")),
            Error::Unauthenticated { .. }
        ));
        assert!(matches!(
            map(403, &body("permission_error", "no")),
            Error::PermissionDenied { .. }
        ));
        assert!(matches!(
            map(404, &body("not_found_error", "model: x")),
            Error::NotFound { .. }
        ));
        assert!(
            matches!(map(413, &body("request_too_large", "too big")), Error::Invalid { ref message, .. } if message.starts_with("request too large"))
        );
        assert!(matches!(
            map(429, &body("rate_limit_error", "slow down")),
            Error::RateLimited { .. }
        ));
        assert!(matches!(
            map(500, &body("api_error", "oops")),
            Error::Upstream { status: 500, .. }
        ));
        assert!(matches!(
            map(529, &body("overloaded_error", "Overloaded")),
            Error::Overloaded { .. }
        ));
        assert!(
            matches!(map(502, "<html>bad gateway</html>"), Error::Upstream { status: 502, ref message, .. } if message.contains("bad gateway"))
        );
        assert!(map(408, "").is_retryable());
    }

    #[test]
    fn messages_carry_request_id_never_the_key() {
        let mut f = ApiFailure::from_body(
            401,
            body(
                "authentication_error",
                "invalid x-api-key sk-ant-test-not-a-real-key",
            )
            .as_bytes(),
        );
        f.request_id = Some("req_011CTest".into());
        let e = f.into_error(&ApiKey::new("sk-ant-test-not-a-real-key"));
        let text = e.to_string();
        assert!(text.contains("req_011CTest"), "{text}");
        assert!(!text.contains("sk-ant-test-not-a-real-key"), "{text}");
    }

    #[test]
    fn stream_error_events_map_by_type() {
        let key = ApiKey::new("k");
        let e = ApiFailure::from_event(ErrorBody {
            kind: "overloaded_error".into(),
            message: "Overloaded".into(),
        });
        assert!(matches!(e.into_error(&key), Error::Overloaded { .. }));
        let e = ApiFailure::from_event(ErrorBody {
            kind: "api_error".into(),
            message: "boom".into(),
        });
        assert!(matches!(
            e.into_error(&key),
            Error::Upstream { status: 500, .. }
        ));
        assert!(truncate(&"é".repeat(400)).ends_with('…'));
    }
}
