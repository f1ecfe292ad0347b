//! Turning `Kova(...)` keyword arguments and the environment into an engine: the same
//! variables the server reads, explicit arguments first.

use kova_claude::Anthropic;
use kova_core::artifacts::ArtifactService;
use kova_core::config::ReposConfig;
use kova_core::handlers::{HandlerSettings, Respond};
use kova_core::sync::SyncService;
use kova_core::{EngineSettings, Error, Result, Store, TokioSleeper};
use kova_core::{LlmProvider, SourceHost, SystemClock};
use kova_github::{GitHub, GitHubWebhooks, Secret};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The store used when neither `store=` nor `DATABASE_URL` says: in memory, so a script that
/// forgets to configure one leaves no files behind.
pub const DEFAULT_STORE: &str = "memory:";

/// Everything `Kova(...)` accepts; `None` means "from the environment, else the default".
#[derive(Default)]
pub struct Options {
    pub store: Option<String>,
    pub github_token: Option<String>,
    pub github_api_url: Option<String>,
    pub anthropic_api_key: Option<String>,
    pub anthropic_base_url: Option<String>,
    pub model: Option<String>,
    pub webhook_secrets: Option<Vec<String>>,
    pub repos_config: Option<PathBuf>,
    pub allow_unsigned_webhooks: bool,
    pub env: bool,
    pub batch_size: Option<usize>,
    pub poll_interval: Option<Duration>,
    pub lease: Option<Duration>,
    pub max_attempts: Option<u32>,
    pub shutdown_grace: Option<Duration>,
}

/// What `repr(Kova)` shows: names and URLs of what is configured, never a key.
#[derive(Debug, Clone)]
pub struct Summary {
    pub store: &'static str,
    pub github_api_url: Option<String>,
    pub model: Option<String>,
    pub webhook_secrets: usize,
    pub allow_unsigned_webhooks: bool,
    pub repos_config: Option<PathBuf>,
}

/// A built engine and what else the bindings keep.
pub struct Built {
    pub engine: kova_core::Kova,
    pub artifacts: Arc<ArtifactService>,
    pub sync: Option<SyncService>,
    pub summary: Summary,
}

/// The first non-empty variable of `names`, when the environment is consulted.
fn env_var(use_env: bool, names: &[&str]) -> Option<String> {
    if !use_env {
        return None;
    }
    names
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

/// An explicit argument wins; an empty string counts as not given.
fn pick(explicit: Option<String>, use_env: bool, names: &[&str]) -> Option<String> {
    explicit
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .or_else(|| env_var(use_env, names))
}

/// The store URL the options name.
pub fn store_url(o: &Options) -> String {
    pick(
        o.store.clone(),
        o.env,
        &["KOVA_DATABASE_URL", "DATABASE_URL"],
    )
    .unwrap_or_else(|| DEFAULT_STORE.to_string())
}

/// Builds the engine over an opened store.
pub fn build(o: Options, store: Arc<dyn Store>) -> Result<Built> {
    let env = o.env;
    let repos_path = o
        .repos_config
        .clone()
        .or_else(|| env_var(env, &["KOVA_REPOS_CONFIG"]).map(PathBuf::from));
    let repos_config = repos_path.as_deref().map(ReposConfig::load).transpose()?;

    // The server's variables: the current secret (comma-separated for several) and, while
    // rotating, the previous one.
    let secrets: Vec<String> = match o.webhook_secrets {
        Some(list) => list,
        None => env_var(
            env,
            &["KOVA_GITHUB_WEBHOOK_SECRET", "GITHUB_WEBHOOK_SECRET"],
        )
        .into_iter()
        .chain(env_var(env, &["KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET"]))
        .flat_map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect(),
    };
    let secrets: Vec<Secret> = secrets
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(Secret::new)
        .collect();
    let receiver = GitHubWebhooks::new(secrets).allow_unsigned(o.allow_unsigned_webhooks);

    let github_token = pick(o.github_token, env, &["KOVA_GITHUB_TOKEN", "GITHUB_TOKEN"]);
    let github_url = pick(o.github_api_url, env, &["KOVA_GITHUB_API_URL"]);
    // GitHub is configured by a token or an explicit API URL (Enterprise Server, a local
    // fake); without either, handlers that need it fail with "github is not configured".
    let github = if github_token.is_some() || github_url.is_some() {
        let mut b = GitHub::builder();
        if let Some(t) = github_token {
            b = b.token(t);
        }
        if let Some(u) = github_url {
            b = b.base_url(u);
        }
        Some(b.build()?)
    } else {
        None
    };

    let llm = match pick(
        o.anthropic_api_key,
        env,
        &["KOVA_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"],
    ) {
        None => None,
        Some(key) => {
            let mut b = Anthropic::builder().api_key(key);
            if let Some(u) = pick(
                o.anthropic_base_url,
                env,
                &["KOVA_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"],
            ) {
                b = b.base_url(u);
            }
            if let Some(m) = pick(o.model, env, &["KOVA_CLAUDE_MODEL"]) {
                b = b.model(m);
            }
            Some(b.build()?)
        }
    };

    let mut settings = EngineSettings::default();
    if let Some(n) = o.batch_size {
        settings = settings.with_batch_size(n);
    }
    if let Some(d) = o.poll_interval {
        settings = settings.with_poll_interval(d);
    }
    if let Some(d) = o.lease {
        settings = settings.with_lease(d);
    }
    if let Some(n) = o.max_attempts {
        settings = settings.with_max_attempts(n);
    }
    if let Some(d) = o.shutdown_grace {
        settings = settings.with_shutdown_grace(d);
    }

    let mut handler_settings = HandlerSettings::default();
    if let Some(c) = &repos_config {
        handler_settings = handler_settings.with_respond(Respond::from_config(c));
    }

    let summary = Summary {
        store: store.backend(),
        github_api_url: github.as_ref().map(|g| g.base_url().to_string()),
        model: llm.as_ref().map(|l| l.model().to_string()),
        webhook_secrets: receiver.secret_count(),
        allow_unsigned_webhooks: o.allow_unsigned_webhooks,
        repos_config: repos_path.clone(),
    };

    let github: Option<Arc<dyn SourceHost>> = github.map(|g| Arc::new(g) as Arc<dyn SourceHost>);
    let llm: Option<Arc<dyn LlmProvider>> = llm.map(|l| Arc::new(l) as Arc<dyn LlmProvider>);
    let mut artifacts = ArtifactService::new(
        store.clone(),
        llm.clone(),
        github.clone(),
        Arc::new(SystemClock),
    );
    if let Some(c) = &repos_config {
        artifacts = artifacts.with_repos_config(c.clone());
    }
    // Sync needs a source host; the repositories file, when given, is what it tracks (and
    // where `add_repository` writes).
    let sync = github.clone().map(|source| {
        let mut b = SyncService::builder(store.clone(), source)
            .with_llm(llm.clone())
            .with_sleeper(Arc::new(TokioSleeper));
        if let Some(c) = &repos_config {
            b = b.with_config(c.clone(), repos_path.clone());
        }
        b.build()
    });
    if let Some(s) = &sync {
        artifacts = artifacts.with_syncer(Arc::new(s.clone()));
    }

    let mut builder = kova_core::Kova::builder(store)
        .receiver(Arc::new(receiver))
        .sleeper(Arc::new(TokioSleeper))
        .settings(settings)
        .default_handlers(handler_settings);
    if let Some(g) = github {
        builder = builder.source(g);
    }
    if let Some(l) = llm {
        builder = builder.llm(l);
    }
    Ok(Built {
        engine: builder.build()?,
        artifacts: Arc::new(artifacts),
        sync,
        summary,
    })
}

/// Seconds from Python as a duration; negative, NaN or absurd values are invalid input.
pub fn seconds(field: &str, s: Option<f64>) -> Result<Option<Duration>> {
    match s {
        None => Ok(None),
        Some(v) => Duration::try_from_secs_f64(v)
            .map(Some)
            .map_err(|_| Error::invalid(field, "must be a non-negative number of seconds")),
    }
}
