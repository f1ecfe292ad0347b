//! Sending one request the way GitHub wants: conditional, within the rate limits, bounded in
//! concurrency, writes paced, idempotent requests retried on transient failures, statuses
//! mapped to Kova's errors.

use super::cache::Cached;
use super::paginate::next_link;
use super::ratelimit::{backoff, retry_after, secondary_wait, until_reset, RateLimitInfo};
use super::{Inner, SERVICE};
use bytes::Bytes;
use kova_core::{Error, Result};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, IF_NONE_MATCH};
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// GitHub's JSON media type.
pub(crate) const ACCEPT_JSON: &str = "application/vnd.github+json";
/// File contents as raw bytes (needed above 1 MB, where JSON carries no content).
pub(crate) const ACCEPT_RAW: &str = "application/vnd.github.raw+json";

/// Longest upstream message kept in an error.
const MAX_MESSAGE: usize = 300;

/// One request, with what to call its target in a `NotFound`.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    pub accept: &'static str,
    pub body: Option<serde_json::Value>,
    pub what: &'static str,
    pub id: String,
}

impl Request {
    /// A GET for `what` identified by `id`.
    pub fn get(url: Url, what: &'static str, id: impl Into<String>) -> Self {
        Request {
            method: Method::GET,
            url,
            accept: ACCEPT_JSON,
            body: None,
            what,
            id: id.into(),
        }
    }

    /// A write with a JSON body.
    pub fn write(
        method: Method,
        url: Url,
        body: serde_json::Value,
        what: &'static str,
        id: impl Into<String>,
    ) -> Self {
        Request {
            method,
            url,
            accept: ACCEPT_JSON,
            body: Some(body),
            what,
            id: id.into(),
        }
    }
}

/// A successful answer (a 304 is turned into the cached 200).
#[derive(Debug)]
pub(crate) struct Response {
    pub body: Bytes,
    pub link: Option<String>,
}

impl Response {
    /// The body as JSON of type `T`; malformed JSON is `Error::Protocol`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        parse_json(&self.body)
    }
}

/// Parses JSON from GitHub; malformed is `Error::Protocol`.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::Protocol {
        service: SERVICE.into(),
        message: format!("malformed JSON: {e}"),
    })
}

/// How one exchange ended, before policy decides what to do.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Inner {
    /// Sends `req` with every policy applied. Writes are serialized and paced.
    pub(crate) async fn send(&self, req: Request) -> Result<Response> {
        if req.method == Method::GET || req.method == Method::HEAD {
            return self.execute(&req).await;
        }
        let mut last_write = self.write_gate.lock().await;
        if let Some(last) = *last_write {
            let next =
                last + chrono::Duration::from_std(self.limits.write_interval).unwrap_or_default();
            let now = self.clock.now();
            if next > now {
                self.sleeper
                    .sleep((next - now).to_std().unwrap_or_default())
                    .await;
            }
        }
        let result = self.execute(&req).await;
        *last_write = Some(self.clock.now());
        result
    }

    /// Follows `Link: rel="next"` from `first`, collecting what `extract` finds on each page,
    /// until there is no next page or `max_items` are collected.
    pub(crate) async fn get_pages<T>(
        &self,
        first: Url,
        what: &'static str,
        id: &str,
        max_items: Option<usize>,
        extract: impl Fn(&Response) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let mut url = first;
        let mut out = Vec::new();
        loop {
            let resp = self.send(Request::get(url, what, id)).await?;
            out.extend(extract(&resp)?);
            if max_items.is_some_and(|max| out.len() >= max) {
                out.truncate(max_items.unwrap_or(usize::MAX));
                return Ok(out);
            }
            match resp.link.as_deref().and_then(next_link) {
                Some(next) => url = self.same_origin(next)?,
                None => return Ok(out),
            }
        }
    }

    /// A pagination link, checked to point at the API itself: the token must never be sent
    /// to another host because a response said so.
    fn same_origin(&self, link: &str) -> Result<Url> {
        let url = Url::parse(link).map_err(|e| protocol(format!("bad pagination link: {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(protocol(format!(
                "pagination link leaves the API ({})",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    async fn execute(&self, req: &Request) -> Result<Response> {
        let idempotent = req.method == Method::GET || req.method == Method::HEAD;
        let resource = self.resource_of(&req.url);
        let cache_key = (req.method == Method::GET).then(|| format!("{} {}", req.accept, req.url));
        let mut retries = 0u32;
        let mut rate_limit_waits = 0u32;
        loop {
            self.wait_for_limits(resource).await?;
            let cached = cache_key.as_deref().and_then(|k| self.cache().get(k));
            let answer = match self.exchange(req, cached.as_ref()).await {
                Ok(a) => a,
                Err(e) if idempotent && retries < self.limits.max_retries => {
                    tracing::debug!(url = %req.url, error = %e, "github: retrying after transport error");
                    self.pause_before_retry(&mut retries, None).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let now = self.clock.now();
            let info = RateLimitInfo::from_headers(&answer.headers);
            self.rate().observe(&info);
            let status = answer.status;
            let link = answer
                .headers
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match status {
                304 => {
                    let Some(cached) = cached else {
                        return Err(protocol(
                            "304 Not Modified for a request without an ETag".into(),
                        ));
                    };
                    Inner::count(&self.stats.not_modified);
                    // For the sync pass this request serves (its log counts 304s).
                    kova_core::source::report_not_modified();
                    self.rate().secondary_strikes = 0;
                    return Ok(Response {
                        body: cached.body,
                        link: cached.link,
                    });
                }
                200..=299 => {
                    self.rate().secondary_strikes = 0;
                    if let (Some(key), Some(etag)) = (
                        cache_key,
                        answer
                            .headers
                            .get(reqwest::header::ETAG)
                            .and_then(|v| v.to_str().ok()),
                    ) {
                        self.cache().put(
                            key,
                            Cached {
                                etag: etag.to_string(),
                                body: answer.body.clone(),
                                link: link.clone(),
                            },
                        );
                    }
                    return Ok(Response {
                        body: answer.body,
                        link,
                    });
                }
                403 | 429 => {
                    let message = upstream_message(&answer.body, status);
                    let after = retry_after(&answer.headers, now);
                    let wait = if info.remaining == Some(0) {
                        // Primary limit: the window must reset.
                        info.reset
                            .map(|r| until_reset(r, now))
                            .or(after)
                            .unwrap_or(self.limits.secondary_min_wait)
                    } else if status == 429 || after.is_some() || is_secondary(&message) {
                        let mut rate = self.rate();
                        rate.secondary_strikes += 1;
                        let wait = after.unwrap_or_else(|| {
                            secondary_wait(self.limits.secondary_min_wait, rate.secondary_strikes)
                        });
                        let until = now + chrono::Duration::from_std(wait).unwrap_or_default();
                        rate.blocked_until = rate.blocked_until.max(Some(until));
                        wait
                    } else {
                        return Err(Error::PermissionDenied {
                            service: SERVICE.into(),
                            message,
                        });
                    };
                    if wait > self.limits.max_rate_limit_wait
                        || rate_limit_waits >= self.limits.max_rate_limit_retries
                    {
                        return Err(Error::RateLimited {
                            service: SERVICE.into(),
                            retry_after: Some(wait),
                        });
                    }
                    rate_limit_waits += 1;
                    tracing::info!(url = %req.url, wait_s = wait.as_secs_f64(), "github: rate limited, waiting");
                    Inner::count(&self.stats.rate_limit_waits);
                    self.sleeper.sleep(wait).await;
                    self.rate().waited(resource);
                }
                500..=599 => {
                    let after = retry_after(&answer.headers, now);
                    // A server that asks for a longer wait than we would sleep here is not
                    // asked again sooner: the wait goes to the caller (the job queue honours it).
                    let too_long = after.is_some_and(|a| a > self.limits.max_rate_limit_wait);
                    if !idempotent || too_long || retries >= self.limits.max_retries {
                        return Err(status_error(status, &answer.body, req, after));
                    }
                    tracing::debug!(url = %req.url, status, "github: retrying after server error");
                    self.pause_before_retry(&mut retries, after).await;
                }
                _ => return Err(status_error(status, &answer.body, req, None)),
            }
        }
    }

    async fn pause_before_retry(&self, retries: &mut u32, after: Option<Duration>) {
        // A server that says when to come back is believed (callers hand longer waits on).
        let wait = after.unwrap_or_else(|| {
            backoff(self.limits.backoff_base, self.limits.backoff_max, *retries)
        });
        *retries += 1;
        Inner::count(&self.stats.retries);
        self.sleeper.sleep(wait).await;
    }

    /// Waits out a known exhausted limit before sending, or fails if the wait is too long.
    async fn wait_for_limits(&self, resource: &'static str) -> Result<()> {
        let wait = self.rate().wait_before_request(resource, self.clock.now());
        let Some(wait) = wait else { return Ok(()) };
        if wait > self.limits.max_rate_limit_wait {
            return Err(Error::RateLimited {
                service: SERVICE.into(),
                retry_after: Some(wait),
            });
        }
        Inner::count(&self.stats.rate_limit_waits);
        self.sleeper.sleep(wait).await;
        self.rate().waited(resource);
        Ok(())
    }

    /// The rate-limit resource a URL counts against.
    fn resource_of(&self, url: &Url) -> &'static str {
        let rel = url
            .path()
            .strip_prefix(self.base.path())
            .unwrap_or(url.path());
        if rel.starts_with("search/") {
            "search"
        } else {
            "core"
        }
    }

    /// One HTTP exchange, holding a concurrency permit for its duration.
    async fn exchange(&self, req: &Request, cached: Option<&Cached>) -> Result<Answer> {
        let _permit = self
            .semaphore
            .acquire()
            .await
            .map_err(|_| Error::Internal("github client semaphore closed".into()))?;
        let mut builder = self
            .http
            .request(req.method.clone(), req.url.clone())
            .header(reqwest::header::ACCEPT, req.accept);
        if let Some(token) = &self.token {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    Error::Config("the GitHub token contains invalid characters".into())
                })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        if let Some(c) = cached {
            if let Ok(v) = HeaderValue::from_str(&c.etag) {
                builder = builder.header(IF_NONE_MATCH, v);
            }
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        Inner::count(&self.stats.requests);
        let resp = builder.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(transport_error)?;
        tracing::debug!(method = %req.method, url = %req.url, status, "github request");
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn protocol(message: String) -> Error {
    Error::Protocol {
        service: SERVICE.into(),
        message,
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            service: SERVICE.into(),
        }
    } else {
        Error::Connection {
            service: SERVICE.into(),
            message: e.to_string(),
        }
    }
}

/// GitHub's secondary-limit refusals say so in their message.
fn is_secondary(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("secondary rate limit") || m.contains("abuse detection")
}

/// The `message` of a GitHub error body (plus its `errors` details), truncated.
fn upstream_message(body: &[u8], status: u16) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    let mut message = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            message: Some(m),
            errors,
        }) => {
            let details: Vec<String> = errors
                .iter()
                .map(|e| match e {
                    serde_json::Value::String(s) => s.clone(),
                    other => {
                        let get = |k: &str| other.get(k).and_then(|v| v.as_str()).unwrap_or("");
                        let msg = get("message");
                        if msg.is_empty() {
                            format!("{} {} {}", get("resource"), get("field"), get("code"))
                                .trim()
                                .to_string()
                        } else {
                            msg.to_string()
                        }
                    }
                })
                .collect();
            if details.is_empty() {
                m
            } else {
                format!("{m} ({})", details.join("; "))
            }
        }
        _ => format!("HTTP {status}"),
    };
    if message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

/// Maps a final error status to Kova's error; `retry_after` is the server's `Retry-After`.
fn status_error(status: u16, body: &[u8], req: &Request, retry_after: Option<Duration>) -> Error {
    let message = upstream_message(body, status);
    let service = SERVICE.to_string();
    match status {
        401 => Error::Unauthenticated { service, message },
        403 => Error::PermissionDenied { service, message },
        404 | 410 => Error::NotFound {
            what: req.what,
            id: req.id.clone(),
        },
        409 => Error::Conflict { message },
        422 => Error::Invalid {
            field: req.what.to_string(),
            message,
        },
        429 => Error::RateLimited {
            service,
            retry_after: None,
        },
        _ => Error::Upstream {
            service,
            status,
            message,
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_the_body() {
        // Recorded from api.github.com (octokit fixtures, errors).
        let recorded: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/rest/errors.json")).unwrap();
        assert_eq!(recorded[0]["status"], 422);
        let body = serde_json::to_vec(&recorded[0]["response"]).unwrap();
        let body = body.as_slice();
        assert_eq!(
            upstream_message(body, 422),
            "Validation Failed (Label color invalid)"
        );
        assert_eq!(upstream_message(b"<html>", 502), "HTTP 502");
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(400));
        assert!(upstream_message(long.as_bytes(), 500).chars().count() <= MAX_MESSAGE);
        assert!(is_secondary(
            "You have exceeded a secondary rate limit. Please wait"
        ));
        assert!(!is_secondary("Resource not accessible by integration"));
    }
}
