//! # kova-http
//!
//! The HTTP face of Kova: [`router`] builds an axum `Router` over an [`AppState`] holding the
//! engine, the credentials, the metrics and the HTTP settings. Every route is declared once in
//! an endpoint table from which both the router and `GET /openapi.json` are built.

pub mod auth;
mod drain;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
mod ratelimit;
mod routes;
pub mod spec;
mod state;

pub use auth::{Auth, Principal, Role};
pub use error::{ApiError, Envelope};
pub use metrics::{MeteredLlm, Metrics};
pub use state::{AppState, AppStateBuilder, HttpConfig};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{from_fn_with_state, Next};
use axum::routing::MethodRouter;
use axum::Router;
use serde_json::Value;
use spec::Access;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

/// The OpenAPI document of a router built with this configuration.
pub fn openapi_document(metrics_public: bool) -> Value {
    openapi::document(&routes::endpoints(Arc::default()), metrics_public)
}

/// The Kova HTTP API.
pub fn router(state: AppState) -> Router {
    let config = state.config().clone();
    let doc = Arc::new(OnceLock::new());
    let endpoints = routes::endpoints(doc.clone());
    let _ = doc.set(openapi::document(&endpoints, config.metrics_public));

    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for ep in endpoints {
        let needed = match ep.access {
            Access::Public | Access::Signature => None,
            Access::Role(r) => Some(r),
            Access::Metrics => (!config.metrics_public).then_some(Role::Read),
        };
        let mut handler = ep.handler;
        if let Some(role) = needed {
            handler = handler.route_layer(from_fn_with_state(
                state.clone(),
                move |State(s): State<AppState>, req: Request, next: Next| {
                    middleware::require(s, role, req, next)
                },
            ));
        }
        if ep.access == Access::Signature {
            handler = handler.layer(DefaultBodyLimit::max(config.webhook_body_limit));
        }
        let merged = match by_path.remove(ep.path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(ep.path, merged);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    let mut router = router
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ));
    if !config.cors_origins.is_empty() {
        router = router.layer(cors(&config.cors_origins));
    }
    router.with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
        ])
        .expose_headers([middleware::REQUEST_ID.clone()]);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        layer.allow_origin(list)
    }
}
