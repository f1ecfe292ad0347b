//! The example server: `cargo run --release --example server`.
//!
//! Configured from the environment, with defaults that work on a fresh machine:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `KOVA_BIND` | `127.0.0.1:8000` | listen address |
//! | `DATABASE_URL` | `sqlite://kova.db` | `sqlite://path`, `postgres://…` or `memory:` |
//! | `GITHUB_WEBHOOK_SECRET` | — | webhook secret(s), comma-separated while rotating; without one webhooks are refused |
//! | `KOVA_ALLOW_UNSIGNED_WEBHOOKS` | — | `1`: accept unsigned webhooks when no secret is set (local development only) |
//! | `GITHUB_TOKEN`, `KOVA_GITHUB_API_URL` | anonymous, api.github.com | GitHub REST access (Enterprise Server: `https://host/api/v3`) |
//! | `KOVA_GITHUB_WRITE_INTERVAL_MS` | `1000` | pause between this process's GitHub writes (comments), as GitHub asks of integrations; `0` for none |
//! | `ANTHROPIC_API_KEY`, `KOVA_ANTHROPIC_BASE_URL`, `KOVA_CLAUDE_MODEL` | — | Claude; without a key the AI endpoints answer 503 |
//! | `KOVA_API_KEYS` | — | `role:key,…` with roles read, write, admin |
//! | `KOVA_JWT_SECRET` | — | accept HS256 JWTs with a `roles` claim |
//! | `KOVA_REPOS_CONFIG` | — | path of `kova_repos_config.json` |
//! | `KOVA_WORKERS` | `2` | webhook workers in this process (0: ingest only) |
//! | `KOVA_JOB_LEASE_SECS` | `120` | how long a claimed job stays reserved for its worker (renewed every third of it while the job runs); a crashed process's jobs run again this long after their last renewal |
//! | `KOVA_LOG_FORMAT` | `text` | `json` for structured logs |
//! | `KOVA_CORS_ORIGINS` | — | comma-separated origins, or `*` |
//! | `KOVA_METRICS_PUBLIC` | — | `1`: `/metrics` without credentials |
//! | `KOVA_SCAN_ROOTS` | — | directories `/api/scan` may read, comma-separated |
//! | `KOVA_RATE_LIMIT` | `20/100` | per-credential requests per second / burst; `off` to disable |
//!
//! It prints where it listens, which store it uses and which integrations are configured, and
//! stops gracefully on Ctrl-C or SIGTERM: it stops accepting, finishes in-flight requests, and
//! lets workers finish or release their jobs.

use kova::config::ReposConfig;
use kova::handlers::{HandlerSettings, Respond};
use kova::http::{router, AppState, Auth, HttpConfig, MeteredLlm, Metrics};
use kova::{
    Clock, EngineSettings, Kova, LlmProvider, SourceHost, Store, SystemClock, TokioSleeper,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

// The server's choice, not the library's: with glibc's allocator, malloc and free took ~7% of
// the server's CPU under webhook load; with mimalloc ingest measured 1.05–1.10× the deliveries
// per second in the same hour. Built without transparent huge pages (Cargo.toml), it costs
// ~10 MB more resident memory than glibc (README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn flag(name: &str) -> bool {
    matches!(env(name).as_deref(), Some("1" | "true" | "yes"))
}

fn list(name: &str) -> Vec<String> {
    env(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the server until Ctrl-C or SIGTERM. Public so the process tests (`tests/process`) can
/// run this very server as a child process.
#[tokio::main]
pub async fn main() {
    let json_logs = env("KOVA_LOG_FORMAT").as_deref() == Some("json");
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    if let Err(e) = run().await {
        eprintln!("kova server: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let bind: SocketAddr = env("KOVA_BIND")
        .unwrap_or_else(|| "127.0.0.1:8000".into())
        .parse()
        .map_err(|e| format!("KOVA_BIND: {e}"))?;
    let url = env("DATABASE_URL").unwrap_or_else(|| "sqlite://kova.db".into());
    let store: Arc<dyn Store> = kova::store::open(&url).await?;
    let metrics = Arc::new(Metrics::new());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    let repos_config = match env("KOVA_REPOS_CONFIG") {
        Some(path) => Some((
            ReposConfig::load(&PathBuf::from(&path))?,
            PathBuf::from(path),
        )),
        None => None,
    };

    // Webhooks: fail closed without a secret, unless explicitly allowed for local development.
    let secrets: Vec<kova::github::Secret> = list("GITHUB_WEBHOOK_SECRET")
        .into_iter()
        .chain(list("KOVA_GITHUB_WEBHOOK_SECRET"))
        .map(kova::github::Secret::new)
        .collect();
    let unsigned = secrets.is_empty() && flag("KOVA_ALLOW_UNSIGNED_WEBHOOKS");
    let receiver = kova::github::GitHubWebhooks::new(secrets.clone()).allow_unsigned(unsigned);

    let mut github = kova::github::GitHub::builder().from_env();
    if let Some(ms) = env("KOVA_GITHUB_WRITE_INTERVAL_MS") {
        let ms: u64 = ms
            .parse()
            .map_err(|_| "KOVA_GITHUB_WRITE_INTERVAL_MS: a whole number of milliseconds")?;
        github = github.write_interval(Duration::from_millis(ms));
    }
    let github = Arc::new(github.build()?);
    let gh = github.clone();
    metrics.set_github_remaining(move || gh.stats().rate_limit.remaining);
    let source: Arc<dyn SourceHost> = github.clone();

    let llm: Option<Arc<dyn LlmProvider>> =
        if env("ANTHROPIC_API_KEY").is_some() || env("KOVA_ANTHROPIC_API_KEY").is_some() {
            let claude: Arc<dyn LlmProvider> = Arc::new(kova::claude::Anthropic::from_env()?);
            Some(Arc::new(MeteredLlm::new(claude, metrics.clone())))
        } else {
            None
        };

    // Multi-repository sync: the repositories file (when given) and the store.
    let mut sync_builder = kova::sync::SyncService::builder(store.clone(), source.clone())
        .with_llm(llm.clone())
        .with_clock(clock.clone())
        .with_sleeper(Arc::new(TokioSleeper));
    if let Some((cfg, path)) = &repos_config {
        sync_builder = sync_builder.with_config(cfg.clone(), Some(path.clone()));
    }
    let sync = sync_builder.build();
    let auto_sync = Arc::new(kova::sync::AutoSync::new(sync.clone()));

    let respond = repos_config
        .as_ref()
        .map(|(c, _)| Respond::from_config(c))
        .unwrap_or_default();
    let mut handler_settings = HandlerSettings::default().with_respond(respond);
    if sync.sync_settings().sync_on_push {
        let auto = auto_sync.clone();
        handler_settings =
            handler_settings.with_push_hook(Arc::new(move |repo: &kova::RepoRef| {
                auto.notify_push(repo);
            }));
    }
    let lease = match env("KOVA_JOB_LEASE_SECS") {
        None => EngineSettings::default().lease,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|s| *s >= 1)
            .map(Duration::from_secs)
            .ok_or("KOVA_JOB_LEASE_SECS: a whole number of seconds, at least 1")?,
    };
    let mut builder = Kova::builder(store.clone())
        .settings(EngineSettings::default().with_lease(lease))
        .source(source.clone())
        .receiver(Arc::new(receiver))
        .clock(clock.clone())
        .sleeper(Arc::new(TokioSleeper))
        .default_handlers(handler_settings);
    if let Some(l) = &llm {
        builder = builder.llm(l.clone());
    }
    let engine = builder.build()?;

    if let Some((config, path)) = &repos_config {
        let now = clock.now();
        for entry in &config.repositories {
            if store.get_repository(&entry.repo).await?.is_none() {
                store.upsert_repository(&entry.to_repository(now)).await?;
            }
        }
        println!(
            "repositories: {} configured for {} (from {})",
            config.repositories.len(),
            config.github_owner,
            path.display()
        );
    }

    let mut auth = Auth::none();
    if let Some(keys) = env("KOVA_API_KEYS") {
        auth = auth.with_api_keys(&keys)?;
    }
    if let Some(secret) = env("KOVA_JWT_SECRET") {
        auth = auth.with_jwt_secret(&secret)?;
    }
    let rate_limit = match env("KOVA_RATE_LIMIT").as_deref() {
        None => Some((20.0, 100.0)),
        Some("off") => None,
        Some(spec) => {
            let (r, b) = spec
                .split_once('/')
                .ok_or("KOVA_RATE_LIMIT: use rate/burst, e.g. 20/100, or off")?;
            Some((
                r.parse().map_err(|_| "KOVA_RATE_LIMIT: bad rate")?,
                b.parse().map_err(|_| "KOVA_RATE_LIMIT: bad burst")?,
            ))
        }
    };
    let config = HttpConfig::default()
        .with_cors_origins(list("KOVA_CORS_ORIGINS"))
        .with_metrics_public(flag("KOVA_METRICS_PUBLIC"))
        .with_scan_roots(
            list("KOVA_SCAN_ROOTS")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        )
        .with_rate_limit(rate_limit);
    let state = AppState::builder(engine.clone())
        .auth(auth.clone())
        .metrics(metrics.clone())
        .config(config)
        .sync(sync.clone())
        .build();

    // Auto-sync on an interval and after pushes, when the repositories file asks for it.
    let (stop_sync, sync_stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = sync.sync_settings();
    let scheduler = if settings.auto_sync_enabled || settings.sync_on_push {
        let auto = auto_sync.clone();
        Some(tokio::spawn(async move {
            auto.run(&TokioSleeper, async move {
                let _ = sync_stopped.await;
            })
            .await
        }))
    } else {
        None
    };

    let workers: usize = env("KOVA_WORKERS")
        .map(|w| w.parse())
        .transpose()
        .map_err(|_| "KOVA_WORKERS: not a number")?
        .unwrap_or(2);
    let host = env("HOSTNAME").unwrap_or_else(|| "kova".into());
    let pool = engine.spawn_workers(workers, &format!("{host}-{}", std::process::id()));

    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("kova listening on http://{}", listener.local_addr()?);
    println!(
        "store: {} ({})",
        store.backend(),
        kova::store::redact_url(&url)
    );
    println!(
        "webhooks: {}",
        if !secrets.is_empty() {
            format!("{} secret(s) configured", secrets.len())
        } else if unsigned {
            "UNSIGNED deliveries accepted (KOVA_ALLOW_UNSIGNED_WEBHOOKS; local development only)"
                .into()
        } else {
            "refused until GITHUB_WEBHOOK_SECRET is set".into()
        }
    );
    println!(
        "github: {} ({})",
        if env("GITHUB_TOKEN").is_some() {
            "token"
        } else {
            "anonymous"
        },
        github.base_url()
    );
    println!(
        "llm: {}",
        llm.as_ref()
            .map(|l| l.capabilities().model)
            .unwrap_or_else(|| "not configured (set ANTHROPIC_API_KEY)".into())
    );
    println!(
        "api auth: {}",
        if auth.is_configured() {
            "configured"
        } else {
            "none configured: protected endpoints refuse every request (set KOVA_API_KEYS)"
        }
    );
    println!("workers: {workers} (job lease {} s)", lease.as_secs());
    println!(
        "auto-sync: {}",
        if scheduler.is_some() {
            format!(
                "every {} min, on push: {}",
                settings.sync_interval_minutes, settings.sync_on_push
            )
        } else {
            "off".into()
        }
    );

    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    println!("kova: stopped accepting; waiting for workers");
    let _ = stop_sync.send(());
    if let Some(s) = scheduler {
        let _ = s.await;
    }
    tokio::time::timeout(Duration::from_secs(60), pool.shutdown())
        .await
        .ok();
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
