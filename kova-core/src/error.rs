//! The one error type every Kova crate speaks.

use std::fmt;
use std::time::Duration;

/// `Result` with Kova's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from a backend library, kept as the `source` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in Kova, by what went wrong rather than where.
///
/// Backends map their own errors into these variants by kind (a unique violation is
/// [`Error::AlreadyExists`], an HTTP 429 is [`Error::RateLimited`]), never by matching strings.
/// Whether an operation may be retried is a property of the error: [`Error::is_retryable`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input failed validation; `field` names what was wrong and `message` the rule.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field (or path, e.g. `repositories[2].sync_priority`) that failed.
        field: String,
        /// The rule it broke.
        message: String,
    },

    /// The thing asked for does not exist.
    #[error("{what} not found: {id}")]
    NotFound {
        /// Kind of thing (`repository`, `job`, `file`…).
        what: &'static str,
        /// Its identifier as the caller gave it.
        id: String,
    },

    /// The thing to create exists already.
    #[error("{what} already exists: {id}")]
    AlreadyExists {
        /// Kind of thing.
        what: &'static str,
        /// Its identifier.
        id: String,
    },

    /// The operation lost a race: e.g. a job's lease now belongs to another worker.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicted.
        message: String,
    },

    /// A webhook signature was missing, malformed or wrong.
    #[error("webhook signature rejected: {0}")]
    Signature(#[from] SignatureError),

    /// The upstream service rejected our credentials (HTTP 401).
    #[error("{service}: authentication failed: {message}")]
    Unauthenticated {
        /// The service (`github`, `anthropic`…).
        service: String,
        /// What the service said (never the credential).
        message: String,
    },

    /// The upstream service refused the operation for these credentials (HTTP 403).
    #[error("{service}: permission denied: {message}")]
    PermissionDenied {
        /// The service.
        service: String,
        /// What the service said.
        message: String,
    },

    /// The upstream service asked us to slow down.
    #[error("{service}: rate limited{}", fmt_retry_after(*.retry_after))]
    RateLimited {
        /// The service.
        service: String,
        /// How long the service asked us to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// The upstream service is overloaded (Anthropic 529).
    #[error("{service}: overloaded")]
    Overloaded {
        /// The service.
        service: String,
    },

    /// The prompt does not fit the model's context window.
    #[error("prompt too long for the model's context window: {message}")]
    ContextTooLong {
        /// Details from the provider.
        message: String,
    },

    /// The upstream service answered with an error status not covered above.
    #[error("{service}: upstream error (HTTP {status}): {message}{}", fmt_retry_after(*.retry_after))]
    Upstream {
        /// The service.
        service: String,
        /// The HTTP status it answered with.
        status: u16,
        /// What it said (truncated; never a credential).
        message: String,
        /// How long the service asked us to wait (`Retry-After` on a 503, say), if it said.
        retry_after: Option<Duration>,
    },

    /// An operation did not finish in time.
    #[error("{service}: timed out")]
    Timeout {
        /// The service (or `store`).
        service: String,
    },

    /// The connection to an upstream service failed before an answer.
    #[error("{service}: connection failed: {message}")]
    Connection {
        /// The service.
        service: String,
        /// What failed.
        message: String,
    },

    /// A response could not be understood (malformed JSON, missing fields).
    #[error("{service}: malformed response: {message}")]
    Protocol {
        /// The service.
        service: String,
        /// What was wrong with it.
        message: String,
    },

    /// A capability the caller needs is not configured (e.g. no LLM key): `hint` says how.
    #[error("{what} is not configured: {hint}")]
    NotConfigured {
        /// What is missing (`llm`, `github`, `webhook secret`…).
        what: &'static str,
        /// How to configure it (which variable to set).
        hint: String,
    },

    /// The operation is not supported by this backend or build.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// Configuration (a file, a URL, an environment variable) is wrong.
    #[error("configuration error: {0}")]
    Config(String),

    /// A storage backend failed.
    #[error("{backend} store error: {message}")]
    Backend {
        /// `memory`, `sqlite`, `postgres`.
        backend: &'static str,
        /// What failed.
        message: String,
        /// Whether trying again may succeed (busy database, dropped connection).
        transient: bool,
        /// The backend library's error.
        #[source]
        source: Option<BoxError>,
    },

    /// A bug or an impossible state; the detail is for logs, not for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

fn fmt_retry_after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {:.3}s)", d.as_secs_f64()),
        None => String::new(),
    }
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// Shorthand for [`Error::Upstream`] when the service did not say when to come back.
    pub fn upstream(service: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Error::Upstream {
            service: service.into(),
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Shorthand for a [`Error::Backend`] error without a source.
    pub fn backend(backend: &'static str, message: impl Into<String>) -> Self {
        Error::Backend {
            backend,
            message: message.into(),
            transient: false,
            source: None,
        }
    }

    /// Whether the same operation may succeed if tried again later.
    ///
    /// Rate limits, overload, timeouts, dropped connections, transient store failures and
    /// upstream 408/409/5xx are retryable; bad input, missing things, auth failures and bugs
    /// are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. }
            | Error::Overloaded { .. }
            | Error::Timeout { .. }
            | Error::Connection { .. } => true,
            Error::Upstream { status, .. } => matches!(status, 408 | 409) || *status >= 500,
            Error::Backend { transient, .. } => *transient,
            Error::Invalid { .. }
            | Error::NotFound { .. }
            | Error::AlreadyExists { .. }
            | Error::Conflict { .. }
            | Error::Signature(_)
            | Error::Unauthenticated { .. }
            | Error::PermissionDenied { .. }
            | Error::ContextTooLong { .. }
            | Error::Protocol { .. }
            | Error::NotConfigured { .. }
            | Error::Unsupported(_)
            | Error::Config(_)
            | Error::Internal(_) => false,
        }
    }

    /// How long the failing service asked us to wait before trying again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Upstream { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

/// Why a webhook signature was rejected. Each reason is distinct so callers and logs can tell
/// a misconfigured sender (missing, wrong algorithm) from a forged or corrupted request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// The header does not have the `sha256=<64 hex digits>` form; the reason says how.
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    /// Only the legacy SHA-1 signature (`sha1=`) was offered; Kova requires SHA-256.
    #[error("only SHA-1 signatures are offered; SHA-256 is required")]
    UnsupportedAlgorithm,
    /// The signature is well formed but matches none of the configured secrets.
    #[error("signature does not match")]
    Mismatch,
    /// No secret is configured, and unsigned webhooks are not allowed.
    #[error("no webhook secret is configured")]
    NoSecretConfigured,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability_follows_kind() {
        assert!(Error::RateLimited {
            service: "github".into(),
            retry_after: None
        }
        .is_retryable());
        assert!(Error::upstream("anthropic", 529, "").is_retryable());
        assert!(Error::upstream("x", 408, "").is_retryable());
        assert!(!Error::upstream("x", 404, "").is_retryable());
        assert!(!Error::invalid("name", "empty").is_retryable());
        assert!(!Error::Signature(SignatureError::Mismatch).is_retryable());
    }

    #[test]
    fn messages_name_field_and_wait() {
        assert_eq!(
            Error::invalid("repositories[1].type", "must be one of core|service").to_string(),
            "invalid repositories[1].type: must be one of core|service"
        );
        let e = Error::RateLimited {
            service: "github".into(),
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(e.to_string(), "github: rate limited (retry after 1.500s)");
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        let e = Error::Upstream {
            service: "github".into(),
            status: 503,
            message: "maintenance".into(),
            retry_after: Some(Duration::from_secs(600)),
        };
        assert_eq!(
            e.to_string(),
            "github: upstream error (HTTP 503): maintenance (retry after 600.000s)"
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(600)));
        assert_eq!(Error::upstream("github", 503, "x").retry_after(), None);
    }
}
