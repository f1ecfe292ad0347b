//! The fake Anthropic server.

use super::script::{Chunk, FakeBody, FakeResponse};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One request the fake received. Its `Debug` hides credential headers, so a failing
/// assertion never prints a key (even a test one).
#[derive(Clone)]
pub struct RecordedRequest {
    /// `POST`.
    pub method: String,
    /// `/v1/messages` or `/v1/messages/count_tokens`.
    pub path: String,
    /// Header names (lowercase) and values, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| match n.as_str() {
                "x-api-key" | "authorization" => (n.as_str(), "***"),
                _ => (n.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl RecordedRequest {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Answers a request from what it contains, before the queue is consulted: `Some` is the
/// answer, `None` leaves the request to the queue and the fallback. See
/// [`FakeAnthropic::set_responder`].
pub type Responder = Arc<dyn Fn(&RecordedRequest) -> Option<FakeResponse> + Send + Sync>;

struct Shared {
    script: Mutex<VecDeque<FakeResponse>>,
    fallback: Mutex<Option<FakeResponse>>,
    responder: Mutex<Option<Responder>>,
    requests: Mutex<Vec<RecordedRequest>>,
    recording: AtomicBool,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("script", &lock(&self.script).len())
            .field("fallback", &lock(&self.fallback).is_some())
            .field("responder", &lock(&self.responder).is_some())
            .field("requests", &lock(&self.requests).len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A Messages API on 127.0.0.1 (a free port) that answers from a queue of scripted responses
/// and records every request. Like the real API it answers 401 without `x-api-key` and 400
/// without `anthropic-version` (without using up a scripted response). A
/// [responder](Self::set_responder), if set, answers first; then the queue; when the queue is
/// empty it answers with the fallback response, if set, or with a 500 that names the problem,
/// so a test notices an unexpected call. Stops when dropped.
#[derive(Debug)]
pub struct FakeAnthropic {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAnthropic {
    /// Starts the server on the current tokio runtime.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> FakeAnthropic {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for FakeAnthropic");
        let addr = listener.local_addr().expect("local address");
        // Without TCP_NODELAY, each small SSE write waits for the previous one's delayed ACK
        // (~40 ms on Linux): a stall real servers do not have.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let shared = Arc::new(Shared {
            script: Mutex::default(),
            fallback: Mutex::default(),
            responder: Mutex::default(),
            requests: Mutex::default(),
            recording: AtomicBool::new(true),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            // Ends when the task is aborted on drop.
            let _ = axum::serve(listener, app).await;
        });
        FakeAnthropic { addr, shared, task }
    }

    /// The base URL to configure the client with (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a response.
    pub fn push(&self, response: FakeResponse) -> &Self {
        lock(&self.shared.script).push_back(response);
        self
    }

    /// Answers with `response` whenever the queue is empty (for benchmarks and load).
    pub fn set_fallback(&self, response: FakeResponse) -> &Self {
        *lock(&self.shared.fallback) = Some(response);
        self
    }

    /// Answers every authenticated request with `responder(&request)` when it returns `Some`;
    /// `None` leaves the request to the queue and the fallback. The responder sees each request
    /// (recorded or not), may keep state, and is called on the server's tasks, concurrently:
    /// for fault injection (a seeded share of 429s, 529s and slow answers) and answers that
    /// depend on the prompt. Replaces any earlier responder.
    pub fn set_responder(
        &self,
        responder: impl Fn(&RecordedRequest) -> Option<FakeResponse> + Send + Sync + 'static,
    ) -> &Self {
        *lock(&self.shared.responder) = Some(Arc::new(responder));
        self
    }

    /// Removes the responder: the queue and the fallback answer everything again.
    pub fn clear_responder(&self) -> &Self {
        *lock(&self.shared.responder) = None;
        self
    }

    /// Scripted responses not yet used.
    pub fn remaining(&self) -> usize {
        lock(&self.shared.script).len()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Whether requests are recorded (on by default; a long benchmark turns it off so memory
    /// stays flat).
    pub fn set_recording(&self, on: bool) -> &Self {
        self.shared.recording.store(on, Ordering::Relaxed);
        self
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let has_key = recorded.header("x-api-key").is_some_and(|k| !k.is_empty());
    let has_version = recorded.header("anthropic-version").is_some();
    // Cloned out of the lock: the responder is the test's code and may take its time.
    let responder = lock(&shared.responder).clone();
    let answered = match &responder {
        Some(r) if has_key && has_version => r(&recorded),
        _ => None,
    };
    if shared.recording.load(Ordering::Relaxed) {
        lock(&shared.requests).push(recorded);
    }

    let scripted = if !has_key {
        FakeResponse::error(401, "authentication_error", "x-api-key header is required")
    } else if !has_version {
        FakeResponse::error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        )
    } else if let Some(r) = answered {
        r
    } else {
        let next = lock(&shared.script).pop_front();
        match next.or_else(|| lock(&shared.fallback).clone()) {
            Some(r) => r,
            None => {
                FakeResponse::error(500, "api_error", "FakeAnthropic: no scripted response left")
            }
        }
    };
    if !scripted.delay.is_zero() {
        tokio::time::sleep(scripted.delay).await;
    }
    respond(scripted)
}

fn respond(r: FakeResponse) -> Response {
    let body = match r.body {
        FakeBody::Full(bytes) => Body::from(bytes),
        FakeBody::Chunks(chunks) => {
            let stream = futures::stream::unfold(chunks.into_iter(), |mut it| async move {
                loop {
                    match it.next()? {
                        Chunk::Bytes(b) => return Some((Ok(b), it)),
                        Chunk::Delay(d) => tokio::time::sleep(d).await,
                        Chunk::Abort => {
                            // Let the server flush what was written first: an error on the
                            // first poll would drop the response before its headers.
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            let e = std::io::Error::new(
                                std::io::ErrorKind::ConnectionAborted,
                                "FakeAnthropic: scripted abort",
                            );
                            return Some((Err(e), it));
                        }
                    }
                }
            });
            Body::from_stream(stream)
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    h.insert(
        "request-id",
        "req_fake_0123456789".parse().expect("static header"),
    );
    for (name, value) in r.headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    }
    response
}
