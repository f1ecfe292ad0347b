//! The AI endpoints: artifact generation and analysis (the original `{success, data, error}`
//! envelope), `/ai/command`, and `/api/scan`.

use crate::error::{ApiError, ApiResult, Envelope};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use kova_core::artifacts::{
    supported_types, AnalyzeRequest, ArtifactRequest, CommandRequest, ScanOptions,
};
use kova_core::{Error, RepoRef};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;

/// The request body merged with query parameters (the original API took query parameters;
/// the body wins where both give a field), with `kind` forced by the route when it has one.
fn merged<T: DeserializeOwned>(
    query: HashMap<String, String>,
    body: &Bytes,
    kind: Option<&str>,
) -> ApiResult<T> {
    let mut obj: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(ApiError::bad_request("the body must be a JSON object")),
            Err(e) => return Err(ApiError::bad_request(format!("malformed JSON: {e}"))),
        }
    };
    for (k, v) in query {
        obj.entry(k).or_insert_with(|| coerce(&v));
    }
    if let Some(kind) = kind {
        obj.insert("kind".into(), json!(kind));
        obj.remove("type");
        obj.remove("artifact_type");
    }
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()))
}

/// Query values are text; numbers and booleans are given their JSON type.
fn coerce(v: &str) -> Value {
    match v {
        "true" => json!(true),
        "false" => json!(false),
        _ => v
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| v.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| json!(v)),
    }
}

fn artifacts_err(e: impl Into<ApiError>) -> ApiError {
    e.into().in_envelope(Envelope::Artifacts)
}

async fn generate(state: &AppState, req: ArtifactRequest) -> ApiResult<Json<Value>> {
    let out = state
        .artifacts()
        .generate(req)
        .await
        .map_err(artifacts_err)?;
    Ok(Json(json!({"success": true, "data": out, "error": null})))
}

/// `POST /artifacts/create`: any kind, named in the body.
pub async fn create(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let req = merged(q, &body, None).map_err(artifacts_err)?;
    generate(&s, req).await
}

macro_rules! generate_route {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("`POST /artifacts/", $kind, "/generate`.")]
        pub async fn $name(
            State(s): State<AppState>,
            Query(q): Query<HashMap<String, String>>,
            body: Bytes,
        ) -> ApiResult<Json<Value>> {
            let req = merged(q, &body, Some($kind)).map_err(artifacts_err)?;
            generate(&s, req).await
        }
    };
}

generate_route!(generate_code, "code");
generate_route!(generate_document, "document");
generate_route!(generate_diagram, "diagram");
generate_route!(generate_config, "config");
generate_route!(generate_data, "data");

/// `POST /artifacts/code/analyze`.
pub async fn analyze(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let req: AnalyzeRequest = merged(q, &body, None).map_err(artifacts_err)?;
    let out = s
        .artifacts()
        .analyze_code(req)
        .await
        .map_err(artifacts_err)?;
    Ok(Json(json!({"success": true, "data": out, "error": null})))
}

/// `GET /artifacts/types`.
pub async fn types() -> Json<Value> {
    Json(json!({"success": true, "data": supported_types(), "error": null}))
}

/// `POST /ai/command`.
pub async fn command(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let req: CommandRequest = merged(q, &body, None)?;
    let out = s.artifacts().command(req).await?;
    Ok(Json(json!({"success": true, "data": out})))
}

/// The body of `POST /api/scan`: a configured repository or a local path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    repository: Option<String>,
    path: Option<String>,
    git_ref: Option<String>,
}

/// `POST /api/scan`: file tree, languages, manifests, Kubernetes resources, sizes; no LLM.
pub async fn scan(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<ScanRequest>,
) -> ApiResult<Json<Value>> {
    let mut opts = ScanOptions::default();
    opts.git_ref = req.git_ref.clone();
    let report = match (req.repository, req.path) {
        (Some(r), None) => {
            let repo: RepoRef = r.parse().map_err(ApiError::from)?;
            s.artifacts().scan_repository(&repo, &opts).await?
        }
        (None, Some(p)) => {
            let roots = &s.config().scan_roots;
            if roots.is_empty() {
                return Err(ApiError::forbidden(
                    "local path scans are disabled on this server (set KOVA_SCAN_ROOTS to allow directories)",
                ));
            }
            opts.allowed_roots = roots.clone();
            let service = s.artifacts_arc();
            let path = PathBuf::from(p);
            // A directory walk blocks: keep it off the async worker threads.
            tokio::task::spawn_blocking(move || service.scan_local(&path, &opts))
                .await
                .map_err(|e| Error::Internal(format!("scan task failed: {e}")))??
        }
        _ => {
            return Err(ApiError::invalid(
                "body",
                "give exactly one of repository (owner/name) or path",
            ))
        }
    };
    Ok(Json(json!({"success": true, "data": report})))
}
