//! The configured client and the send-with-retries loop.

use crate::errors::{timeout, transport_error, ApiFailure, SERVICE};
use crate::models::{model_limits, DEFAULT_MAX_TOKENS};
use crate::pricing::PriceTable;
use crate::retry::{status_is_retryable, RetryHints, RetryPolicy, Sleeper};
use crate::secret::ApiKey;
use crate::stream::Body;
use crate::AnthropicBuilder;
use bytes::Bytes;
use futures::stream::StreamExt;
use kova_core::{Error, Result};
use reqwest::header::HeaderMap;
use reqwest::Url;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where the Messages API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` this client speaks.
pub const API_VERSION: &str = "2023-06-01";

/// Longest time to establish a connection unless configured otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest time for one attempt of a non-streaming request (and for a stream's response
/// headers) unless configured otherwise: the official SDKs' 10 minutes, because long answers
/// from large models legitimately take minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Longest silence inside a stream unless configured otherwise. Anthropic sends `ping` events
/// on idle streams, so a connection silent this long is dead.
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The Anthropic Messages API as a [`kova_core::LlmProvider`].
///
/// Cheap to clone (one shared connection pool). Build with [`Anthropic::builder`] or
/// [`Anthropic::from_env`].
#[derive(Clone)]
pub struct Anthropic {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub key: ApiKey,
    /// Every request's headers, the key among them (marked sensitive).
    pub headers: HeaderMap,
    pub base_url: Url,
    pub messages_url: Url,
    pub count_tokens_url: Url,
    pub model: String,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub timeout: Duration,
    pub stream_idle_timeout: Duration,
    pub retry: RetryPolicy,
    pub sleeper: Arc<dyn Sleeper>,
    pub prices: Arc<PriceTable>,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Anthropic")
            .field(
                "base_url",
                &kova_core::config::redact_url(i.base_url.as_str()),
            )
            .field("model", &i.model)
            .field("api_key", &i.key)
            .field("max_tokens", &i.max_tokens)
            .field("temperature", &i.temperature)
            .field("timeout", &i.timeout)
            .field("retry", &i.retry)
            .finish_non_exhaustive()
    }
}

impl Anthropic {
    /// A builder with the defaults (no key yet).
    pub fn builder() -> AnthropicBuilder {
        AnthropicBuilder::default()
    }

    /// A client configured from the environment (see [`AnthropicBuilder::from_env`]).
    pub fn from_env() -> Result<Anthropic> {
        AnthropicBuilder::from_env().build()
    }

    /// The model used when a request names none.
    pub fn model(&self) -> &str {
        &self.inner.model
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// The price table costs are computed from.
    pub fn prices(&self) -> &PriceTable {
        &self.inner.prices
    }

    /// Output tokens to ask for when the request does not say.
    pub(crate) fn default_max_tokens(&self, model: &str) -> u32 {
        self.inner.max_tokens.unwrap_or_else(|| {
            model_limits(model).map_or(DEFAULT_MAX_TOKENS, |l| {
                l.max_output_tokens.min(DEFAULT_MAX_TOKENS)
            })
        })
    }
}

/// A successful answer, before its body is interpreted.
pub(crate) enum Answer {
    /// A non-streaming body, read in full.
    Body {
        bytes: Bytes,
        request_id: Option<String>,
    },
    /// A 200 stream: its first piece (already read, so the stream is known to be flowing)
    /// and the rest.
    Stream { first: Bytes, body: Body },
}

/// Why one attempt failed and whether another may succeed.
struct Failure {
    error: Error,
    retryable: bool,
    retry_after: Option<std::time::Duration>,
    status: Option<u16>,
}

impl Anthropic {
    /// POSTs `body` to `url`, retrying as the policy says. A stream is returned once its first
    /// bytes have arrived: a 200 whose connection breaks before any byte is retried like any
    /// connection failure, but nothing is retried once the caller may have seen an event.
    pub(crate) async fn send(&self, url: &Url, body: Bytes, stream: bool) -> Result<Answer> {
        let i = &self.inner;
        let mut retries = 0;
        loop {
            let failure = match self.attempt(url, body.clone(), stream).await {
                Ok(answer) => {
                    tracing::debug!(service = SERVICE, path = url.path(), retries, "answered");
                    return Ok(answer);
                }
                Err(f) => f,
            };
            if !failure.retryable || retries >= i.retry.max_retries {
                return Err(failure.error);
            }
            let wait = match failure.retry_after {
                // A rate limit or a 5xx carries the requested wait to the caller (its queue
                // honours it); an overload cannot, so for it the usual backoff applies, as in
                // the official SDKs.
                Some(d) if d > i.retry.max_retry_after && failure.error.retry_after().is_some() => {
                    tracing::warn!(
                        service = SERVICE,
                        retry_after_ms = d.as_millis() as u64,
                        "not retrying: the service asked for a longer wait than the policy allows"
                    );
                    return Err(failure.error);
                }
                Some(d) if !d.is_zero() && d <= i.retry.max_retry_after => d,
                _ => i.retry.jittered_backoff(retries, rand::random::<f64>()),
            };
            tracing::warn!(
                service = SERVICE,
                status = failure.status,
                retry = retries + 1,
                wait_ms = wait.as_millis() as u64,
                error = %failure.error,
                "retrying"
            );
            i.sleeper.sleep(wait).await;
            retries += 1;
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        body: Bytes,
        stream: bool,
    ) -> std::result::Result<Answer, Failure> {
        let i = &self.inner;
        let transport = |e: reqwest::Error| Failure {
            error: transport_error(&e, &i.key),
            retryable: i.retry.retry_connection_errors,
            retry_after: None,
            status: None,
        };
        let timed_out = || Failure {
            error: timeout(),
            retryable: i.retry.retry_connection_errors,
            retry_after: None,
            status: None,
        };
        let request = i
            .http
            .post(url.clone())
            .headers(i.headers.clone())
            .body(body);
        let response = if stream {
            // No overall timeout on a stream (it may legitimately last minutes): bound the wait
            // for its headers here and each silence in `stream.rs`.
            match tokio::time::timeout(i.timeout, request.send()).await {
                Err(_) => return Err(timed_out()),
                Ok(r) => r.map_err(transport)?,
            }
        } else {
            request.timeout(i.timeout).send().await.map_err(transport)?
        };
        let status = response.status().as_u16();
        let request_id = ["request-id", "x-request-id"].iter().find_map(|n| {
            response
                .headers()
                .get(*n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        if response.status().is_success() {
            if stream {
                let mut body = Body::new(response.bytes_stream().boxed(), i.stream_idle_timeout);
                let first = match body.next().await {
                    None => return Err(timed_out()),
                    Some(Some(Ok(first))) => first,
                    Some(Some(Err(e))) => return Err(transport(e)),
                    Some(None) => {
                        return Err(Failure {
                            error: Error::Connection {
                                service: SERVICE.to_owned(),
                                message: "stream closed before any event".to_owned(),
                            },
                            retryable: i.retry.retry_connection_errors,
                            retry_after: None,
                            status: Some(status),
                        })
                    }
                };
                return Ok(Answer::Stream { first, body });
            }
            let bytes = response.bytes().await.map_err(transport)?;
            return Ok(Answer::Body { bytes, request_id });
        }
        let hints = RetryHints::from_headers(response.headers());
        // The error body explains the failure; if it cannot be read, the status still does.
        let bytes = match tokio::time::timeout(i.timeout, response.bytes()).await {
            Ok(Ok(b)) => b,
            _ => Bytes::new(),
        };
        let mut failure = ApiFailure::from_body(status, &bytes);
        failure.request_id = request_id;
        failure.retry_after = hints.retry_after;
        Err(Failure {
            error: failure.into_error(&i.key),
            retryable: hints.should_retry.unwrap_or(status_is_retryable(status)),
            retry_after: hints.retry_after,
            status: Some(status),
        })
    }
}
