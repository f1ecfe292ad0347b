//! Results of the services (sync, discovery, commands, scans): records backed by the core
//! type's JSON form. Their attributes are declared here, so they are read-only, listed in the
//! stubs and typed: timestamps become `datetime`, nested results become records, and deeper
//! detail (manifests, summaries) stays plain dicts and lists.

use crate::convert::{json_to_py, Field};
use kova_core::{Error, Result};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;
use std::marker::PhantomData;

/// How a declared attribute is read from the JSON form.
pub trait JsonField {
    /// The attribute's value.
    fn get<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>>;
    /// The value in `to_dict()` (records as dicts).
    fn plain<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        Self::get(py, v)
    }
}

/// Plain JSON data (str, int, float, bool, None, dicts, lists).
#[derive(Debug)]
pub struct Data;

impl JsonField for Data {
    fn get<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, v)
    }
}

/// An RFC 3339 timestamp (or null) as a timezone-aware `datetime`.
#[derive(Debug)]
pub struct Time;

impl JsonField for Time {
    fn get<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        match v.as_str() {
            None => json_to_py(py, v),
            Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(t) => t.with_timezone(&chrono::Utc).to_py(py),
                Err(_) => json_to_py(py, v),
            },
        }
    }
}

/// A list of records.
#[derive(Debug)]
pub struct ListOf<T>(PhantomData<T>);

impl<T: JsonField> JsonField for ListOf<T> {
    fn get<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for item in v.as_array().into_iter().flatten() {
            list.append(T::get(py, item)?)?;
        }
        Ok(list.into_any())
    }
    fn plain<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for item in v.as_array().into_iter().flatten() {
            list.append(T::plain(py, item)?)?;
        }
        Ok(list.into_any())
    }
}

/// The JSON form of a core value, for building a report record.
pub fn to_value(v: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(format!("cannot convert a result: {e}")))
}

macro_rules! json_record {
    (
        $(#[$meta:meta])*
        $name:ident repr($($rf:ident),*) {
            $( $field:ident : $kind:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[pyclass(module = "kova", frozen)]
        #[derive(Debug, Clone)]
        pub struct $name {
            value: Value,
        }

        impl $name {
            /// The record of a core value.
            #[allow(dead_code)]
            pub fn from_core(v: &impl serde::Serialize) -> Result<Self> {
                Ok($name { value: to_value(v)? })
            }

            fn field(&self, key: &str) -> &Value {
                self.value.get(key).unwrap_or(&Value::Null)
            }

            fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), <$kind as JsonField>::plain(py, self.field(stringify!($field)))?)?; )*
                Ok(d)
            }
        }

        impl JsonField for $name {
            fn get<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
                Ok(Bound::new(py, $name { value: v.clone() })?.into_any())
            }
            fn plain<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
                Ok($name { value: v.clone() }.dict(py)?.into_any())
            }
        }

        #[pymethods]
        impl $name {
            $(
                #[getter]
                // Attribute names follow the core's fields; one of them is `new`.
                #[allow(clippy::new_ret_no_self, clippy::wrong_self_convention)]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    <$kind as JsonField>::get(py, self.field(stringify!($field)))
                }
            )*

            /// Every attribute in a dict; nested records become dicts.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                self.dict(py)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!(
                        "{}={}",
                        stringify!($rf),
                        <Data as JsonField>::get(py, self.field(stringify!($rf)))?.repr()?
                    )
                ),*];
                Ok(format!("{}({})", stringify!($name), parts.join(", ")))
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                match other.cast::<Self>() {
                    Ok(o) => self.value == o.get().value,
                    Err(_) => false,
                }
            }
        }
    };
}

/// Typed records of the core's own types read from their JSON form.
macro_rules! typed_from_json {
    ($($py:ty => $core:ty),* $(,)?) => {$(
        impl JsonField for $py {
            fn get<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
                let core: $core = serde_json::from_value(v.clone()).map_err(|e| {
                    crate::errors::to_py_err(Error::Internal(format!("cannot read a result: {e}")))
                })?;
                Ok(Bound::new(py, <$py>::from(core))?.into_any())
            }
            fn plain<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
                Self::get(py, v)?.call_method0("to_dict")
            }
        }
    )*};
}

typed_from_json!(
    crate::types::Repository => kova_core::Repository,
    crate::types::Usage => kova_core::Usage,
    crate::types::Artifact => kova_core::Artifact,
);

json_record! {
    /// Counts of a sync run.
    SyncTotals repr(repos, updated, unchanged, missing, failed, requests) {
        repos: Data,
        updated: Data,
        unchanged: Data,
        missing: Data,
        failed: Data,
        requests: Data,
    }
}

json_record! {
    /// One repository's sync: outcome ("updated", "unchanged", "missing", "failed"), status,
    /// what was fetched, the summary (tree, README, manifests) and the analysis, if asked for.
    RepoSyncResult repr(repo, outcome, status, error) {
        repo: Data,
        outcome: Data,
        status: Data,
        sync_log_id: Data,
        joined: Data,
        started_at: Time,
        duration_ms: Data,
        requests: Data,
        attempts: Data,
        files: Data,
        manifests: Data,
        tree_truncated: Data,
        head_sha: Data,
        error: Data,
        summary: Data,
        summary_artifact_id: Data,
        analysis: Data,
    }
}

json_record! {
    /// The result of a sync run; one result per repository, first priority first.
    SyncReport repr(duration_ms, totals) {
        started_at: Time,
        finished_at: Time,
        duration_ms: Data,
        results: ListOf<RepoSyncResult>,
        skipped: Data,
        totals: SyncTotals,
    }
}

json_record! {
    /// One step of one repository's sync, as passed to a `progress` callback. `stage` is
    /// "started", "joined", "metadata", "unchanged", "tree", "manifests", "analysis",
    /// "retrying", "done" or "failed"; the other attributes are set by the stages they belong
    /// to and None otherwise.
    SyncProgress repr(repo, stage) {
        repo: Data,
        stage: Data,
        at: Time,
        files: Data,
        truncated: Data,
        count: Data,
        attempt: Data,
        wait_ms: Data,
        outcome: Data,
        error: Data,
    }
}

json_record! {
    /// What discovery found: the owner's repositories matching the name glob, the new ones,
    /// those added, and topic searches (reported, never added).
    DiscoverReport repr(owner, pattern, scanned, new, added) {
        owner: Data,
        pattern: Data,
        scanned: Data,
        matched: Data,
        new: Data,
        added: Data,
        add_errors: Data,
        topics: Data,
    }
}

json_record! {
    /// The result of adding a repository.
    AddOutcome repr(found, existed, saved_config) {
        repository: crate::types::Repository,
        found: Data,
        existed: Data,
        saved_config: Data,
    }
}

json_record! {
    /// A generated (or analysed) artifact; `replayed` is True when an earlier request with
    /// the same idempotency key produced it and nothing new was generated.
    GeneratedArtifact repr(replayed) {
        artifact: crate::types::Artifact,
        replayed: Data,
    }
}

json_record! {
    /// The answer to an AI command.
    CommandResponse repr(action, repository, model, truncated) {
        action: Data,
        command: Data,
        answer: Data,
        repository: Data,
        files_used: Data,
        data: Data,
        model: Data,
        usage: crate::types::Usage,
        cost_usd: Data,
        truncated: Data,
        interaction_id: Data,
    }
}

json_record! {
    /// What a scan of a repository or a local directory found.
    ScanReport repr(target, file_count, total_bytes, truncated) {
        target: Data,
        file_count: Data,
        directory_count: Data,
        total_bytes: Data,
        languages: Data,
        host_languages: Data,
        manifests: Data,
        files: Data,
        truncated: Data,
        notes: Data,
    }
}

json_record! {
    /// How the tracked repositories stand: counts by status, what is syncing now, the
    /// auto-sync settings, and every tracked repository (first priority first).
    SyncStatus repr(owner, total, enabled, active, planned, error) {
        owner: Data,
        total: Data,
        enabled: Data,
        planned: Data,
        active: Data,
        archived: Data,
        error: Data,
        syncing: Data,
        last_synced_at: Time,
        auto_sync_enabled: Data,
        sync_interval_minutes: Data,
        sync_on_push: Data,
        repositories: ListOf<crate::types::Repository>,
    }
}

json_record! {
    /// What `generate_artifact`, `analyze_code` and `command` accept: kinds (with the
    /// selector each uses: language or format), languages, formats, analysis types and
    /// command actions. Entries are dicts.
    SupportedTypes repr(command_actions) {
        kinds: Data,
        languages: Data,
        config_formats: Data,
        document_formats: Data,
        diagram_formats: Data,
        data_formats: Data,
        diagram_types: Data,
        analysis_types: Data,
        command_actions: Data,
    }
}
