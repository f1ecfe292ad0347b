//! The floor that ingest figures are read against: an axum handler that verifies the
//! `X-Hub-Signature-256` HMAC over the body and answers 202, persisting nothing. Issue 9 set its
//! targets beside such a handler (~50,000/s on the machine the targets were set on); this VM's
//! speed varies from day to day by a factor of two, so the README gives Kova's figures together
//! with this floor measured the same hour.
//!
//! ```sh
//! cargo build --release --example floor_receiver --example loadgen
//! ./target/release/examples/loadgen --secret s3cret --wrk-script /tmp/kova.lua
//! GITHUB_WEBHOOK_SECRET=s3cret KOVA_BIND=127.0.0.1:8001 ./target/release/examples/floor_receiver &
//! wrk -t2 -c64 -d15s --latency -s /tmp/kova.lua http://127.0.0.1:8001/webhooks/github
//! ```

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use kova::github::GitHubWebhooks;
use kova::HeaderSource;
use std::sync::Arc;

/// Reads headers straight from the request's map.
struct Headers<'a>(&'a HeaderMap);

impl HeaderSource for Headers<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn receive(
    State(hooks): State<Arc<GitHubWebhooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match hooks.verify(&Headers(&headers), &body) {
        Ok(()) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hooks = GitHubWebhooks::from_env();
    if hooks.secret_count() == 0 {
        return Err(
            "set GITHUB_WEBHOOK_SECRET: the floor verifies signatures like the server".into(),
        );
    }
    let bind = std::env::var("KOVA_BIND").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let app = Router::new()
        .route("/webhooks/github", post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(25 << 20))
        .with_state(Arc::new(hooks));
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("floor receiver (HMAC only, persists nothing) on http://{bind}/webhooks/github");
    axum::serve(listener, app).await?;
    Ok(())
}
