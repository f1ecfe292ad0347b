//! The example server: `cargo run --release --example server --features http`.
//!
//! Configured from the environment:
//! - `KOVA_BIND` (default `127.0.0.1:8000`)
//! - `DATABASE_URL` (default `sqlite://kova.db`, a file in the working directory; also
//!   `memory:` and, with the `postgres` feature, `postgres://…`)
//! - `KOVA_REPOS_CONFIG` (optional path to `kova_repos_config.json`, validated at start and
//!   its repositories recorded in the store)
//!
//! It prints where it listens and which store it uses, and stops on Ctrl-C or SIGTERM.

use kova::store::open;
use kova::{config::ReposConfig, Clock, Store, SystemClock};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(e) = run().await {
        eprintln!("kova server: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let bind: SocketAddr = std::env::var("KOVA_BIND")
        .unwrap_or_else(|_| "127.0.0.1:8000".into())
        .parse()
        .map_err(|e| format!("KOVA_BIND: {e}"))?;
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://kova.db".into());
    let store: Arc<dyn Store> = open(&url).await?;

    if let Ok(path) = std::env::var("KOVA_REPOS_CONFIG") {
        let config = ReposConfig::load(&PathBuf::from(&path))?;
        let now = SystemClock.now();
        for entry in &config.repositories {
            if store.get_repository(&entry.repo).await?.is_none() {
                store.upsert_repository(&entry.to_repository(now)).await?;
            }
        }
        println!(
            "repositories: {} configured for {} (from {path})",
            config.repositories.len(),
            config.github_owner
        );
    }

    let app = kova::http::router(kova::http::AppState::new(store.clone()));
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("kova listening on http://{}", listener.local_addr()?);
    println!("store: {}", store.backend());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    println!("kova stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
