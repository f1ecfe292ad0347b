//! `Kova` methods of the sync service: sync (with an optional progress callback), discover
//! and add repositories. They need GitHub; without it they raise `ConfigError`.

use crate::convert::repo_arg;
use crate::engine::Kova;
use crate::errors::to_py_err;
use crate::reports::{AddOutcome, DiscoverReport, JsonField, SyncProgress, SyncReport, SyncStatus};
use crate::runtime::{awaitable, awaitable_py, block_on, runtime};
use futures::StreamExt;
use kova_core::sync::{progress_channel, AddRepo, DiscoverOptions, SyncRequest, SyncService};
use kova_core::{Error, RepoKind, Result};
use pyo3::prelude::*;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often a blocking `sync` takes the GIL back to let Python run signal handlers.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Aborts the spawned sync when the caller stops waiting (Ctrl-C, a callback's exception,
/// a cancelled awaitable). Repositories already synced stay recorded.
struct AbortOnDrop(JoinHandle<Result<kova_core::sync::SyncReport>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn joined(
    r: std::result::Result<Result<kova_core::sync::SyncReport>, tokio::task::JoinError>,
) -> Result<SyncReport> {
    match r {
        Ok(report) => SyncReport::from_core(&report?),
        Err(e) => Err(Error::Internal(format!("sync task failed: {e}"))),
    }
}

fn call_progress(
    py: Python<'_>,
    callback: &Py<PyAny>,
    p: &kova_core::sync::SyncProgress,
) -> PyResult<()> {
    let value = crate::reports::to_value(p).map_err(to_py_err)?;
    let record = SyncProgress::get(py, &value)?;
    callback.bind(py).call1((record,))?;
    Ok(())
}

fn sync_request(
    repos: Option<Vec<String>>,
    include_analysis: bool,
    force: bool,
) -> PyResult<SyncRequest> {
    let req = match repos {
        None => SyncRequest::all(),
        Some(names) => {
            SyncRequest::repos(names.iter().map(|n| repo_arg(n)).collect::<PyResult<_>>()?)
        }
    };
    Ok(req.with_analysis(include_analysis).with_force(force))
}

fn repo_kind(kind: &str) -> PyResult<RepoKind> {
    kind.parse::<RepoKind>().map_err(to_py_err)
}

impl Kova {
    /// The sync service, or `ConfigError` saying how to configure GitHub.
    fn sync_service(&self) -> PyResult<SyncService> {
        self.sync.clone().ok_or_else(|| {
            to_py_err(Error::NotConfigured {
                what: "github",
                hint: "pass github_token= (or set GITHUB_TOKEN) or github_api_url=".into(),
            })
        })
    }
}

#[pymethods]
impl Kova {
    /// Syncs the enabled repositories (or `repos`), first priority first; `progress` is called
    /// with a `SyncProgress` per step, in this thread. Ctrl-C or an exception from `progress`
    /// stops the sync and is re-raised.
    #[pyo3(signature = (repos=None, *, include_analysis=false, force=false, progress=None))]
    fn sync(
        &self,
        py: Python<'_>,
        repos: Option<Vec<String>>,
        include_analysis: bool,
        force: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<SyncReport> {
        let service = self.sync_service()?;
        let req = sync_request(repos, include_analysis, force)?;
        let (sink, mut rx) = progress_channel();
        let mut task = AbortOnDrop(
            runtime().spawn(async move { service.sync_with_progress(req, sink).await }),
        );
        loop {
            let next = py.detach(|| {
                runtime().block_on(async { tokio::time::timeout(SIGNAL_CHECK, rx.next()).await })
            });
            match next {
                Ok(Some(p)) => {
                    if let Some(cb) = &progress {
                        call_progress(py, cb, &p)?;
                    }
                }
                // The sink is dropped with the finished sync: the report is ready.
                Ok(None) => break,
                Err(_) => py.check_signals()?,
            }
        }
        let r = py.detach(|| runtime().block_on(&mut task.0));
        joined(r).map_err(to_py_err)
    }

    /// Awaitable form of `sync`; `progress` is called on a Kova thread (keep it quick).
    #[pyo3(signature = (repos=None, *, include_analysis=false, force=false, progress=None))]
    fn sync_async<'py>(
        &self,
        py: Python<'py>,
        repos: Option<Vec<String>>,
        include_analysis: bool,
        force: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let service = self.sync_service()?;
        let req = sync_request(repos, include_analysis, force)?;
        awaitable_py(py, async move {
            let (sink, mut rx) = progress_channel();
            let mut task = AbortOnDrop(
                runtime().spawn(async move { service.sync_with_progress(req, sink).await }),
            );
            while let Some(p) = rx.next().await {
                if let Some(cb) = &progress {
                    Python::attach(|py| call_progress(py, cb, &p))?;
                }
            }
            joined((&mut task.0).await).map_err(to_py_err)
        })
    }

    /// How the tracked repositories (the repositories file and the store) stand.
    fn sync_status(&self, py: Python<'_>) -> PyResult<SyncStatus> {
        let service = self.sync_service()?;
        block_on(py, async move {
            SyncStatus::from_core(&service.status().await?)
        })
    }

    /// Awaitable form of `sync_status`.
    fn sync_status_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let service = self.sync_service()?;
        awaitable(py, async move {
            SyncStatus::from_core(&service.status().await?)
        })
    }

    /// Lists the configured owner's repositories, reports those matching the name glob that
    /// are not tracked yet, and adds them when `add` is True (None: as the file says).
    #[pyo3(signature = (*, add=None, topics=true, kind="service", sync_priority=3))]
    fn discover(
        &self,
        py: Python<'_>,
        add: Option<bool>,
        topics: bool,
        kind: &str,
        sync_priority: u8,
    ) -> PyResult<DiscoverReport> {
        let service = self.sync_service()?;
        let opts = discover_options(add, topics, kind, sync_priority)?;
        block_on(py, async move {
            DiscoverReport::from_core(&service.discover_with(opts).await?)
        })
    }

    /// Awaitable form of `discover`.
    #[pyo3(signature = (*, add=None, topics=true, kind="service", sync_priority=3))]
    fn discover_async<'py>(
        &self,
        py: Python<'py>,
        add: Option<bool>,
        topics: bool,
        kind: &str,
        sync_priority: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        let service = self.sync_service()?;
        let opts = discover_options(add, topics, kind, sync_priority)?;
        awaitable(py, async move {
            DiscoverReport::from_core(&service.discover_with(opts).await?)
        })
    }

    /// Tracks a repository (and writes it to the repositories file, when there is one).
    #[pyo3(signature = (full_name, *, kind="service", sync_priority=3, features=None, description=None, enabled=true))]
    #[allow(clippy::too_many_arguments)]
    fn add_repository(
        &self,
        py: Python<'_>,
        full_name: &str,
        kind: &str,
        sync_priority: u8,
        features: Option<Vec<String>>,
        description: Option<String>,
        enabled: bool,
    ) -> PyResult<AddOutcome> {
        let service = self.sync_service()?;
        let req = add_request(
            full_name,
            kind,
            sync_priority,
            features,
            description,
            enabled,
        )?;
        block_on(py, async move {
            AddOutcome::from_core(&service.add(req).await?)
        })
    }

    /// Awaitable form of `add_repository`.
    #[pyo3(signature = (full_name, *, kind="service", sync_priority=3, features=None, description=None, enabled=true))]
    #[allow(clippy::too_many_arguments)]
    fn add_repository_async<'py>(
        &self,
        py: Python<'py>,
        full_name: &str,
        kind: &str,
        sync_priority: u8,
        features: Option<Vec<String>>,
        description: Option<String>,
        enabled: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let service = self.sync_service()?;
        let req = add_request(
            full_name,
            kind,
            sync_priority,
            features,
            description,
            enabled,
        )?;
        awaitable(py, async move {
            AddOutcome::from_core(&service.add(req).await?)
        })
    }
}

fn discover_options(
    add: Option<bool>,
    topics: bool,
    kind: &str,
    sync_priority: u8,
) -> PyResult<DiscoverOptions> {
    kova_core::model::repo::validate_priority(sync_priority).map_err(to_py_err)?;
    let mut o = DiscoverOptions::default();
    if let Some(a) = add {
        o = o.with_auto_add(a);
    }
    o.topics = topics;
    o.kind = repo_kind(kind)?;
    o.sync_priority = sync_priority;
    Ok(o)
}

fn add_request(
    full_name: &str,
    kind: &str,
    sync_priority: u8,
    features: Option<Vec<String>>,
    description: Option<String>,
    enabled: bool,
) -> PyResult<AddRepo> {
    kova_core::model::repo::validate_priority(sync_priority).map_err(to_py_err)?;
    let mut req = AddRepo::new(repo_arg(full_name)?, repo_kind(kind)?);
    req.sync_priority = sync_priority;
    req.features = features.unwrap_or_default();
    req.description = description;
    req.enabled = enabled;
    Ok(req)
}
