//! Configuring the client: [`AnthropicBuilder`], from code or the environment.

use crate::client::{
    Anthropic, Inner, API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
use crate::models::DEFAULT_MODEL;
use crate::pricing::PriceTable;
use crate::retry::{RetryPolicy, Sleeper, TokioSleeper};
use crate::secret::ApiKey;
use kova_core::{Error, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Url;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Configuration for [`Anthropic`]. Every setting has a default except the API key.
#[derive(Clone)]
pub struct AnthropicBuilder {
    api_key: Option<ApiKey>,
    base_url: String,
    model: String,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    connect_timeout: Duration,
    timeout: Duration,
    stream_idle_timeout: Duration,
    retry: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
    prices: PriceTable,
    headers: Vec<(String, String)>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for AnthropicBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Extra headers may carry a proxy's credentials: names only.
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("AnthropicBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("base_url", &kova_core::config::redact_url(&self.base_url))
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("retry", &self.retry)
            .field("headers", &header_names)
            .finish_non_exhaustive()
    }
}

impl Default for AnthropicBuilder {
    fn default() -> Self {
        AnthropicBuilder {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            max_tokens: None,
            temperature: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            stream_idle_timeout: DEFAULT_STREAM_IDLE_TIMEOUT,
            retry: RetryPolicy::default(),
            sleeper: Arc::new(TokioSleeper),
            prices: PriceTable::default(),
            headers: Vec::new(),
            http: None,
        }
    }
}

impl AnthropicBuilder {
    /// A builder from the environment: the key from `KOVA_ANTHROPIC_API_KEY` or
    /// `ANTHROPIC_API_KEY`, the base URL from `KOVA_ANTHROPIC_BASE_URL` or `ANTHROPIC_BASE_URL`,
    /// the model from `KOVA_CLAUDE_MODEL`. Empty variables count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| get(n))
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        let mut b = AnthropicBuilder::default();
        if let Some(key) = var(&["KOVA_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"]) {
            b = b.api_key(key);
        }
        if let Some(url) = var(&["KOVA_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"]) {
            b = b.base_url(url);
        }
        if let Some(model) = var(&["KOVA_CLAUDE_MODEL"]) {
            b = b.model(model);
        }
        b
    }

    /// The API key (required).
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The API's base URL (default [`DEFAULT_BASE_URL`]); a path prefix is kept, for proxies.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The model used when a request names none (default [`DEFAULT_MODEL`]).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Output tokens asked for when a request does not say (default:
    /// [`DEFAULT_MAX_TOKENS`](crate::DEFAULT_MAX_TOKENS), capped at the model's limit).
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Temperature used when a request does not say (default: the API's).
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Longest time to connect (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Longest time for one attempt of a request, body included; for a stream, for its
    /// response headers (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Longest silence between two pieces of a stream (default
    /// [`DEFAULT_STREAM_IDLE_TIMEOUT`]).
    pub fn stream_idle_timeout(mut self, d: Duration) -> Self {
        self.stream_idle_timeout = d;
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Shorthand for the number of retries of the retry policy.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }

    /// What waits between retries (default [`TokioSleeper`]).
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The prices costs are computed from (default [`PriceTable::default`]).
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// A header sent with every request (e.g. `anthropic-beta`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends through this HTTP client (shared pool, proxy settings); the connect timeout is
    /// then the client's own.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Anthropic> {
        let key = self
            .api_key
            .filter(|k| !k.expose().trim().is_empty())
            .ok_or_else(|| Error::NotConfigured {
                what: "llm",
                hint: "set ANTHROPIC_API_KEY (or call AnthropicBuilder::api_key)".to_owned(),
            })?;
        let base_url = parse_base_url(&self.base_url)?;
        let join = |path: &str| {
            Url::parse(&format!(
                "{}{path}",
                base_url.as_str().trim_end_matches('/')
            ))
            .map_err(|e| Error::Config(format!("anthropic base URL: {e}")))
        };
        if self.model.trim().is_empty() {
            return Err(Error::Config(
                "anthropic model must not be empty".to_owned(),
            ));
        }
        if self.max_tokens == Some(0) {
            return Err(Error::Config(
                "anthropic max_tokens must be at least 1".to_owned(),
            ));
        }
        if let Some(t) = self.temperature {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::Config(
                    "anthropic temperature must be between 0.0 and 1.0".to_owned(),
                ));
            }
        }
        let headers = request_headers(&key, &self.headers)?;
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                // A redirected POST would be replayed as a GET: show the redirect instead.
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("kova/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Config(format!("anthropic HTTP client: {e}")))?,
        };
        Ok(Anthropic {
            inner: Arc::new(Inner {
                http,
                messages_url: join("/v1/messages")?,
                count_tokens_url: join("/v1/messages/count_tokens")?,
                base_url,
                key,
                headers,
                model: self.model.trim().to_owned(),
                max_tokens: self.max_tokens,
                temperature: self.temperature,
                timeout: self.timeout,
                stream_idle_timeout: self.stream_idle_timeout,
                retry: self.retry,
                sleeper: self.sleeper,
                prices: Arc::new(self.prices),
            }),
        })
    }
}

fn parse_base_url(s: &str) -> Result<Url> {
    // Messages show the URL without a password a proxy URL may carry.
    let shown = kova_core::config::redact_url(s.trim());
    let url = Url::parse(s.trim())
        .map_err(|e| Error::Config(format!("anthropic base URL {shown:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Config(format!(
            "anthropic base URL {shown:?}: must be an http(s) URL with a host"
        )));
    }
    Ok(url)
}

fn request_headers(key: &ApiKey, extra: &[(String, String)]) -> Result<HeaderMap> {
    let mut h = HeaderMap::new();
    let mut key_value = HeaderValue::from_str(key.expose())
        .map_err(|_| Error::Config("anthropic API key contains invalid characters".to_owned()))?;
    key_value.set_sensitive(true);
    h.insert("x-api-key", key_value);
    h.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in extra {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Config(format!("invalid header name {name:?}")))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| Error::Config(format!("invalid value for header {name}")))?;
        value.set_sensitive(true);
        h.insert(name, value);
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::DEFAULT_MAX_TOKENS;
    use std::collections::HashMap;

    #[test]
    fn build_needs_a_key_and_a_sane_url() {
        assert!(matches!(
            Anthropic::builder().build(),
            Err(Error::NotConfigured { what: "llm", .. })
        ));
        assert!(matches!(
            Anthropic::builder().api_key("  ").build(),
            Err(Error::NotConfigured { .. })
        ));
        let bad = Anthropic::builder()
            .api_key("sk-ant-test-not-a-real-key")
            .base_url("ftp://example.com")
            .build();
        assert!(matches!(bad, Err(Error::Config(_))));
        let ok = Anthropic::builder()
            .api_key("sk-ant-test-not-a-real-key")
            .base_url("http://127.0.0.1:9/proxy/")
            .build()
            .unwrap();
        assert_eq!(
            ok.inner.messages_url.as_str(),
            "http://127.0.0.1:9/proxy/v1/messages"
        );
        assert_eq!(
            ok.inner.count_tokens_url.as_str(),
            "http://127.0.0.1:9/proxy/v1/messages/count_tokens"
        );
    }

    #[test]
    fn env_configures_key_url_and_model_and_debug_hides_the_key() {
        let env: HashMap<&str, &str> = [
            ("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key"),
            ("KOVA_ANTHROPIC_BASE_URL", "http://127.0.0.1:1"),
            ("ANTHROPIC_BASE_URL", "http://ignored.invalid"),
            ("KOVA_CLAUDE_MODEL", "claude-haiku-4-5"),
        ]
        .into_iter()
        .collect();
        let builder = AnthropicBuilder::from_lookup(|n| env.get(n).map(|v| v.to_string()));
        let debug = format!("{builder:?}");
        let client = builder.build().unwrap();
        assert_eq!(client.model(), "claude-haiku-4-5");
        assert_eq!(client.base_url(), "http://127.0.0.1:1/");
        let debug = format!("{debug} {client:?}");
        assert!(!debug.contains("sk-ant-test"), "{debug}");
        assert!(debug.contains("***"), "{debug}");

        let none = AnthropicBuilder::from_lookup(|_| Some(String::new()));
        assert_eq!(none.model, DEFAULT_MODEL);
        assert!(none.build().is_err());
    }

    #[test]
    fn a_proxy_password_in_the_base_url_is_never_shown() {
        let builder = Anthropic::builder()
            .api_key("sk-ant-test-not-a-real-key")
            .base_url("https://kova:proxy-pw@proxy.example.com/anthropic");
        let client = builder.clone().build().unwrap();
        let shown = format!("{builder:?} {client:?}");
        assert!(!shown.contains("proxy-pw"), "{shown}");
        for url in [
            "https://kova:proxy-pw@proxy.example.com:99999",
            "ftp://kova:proxy-pw@proxy.example.com",
        ] {
            match parse_base_url(url) {
                Err(Error::Config(m)) => assert!(!m.contains("proxy-pw"), "{m}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn default_max_tokens_fits_the_model() {
        let c = Anthropic::builder()
            .api_key("sk-ant-test-not-a-real-key")
            .build()
            .unwrap();
        assert_eq!(c.default_max_tokens("claude-3-haiku-20240307"), 4_096);
        assert_eq!(
            c.default_max_tokens("claude-sonnet-4-5"),
            DEFAULT_MAX_TOKENS
        );
        assert_eq!(c.default_max_tokens("unknown-model"), DEFAULT_MAX_TOKENS);
    }
}
