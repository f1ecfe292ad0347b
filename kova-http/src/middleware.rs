//! Request plumbing: request ids, access logs and metrics around every request, and the auth
//! and rate-limit check in front of protected routes.

use crate::auth::Role;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tracing::Instrument;

/// The request id header, read from the client when sensible and always returned.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A new id: process start time, pid and a counter — unique without a random source.
fn new_request_id() -> String {
    use std::sync::OnceLock;
    static PREFIX: OnceLock<String> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let t = chrono::Utc::now().timestamp_micros() as u64;
        format!(
            "{:x}{:04x}",
            t & 0xffff_ffff_ffff,
            std::process::id() & 0xffff
        )
    });
    format!("{prefix}-{:x}", SEQ.fetch_add(1, Ordering::Relaxed))
}

/// A client's id is kept only if it is short, printable ASCII (it ends up in logs).
fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Assigns the request id, times the request, counts it by route and status, logs it.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(id.clone()));
    let req = req.map(crate::drain::drain_on_drop);
    // Only the id rides on the span: at `info` (the default) the span's fields are formatted
    // for every request, and the method and route are known to the access log line below.
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status();
    state
        .inner
        .metrics
        .observe_request(&route, status.as_u16(), elapsed);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(
                %method,
                %route,
                status = status.as_u16(),
                elapsed_us = elapsed.as_micros() as u64,
                "request failed"
            );
        } else {
            tracing::debug!(
                %method,
                %route,
                status = status.as_u16(),
                elapsed_us = elapsed.as_micros() as u64,
                "request"
            );
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    res
}

/// Checks the caller has `role` and is within its rate limit.
pub async fn require(state: AppState, role: Role, req: Request, next: Next) -> Response {
    let now = chrono::Utc::now().timestamp();
    let principal = match state.inner.auth.authorize(req.headers(), role, now) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = state.inner.limiter.check(&principal.id, Instant::now()) {
        return ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests for this credential",
        )
        .with_retry_after(wait.as_secs().max(1))
        .into_response();
    }
    let mut req = req;
    req.extensions_mut().insert(principal);
    next.run(req).await
}
