//! `Kova` read methods: repositories, events, artifacts, LLM interactions and usage, jobs and
//! repository errors, each paginated (`limit`, `cursor`) and with an `*_async` twin.

use crate::convert::{opt_parse, opt_repo, repo_arg};
use crate::engine::Kova;
use crate::page::PageOf;
use crate::runtime::{awaitable, block_on};
use crate::types::{
    Artifact, Event, Interaction, Job, JobsSummary, RepoError, Repository, UsageTotals,
};
use kova_core::{
    ArtifactFilter, ArtifactId, ArtifactKind, Error, EventFilter, EventId, EventStatus,
    InteractionFilter, JobFilter, JobStatus, ListOptions, Result,
};
use pyo3::prelude::*;
use std::future::Future;

fn list_opts(limit: Option<usize>, cursor: Option<String>) -> ListOptions {
    let mut o = ListOptions::default();
    if let Some(l) = limit {
        o = o.with_limit(l);
    }
    if let Some(c) = cursor {
        o = o.with_cursor(c);
    }
    o
}

/// `Option<T>` found or a `NotFoundError`.
fn found<T>(v: Option<T>, what: &'static str, id: impl std::fmt::Display) -> Result<T> {
    v.ok_or_else(|| Error::not_found(what, id))
}

impl Kova {
    fn events_fut(
        &self,
        repo: Option<&str>,
        event: Option<String>,
        status: Option<&str>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<impl Future<Output = Result<PageOf<Event>>> + Send + 'static> {
        let mut f = EventFilter::default();
        if let Some(r) = opt_repo(repo)? {
            f = f.with_repo(r);
        }
        if let Some(e) = event {
            f = f.with_event(e);
        }
        if let Some(s) = opt_parse::<EventStatus>(status)? {
            f = f.with_status(s);
        }
        let opts = list_opts(limit, cursor);
        let store = self.store();
        Ok(async move { Ok(PageOf::from_core(store.list_events(&f, &opts).await?)) })
    }

    fn artifacts_fut(
        &self,
        repo: Option<&str>,
        kind: Option<&str>,
        event_id: Option<i64>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<impl Future<Output = Result<PageOf<Artifact>>> + Send + 'static> {
        let mut f = ArtifactFilter::default();
        if let Some(r) = opt_repo(repo)? {
            f = f.with_repo(r);
        }
        if let Some(k) = opt_parse::<ArtifactKind>(kind)? {
            f = f.with_kind(k);
        }
        if let Some(id) = event_id {
            f = f.with_event(EventId(id));
        }
        let opts = list_opts(limit, cursor);
        let store = self.store();
        Ok(async move { Ok(PageOf::from_core(store.list_artifacts(&f, &opts).await?)) })
    }

    fn interaction_filter(
        repo: Option<&str>,
        purpose: Option<String>,
        model: Option<String>,
        event_id: Option<i64>,
    ) -> PyResult<InteractionFilter> {
        let mut f = InteractionFilter::default();
        if let Some(r) = opt_repo(repo)? {
            f = f.with_repo(r);
        }
        if let Some(p) = purpose {
            f = f.with_purpose(p);
        }
        if let Some(m) = model {
            f = f.with_model(m);
        }
        if let Some(id) = event_id {
            f = f.with_event(EventId(id));
        }
        Ok(f)
    }

    fn jobs_fut(
        &self,
        status: Option<&str>,
        kind: Option<String>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<impl Future<Output = Result<PageOf<Job>>> + Send + 'static> {
        let mut f = JobFilter::default();
        if let Some(s) = opt_parse::<JobStatus>(status)? {
            f = f.with_status(s);
        }
        if let Some(k) = kind {
            f = f.with_kind(k);
        }
        let opts = list_opts(limit, cursor);
        let store = self.store();
        Ok(async move { Ok(PageOf::from_core(store.list_jobs(&f, &opts).await?)) })
    }
}

#[pymethods]
impl Kova {
    // ---- reads --------------------------------------------------------------------------

    /// Tracked repositories, by full name.
    #[pyo3(signature = (*, limit=None, cursor=None))]
    fn repositories(
        &self,
        py: Python<'_>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<PageOf<Repository>> {
        let (store, opts) = (self.store(), list_opts(limit, cursor));
        block_on(py, async move {
            Ok(PageOf::from_core(store.list_repositories(&opts).await?))
        })
    }

    /// Awaitable form of `repositories`.
    #[pyo3(signature = (*, limit=None, cursor=None))]
    fn repositories_async<'py>(
        &self,
        py: Python<'py>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (store, opts) = (self.store(), list_opts(limit, cursor));
        awaitable(py, async move {
            Ok(PageOf::<Repository>::from_core(
                store.list_repositories(&opts).await?,
            ))
        })
    }

    /// One repository; `NotFoundError` if it is not tracked.
    fn repository(&self, py: Python<'_>, full_name: &str) -> PyResult<Repository> {
        let (store, r) = (self.store(), repo_arg(full_name)?);
        block_on(py, async move {
            let found = found(store.get_repository(&r).await?, "repository", &r)?;
            Ok(Repository::from(found))
        })
    }

    /// Awaitable form of `repository`.
    fn repository_async<'py>(
        &self,
        py: Python<'py>,
        full_name: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (store, r) = (self.store(), repo_arg(full_name)?);
        awaitable(py, async move {
            let found = found(store.get_repository(&r).await?, "repository", &r)?;
            Ok(Repository::from(found))
        })
    }

    /// Stored webhook events, newest first.
    #[pyo3(signature = (*, repo=None, event=None, status=None, limit=None, cursor=None))]
    fn events(
        &self,
        py: Python<'_>,
        repo: Option<&str>,
        event: Option<String>,
        status: Option<&str>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<PageOf<Event>> {
        let fut = self.events_fut(repo, event, status, limit, cursor)?;
        block_on(py, fut)
    }

    /// Awaitable form of `events`.
    #[pyo3(signature = (*, repo=None, event=None, status=None, limit=None, cursor=None))]
    fn events_async<'py>(
        &self,
        py: Python<'py>,
        repo: Option<&str>,
        event: Option<String>,
        status: Option<&str>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.events_fut(repo, event, status, limit, cursor)?;
        awaitable(py, fut)
    }

    /// One stored event; `NotFoundError` if there is none with this id.
    fn event(&self, py: Python<'_>, id: i64) -> PyResult<Event> {
        let store = self.store();
        block_on(py, async move {
            Ok(found(store.get_event(EventId(id)).await?, "event", id)?.into())
        })
    }

    /// Awaitable form of `event`.
    fn event_async<'py>(&self, py: Python<'py>, id: i64) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store();
        awaitable(py, async move {
            Ok(Event::from(found(
                store.get_event(EventId(id)).await?,
                "event",
                id,
            )?))
        })
    }

    /// Stored artifacts, newest first.
    #[pyo3(signature = (*, repo=None, kind=None, event_id=None, limit=None, cursor=None))]
    fn artifacts(
        &self,
        py: Python<'_>,
        repo: Option<&str>,
        kind: Option<&str>,
        event_id: Option<i64>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<PageOf<Artifact>> {
        let fut = self.artifacts_fut(repo, kind, event_id, limit, cursor)?;
        block_on(py, fut)
    }

    /// Awaitable form of `artifacts`.
    #[pyo3(signature = (*, repo=None, kind=None, event_id=None, limit=None, cursor=None))]
    fn artifacts_async<'py>(
        &self,
        py: Python<'py>,
        repo: Option<&str>,
        kind: Option<&str>,
        event_id: Option<i64>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.artifacts_fut(repo, kind, event_id, limit, cursor)?;
        awaitable(py, fut)
    }

    /// One artifact; `NotFoundError` if there is none with this id.
    fn artifact(&self, py: Python<'_>, id: i64) -> PyResult<Artifact> {
        let store = self.store();
        block_on(py, async move {
            Ok(found(store.get_artifact(ArtifactId(id)).await?, "artifact", id)?.into())
        })
    }

    /// Awaitable form of `artifact`.
    fn artifact_async<'py>(&self, py: Python<'py>, id: i64) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store();
        awaitable(py, async move {
            Ok(Artifact::from(found(
                store.get_artifact(ArtifactId(id)).await?,
                "artifact",
                id,
            )?))
        })
    }

    /// Recorded LLM calls, newest first.
    #[pyo3(signature = (*, repo=None, purpose=None, model=None, event_id=None, limit=None, cursor=None))]
    #[allow(clippy::too_many_arguments)]
    fn interactions(
        &self,
        py: Python<'_>,
        repo: Option<&str>,
        purpose: Option<String>,
        model: Option<String>,
        event_id: Option<i64>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<PageOf<Interaction>> {
        let f = Self::interaction_filter(repo, purpose, model, event_id)?;
        let (store, opts) = (self.store(), list_opts(limit, cursor));
        block_on(py, async move {
            Ok(PageOf::from_core(store.list_interactions(&f, &opts).await?))
        })
    }

    /// Awaitable form of `interactions`.
    #[pyo3(signature = (*, repo=None, purpose=None, model=None, event_id=None, limit=None, cursor=None))]
    #[allow(clippy::too_many_arguments)]
    fn interactions_async<'py>(
        &self,
        py: Python<'py>,
        repo: Option<&str>,
        purpose: Option<String>,
        model: Option<String>,
        event_id: Option<i64>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let f = Self::interaction_filter(repo, purpose, model, event_id)?;
        let (store, opts) = (self.store(), list_opts(limit, cursor));
        awaitable(py, async move {
            Ok(PageOf::<Interaction>::from_core(
                store.list_interactions(&f, &opts).await?,
            ))
        })
    }

    /// Token and cost totals over the matching LLM calls.
    #[pyo3(signature = (*, repo=None, purpose=None, model=None, event_id=None))]
    fn usage_totals(
        &self,
        py: Python<'_>,
        repo: Option<&str>,
        purpose: Option<String>,
        model: Option<String>,
        event_id: Option<i64>,
    ) -> PyResult<UsageTotals> {
        let f = Self::interaction_filter(repo, purpose, model, event_id)?;
        let store = self.store();
        block_on(py, async move { Ok(store.usage_totals(&f).await?.into()) })
    }

    /// Awaitable form of `usage_totals`.
    #[pyo3(signature = (*, repo=None, purpose=None, model=None, event_id=None))]
    fn usage_totals_async<'py>(
        &self,
        py: Python<'py>,
        repo: Option<&str>,
        purpose: Option<String>,
        model: Option<String>,
        event_id: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let f = Self::interaction_filter(repo, purpose, model, event_id)?;
        let store = self.store();
        awaitable(py, async move {
            Ok(UsageTotals::from(store.usage_totals(&f).await?))
        })
    }

    /// Jobs in the queue, newest first.
    #[pyo3(signature = (*, status=None, kind=None, limit=None, cursor=None))]
    fn jobs(
        &self,
        py: Python<'_>,
        status: Option<&str>,
        kind: Option<String>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<PageOf<Job>> {
        let fut = self.jobs_fut(status, kind, limit, cursor)?;
        block_on(py, fut)
    }

    /// Awaitable form of `jobs`.
    #[pyo3(signature = (*, status=None, kind=None, limit=None, cursor=None))]
    fn jobs_async<'py>(
        &self,
        py: Python<'py>,
        status: Option<&str>,
        kind: Option<String>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.jobs_fut(status, kind, limit, cursor)?;
        awaitable(py, fut)
    }

    /// Queue counts by status.
    fn jobs_summary(&self, py: Python<'_>) -> PyResult<JobsSummary> {
        let store = self.store();
        block_on(py, async move { Ok(store.jobs_summary().await?.into()) })
    }

    /// Awaitable form of `jobs_summary`.
    fn jobs_summary_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store();
        awaitable(py, async move {
            Ok(JobsSummary::from(store.jobs_summary().await?))
        })
    }

    /// Errors found in repositories (failed CI runs with their analysis), newest first.
    #[pyo3(signature = (*, repo=None, limit=None, cursor=None))]
    fn repo_errors(
        &self,
        py: Python<'_>,
        repo: Option<&str>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<PageOf<RepoError>> {
        let (store, r, opts) = (self.store(), opt_repo(repo)?, list_opts(limit, cursor));
        block_on(py, async move {
            Ok(PageOf::from_core(
                store.list_repo_errors(r.as_ref(), &opts).await?,
            ))
        })
    }

    /// Awaitable form of `repo_errors`.
    #[pyo3(signature = (*, repo=None, limit=None, cursor=None))]
    fn repo_errors_async<'py>(
        &self,
        py: Python<'py>,
        repo: Option<&str>,
        limit: Option<usize>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (store, r, opts) = (self.store(), opt_repo(repo)?, list_opts(limit, cursor));
        awaitable(py, async move {
            Ok(PageOf::<RepoError>::from_core(
                store.list_repo_errors(r.as_ref(), &opts).await?,
            ))
        })
    }
}
