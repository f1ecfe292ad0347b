//! The GitHub REST client: a [`SourceHost`](kova_core::SourceHost) that respects GitHub's limits.
//!
//! ```no_run
//! # async fn demo() -> kova_core::Result<()> {
//! use kova_core::SourceHost;
//! let github = kova_github::GitHub::builder().from_env().build()?;
//! let repo = github.get_repo(&"rust-lang/rust".parse()?).await?;
//! println!("{} stars; {:?}", repo.stars, github.stats());
//! # Ok(()) }
//! ```

mod cache;
mod endpoints;
mod hooks;
mod paginate;
mod ratelimit;
mod sleep;
mod transport;
mod wire;

pub use hooks::HookDelivery;
pub use ratelimit::RateLimitInfo;
pub use sleep::{Sleeper, TokioSleeper};

use crate::secret::Secret;
use cache::EtagCache;
use kova_core::{Clock, Error, Result, SystemClock, Timestamp};
use ratelimit::RateState;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Semaphore;
use url::Url;

/// The public GitHub API.
pub const GITHUB_API_URL: &str = "https://api.github.com";
/// The REST API version the client speaks.
pub const API_VERSION: &str = "2022-11-28";
/// The name errors carry as their `service`.
pub(crate) const SERVICE: &str = "github";

/// A GitHub (or GitHub Enterprise Server) REST client. Cheap to clone: clones share the
/// connection pool, the ETag cache, the rate-limit state and the stats.
#[derive(Clone)]
pub struct GitHub {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: Url,
    token: Option<Secret>,
    limits: Limits,
    semaphore: Semaphore,
    rate: Mutex<RateState>,
    /// Held for the whole of a write, so writes are serial and paced.
    write_gate: tokio::sync::Mutex<Option<Timestamp>>,
    cache: Mutex<EtagCache>,
    stats: Counters,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

/// Tunables of the client's politeness and persistence.
#[derive(Debug, Clone)]
struct Limits {
    max_retries: u32,
    max_rate_limit_retries: u32,
    max_rate_limit_wait: Duration,
    secondary_min_wait: Duration,
    write_interval: Duration,
    backoff_base: Duration,
    backoff_max: Duration,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    not_modified: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
}

/// What the client has done so far, for sync reports and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GitHubStats {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Of those, answered 304 Not Modified from the ETag cache.
    pub not_modified: u64,
    /// Requests repeated after a 5xx, a timeout or a dropped connection.
    pub retries: u64,
    /// Waits for a primary or secondary rate limit.
    pub rate_limit_waits: u64,
    /// The `core` limit as last reported.
    pub rate_limit: RateLimitInfo,
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("base_url", &self.inner.base.as_str())
            .field("token", &self.inner.token)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A builder with GitHub.com defaults and no token.
    pub fn builder() -> GitHubBuilder {
        GitHubBuilder::default()
    }

    /// The API base URL (ends with `/`).
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Counters since the client was built.
    pub fn stats(&self) -> GitHubStats {
        let c = &self.inner.stats;
        GitHubStats {
            requests: c.requests.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limit_waits: c.rate_limit_waits.load(Ordering::Relaxed),
            rate_limit: self.inner.rate().core.clone(),
        }
    }
}

impl Inner {
    fn rate(&self) -> MutexGuard<'_, RateState> {
        self.rate.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cache(&self) -> MutexGuard<'_, EtagCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `base` + path segments, each percent-encoded (a `/` inside a segment too).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .unwrap_or_else(|_| unreachable!("the builder only accepts http(s) base URLs"))
            .pop_if_empty()
            .extend(segments);
        url
    }
}

/// Builds a [`GitHub`] client.
#[derive(Debug, Clone)]
pub struct GitHubBuilder {
    base_url: String,
    token: Option<Secret>,
    user_agent: String,
    max_concurrency: usize,
    timeout: Duration,
    connect_timeout: Duration,
    cache_entries: usize,
    cache_bytes: usize,
    limits: Limits,
    clock: Option<Arc<dyn Clock>>,
    sleeper: Option<Arc<dyn Sleeper>>,
}

impl Default for GitHubBuilder {
    fn default() -> Self {
        GitHubBuilder {
            base_url: GITHUB_API_URL.to_string(),
            token: None,
            user_agent: concat!("kova/", env!("CARGO_PKG_VERSION")).to_string(),
            max_concurrency: 8,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            cache_entries: 1024,
            cache_bytes: 64 << 20,
            limits: Limits {
                max_retries: 3,
                max_rate_limit_retries: 3,
                max_rate_limit_wait: Duration::from_secs(15 * 60),
                secondary_min_wait: Duration::from_secs(60),
                write_interval: Duration::from_secs(1),
                backoff_base: Duration::from_millis(500),
                backoff_max: Duration::from_secs(30),
            },
            clock: None,
            sleeper: None,
        }
    }
}

impl GitHubBuilder {
    /// Reads `GITHUB_TOKEN` (or `KOVA_GITHUB_TOKEN`) and `KOVA_GITHUB_API_URL` (or
    /// `GITHUB_API_URL`, which GitHub Actions sets). Unset variables leave the defaults.
    pub fn from_env(self) -> Self {
        self.with_env_lookup(|k| std::env::var(k).ok())
    }

    pub(crate) fn with_env_lookup(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names.iter().find_map(|n| {
                get(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        if let Some(token) = first(&["KOVA_GITHUB_TOKEN", "GITHUB_TOKEN"]) {
            self.token = Some(Secret::new(token));
        }
        if let Some(url) = first(&["KOVA_GITHUB_API_URL", "GITHUB_API_URL"]) {
            self.base_url = url;
        }
        self
    }

    /// The API base: `https://api.github.com`, or `https://HOST/api/v3` for Enterprise Server.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The token sent as `Authorization: Bearer` (a PAT, an installation token…).
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The `User-Agent` (GitHub rejects requests without one).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// At most `n` requests in flight at once (default 8).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Retries of an idempotent request after a 5xx, a timeout or a dropped connection
    /// (default 3).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.limits.max_retries = n;
        self
    }

    /// Waits for rate limits per request before giving up with `RateLimited` (default 3).
    pub fn max_rate_limit_retries(mut self, n: u32) -> Self {
        self.limits.max_rate_limit_retries = n;
        self
    }

    /// The longest rate-limit wait the client sits out; a longer one fails at once with
    /// `Error::RateLimited { retry_after }` (default 15 minutes).
    pub fn max_rate_limit_wait(mut self, d: Duration) -> Self {
        self.limits.max_rate_limit_wait = d;
        self
    }

    /// The wait after a secondary limit without `retry-after` (default 60 s, GitHub's advice),
    /// doubled on each repeat.
    pub fn secondary_rate_limit_wait(mut self, d: Duration) -> Self {
        self.limits.secondary_min_wait = d;
        self
    }

    /// The minimum time between two writes (default 1 s, GitHub's advice).
    pub fn write_interval(mut self, d: Duration) -> Self {
        self.limits.write_interval = d;
        self
    }

    /// Retry backoff: attempt `n` waits about `base * 2^n`, at most `max` (default 500 ms, 30 s).
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.limits.backoff_base = base;
        self.limits.backoff_max = max;
        self
    }

    /// Timeout of one whole request (default 30 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Timeout of connecting (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Bounds of the ETag cache (default 1024 responses, 64 MiB); 0 entries disables it.
    pub fn cache(mut self, max_entries: usize, max_bytes: usize) -> Self {
        self.cache_entries = max_entries;
        self.cache_bytes = max_bytes;
        self
    }

    /// Where "now" comes from (rate-limit resets, write pacing).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How the client waits (tests inject one that records instead).
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = Some(sleeper);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<GitHub> {
        // Messages show the URL without a password it may (wrongly) carry.
        let shown = kova_core::config::redact_url(self.base_url.trim());
        let mut base = Url::parse(self.base_url.trim())
            .map_err(|e| Error::Config(format!("GitHub API URL '{shown}': {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "GitHub API URL '{shown}' must be an http(s) URL"
            )));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::Config(
                "GitHub API URL must not carry credentials; use the token".into(),
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        if self.user_agent.trim().is_empty() {
            return Err(Error::Config("GitHub requires a User-Agent".into()));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(transport::ACCEPT_JSON),
        );
        headers.insert(
            "x-github-api-version",
            reqwest::header::HeaderValue::from_static(API_VERSION),
        );
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .default_headers(headers)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(GitHub {
            inner: Arc::new(Inner {
                http,
                base,
                token: self.token.filter(|t| !t.is_empty()),
                limits: self.limits,
                semaphore: Semaphore::new(self.max_concurrency),
                rate: Mutex::new(RateState::default()),
                write_gate: tokio::sync::Mutex::new(None),
                cache: Mutex::new(EtagCache::new(self.cache_entries, self.cache_bytes)),
                stats: Counters::default(),
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                sleeper: self.sleeper.unwrap_or_else(|| Arc::new(TokioSleeper)),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_base_urls() {
        let env = |k: &str| match k {
            "GITHUB_TOKEN" => Some("ghp_test_not_a_real_token".to_string()),
            "KOVA_GITHUB_API_URL" => Some("https://ghe.example.com/api/v3".to_string()),
            _ => None,
        };
        let gh = GitHub::builder().with_env_lookup(env).build().unwrap();
        assert_eq!(gh.base_url(), "https://ghe.example.com/api/v3/");
        assert_eq!(
            gh.inner.url(&["repos", "o", "r"]).as_str(),
            "https://ghe.example.com/api/v3/repos/o/r"
        );
        assert_eq!(
            gh.inner.token.as_ref().unwrap().expose(),
            "ghp_test_not_a_real_token"
        );
        let dbg = format!("{gh:?}");
        assert!(!dbg.contains("ghp_test"), "{dbg}");

        let gh = GitHub::builder().with_env_lookup(|_| None).build().unwrap();
        assert_eq!(gh.base_url(), "https://api.github.com/");
        assert!(gh.inner.token.is_none());
        assert_eq!(
            gh.inner
                .url(&["repos", "o", "r", "contents", "a b#?.md"])
                .as_str(),
            "https://api.github.com/repos/o/r/contents/a%20b%23%3F.md"
        );
        assert_eq!(
            gh.inner.url(&["git", "trees", "feature/x"]).as_str(),
            "https://api.github.com/git/trees/feature%2Fx"
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        for url in [
            "not a url",
            "ftp://x/",
            "https://user:pw@api.github.com",
            "https://user:pw@ghe.example.com:99999/api/v3",
            "ftp://user:pw@ghe.example.com/",
        ] {
            match GitHub::builder().base_url(url).build() {
                Err(Error::Config(m)) => assert!(!m.contains("pw"), "the password leaked: {m}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(GitHub::builder().user_agent(" ").build().is_err());
    }
}
