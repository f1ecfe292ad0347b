//! `kova.Kova`: the engine as a Python object. Every operation has a blocking form (releases
//! the GIL while Rust works) and an `*_async` form returning an asyncio awaitable; both run on
//! one shared tokio runtime.

use crate::config::{self, Options, Summary};
use crate::convert::headers_from_py;
use crate::errors::to_py_err;
use crate::runtime::{awaitable, block_on, block_on_local, PyNoneValue};
use crate::types::{IngestResult, ProcessReport};
use crate::workers::{self, StopSignal};
use bytes::Bytes;
use kova_core::artifacts::ArtifactService;
use kova_core::{Result, Store};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// The Kova engine: webhook ingest, workers, and reads over the store.
#[pyclass(module = "kova", frozen)]
pub struct Kova {
    pub(crate) engine: kova_core::Kova,
    pub(crate) artifacts: Arc<ArtifactService>,
    pub(crate) sync: Option<kova_core::sync::SyncService>,
    summary: Summary,
    stop: StopSignal,
}

impl std::fmt::Debug for Kova {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kova")
            .field("summary", &self.summary)
            .finish()
    }
}

/// The raw body from `bytes`, `bytearray` or `memoryview`; a `str` is refused because the
/// signature covers bytes, and re-encoding text could change them.
fn body_bytes(body: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Ok(b) = body.cast::<PyBytes>() {
        return Ok(Bytes::copy_from_slice(b.as_bytes()));
    }
    if let Ok(b) = body.cast::<PyByteArray>() {
        return Ok(Bytes::from(b.to_vec()));
    }
    if body.is_instance_of::<PyMemoryView>() {
        let b = body.call_method0("tobytes")?;
        let b = b.cast::<PyBytes>()?;
        return Ok(Bytes::copy_from_slice(b.as_bytes()));
    }
    Err(PyTypeError::new_err(format!(
        "body must be bytes (the raw request body, exactly as signed), not {}",
        body.get_type().name()?
    )))
}

impl Kova {
    pub(crate) fn store(&self) -> Arc<dyn Store> {
        self.engine.store().clone()
    }

    fn ingest_fut(
        &self,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
    ) -> PyResult<impl Future<Output = Result<IngestResult>> + Send + 'static> {
        let headers = headers_from_py(headers)?;
        let body = body_bytes(body)?;
        let engine = self.engine.clone();
        Ok(async move {
            // `receive` is synchronous: verify here, on a runtime thread, not under the GIL.
            let delivery = engine.receive(&headers, body)?;
            engine.ingest(delivery).await.map(IngestResult::from)
        })
    }

    fn process_fut(
        &self,
        limit: usize,
        worker: Option<String>,
    ) -> impl Future<Output = Result<ProcessReport>> + Send + 'static {
        let engine = self.engine.clone();
        let worker = worker.unwrap_or_else(|| format!("py-{}-once", std::process::id()));
        async move {
            engine
                .process_pending(&worker, limit)
                .await
                .map(ProcessReport::from)
        }
    }
}

/// Workers per `run_worker` call: at least one, and a sane upper bound (each holds a batch).
fn check_concurrency(n: usize) -> PyResult<()> {
    if (1..=1024).contains(&n) {
        Ok(())
    } else {
        Err(crate::errors::invalid(
            "concurrency",
            "must be between 1 and 1024",
        ))
    }
}

#[pymethods]
impl Kova {
    /// Builds an engine. Unset arguments come from the environment (unless `env=False`), then
    /// defaults; see the stub file for the variables.
    #[new]
    #[pyo3(signature = (
        store=None, *, github_token=None, github_api_url=None, anthropic_api_key=None,
        anthropic_base_url=None, model=None, webhook_secrets=None, repos_config=None,
        allow_unsigned_webhooks=false, env=true, batch_size=None, poll_interval=None,
        lease=None, max_attempts=None, shutdown_grace=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        store: Option<String>,
        github_token: Option<String>,
        github_api_url: Option<String>,
        anthropic_api_key: Option<String>,
        anthropic_base_url: Option<String>,
        model: Option<String>,
        webhook_secrets: Option<Vec<String>>,
        repos_config: Option<PathBuf>,
        allow_unsigned_webhooks: bool,
        env: bool,
        batch_size: Option<usize>,
        poll_interval: Option<f64>,
        lease: Option<f64>,
        max_attempts: Option<u32>,
        shutdown_grace: Option<f64>,
    ) -> PyResult<Self> {
        let opts = Options {
            store,
            github_token,
            github_api_url,
            anthropic_api_key,
            anthropic_base_url,
            model,
            webhook_secrets,
            repos_config,
            allow_unsigned_webhooks,
            env,
            batch_size,
            poll_interval: config::seconds("poll_interval", poll_interval).map_err(to_py_err)?,
            lease: config::seconds("lease", lease).map_err(to_py_err)?,
            max_attempts,
            shutdown_grace: config::seconds("shutdown_grace", shutdown_grace).map_err(to_py_err)?,
        };
        let url = config::store_url(&opts);
        // sqlx's connect future is not provably `Send`, so it is made on the runtime side.
        let built = block_on_local(py, move || async move {
            let store = kova_store::open(&url).await?;
            config::build(opts, store)
        })?;
        Ok(Kova {
            engine: built.engine,
            artifacts: built.artifacts,
            sync: built.sync,
            summary: built.summary,
            stop: StopSignal::default(),
        })
    }

    fn __repr__(&self) -> String {
        let s = &self.summary;
        let opt = |v: &Option<String>| match v {
            Some(v) => format!("{v:?}"),
            None => "None".into(),
        };
        format!(
            "Kova(store={:?}, github_api_url={}, model={}, webhook_secrets={}, allow_unsigned_webhooks={}, repos_config={})",
            s.store,
            opt(&s.github_api_url),
            opt(&s.model),
            s.webhook_secrets,
            if s.allow_unsigned_webhooks { "True" } else { "False" },
            opt(&s.repos_config.as_ref().map(|p| p.display().to_string())),
        )
    }

    /// The store backend: "memory", "sqlite" or "postgres".
    #[getter]
    fn store_backend(&self) -> &'static str {
        self.summary.store
    }

    /// Whether an Anthropic key is configured.
    #[getter]
    fn llm_configured(&self) -> bool {
        self.engine.llm().is_some()
    }

    /// Whether GitHub (a token or an API URL) is configured.
    #[getter]
    fn github_configured(&self) -> bool {
        self.engine.source().is_some()
    }

    // ---- webhooks -----------------------------------------------------------------------

    /// Verifies and durably records one webhook delivery.
    fn ingest_webhook(
        &self,
        py: Python<'_>,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
    ) -> PyResult<IngestResult> {
        let fut = self.ingest_fut(headers, body)?;
        block_on(py, fut)
    }

    /// Awaitable form of `ingest_webhook`.
    fn ingest_webhook_async<'py>(
        &self,
        py: Python<'py>,
        headers: &Bound<'py, PyAny>,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.ingest_fut(headers, body)?;
        awaitable(py, fut)
    }

    // ---- workers ------------------------------------------------------------------------

    /// Processes up to `limit` due jobs now and reports what happened.
    #[pyo3(signature = (limit=100, *, worker=None))]
    fn process_pending(
        &self,
        py: Python<'_>,
        limit: usize,
        worker: Option<String>,
    ) -> PyResult<ProcessReport> {
        block_on(py, self.process_fut(limit, worker))
    }

    /// Awaitable form of `process_pending`.
    #[pyo3(signature = (limit=100, *, worker=None))]
    fn process_pending_async<'py>(
        &self,
        py: Python<'py>,
        limit: usize,
        worker: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.process_fut(limit, worker))
    }

    /// Runs `concurrency` workers until `stop_workers()` or Ctrl-C (re-raised after a
    /// graceful stop).
    #[pyo3(signature = (concurrency=1, *, name=None))]
    fn run_worker(&self, py: Python<'_>, concurrency: usize, name: Option<String>) -> PyResult<()> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "run_worker was called from inside Kova's runtime; use run_worker_async",
            ));
        }
        check_concurrency(concurrency)?;
        workers::start(&self.engine, &self.stop, concurrency, name).wait_blocking(py)
    }

    /// Awaitable form of `run_worker`; cancelling it stops its workers gracefully.
    #[pyo3(signature = (concurrency=1, *, name=None))]
    fn run_worker_async<'py>(
        &self,
        py: Python<'py>,
        concurrency: usize,
        name: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_concurrency(concurrency)?;
        let run = workers::start(&self.engine, &self.stop, concurrency, name);
        awaitable(py, async move { run.wait().await.map(|()| PyNoneValue) })
    }

    /// Tells every running worker of this object to finish (or release) its jobs and return.
    fn stop_workers(&self) {
        self.stop.stop_all();
    }
}
