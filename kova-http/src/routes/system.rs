//! Health, metrics, the OpenAPI document and its rendering.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

/// `GET /health`: 200 when the store answers, 503 when it does not.
pub async fn health(State(state): State<AppState>) -> Response {
    let kova = state.kova();
    let store = kova.store();
    let (store_ok, summary) = (store.health().await, store.jobs_summary().await);
    let integrations = json!({
        "llm": kova.llm().map(|l| l.name().to_string()),
        "github": kova.source().map(|s| s.name().to_string()),
        "webhooks": kova.has_receiver(),
    });
    match (store_ok, summary) {
        (Ok(()), Ok(s)) => Json(json!({
            "status": "healthy",
            "components": {
                "store": {"status": "ok", "backend": store.backend()},
                "queue": {"queued": s.queued, "running": s.running, "dead": s.dead},
                "integrations": integrations,
            }
        }))
        .into_response(),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unhealthy",
                    "components": {"store": {"status": "error", "backend": store.backend()}, "integrations": integrations}
                })),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let kova = state.kova();
    let jobs = kova.store().jobs_summary().await.ok();
    let body = state.metrics().render(jobs.as_ref(), kova.clock().now());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /openapi.json`.
pub async fn openapi(doc: Arc<OnceLock<Value>>) -> Response {
    match doc.get() {
        Some(v) => Json(v.clone()).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

const SWAGGER_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// `GET /docs`: Swagger UI over `/openapi.json`, from vendored assets (no network needed).
pub async fn docs() -> Html<&'static str> {
    Html(
        r##"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Kova API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});</script>
</body></html>"##,
    )
}

/// The vendored Swagger UI script.
pub async fn docs_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/javascript"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        SWAGGER_JS,
    )
        .into_response()
}

/// The vendored Swagger UI stylesheet.
pub async fn docs_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        SWAGGER_CSS,
    )
        .into_response()
}
