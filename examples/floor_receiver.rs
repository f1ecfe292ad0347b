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
//!
//! `FLOOR_BUSY_US=N` makes every request also burn N microseconds of CPU (a loop calibrated at
//! start-up), standing in for a server that costs that much more per delivery but does nothing
//! else: no I/O, no waiting, no batching. `scripts/latency-bound.sh` runs it at several costs:
//! the throughput and p99 it prints are what any server of that cost gets from this client on
//! this machine, the reference to read a real server's p99 against.

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

struct Floor {
    hooks: GitHubWebhooks,
    /// Rounds of [`burn`] per request (0: none).
    busy_rounds: u64,
}

async fn receive(State(floor): State<Arc<Floor>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    burn(floor.busy_rounds);
    match floor.hooks.verify(&Headers(&headers), &body) {
        Ok(()) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

/// CPU work the optimizer cannot remove: `rounds` dependent multiply-rotate steps.
fn burn(rounds: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..rounds {
        x = (x ^ (x >> 29))
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
            .rotate_left(7);
    }
    std::hint::black_box(x)
}

/// Rounds of [`burn`] per microsecond on this machine: the fastest of a few timed runs, since a
/// run can only be slowed (preempted), never sped up.
fn rounds_per_us() -> f64 {
    const ROUNDS: u64 = 2_000_000;
    (0..5)
        .map(|_| {
            let start = std::time::Instant::now();
            burn(ROUNDS);
            ROUNDS as f64 / start.elapsed().as_secs_f64() / 1e6
        })
        .fold(0.0, f64::max)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hooks = GitHubWebhooks::from_env();
    if hooks.secret_count() == 0 {
        return Err(
            "set GITHUB_WEBHOOK_SECRET: the floor verifies signatures like the server".into(),
        );
    }
    let busy_us: f64 = match std::env::var("FLOOR_BUSY_US") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|us: &f64| us.is_finite() && *us >= 0.0)
            .ok_or("FLOOR_BUSY_US: a number of microseconds, 0 or more")?,
        Err(_) => 0.0,
    };
    let busy_rounds = (busy_us * rounds_per_us()).round() as u64;
    let bind = std::env::var("KOVA_BIND").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let app = Router::new()
        .route("/webhooks/github", post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(25 << 20))
        .with_state(Arc::new(Floor { hooks, busy_rounds }));
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("floor receiver (HMAC only, persists nothing) on http://{bind}/webhooks/github");
    if busy_rounds > 0 {
        println!("burning {busy_us} us of CPU per request ({busy_rounds} rounds)");
    }
    axum::serve(listener, app).await?;
    Ok(())
}
