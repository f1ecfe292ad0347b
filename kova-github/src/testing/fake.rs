use super::comments::Comments;
use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Placeholder in a [`FakeResponse`]'s headers and body replaced by the server's base URL, for
/// `Link` headers that must point back at the fake: `<{base}/repositories/1/x?page=2>`.
const BASE_PLACEHOLDER: &str = "{base}";

/// A local fake of GitHub's REST API on `127.0.0.1` (an ephemeral port), for tests of code that
/// talks to GitHub.
///
/// - Routes answer recorded or scripted responses: [`on`](Self::on) for one (repeated),
///   [`on_sequence`](Self::on_sequence) for a sequence (the last one repeats),
///   [`load_octokit_scenario`](Self::load_octokit_scenario) for `@octokit/fixtures` recordings.
/// - A response with an ETag answers `304 Not Modified` to a matching `If-None-Match`, as
///   GitHub does.
/// - Faults: any status and headers, delays, malformed bodies, and
///   [`FakeResponse::reset`] (the connection drops mid-response).
/// - Every request is recorded (method, path, query, headers, body) for assertions.
/// - [`serve_issue_comments`](Self::serve_issue_comments) keeps issue comments in memory, so
///   listing, posting and editing comments behaves like GitHub.
/// - A [responder](Self::set_responder) can answer from the request itself, ahead of the
///   routes (stateful resources, seeded fault injection).
/// - Unrouted requests get GitHub's 404 body.
///
/// The server stops when the value is dropped.
pub struct FakeGitHub {
    base_url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

/// Answers a request from what it contains, ahead of the routes: `Some` is the answer, `None`
/// leaves the request to the routes. See [`FakeGitHub::set_responder`].
pub type Responder = Arc<dyn Fn(&RecordedRequest) -> Option<FakeResponse> + Send + Sync>;

#[derive(Default)]
struct State {
    base_url: String,
    responder: Option<Responder>,
    routes: Vec<Route>,
    requests: Vec<RecordedRequest>,
    in_flight: usize,
    max_in_flight: usize,
    comments: Option<Comments>,
}

struct Route {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    responses: VecDeque<FakeResponse>,
}

/// One scripted answer of [`FakeGitHub`].
#[derive(Debug, Clone)]
pub struct FakeResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    delay: Option<Duration>,
    reset: bool,
}

/// A request [`FakeGitHub`] received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// The path, e.g. `/repos/o/r`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Every header, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded query parameters.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_query(self.query.as_deref().unwrap_or(""))
    }

    /// The value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl FakeResponse {
    /// A JSON response with GitHub's usual headers.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        FakeResponse::raw(status, serde_json::to_vec(body).unwrap_or_default())
            .with_header("content-type", "application/json; charset=utf-8")
    }

    /// `200 OK` with a JSON body.
    pub fn ok(body: serde_json::Value) -> Self {
        FakeResponse::json(200, &body)
    }

    /// Any status and body bytes (a malformed body, a raw file…).
    pub fn raw(status: u16, body: impl Into<Bytes>) -> Self {
        FakeResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: None,
            reset: false,
        }
    }

    /// GitHub's error shape: `{"message": …}`.
    pub fn error(status: u16, message: &str) -> Self {
        FakeResponse::json(
            status,
            &serde_json::json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
            }),
        )
    }

    /// The connection drops after the status line and part of the body.
    pub fn reset() -> Self {
        FakeResponse {
            reset: true,
            ..FakeResponse::raw(200, Bytes::from_static(b"{\"partial\":"))
        }
    }

    /// Adds a header (`{base}` in the value becomes the server's URL).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Adds an `ETag`; a request with a matching `If-None-Match` then gets a 304.
    pub fn with_etag(self, etag: &str) -> Self {
        self.with_header("etag", etag)
    }

    /// A `Link` header with `rel="next"` to `next` (`{base}` allowed).
    pub fn with_next(self, next: &str) -> Self {
        self.with_header("link", &format!("<{next}>; rel=\"next\""))
    }

    /// `x-ratelimit-remaining/-limit/-reset` headers (the resource is `core` unless an
    /// `x-ratelimit-resource` header says otherwise).
    pub fn with_rate_limit(self, remaining: u64, limit: u64, reset_epoch: i64) -> Self {
        self.with_header("x-ratelimit-remaining", &remaining.to_string())
            .with_header("x-ratelimit-limit", &limit.to_string())
            .with_header("x-ratelimit-reset", &reset_epoch.to_string())
    }

    /// Waits this long before answering.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn etag(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == "etag")
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for FakeGitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("FakeGitHub")
            .field("base_url", &self.base_url)
            .field("routes", &s.routes.len())
            .field("requests", &s.requests.len())
            .finish()
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGitHub {
    /// Starts the server on `127.0.0.1`, port chosen by the OS.
    pub async fn start() -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State {
            base_url: base_url.clone(),
            ..State::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGitHub {
            base_url,
            state,
            task,
        }
    }

    /// `http://127.0.0.1:PORT` (use it, or it plus `/api/v3`, as the client's base URL).
    pub fn url(&self) -> String {
        self.base_url.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers `method path[?query]` with `response`, every time. With a query, the route only
    /// matches requests that carry those parameters (others may be present too). Later routes
    /// win over earlier ones for the same request.
    pub fn on(&self, method: &str, path_and_query: &str, response: FakeResponse) -> &Self {
        self.on_sequence(method, path_and_query, vec![response])
    }

    /// Answers with `responses` in order; the last one repeats.
    pub fn on_sequence(
        &self,
        method: &str,
        path_and_query: &str,
        responses: Vec<FakeResponse>,
    ) -> &Self {
        let (path, query) = path_and_query
            .split_once('?')
            .map_or((path_and_query, ""), |(p, q)| (p, q));
        let method =
            Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("an HTTP method");
        self.lock().routes.push(Route {
            method,
            path: path.to_string(),
            query: parse_query(query),
            responses: responses.into(),
        });
        self
    }

    /// Answers every request with `responder(&request)` when it returns `Some`; `None` leaves
    /// the request to the routes. The responder sees every request, may keep state (a small
    /// in-memory GitHub), and is called concurrently from the server's tasks: for fault
    /// injection (a seeded share of 502s and rate limits) and resources that change as the
    /// client writes. ETags and delays of its answers work as for routed ones. Replaces any
    /// earlier responder.
    pub fn set_responder(
        &self,
        responder: impl Fn(&RecordedRequest) -> Option<FakeResponse> + Send + Sync + 'static,
    ) -> &Self {
        self.lock().responder = Some(Arc::new(responder));
        self
    }

    /// Removes the responder: only the routes answer again.
    pub fn clear_responder(&self) -> &Self {
        self.lock().responder = None;
        self
    }

    /// Loads an `@octokit/fixtures` scenario (`normalized-fixture.json`: a list of recorded
    /// exchanges). `Link` headers pointing at api.github.com are pointed at this server.
    /// Returns how many routes were added.
    pub fn load_octokit_scenario(&self, json: &str) -> Result<usize, String> {
        let exchanges: Vec<serde_json::Value> =
            serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut added = 0;
        for x in &exchanges {
            let method = x["method"].as_str().ok_or("exchange without method")?;
            let path = x["path"].as_str().ok_or("exchange without path")?;
            let status = x["status"].as_u64().ok_or("exchange without status")? as u16;
            let body = match &x["response"] {
                serde_json::Value::String(s) => Bytes::from(s.clone()),
                other => Bytes::from(serde_json::to_vec(other).map_err(|e| e.to_string())?),
            };
            let mut response = FakeResponse::raw(status, body);
            if let Some(headers) = x["headers"].as_object() {
                for (k, v) in headers {
                    let Some(v) = v.as_str() else { continue };
                    let v = v.replace("https://api.github.com", BASE_PLACEHOLDER);
                    response = response.with_header(k, &v);
                }
            }
            self.on(method, path, response);
            added += 1;
        }
        Ok(added)
    }

    /// Keeps issue and pull request comments in memory: `GET` and `POST
    /// /repos/{owner}/{repo}/issues/{number}/comments` list and create them, `PATCH
    /// /repos/{owner}/{repo}/issues/comments/{id}` edits one, as on GitHub. Routes set with
    /// [`on`](Self::on) for those paths still win.
    pub fn serve_issue_comments(&self) -> &Self {
        self.lock().comments.get_or_insert_with(Comments::default);
        self
    }

    /// The comments on issue or pull request `number` of `repo` (`owner/name`), oldest first,
    /// when [`serve_issue_comments`](Self::serve_issue_comments) is on.
    pub fn issue_comments(&self, repo: &str, number: u64) -> Vec<kova_core::IssueComment> {
        self.lock()
            .comments
            .as_ref()
            .map(|c| c.on(repo, number))
            .unwrap_or_default()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }
}

async fn handle(
    AxumState(state): AxumState<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    // Cloned out of the lock: the responder is the test's code and may take its time.
    let responder = state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .responder
        .clone();
    let answered = responder.and_then(|r| r(&recorded));
    let (response, base) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        let query = recorded.query_pairs();
        // The responder first, then the routes, then the in-memory comments.
        let routed = || {
            s.routes
                .iter_mut()
                .enumerate()
                .rev()
                .filter(|(_, r)| {
                    r.method == method
                        && r.path == recorded.path
                        && r.query.iter().all(|p| query.contains(p))
                })
                .max_by_key(|(i, r)| (r.query.len(), *i))
                .map(|(_, r)| {
                    if r.responses.len() > 1 {
                        r.responses.pop_front().unwrap_or_else(not_found)
                    } else {
                        r.responses.front().cloned().unwrap_or_else(not_found)
                    }
                })
        };
        let chosen = answered.or_else(routed);
        let base = s.base_url.clone();
        let chosen = match chosen {
            Some(r) => Some(r),
            None => s.comments.as_mut().and_then(|c| {
                c.answer(
                    recorded.method.as_str(),
                    &recorded.path,
                    &recorded.body,
                    &base,
                )
            }),
        };
        let if_none_match = recorded.header("if-none-match").map(str::to_string);
        s.requests.push(recorded);
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let response = chosen.unwrap_or_else(not_found);
        let response = match (response.etag(), if_none_match) {
            (Some(etag), Some(inm)) if etag == inm && (200..300).contains(&response.status) => {
                // A 304 has no body, and no `Link` either: clients must remember it.
                let headers = response
                    .headers
                    .iter()
                    .filter(|(k, _)| k != "link" && k != "content-type")
                    .cloned()
                    .collect();
                FakeResponse {
                    status: 304,
                    body: Bytes::new(),
                    headers,
                    ..response
                }
            }
            _ => response,
        };
        (response, s.base_url.clone())
    };
    if let Some(delay) = response.delay {
        tokio::time::sleep(delay).await;
    }
    state.lock().unwrap_or_else(|p| p.into_inner()).in_flight -= 1;
    build(response, &base)
}

fn not_found() -> FakeResponse {
    FakeResponse::error(404, "Not Found")
}

fn build(r: FakeResponse, base: &str) -> Response {
    let body = if r.reset {
        // Part of the body, then an error: hyper drops the connection mid-response.
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(r.body.clone()),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fake connection reset",
            )),
        ];
        Body::from_stream(futures::stream::iter(chunks))
    } else if r
        .body
        .windows(BASE_PLACEHOLDER.len())
        .any(|w| w == BASE_PLACEHOLDER.as_bytes())
    {
        Body::from(String::from_utf8_lossy(&r.body).replace(BASE_PLACEHOLDER, base))
    } else {
        Body::from(r.body.clone())
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::IM_A_TEAPOT);
    for (k, v) in &r.headers {
        // Lengths are the server's business (the body may have been rewritten).
        if k == "content-length" || k == "transfer-encoding" {
            continue;
        }
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v.replace(BASE_PLACEHOLDER, base)),
        ) else {
            continue;
        };
        response.headers_mut().append(name, value);
    }
    response
}
