//! `/multi-repo/*`: status, listing, configuration, discovery, sync (optionally streamed as
//! server-sent events) and adding repositories, in the original `{status, data}` envelope.

use crate::error::{ApiError, ApiResult, Envelope};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use kova_core::sync::{progress_channel, AddRepo, SyncRequest, SyncService};
use kova_core::{Error, RepoKind, RepoRef};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;

fn err(e: impl Into<ApiError>) -> ApiError {
    e.into().in_envelope(Envelope::MultiRepo)
}

fn ok(data: impl serde::Serialize) -> ApiResult<Json<Value>> {
    let data = serde_json::to_value(data).map_err(|e| err(Error::Internal(e.to_string())))?;
    Ok(Json(json!({"status": "success", "data": data})))
}

fn service(s: &AppState) -> ApiResult<&SyncService> {
    s.sync().ok_or_else(|| {
        err(Error::NotConfigured {
            what: "multi-repository sync",
            hint: "configure a source host (GITHUB_TOKEN) and KOVA_REPOS_CONFIG".into(),
        })
    })
}

/// `GET /multi-repo/status`.
pub async fn status(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    ok(service(&s)?.status().await.map_err(err)?)
}

/// `GET /multi-repo/list`.
pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    ok(service(&s)?.tracked().await.map_err(err)?)
}

/// `GET /multi-repo/config`.
pub async fn config(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let svc = service(&s)?;
    let cfg = svc.config().map(|c| c.to_json());
    ok(json!({
        "configured": cfg.is_some(),
        "config": cfg,
    }))
}

/// `GET /multi-repo/discover` (the original's method): lists new repositories matching the
/// pattern, adding them when `auto_discover_new_repos` is on.
pub async fn discover(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    ok(service(&s)?.discover().await.map_err(err)?)
}

/// Query of `POST /multi-repo/sync`.
#[derive(Debug, Default, Deserialize)]
pub struct SyncQuery {
    /// `true`: answer with server-sent progress events and the report last.
    #[serde(default)]
    stream: bool,
}

/// `POST /multi-repo/sync`: body `{repos?: [owner/name], include_analysis?, force?}`.
pub async fn sync(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SyncQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let svc = service(&s)?.clone();
    let req: SyncRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SyncRequest::all()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            err(if e.is_syntax() || e.is_eof() {
                ApiError::bad_request(format!("malformed JSON: {e}"))
            } else {
                ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    e.to_string(),
                )
            })
        })?
    };
    if !q.stream {
        return Ok(ok(svc.sync(req).await.map_err(err)?)?.into_response());
    }
    let (sink, progress) = progress_channel();
    let run = tokio::spawn(async move { svc.sync_with_progress(req, sink).await });
    // Progress until the sync drops its sink, then the report (or the error) as the last event.
    let events = progress
        .map(|p| {
            Event::default()
                .event("progress")
                .json_data(&p)
                .unwrap_or_default()
        })
        .chain(futures::stream::once(async move {
            match run.await {
                Ok(Ok(report)) => Event::default()
                    .event("report")
                    .json_data(&report)
                    .unwrap_or_default(),
                Ok(Err(e)) => Event::default()
                    .event("error")
                    .json_data(json!({"message": e.to_string()}))
                    .unwrap_or_default(),
                Err(e) => Event::default()
                    .event("error")
                    .json_data(json!({"message": format!("sync task failed: {e}")}))
                    .unwrap_or_default(),
            }
        }))
        .map(Ok::<_, Infallible>);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Body of `POST /multi-repo/add`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    #[serde(alias = "full_name", alias = "repo")]
    repository: String,
    #[serde(alias = "kind", rename = "type")]
    kind: Option<String>,
    sync_priority: Option<u8>,
    #[serde(default)]
    features: Vec<String>,
    description: Option<String>,
    enabled: Option<bool>,
}

/// `POST /multi-repo/add`: checks the repository on the host and records it (a missing one as
/// planned), in the store and the repositories file.
pub async fn add(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<AddBody>,
) -> ApiResult<Json<Value>> {
    let svc = service(&s)?;
    let repo: RepoRef = b.repository.parse().map_err(err)?;
    let kind: RepoKind = b
        .kind
        .as_deref()
        .unwrap_or("service")
        .parse()
        .map_err(err)?;
    let mut req = AddRepo::new(repo, kind).with_features(b.features);
    if let Some(p) = b.sync_priority {
        kova_core::model::repo::validate_priority(p).map_err(err)?;
        req = req.with_priority(p);
    }
    if let Some(d) = b.description {
        req = req.with_description(d);
    }
    if let Some(e) = b.enabled {
        req = req.with_enabled(e);
    }
    ok(svc.add(req).await.map_err(err)?)
}
