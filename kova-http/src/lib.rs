//! # kova-http
//!
//! The HTTP face of Kova: [`router`] builds an axum `Router` over shared [`AppState`]. This
//! first cut serves `GET /health`; the documented endpoints arrive with the HTTP issue.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kova_core::Store;
use serde_json::json;
use std::sync::Arc;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// State over a store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        AppState { store }
    }
}

/// The Kova HTTP API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(state)
}

/// `GET /health`: 200 when the store answers, 503 when it does not, with the queue's depth.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let store_ok = state.store.health().await;
    let summary = state.store.jobs_summary().await;
    match (store_ok, summary) {
        (Ok(()), Ok(s)) => (
            StatusCode::OK,
            Json(json!({
                "status": "healthy",
                "components": {
                    "store": {"status": "ok", "backend": state.store.backend()},
                    "queue": {"queued": s.queued, "running": s.running, "dead": s.dead},
                }
            })),
        ),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unhealthy",
                    "components": {"store": {"status": "error", "backend": state.store.backend()}}
                })),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn health_reports_store_and_queue() {
        let store: Arc<dyn Store> = Arc::new(kova_store::MemoryStore::new());
        let res = router(AppState::new(store))
            .oneshot(Request::get("/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], "healthy");
        assert_eq!(v["components"]["store"]["backend"], "memory");
        assert_eq!(v["components"]["queue"]["queued"], 0);
    }
}
