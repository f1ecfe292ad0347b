//! What every handler shares, and the server's HTTP settings.

use crate::auth::Auth;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use kova_core::artifacts::ArtifactService;
use kova_core::sync::SyncService;
use kova_core::Kova;
use std::sync::Arc;
use std::time::Duration;

/// HTTP settings. `Default` matches the documented limits.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Largest webhook body (GitHub caps payloads at 25 MB).
    pub webhook_body_limit: usize,
    /// Largest body on every other endpoint.
    pub body_limit: usize,
    /// Requests taking longer are answered 408.
    pub request_timeout: Duration,
    /// Origins allowed by CORS (`*` for any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Whether `/metrics` is public (otherwise it needs the read role).
    pub metrics_public: bool,
    /// Per-credential rate limit: requests per second and burst; `None`: unlimited.
    pub rate_limit: Option<(f64, f64)>,
    /// Directories `POST /api/scan` may scan on this machine; empty: local scans refused.
    pub scan_roots: Vec<std::path::PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            webhook_body_limit: 25 * 1024 * 1024,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            cors_origins: Vec::new(),
            metrics_public: false,
            rate_limit: Some((20.0, 100.0)),
            scan_roots: Vec::new(),
        }
    }
}

impl HttpConfig {
    /// Sets the CORS origins.
    pub fn with_cors_origins(mut self, origins: Vec<String>) -> Self {
        self.cors_origins = origins;
        self
    }
    /// Makes `/metrics` public or protected.
    pub fn with_metrics_public(mut self, public: bool) -> Self {
        self.metrics_public = public;
        self
    }
    /// Sets the per-credential rate limit.
    pub fn with_rate_limit(mut self, limit: Option<(f64, f64)>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// Allows local scans under these directories.
    pub fn with_scan_roots(mut self, roots: Vec<std::path::PathBuf>) -> Self {
        self.scan_roots = roots;
        self
    }
    /// Sets the request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
    /// Sets the body limits (webhooks, everything else).
    pub fn with_body_limits(mut self, webhook: usize, other: usize) -> Self {
        self.webhook_body_limit = webhook;
        self.body_limit = other;
        self
    }
}

/// The state behind the router. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub kova: Kova,
    pub auth: Auth,
    pub metrics: Arc<Metrics>,
    pub config: HttpConfig,
    pub limiter: RateLimiter,
    pub artifacts: Arc<ArtifactService>,
    pub sync: Option<SyncService>,
}

impl AppState {
    /// State over an engine, with no credentials (protected endpoints refuse) and defaults.
    pub fn new(kova: Kova) -> Self {
        Self::builder(kova).build()
    }

    /// Starts building state over an engine.
    pub fn builder(kova: Kova) -> AppStateBuilder {
        AppStateBuilder {
            kova,
            auth: Auth::none(),
            metrics: Arc::new(Metrics::new()),
            config: HttpConfig::default(),
            artifacts: None,
            sync: None,
        }
    }

    /// The artifact service (generation, analysis, commands, scans).
    pub fn artifacts(&self) -> &ArtifactService {
        &self.inner.artifacts
    }

    /// The sync service, if configured.
    pub fn sync(&self) -> Option<&SyncService> {
        self.inner.sync.as_ref()
    }

    pub(crate) fn artifacts_arc(&self) -> Arc<ArtifactService> {
        self.inner.artifacts.clone()
    }

    /// The engine.
    pub fn kova(&self) -> &Kova {
        &self.inner.kova
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The HTTP settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }
}

/// Builds [`AppState`].
#[derive(Debug)]
pub struct AppStateBuilder {
    kova: Kova,
    auth: Auth,
    metrics: Arc<Metrics>,
    config: HttpConfig,
    artifacts: Option<Arc<ArtifactService>>,
    sync: Option<SyncService>,
}

impl AppStateBuilder {
    /// The multi-repository sync service (`/multi-repo/*`); without it those endpoints answer
    /// 503.
    pub fn sync(mut self, service: SyncService) -> Self {
        self.sync = Some(service);
        self
    }

    /// The artifact service; by default one is built over the engine's store, LLM, source host
    /// and clock.
    pub fn artifacts(mut self, service: Arc<ArtifactService>) -> Self {
        self.artifacts = Some(service);
        self
    }
    /// The credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    /// Shares metrics (e.g. with a `MeteredLlm` built before the engine).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
    /// The HTTP settings.
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = config;
        self
    }
    /// Builds the state.
    pub fn build(self) -> AppState {
        let limiter = RateLimiter::new(self.config.rate_limit);
        let k = &self.kova;
        let sync = self.sync;
        let artifacts = self.artifacts.unwrap_or_else(|| {
            let mut service = ArtifactService::new(
                k.store().clone(),
                k.llm().cloned(),
                k.source().cloned(),
                k.clock().clone(),
            );
            if let Some(s) = &sync {
                // The syncer also lends its repositories file, as it is at each call.
                service = service.with_syncer(Arc::new(s.clone()));
            }
            Arc::new(service)
        });
        AppState {
            inner: Arc::new(Inner {
                kova: self.kova,
                auth: self.auth,
                metrics: self.metrics,
                config: self.config,
                limiter,
                artifacts,
                sync,
            }),
        }
    }
}
