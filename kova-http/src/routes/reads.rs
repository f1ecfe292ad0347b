//! Read endpoints: repositories and their snapshots, events, jobs, artifacts, LLM interactions.

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery as Query;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use kova_core::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Paging parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    limit: Option<usize>,
    cursor: Option<String>,
}

impl Paging {
    fn options(&self) -> ListOptions {
        options(self.limit, &self.cursor)
    }
}

// Each query struct lists `limit` and `cursor` itself: `#[serde(flatten)]` would lose the
// number parsing of query strings.
fn options(limit: Option<usize>, cursor: &Option<String>) -> ListOptions {
    let mut o = ListOptions::default();
    if let Some(l) = limit {
        o = o.with_limit(l);
    }
    if let Some(c) = cursor {
        o = o.with_cursor(c.clone());
    }
    o
}

fn parse_repo(field: &str, s: &str) -> ApiResult<RepoRef> {
    s.parse().map_err(|e: Error| match e {
        Error::Invalid { message, .. } => ApiError::invalid(field, &message),
        other => other.into(),
    })
}

fn parse_enum<T: std::str::FromStr<Err = Error>>(
    field: &str,
    s: &Option<String>,
) -> ApiResult<Option<T>> {
    s.as_deref()
        .map(|v| {
            v.parse::<T>().map_err(|e| match e {
                Error::Invalid { message, .. } => ApiError::invalid(field, &message),
                other => other.into(),
            })
        })
        .transpose()
}

/// A stored event as clients see it: the envelope, not the raw bytes.
#[derive(Debug, Serialize)]
pub struct EventView {
    id: EventId,
    delivery_id: String,
    hook_id: Option<i64>,
    event: String,
    action: Option<String>,
    repository: Option<RepoRef>,
    installation_id: Option<i64>,
    sender: Option<String>,
    received_at: Timestamp,
    status: EventStatus,
    body_bytes: usize,
}

impl From<&WebhookEvent> for EventView {
    fn from(e: &WebhookEvent) -> Self {
        let d = &e.delivery;
        EventView {
            id: e.id,
            delivery_id: d.delivery_id.clone(),
            hook_id: d.hook_id,
            event: d.event.clone(),
            action: d.action.clone(),
            repository: d.repo.clone(),
            installation_id: d.installation_id,
            sender: d.sender.clone(),
            received_at: d.received_at,
            status: e.status,
            body_bytes: d.body.len(),
        }
    }
}

fn page_json<T: Serialize>(page: Page<T>) -> Value {
    json!({"items": page.items, "next_cursor": page.next_cursor})
}

/// `GET /api/repositories`.
pub async fn repositories(
    State(s): State<AppState>,
    Query(p): Query<Paging>,
) -> ApiResult<Json<Value>> {
    Ok(Json(page_json(
        s.kova().store().list_repositories(&p.options()).await?,
    )))
}

/// `GET /api/repositories/{owner}/{name}`.
pub async fn repository(
    State(s): State<AppState>,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Repository>> {
    let repo = parse_repo("repository", &format!("{owner}/{name}"))?;
    let found = s.kova().store().get_repository(&repo).await?;
    found
        .map(Json)
        .ok_or_else(|| Error::not_found("repository", repo).into())
}

/// `GET /api/repositories/{owner}/{name}/snapshots`.
pub async fn snapshots(
    State(s): State<AppState>,
    Path((owner, name)): Path<(String, String)>,
    Query(p): Query<Paging>,
) -> ApiResult<Json<Value>> {
    let repo = parse_repo("repository", &format!("{owner}/{name}"))?;
    Ok(Json(page_json(
        s.kova().store().list_snapshots(&repo, &p.options()).await?,
    )))
}

/// Filters of `GET /api/events`.
#[derive(Debug, Deserialize)]
pub struct EventQuery {
    repo: Option<String>,
    event: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /api/events`.
pub async fn events(
    State(s): State<AppState>,
    Query(q): Query<EventQuery>,
) -> ApiResult<Json<Value>> {
    let mut f = EventFilter::default();
    if let Some(r) = &q.repo {
        f = f.with_repo(parse_repo("repo", r)?);
    }
    if let Some(e) = &q.event {
        f = f.with_event(e.clone());
    }
    if let Some(st) = parse_enum::<EventStatus>("status", &q.status)? {
        f = f.with_status(st);
    }
    let page = s
        .kova()
        .store()
        .list_events(&f, &options(q.limit, &q.cursor))
        .await?;
    Ok(Json(json!({
        "items": page.items.iter().map(EventView::from).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

/// `GET /api/events/{id}`: the envelope and the payload.
pub async fn event(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::invalid("id", "must be an integer"))?;
    let e = s
        .kova()
        .store()
        .get_event(EventId(id))
        .await?
        .ok_or_else(|| Error::not_found("event", id))?;
    let payload: Value = serde_json::from_slice(&e.delivery.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&e.delivery.body).into_owned()));
    let mut v =
        serde_json::to_value(EventView::from(&e)).map_err(|e| Error::Internal(e.to_string()))?;
    v["payload"] = payload;
    Ok(Json(v))
}

/// `GET /api/jobs/summary`.
pub async fn jobs_summary(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let sum = s.kova().store().jobs_summary().await?;
    let now = s.kova().clock().now();
    let age = sum
        .oldest_queued_at
        .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    let mut v = serde_json::to_value(&sum).map_err(|e| Error::Internal(e.to_string()))?;
    v["oldest_queued_age_seconds"] = json!(age);
    Ok(Json(v))
}

/// Filters of `GET /api/jobs`.
#[derive(Debug, Deserialize)]
pub struct JobQuery {
    status: Option<String>,
    kind: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /api/jobs`.
pub async fn jobs(State(s): State<AppState>, Query(q): Query<JobQuery>) -> ApiResult<Json<Value>> {
    let mut f = JobFilter::default();
    if let Some(st) = parse_enum::<JobStatus>("status", &q.status)? {
        f = f.with_status(st);
    }
    if let Some(k) = &q.kind {
        f = f.with_kind(k.clone());
    }
    Ok(Json(page_json(
        s.kova()
            .store()
            .list_jobs(&f, &options(q.limit, &q.cursor))
            .await?,
    )))
}

/// Filters of `GET /api/artifacts`.
#[derive(Debug, Deserialize)]
pub struct ArtifactQuery {
    repo: Option<String>,
    kind: Option<String>,
    event_id: Option<i64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /api/artifacts`.
pub async fn artifacts(
    State(s): State<AppState>,
    Query(q): Query<ArtifactQuery>,
) -> ApiResult<Json<Value>> {
    let mut f = ArtifactFilter::default();
    if let Some(r) = &q.repo {
        f = f.with_repo(parse_repo("repo", r)?);
    }
    if let Some(k) = parse_enum::<ArtifactKind>("kind", &q.kind)? {
        f = f.with_kind(k);
    }
    if let Some(id) = q.event_id {
        f = f.with_event(EventId(id));
    }
    Ok(Json(page_json(
        s.kova()
            .store()
            .list_artifacts(&f, &options(q.limit, &q.cursor))
            .await?,
    )))
}

/// `GET /api/artifacts/{id}`.
pub async fn artifact(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Artifact>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::invalid("id", "must be an integer"))?;
    let found = s.kova().store().get_artifact(ArtifactId(id)).await?;
    found
        .map(Json)
        .ok_or_else(|| Error::not_found("artifact", id).into())
}

/// Filters of `GET /api/interactions`.
#[derive(Debug, Deserialize)]
pub struct InteractionQuery {
    repo: Option<String>,
    purpose: Option<String>,
    model: Option<String>,
    event_id: Option<i64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /api/interactions`: a page of LLM calls and the token and cost totals of all that match.
pub async fn interactions(
    State(s): State<AppState>,
    Query(q): Query<InteractionQuery>,
) -> ApiResult<Json<Value>> {
    let mut f = InteractionFilter::default();
    if let Some(r) = &q.repo {
        f = f.with_repo(parse_repo("repo", r)?);
    }
    if let Some(p) = &q.purpose {
        f = f.with_purpose(p.clone());
    }
    if let Some(m) = &q.model {
        f = f.with_model(m.clone());
    }
    if let Some(id) = q.event_id {
        f = f.with_event(EventId(id));
    }
    let store = s.kova().store();
    let page = store
        .list_interactions(&f, &options(q.limit, &q.cursor))
        .await?;
    let totals = store.usage_totals(&f).await?;
    Ok(Json(
        json!({"items": page.items, "next_cursor": page.next_cursor, "totals": totals}),
    ))
}
