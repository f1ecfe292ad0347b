//! The engine: one [`Kova`] value that ingests webhooks durably and runs the workers that turn
//! stored events into analyses, assembled by [`KovaBuilder`].

mod backoff;
mod ingest;
#[cfg(feature = "tokio")]
mod pool;
mod run;
mod worker;

pub use backoff::Backoff;
pub use ingest::IngestOutcome;
#[cfg(feature = "tokio")]
pub use pool::WorkerPool;
pub use worker::ProcessReport;

use crate::error::{Error, Result};
use crate::handler::EventHandler;
use crate::provider::LlmProvider;
use crate::source::SourceHost;
use crate::store::Store;
use crate::time::{Clock, Sleeper, SystemClock};
use crate::webhook::WebhookReceiver;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How the engine runs its queue. `Default` suits a server; tests shorten the times.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineSettings {
    /// Jobs claimed per batch by one worker (they run concurrently).
    pub batch_size: usize,
    /// Lease per claim; renewed every third of it while the handler runs.
    pub lease: Duration,
    /// Attempts before a webhook job is dead (unless its handler sets its own).
    pub max_attempts: u32,
    /// Retry waits: `base · 2^(attempt-1)`, capped, with jitter.
    pub backoff: Backoff,
    /// How long an idle worker waits before looking for work again.
    pub poll_interval: Duration,
    /// On shutdown, how long in-flight jobs may run before they are released to the queue.
    pub shutdown_grace: Duration,
    /// How long (from its creation) a job refused by a rate limit waits for its turn without
    /// spending attempts. A rate limit is not a failure of the job: GitHub's hourly limit or a
    /// long secondary limit would otherwise use up every attempt of every job in the queue.
    /// After this, each refusal counts as a failed attempt, so a limit that never lifts
    /// still ends in a dead job with the reason recorded.
    pub rate_limit_patience: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            batch_size: 8,
            lease: Duration::from_secs(120),
            max_attempts: crate::model::DEFAULT_MAX_ATTEMPTS,
            backoff: Backoff::default(),
            poll_interval: Duration::from_millis(250),
            shutdown_grace: Duration::from_secs(30),
            rate_limit_patience: Duration::from_secs(24 * 3600),
        }
    }
}

impl EngineSettings {
    /// Sets the batch size.
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }
    /// Sets the lease length.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
    /// Sets the attempt budget for webhook jobs.
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// Sets the retry backoff.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
    /// Sets the idle poll interval.
    pub fn with_poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }
    /// Sets the shutdown grace period.
    pub fn with_shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }
    /// Sets how long rate-limited jobs wait without spending attempts.
    pub fn with_rate_limit_patience(mut self, d: Duration) -> Self {
        self.rate_limit_patience = d;
        self
    }
}

/// The Kova engine. Cheap to clone (one `Arc`); share it between the HTTP server, workers and
/// Python.
#[derive(Clone)]
pub struct Kova {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    llm: Option<Arc<dyn LlmProvider>>,
    source: Option<Arc<dyn SourceHost>>,
    receiver: Option<Arc<dyn WebhookReceiver>>,
    handlers: Vec<Arc<dyn EventHandler>>,
    clock: Arc<dyn Clock>,
    sleeper: Option<Arc<dyn Sleeper>>,
    settings: EngineSettings,
}

impl fmt::Debug for Kova {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Kova")
            .field("store", &i.store.backend())
            .field("llm", &i.llm.as_ref().map(|l| l.name().to_string()))
            .field("source", &i.source.as_ref().map(|s| s.name().to_string()))
            .field(
                "receiver",
                &i.receiver.as_ref().map(|r| r.name().to_string()),
            )
            .field(
                "handlers",
                &i.handlers
                    .iter()
                    .map(|h| h.name().to_string())
                    .collect::<Vec<_>>(),
            )
            .field("settings", &i.settings)
            .finish()
    }
}

impl Kova {
    /// Starts assembling an engine over a store.
    pub fn builder(store: Arc<dyn Store>) -> KovaBuilder {
        KovaBuilder {
            store,
            llm: None,
            source: None,
            receiver: None,
            handlers: Vec::new(),
            clock: Arc::new(SystemClock),
            sleeper: None,
            settings: EngineSettings::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The LLM, if configured.
    pub fn llm(&self) -> Option<&Arc<dyn LlmProvider>> {
        self.inner.llm.as_ref()
    }

    /// The source host, if configured.
    pub fn source(&self) -> Option<&Arc<dyn SourceHost>> {
        self.inner.source.as_ref()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    /// Whether a webhook receiver is configured (otherwise webhooks are refused).
    pub fn has_receiver(&self) -> bool {
        self.inner.receiver.is_some()
    }

    /// The registered handlers, in matching order.
    pub fn handlers(&self) -> &[Arc<dyn EventHandler>] {
        &self.inner.handlers
    }

    fn sleeper(&self) -> Result<&Arc<dyn Sleeper>> {
        self.inner
            .sleeper
            .as_ref()
            .ok_or_else(|| {
                Error::NotConfigured {
            what: "sleeper",
            hint: "build the engine with .sleeper(..) (e.g. TokioSleeper with the `tokio` feature)"
                .into(),
        }
            })
    }
}

/// Assembles a [`Kova`] engine.
#[derive(Debug)]
pub struct KovaBuilder {
    store: Arc<dyn Store>,
    llm: Option<Arc<dyn LlmProvider>>,
    source: Option<Arc<dyn SourceHost>>,
    receiver: Option<Arc<dyn WebhookReceiver>>,
    handlers: Vec<Arc<dyn EventHandler>>,
    clock: Arc<dyn Clock>,
    sleeper: Option<Arc<dyn Sleeper>>,
    settings: EngineSettings,
}

impl KovaBuilder {
    /// The LLM provider handlers use.
    pub fn llm(mut self, llm: Arc<dyn LlmProvider>) -> Self {
        self.llm = Some(llm);
        self
    }

    /// The source host handlers use.
    pub fn source(mut self, source: Arc<dyn SourceHost>) -> Self {
        self.source = Some(source);
        self
    }

    /// The webhook receiver that verifies raw requests.
    pub fn receiver(mut self, receiver: Arc<dyn WebhookReceiver>) -> Self {
        self.receiver = Some(receiver);
        self
    }

    /// Registers a handler. Handlers are asked in registration order and the first that
    /// accepts an event gets it, so register your own before the shipped ones to replace them.
    pub fn handler(mut self, handler: Arc<dyn EventHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// Registers every shipped handler (after any registered so far, which take precedence).
    pub fn default_handlers(mut self, settings: crate::handlers::HandlerSettings) -> Self {
        self.handlers
            .extend(crate::handlers::default_handlers(settings));
        self
    }

    /// The clock (tests inject a `ManualClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How workers wait (needed by `run_worker` and lease renewal).
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = Some(sleeper);
        self
    }

    /// Queue settings.
    pub fn settings(mut self, settings: EngineSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds the engine; two handlers with one name are an error (job kinds name handlers).
    pub fn build(self) -> Result<Kova> {
        let mut names = std::collections::HashSet::new();
        for h in &self.handlers {
            if !names.insert(h.name().to_string()) {
                return Err(Error::Config(format!(
                    "two handlers are named '{}': job kinds must name one handler",
                    h.name()
                )));
            }
        }
        if self.settings.lease < Duration::from_secs(1) {
            return Err(Error::invalid("lease", "must be at least one second"));
        }
        Ok(Kova {
            inner: Arc::new(Inner {
                store: self.store,
                llm: self.llm,
                source: self.source,
                receiver: self.receiver,
                handlers: self.handlers,
                clock: self.clock,
                sleeper: self.sleeper,
                settings: self.settings,
            }),
        })
    }
}
