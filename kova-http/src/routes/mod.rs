//! The endpoint table (see [`crate::spec`]) and the handlers behind it.

pub mod ai;
pub mod multirepo;
pub mod reads;
mod schemas;
pub mod system;
pub mod webhooks;

use crate::auth::Role as AuthRole;
use crate::spec::{param, Access, Endpoint, Param, PAGING};
use axum::routing::{get, post};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const EVENT_FILTERS: [Param; 5] = [
    param("repo", "string", "owner/name"),
    param("event", "string", "event type, e.g. pull_request"),
    param("status", "string", "received|processed|failed|ignored"),
    PAGING[0],
    PAGING[1],
];
const JOB_FILTERS: [Param; 4] = [
    param("status", "string", "queued|running|done|dead|superseded"),
    param("kind", "string", "job kind (handler name)"),
    PAGING[0],
    PAGING[1],
];
const ARTIFACT_FILTERS: [Param; 5] = [
    param("repo", "string", "owner/name"),
    param(
        "kind",
        "string",
        "code|document|diagram|config|data|analysis",
    ),
    param("event_id", "integer", "the webhook event that produced it"),
    PAGING[0],
    PAGING[1],
];
const INTERACTION_FILTERS: [Param; 6] = [
    param("repo", "string", "owner/name"),
    param("purpose", "string", "why the call was made, e.g. pr_review"),
    param("model", "string", "model name"),
    param("event_id", "integer", "the webhook event it served"),
    PAGING[0],
    PAGING[1],
];

const STREAM: [Param; 1] = [param(
    "stream",
    "boolean",
    "answer with server-sent progress events",
)];

const ARTIFACT_QUERY: [Param; 4] = [
    param(
        "title",
        "string",
        "what to generate (the body may carry it instead)",
    ),
    param("description", "string", "details"),
    param("language", "string", "language (code) "),
    param("format", "string", "format (config, data)"),
];

#[allow(clippy::too_many_arguments)]
fn ep(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    access: Access,
    summary: &'static str,
    query: &'static [Param],
    body: Option<fn() -> Value>,
    handler: axum::routing::MethodRouter<crate::state::AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        tag,
        access,
        query,
        body,
        handler,
    }
}

/// Every endpoint. `doc` is filled with the OpenAPI document once the table is built.
pub(crate) fn endpoints(doc: Arc<OnceLock<Value>>) -> Vec<Endpoint> {
    use Access::*;
    let read = Role(AuthRole::Read);
    let write = Role(AuthRole::Write);
    let stream: &'static [Param] = &STREAM;
    vec![
        ep(
            "GET",
            "/health",
            "system",
            Public,
            "Health of the store and the queue; which integrations are configured",
            &[],
            None,
            get(system::health),
        ),
        ep(
            "GET",
            "/metrics",
            "system",
            Metrics,
            "Prometheus metrics",
            &[],
            None,
            get(system::metrics),
        ),
        ep(
            "GET",
            "/openapi.json",
            "system",
            Public,
            "This API's OpenAPI document",
            &[],
            None,
            get(move || system::openapi(doc.clone())),
        ),
        ep(
            "GET",
            "/docs",
            "system",
            Public,
            "API documentation (Swagger UI, served locally)",
            &[],
            None,
            get(system::docs),
        ),
        ep(
            "GET",
            "/docs/swagger-ui-bundle.js",
            "system",
            Public,
            "Swagger UI script",
            &[],
            None,
            get(system::docs_js),
        ),
        ep(
            "GET",
            "/docs/swagger-ui.css",
            "system",
            Public,
            "Swagger UI stylesheet",
            &[],
            None,
            get(system::docs_css),
        ),
        ep(
            "POST",
            "/webhooks/github",
            "webhooks",
            Signature,
            "Receive a GitHub webhook: verified, stored durably, answered 202",
            &[],
            None,
            post(webhooks::github),
        ),
        ep(
            "GET",
            "/webhooks/status",
            "webhooks",
            read,
            "Webhook configuration, counters and recent deliveries",
            &[],
            None,
            get(webhooks::status),
        ),
        ep(
            "GET",
            "/api/repositories",
            "repositories",
            read,
            "Tracked repositories, by name",
            &PAGING,
            None,
            get(reads::repositories),
        ),
        ep(
            "GET",
            "/api/repositories/{owner}/{name}",
            "repositories",
            read,
            "One repository",
            &[],
            None,
            get(reads::repository),
        ),
        ep(
            "GET",
            "/api/repositories/{owner}/{name}/snapshots",
            "repositories",
            read,
            "A repository's snapshot history, newest first",
            &PAGING,
            None,
            get(reads::snapshots),
        ),
        ep(
            "GET",
            "/api/events",
            "events",
            read,
            "Webhook events, newest first",
            &EVENT_FILTERS,
            None,
            get(reads::events),
        ),
        ep(
            "GET",
            "/api/events/{id}",
            "events",
            read,
            "One webhook event with its payload",
            &[],
            None,
            get(reads::event),
        ),
        ep(
            "GET",
            "/api/jobs/summary",
            "jobs",
            read,
            "Queue counts by status and the oldest queued job's age",
            &[],
            None,
            get(reads::jobs_summary),
        ),
        ep(
            "GET",
            "/api/jobs",
            "jobs",
            read,
            "Jobs, newest first",
            &JOB_FILTERS,
            None,
            get(reads::jobs),
        ),
        ep(
            "GET",
            "/api/artifacts",
            "artifacts",
            read,
            "Artifacts, newest first",
            &ARTIFACT_FILTERS,
            None,
            get(reads::artifacts),
        ),
        ep(
            "GET",
            "/api/artifacts/{id}",
            "artifacts",
            read,
            "One artifact",
            &[],
            None,
            get(reads::artifact),
        ),
        ep("GET", "/multi-repo/status", "multi-repo", read, "Sync status of every tracked repository", &[], None, get(multirepo::status)),
        ep("GET", "/multi-repo/list", "multi-repo", read, "Tracked repositories (file and store)", &[], None, get(multirepo::list)),
        ep("GET", "/multi-repo/config", "multi-repo", read, "The repositories file (kova_repos_config.json)", &[], None, get(multirepo::config)),
        ep("GET", "/multi-repo/discover", "multi-repo", write, "Discover the owner's repositories matching the name pattern (adds them when auto-discovery is on)", &[], None, get(multirepo::discover)),
        ep("POST", "/multi-repo/sync", "multi-repo", write, "Sync repositories (all enabled, or the listed ones); ?stream=true streams progress as server-sent events", stream, Some(schemas::sync), post(multirepo::sync)),
        ep("POST", "/multi-repo/add", "multi-repo", write, "Add a repository (checked on GitHub; a missing one is recorded as planned)", &[], Some(schemas::add), post(multirepo::add)),
        ep("POST", "/ai/command", "ai", write, "Free-form AI command: analyze | sync | process | ask, with optional repository and file", &[], Some(schemas::command), post(ai::command)),
        ep("POST", "/artifacts/create", "artifacts", write, "Generate an artifact of any kind (kind in the body)", &[], Some(schemas::artifact_any), post(ai::create)),
        ep("POST", "/artifacts/code/generate", "artifacts", write, "Generate code", &ARTIFACT_QUERY, Some(schemas::artifact), post(ai::generate_code)),
        ep("POST", "/artifacts/document/generate", "artifacts", write, "Generate a document", &ARTIFACT_QUERY, Some(schemas::artifact), post(ai::generate_document)),
        ep("POST", "/artifacts/diagram/generate", "artifacts", write, "Generate a Mermaid diagram", &ARTIFACT_QUERY, Some(schemas::artifact), post(ai::generate_diagram)),
        ep("POST", "/artifacts/config/generate", "artifacts", write, "Generate a configuration file (json, yaml, toml, ini, xml)", &ARTIFACT_QUERY, Some(schemas::artifact), post(ai::generate_config)),
        ep("POST", "/artifacts/data/generate", "artifacts", write, "Generate JSON data", &ARTIFACT_QUERY, Some(schemas::artifact), post(ai::generate_data)),
        ep("POST", "/artifacts/code/analyze", "artifacts", write, "Analyse code (stored as an analysis artifact)", &[], Some(schemas::analyze), post(ai::analyze)),
        ep("GET", "/artifacts/types", "artifacts", read, "Supported artifact kinds, languages and config formats", &[], None, get(ai::types)),
        ep("POST", "/api/scan", "repositories", write, "Scan a configured repository or an allowed local path: tree, languages, manifests, Kubernetes resources (no LLM)", &[], Some(schemas::scan), post(ai::scan)),
        ep(
            "GET",
            "/api/interactions",
            "llm",
            read,
            "LLM interactions, newest first, with token and cost totals",
            &INTERACTION_FILTERS,
            None,
            get(reads::interactions),
        ),
    ]
}
