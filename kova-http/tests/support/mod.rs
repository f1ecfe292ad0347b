//! Shared set-up for the HTTP tests: an engine on the memory store with a scripted LLM, a fake
//! source host and a small HMAC webhook receiver, and request helpers.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use kova_core::handlers::HandlerSettings;
use kova_core::testing::{FakeSource, ScriptedLlm};
use kova_core::*;
use kova_http::{router, AppState, Auth, HttpConfig};
use serde_json::Value;
use sha2::Sha256;
use std::sync::Arc;
use tower::ServiceExt;

pub const SECRET: &str = "test-webhook-secret";
pub const READ_KEY: &str = "read-key-0123456789abcdef";
pub const WRITE_KEY: &str = "write-key-0123456789abcdef";
pub const ADMIN_KEY: &str = "admin-key-0123456789abcdef";
pub const JWT_SECRET: &str = "jwt-secret-for-tests-0123456789abcdef";

/// A minimal GitHub-style receiver: HMAC-SHA256 over the raw body, envelope from the JSON.
#[derive(Debug)]
pub struct TestReceiver;

impl WebhookReceiver for TestReceiver {
    fn name(&self) -> &str {
        "test"
    }
    fn receive(
        &self,
        headers: &dyn HeaderSource,
        body: Bytes,
        at: Timestamp,
    ) -> Result<WebhookDelivery> {
        let sig = headers
            .header("x-hub-signature-256")
            .ok_or(Error::Signature(SignatureError::Missing))?;
        let hex_sig =
            sig.strip_prefix("sha256=")
                .ok_or(Error::Signature(SignatureError::Malformed(
                    "no sha256= prefix",
                )))?;
        let bytes = hex::decode(hex_sig)
            .map_err(|_| Error::Signature(SignatureError::Malformed("bad hex")))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&body);
        mac.verify_slice(&bytes)
            .map_err(|_| Error::Signature(SignatureError::Mismatch))?;
        let event = headers
            .header("x-github-event")
            .ok_or_else(|| Error::invalid("X-GitHub-Event", "missing"))?;
        let id = headers
            .header("x-github-delivery")
            .ok_or_else(|| Error::invalid("X-GitHub-Delivery", "missing"))?;
        let v: Value =
            serde_json::from_slice(&body).map_err(|e| Error::invalid("body", e.to_string()))?;
        let mut d = WebhookDelivery::new(id, event, body.clone(), at);
        d.action = v["action"].as_str().map(str::to_string);
        d.repo = v["repository"]["full_name"]
            .as_str()
            .and_then(|s| s.parse().ok());
        Ok(d)
    }
}

pub fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub struct App {
    pub router: Router,
    pub state: AppState,
    pub llm: Arc<ScriptedLlm>,
    pub source: Arc<FakeSource>,
    pub store: Arc<dyn Store>,
}

pub fn auth() -> Auth {
    Auth::none()
        .with_api_keys(&format!(
            "read:{READ_KEY},write:{WRITE_KEY},admin:{ADMIN_KEY}"
        ))
        .unwrap()
        .with_jwt_secret(JWT_SECRET)
        .unwrap()
}

pub fn app_with(config: HttpConfig, with_llm: bool, with_receiver: bool) -> App {
    let store: Arc<dyn Store> = Arc::new(kova_store::MemoryStore::new());
    let llm = Arc::new(ScriptedLlm::new());
    let source = Arc::new(FakeSource::new());
    let mut b = Kova::builder(store.clone())
        .source(source.clone())
        .default_handlers(HandlerSettings::default());
    if with_llm {
        b = b.llm(llm.clone());
    }
    if with_receiver {
        b = b.receiver(Arc::new(TestReceiver));
    }
    let kova = b.build().unwrap();
    let state = AppState::builder(kova).auth(auth()).config(config).build();
    App {
        router: router(state.clone()),
        state,
        llm,
        source,
        store,
    }
}

pub fn app() -> App {
    app_with(HttpConfig::default().with_rate_limit(None), true, true)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    b.body(Body::empty()).unwrap()
}

pub fn post_json(path: &str, key: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

pub fn webhook(
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: Option<String>,
) -> Request<Body> {
    let mut b = Request::post("/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery);
    if let Some(s) = signature {
        b = b.header("x-hub-signature-256", s);
    }
    b.body(Body::from(body.to_vec())).unwrap()
}
