//! HTTP errors: the status each core error deserves, and the JSON the client sees. Client
//! errors are echoed; internal ones become a generic 500 whose detail goes to the log only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kova_core::{Error, SignatureError};
use serde_json::{json, Value};

/// Which JSON envelope an endpoint family answers errors in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Envelope {
    /// `{"error": {"code", "message"}}`.
    #[default]
    Plain,
    /// The original artifacts envelope: `{"success": false, "data": null, "error": {…}}`.
    Artifacts,
    /// The original multi-repo envelope: `{"status": "error", "error": {…}}`.
    MultiRepo,
}

/// An error on its way to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
    envelope: Envelope,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            envelope: Envelope::Plain,
        }
    }

    /// Answers in another envelope.
    pub fn in_envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// Adds a `Retry-After` header (seconds).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 401 for a missing or wrong credential.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 for a credential without the needed role.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 400 for a request that cannot be read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422 naming the field that failed validation.
    pub fn invalid(field: &str, message: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("invalid {field}: {message}"),
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            Error::Invalid { .. } => (S::UNPROCESSABLE_ENTITY, "invalid"),
            Error::NotFound { .. } => (S::NOT_FOUND, "not_found"),
            Error::AlreadyExists { .. } => (S::CONFLICT, "already_exists"),
            Error::Conflict { .. } => (S::CONFLICT, "conflict"),
            Error::Signature(_) => (S::UNAUTHORIZED, "invalid_signature"),
            Error::RateLimited { .. } => (S::SERVICE_UNAVAILABLE, "upstream_rate_limited"),
            Error::Overloaded { .. } => (S::SERVICE_UNAVAILABLE, "upstream_overloaded"),
            Error::NotConfigured { .. } => (S::SERVICE_UNAVAILABLE, "not_configured"),
            Error::Timeout { .. } => (S::GATEWAY_TIMEOUT, "upstream_timeout"),
            Error::ContextTooLong { .. } => (S::UNPROCESSABLE_ENTITY, "context_too_long"),
            Error::Unauthenticated { .. }
            | Error::PermissionDenied { .. }
            | Error::Upstream { .. }
            | Error::Connection { .. }
            | Error::Protocol { .. } => (S::BAD_GATEWAY, "upstream_error"),
            Error::Unsupported(_) => (S::NOT_IMPLEMENTED, "unsupported"),
            Error::Config(_) | Error::Backend { .. } | Error::Internal(_) => {
                (S::INTERNAL_SERVER_ERROR, "internal")
            }
            _ => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = if status == S::INTERNAL_SERVER_ERROR {
            // The detail may name files, hosts or queries: it is for operators, not clients.
            tracing::error!(error = %e, "internal error");
            "internal server error".to_string()
        } else {
            e.to_string()
        };
        let mut out = ApiError::new(status, code, message);
        if let Some(d) = e.retry_after() {
            out.retry_after = Some(d.as_secs().max(1));
        }
        if let Error::Signature(SignatureError::NoSecretConfigured) = e {
            // Refusing because of our configuration is not the sender's fault.
            out.status = S::SERVICE_UNAVAILABLE;
            out.code = "webhooks_not_configured";
        }
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = json!({"code": self.code, "message": self.message});
        let body: Value = match self.envelope {
            Envelope::Plain => json!({ "error": error }),
            Envelope::Artifacts => json!({"success": false, "data": null, "error": error}),
            Envelope::MultiRepo => json!({"status": "error", "error": error}),
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// `Result` for handlers.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_error_kind() {
        let s = |e: Error| ApiError::from(e).status();
        assert_eq!(
            s(Error::invalid("name", "empty")),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            s(Error::Signature(SignatureError::Mismatch)),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(s(Error::not_found("job", 1)), StatusCode::NOT_FOUND);
        assert_eq!(
            s(Error::upstream("anthropic", 500, "x")),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            s(Error::NotConfigured {
                what: "llm",
                hint: "set X".into()
            }),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            s(Error::Internal("secret detail".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            ApiError::from(Error::Internal("secret detail".into())).message,
            "internal server error"
        );
    }
}
