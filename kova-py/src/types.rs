//! The plain Python objects Kova returns: frozen records with read-only attributes, a
//! `repr()`, `==` and `.to_dict()`, built from the core's domain types.

use crate::convert::{Field, Json, RawBytes};
use kova_core as core;
use kova_core::Timestamp;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Declares a record: the pyclass, its `to_dict()` (every field), `__repr__` (the listed
/// fields: long texts and secrets stay out of reprs) and `__eq__`, plus extra methods.
macro_rules! record {
    (
        $(#[$meta:meta])*
        $name:ident repr($($rf:ident),*) {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
        $( methods { $($methods:tt)* } )?
    ) => {
        $(#[$meta])*
        #[pyclass(module = "kova", frozen, get_all)]
        #[derive(Debug, Clone)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty, )* }

        impl Field for $name {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.dict(py)?.into_any())
            }
        }

        impl $name {
            fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), Field::to_py(&self.$field, py)?)?; )*
                Ok(d)
            }
        }

        #[pymethods]
        impl $name {
            /// Every attribute in a dict; nested records become dicts.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                self.dict(py)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!("{}={}", stringify!($rf), Field::to_py(&self.$rf, py)?.repr()?)
                ),*];
                Ok(format!("{}({})", stringify!($name), parts.join(", ")))
            }

            fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
                match other.cast::<Self>() {
                    Ok(o) => self.dict(py)?.eq(o.get().dict(py)?),
                    Err(_) => Ok(false),
                }
            }

            $($($methods)*)?
        }
    };
}

record! {
    /// Tokens used by one LLM call or a sum of calls; cached input is counted apart.
    Usage repr(input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens) {
        input_tokens: u64,
        output_tokens: u64,
        cache_read_tokens: u64,
        cache_creation_tokens: u64,
    }
    methods {
        /// All input tokens, cached or not.
        #[getter]
        fn total_input(&self) -> u64 {
            self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens
        }
    }
}

impl From<core::Usage> for Usage {
    fn from(u: core::Usage) -> Self {
        Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_read_tokens: u.cache_read_tokens,
            cache_creation_tokens: u.cache_creation_tokens,
        }
    }
}

record! {
    /// What ingesting one webhook delivery did: `status` is "accepted" or "duplicate".
    IngestResult repr(status, event, delivery_id, event_id, handler, job_id) {
        status: String,
        duplicate: bool,
        event_id: i64,
        delivery_id: String,
        event: String,
        handler: Option<String>,
        job_id: Option<i64>,
    }
    methods {
        /// True when the delivery was new and is now stored.
        #[getter]
        fn accepted(&self) -> bool {
            !self.duplicate
        }
    }
}

impl From<core::IngestOutcome> for IngestResult {
    fn from(o: core::IngestOutcome) -> Self {
        IngestResult {
            status: if o.duplicate { "duplicate" } else { "accepted" }.into(),
            duplicate: o.duplicate,
            event_id: o.event_id.0,
            delivery_id: o.delivery_id,
            event: o.event,
            handler: o.handler,
            job_id: o.job.map(|j| j.job_id().0),
        }
    }
}

record! {
    /// What a round of job processing did.
    ProcessReport repr(claimed, completed, retried, deferred, dead, lost) {
        claimed: u64,
        completed: u64,
        retried: u64,
        deferred: u64,
        dead: u64,
        lost: u64,
    }
}

impl From<core::ProcessReport> for ProcessReport {
    fn from(r: core::ProcessReport) -> Self {
        ProcessReport {
            claimed: r.claimed as u64,
            completed: r.completed as u64,
            retried: r.retried as u64,
            deferred: r.deferred as u64,
            dead: r.dead as u64,
            lost: r.lost as u64,
        }
    }
}

record! {
    /// A repository Kova tracks.
    Repository repr(full_name, kind, status, enabled, sync_priority) {
        full_name: String,
        owner: String,
        name: String,
        description: Option<String>,
        default_branch: Option<String>,
        kind: String,
        enabled: bool,
        sync_priority: u32,
        features: Vec<String>,
        topics: Vec<String>,
        language: Option<String>,
        status: String,
        last_synced_at: Option<Timestamp>,
        head_sha: Option<String>,
        created_at: Timestamp,
        updated_at: Timestamp,
    }
}

impl From<core::Repository> for Repository {
    fn from(r: core::Repository) -> Self {
        Repository {
            full_name: r.repo.full_name(),
            owner: r.repo.owner().to_string(),
            name: r.repo.name().to_string(),
            description: r.description,
            default_branch: r.default_branch,
            kind: r.kind.as_str().into(),
            enabled: r.enabled,
            sync_priority: r.sync_priority.into(),
            features: r.features,
            topics: r.topics,
            language: r.language,
            status: r.status.as_str().into(),
            last_synced_at: r.last_synced_at,
            head_sha: r.head_sha,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

record! {
    /// A stored webhook event: the delivery as it arrived (raw `body` included) and its status.
    Event repr(id, event, action, repo, delivery_id, status) {
        id: i64,
        delivery_id: String,
        hook_id: Option<i64>,
        event: String,
        action: Option<String>,
        repo: Option<String>,
        installation_id: Option<i64>,
        sender: Option<String>,
        target_type: Option<String>,
        target_id: Option<i64>,
        user_agent: Option<String>,
        status: String,
        received_at: Timestamp,
        body: RawBytes,
    }
    methods {
        /// The body parsed as JSON.
        fn payload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            let v: serde_json::Value = serde_json::from_slice(&self.body.0).map_err(|e| {
                crate::errors::invalid("body", format!("not valid JSON: {e}"))
            })?;
            crate::convert::json_to_py(py, &v)
        }
    }
}

impl From<core::WebhookEvent> for Event {
    fn from(e: core::WebhookEvent) -> Self {
        let d = e.delivery;
        Event {
            id: e.id.0,
            delivery_id: d.delivery_id,
            hook_id: d.hook_id,
            event: d.event,
            action: d.action,
            repo: d.repo.map(|r| r.full_name()),
            installation_id: d.installation_id,
            sender: d.sender,
            target_type: d.target_type,
            target_id: d.target_id,
            user_agent: d.user_agent,
            status: e.status.as_str().into(),
            received_at: d.received_at,
            body: RawBytes(d.body),
        }
    }
}

record! {
    /// A generated artifact: code, document, diagram, config, data or analysis.
    Artifact repr(id, kind, name, version, repo, validation) {
        id: i64,
        name: String,
        kind: String,
        content: String,
        language: Option<String>,
        repo: Option<String>,
        /// "request", "event" or "sync".
        source: String,
        /// The event or sync log id, for artifacts from events and syncs.
        source_id: Option<i64>,
        /// "valid", "repaired", "invalid" or "unchecked".
        validation: String,
        /// Why validation failed, for "invalid".
        validation_detail: Option<String>,
        model: Option<String>,
        usage: Usage,
        cost_usd: Option<f64>,
        /// Anything else the producer recorded.
        metadata: Json,
        content_hash: String,
        version: u32,
        idempotency_key: Option<String>,
        created_at: Timestamp,
    }
}

impl From<core::Artifact> for Artifact {
    fn from(a: core::Artifact) -> Self {
        let (source, source_id) = match a.source {
            core::ArtifactSource::Request => ("request", None),
            core::ArtifactSource::Event(id) => ("event", Some(id.0)),
            core::ArtifactSource::Sync(id) => ("sync", Some(id.0)),
        };
        let (validation, detail) = match a.validation {
            core::Validation::Valid => ("valid", None),
            core::Validation::Repaired => ("repaired", None),
            core::Validation::Invalid(why) => ("invalid", Some(why)),
            core::Validation::Unchecked => ("unchecked", None),
        };
        Artifact {
            id: a.id.0,
            name: a.name,
            kind: a.kind.as_str().into(),
            content: a.content,
            language: a.language,
            repo: a.repo.map(|r| r.full_name()),
            source: source.into(),
            source_id,
            validation: validation.into(),
            validation_detail: detail,
            model: a.metadata.model,
            usage: a.metadata.usage.into(),
            cost_usd: a.metadata.cost_usd,
            metadata: Json(serde_json::Value::Object(a.metadata.extra)),
            content_hash: a.content_hash,
            version: a.version,
            idempotency_key: a.idempotency_key,
            created_at: a.created_at,
        }
    }
}

record! {
    /// One recorded LLM call.
    Interaction repr(id, purpose, model, success, usage) {
        id: i64,
        purpose: String,
        provider: String,
        model: String,
        prompt_digest: String,
        prompt: String,
        response: String,
        usage: Usage,
        cost_usd: Option<f64>,
        duration_ms: u64,
        success: bool,
        error: Option<String>,
        repo: Option<String>,
        event_id: Option<i64>,
        created_at: Timestamp,
    }
}

impl From<core::LlmInteraction> for Interaction {
    fn from(i: core::LlmInteraction) -> Self {
        Interaction {
            id: i.id.0,
            purpose: i.purpose,
            provider: i.provider,
            model: i.model,
            prompt_digest: i.prompt_digest,
            prompt: i.prompt,
            response: i.response,
            usage: i.usage.into(),
            cost_usd: i.cost_usd,
            duration_ms: i.duration_ms,
            success: i.success,
            error: i.error,
            repo: i.repo.map(|r| r.full_name()),
            event_id: i.event_id.map(|e| e.0),
            created_at: i.created_at,
        }
    }
}

record! {
    /// Sums over a set of LLM interactions.
    UsageTotals repr(calls, failures, usage, cost_usd) {
        calls: u64,
        failures: u64,
        usage: Usage,
        cost_usd: f64,
    }
}

impl From<core::UsageTotals> for UsageTotals {
    fn from(t: core::UsageTotals) -> Self {
        UsageTotals {
            calls: t.calls,
            failures: t.failures,
            usage: t.usage.into(),
            cost_usd: t.cost_usd,
        }
    }
}

record! {
    /// Queue counts by status and the creation time of the oldest queued job.
    JobsSummary repr(queued, running, done, dead, superseded, oldest_queued_at) {
        queued: u64,
        running: u64,
        done: u64,
        dead: u64,
        superseded: u64,
        oldest_queued_at: Option<Timestamp>,
    }
}

impl From<core::JobsSummary> for JobsSummary {
    fn from(s: core::JobsSummary) -> Self {
        JobsSummary {
            queued: s.queued,
            running: s.running,
            done: s.done,
            dead: s.dead,
            superseded: s.superseded,
            oldest_queued_at: s.oldest_queued_at,
        }
    }
}

record! {
    /// A job in the queue.
    Job repr(id, kind, status, attempts, max_attempts, event_id) {
        id: i64,
        kind: String,
        event_id: Option<i64>,
        payload: Json,
        dedupe_key: Option<String>,
        coalesce_key: Option<String>,
        attempts: u32,
        max_attempts: u32,
        run_at: Timestamp,
        lease_until: Option<Timestamp>,
        leased_by: Option<String>,
        status: String,
        last_error: Option<String>,
        created_at: Timestamp,
        updated_at: Timestamp,
    }
}

impl From<core::Job> for Job {
    fn from(j: core::Job) -> Self {
        Job {
            id: j.id.0,
            kind: j.kind,
            event_id: j.event_id.map(|e| e.0),
            payload: Json(j.payload),
            dedupe_key: j.dedupe_key,
            coalesce_key: j.coalesce_key,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            lease_until: j.lease_until,
            leased_by: j.leased_by,
            status: j.status.as_str().into(),
            last_error: j.last_error,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

record! {
    /// An error found in a repository (a failed workflow run) and Kova's analysis of it.
    RepoError repr(id, repo, source, title) {
        id: i64,
        repo: String,
        source: String,
        title: String,
        detail: String,
        head_sha: Option<String>,
        url: Option<String>,
        analysis: Option<String>,
        created_at: Timestamp,
    }
}

impl From<core::RepoError> for RepoError {
    fn from(e: core::RepoError) -> Self {
        RepoError {
            id: e.id.0,
            repo: e.repo.full_name(),
            source: e.source,
            title: e.title,
            detail: e.detail,
            head_sha: e.head_sha,
            url: e.url,
            analysis: e.analysis,
            created_at: e.created_at,
        }
    }
}

record! {
    /// One entry of the repositories file.
    RepoEntry repr(full_name, kind, enabled, sync_priority) {
        full_name: String,
        owner: String,
        name: String,
        description: Option<String>,
        kind: String,
        enabled: bool,
        sync_priority: u32,
        features: Vec<String>,
        /// Fields Kova does not know, kept as they were.
        extra: Json,
    }
}

impl From<&core::config::RepoEntry> for RepoEntry {
    fn from(e: &core::config::RepoEntry) -> Self {
        RepoEntry {
            full_name: e.repo.full_name(),
            owner: e.repo.owner().to_string(),
            name: e.repo.name().to_string(),
            description: e.description.clone(),
            kind: e.kind.as_str().into(),
            enabled: e.enabled,
            sync_priority: e.sync_priority.into(),
            features: e.features.clone(),
            extra: Json(serde_json::Value::Object(e.extra.clone())),
        }
    }
}

record! {
    /// The repositories file (`kova_repos_config.json`), validated.
    ReposConfig repr(github_owner, repositories) {
        github_owner: String,
        repositories: Vec<RepoEntry>,
        sync_settings: Json,
        discovery_settings: Json,
        integration_settings: Json,
        /// Top-level fields Kova does not know, kept as they were.
        extra: Json,
    }
    methods {
        /// The file's text in its original format (unknown fields kept).
        fn to_json(&self) -> PyResult<String> {
            // Rebuilt through the core parser, so the text has the original field order and
            // is checked by the same rules as a loaded file.
            let parsed = core::config::ReposConfig::parse(&self.raw_json().to_string())
                .map_err(crate::errors::to_py_err)?;
            Ok(parsed.to_json_string())
        }
    }
}

impl ReposConfig {
    fn raw_json(&self) -> serde_json::Value {
        let mut root = match &self.extra.0 {
            serde_json::Value::Object(m) => m.clone(),
            _ => serde_json::Map::new(),
        };
        root.insert("github_owner".into(), self.github_owner.clone().into());
        let entries = self.repositories.iter().map(|e| {
            let mut m = match &e.extra.0 {
                serde_json::Value::Object(m) => m.clone(),
                _ => serde_json::Map::new(),
            };
            m.insert("name".into(), e.name.clone().into());
            m.insert("full_name".into(), e.full_name.clone().into());
            if let Some(d) = &e.description {
                m.insert("description".into(), d.clone().into());
            }
            m.insert("type".into(), e.kind.clone().into());
            m.insert("enabled".into(), e.enabled.into());
            m.insert("sync_priority".into(), e.sync_priority.into());
            m.insert("features".into(), e.features.clone().into());
            serde_json::Value::Object(m)
        });
        root.insert("repositories".into(), entries.collect());
        root.insert("sync_settings".into(), self.sync_settings.0.clone());
        root.insert(
            "discovery_settings".into(),
            self.discovery_settings.0.clone(),
        );
        root.insert(
            "integration_settings".into(),
            self.integration_settings.0.clone(),
        );
        serde_json::Value::Object(root)
    }

    /// The Python view of a parsed file.
    pub fn new(c: &core::config::ReposConfig) -> Self {
        let file = c.to_json();
        let section = |k: &str| Json(file.get(k).cloned().unwrap_or(serde_json::Value::Null));
        ReposConfig {
            github_owner: c.github_owner.clone(),
            repositories: c.repositories.iter().map(RepoEntry::from).collect(),
            sync_settings: section("sync_settings"),
            discovery_settings: section("discovery_settings"),
            integration_settings: section("integration_settings"),
            extra: Json(serde_json::Value::Object(c.extra.clone())),
        }
    }
}
