//! `POST /webhooks/github`, the hot path, and `GET /webhooks/status`.

use crate::error::{ApiError, ApiResult};
use crate::routes::reads::EventView;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use bytes::Bytes;
use kova_core::{Error, EventFilter, HeaderSource, ListOptions};
use serde_json::{json, Value};

/// Header access for the receiver over axum's map (lookups ignore case).
struct Headers<'a>(&'a HeaderMap);

impl HeaderSource for Headers<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The 202 answer: serialized straight from the outcome, without building a JSON tree.
#[derive(serde::Serialize)]
pub struct Accepted {
    status: &'static str,
    event: String,
    delivery_id: String,
    duplicate: bool,
}

/// Verifies, records durably, answers 202. Bad signature → 401, unreadable request → 400,
/// nothing stored.
pub async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let metrics = state.metrics();
    // Verification happens here; the future then holds no borrow of the headers.
    let source = Headers(&headers);
    let ingest = state.kova().ingest_request(&source, body);
    match ingest.await {
        Ok(out) => {
            metrics.delivery_accepted(out.duplicate);
            Ok((
                StatusCode::ACCEPTED,
                Json(Accepted {
                    status: "accepted",
                    event: out.event,
                    delivery_id: out.delivery_id,
                    duplicate: out.duplicate,
                }),
            ))
        }
        Err(e) => {
            metrics.delivery_rejected();
            match e {
                // Missing headers or a body that is not JSON: the request is malformed.
                Error::Invalid { field, message } => {
                    tracing::info!(%field, %message, "webhook rejected");
                    Err(ApiError::bad_request(format!("invalid {field}: {message}")))
                }
                Error::Signature(reason) => {
                    tracing::warn!(%reason, "webhook signature rejected");
                    Err(Error::Signature(reason).into())
                }
                other => Err(other.into()),
            }
        }
    }
}

/// `GET /webhooks/status`: whether webhooks are configured, counters, recent deliveries.
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let recent = state
        .kova()
        .store()
        .list_events(
            &EventFilter::default(),
            &ListOptions::default().with_limit(10),
        )
        .await?;
    let (received, duplicate, rejected) = state.metrics().deliveries();
    Ok(Json(json!({
        "status": if state.kova().has_receiver() { "configured" } else { "not_configured" },
        "since_start": {"received": received, "duplicate": duplicate, "rejected": rejected},
        "recent": recent.items.iter().map(EventView::from).collect::<Vec<_>>(),
    })))
}
