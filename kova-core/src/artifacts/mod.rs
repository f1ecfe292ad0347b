//! Artifacts and AI commands: generate code, documents, Mermaid diagrams, configs and data with
//! an LLM (validated, repaired once, stored with usage and validation status), analyse code,
//! answer AI commands about repositories, and scan repositories or local directories.
//!
//! Everything goes through one [`ArtifactService`]; the HTTP and Python faces call it.
//!
//! ```
//! let types = kova_core::artifacts::supported_types();
//! assert!(types.config_formats.iter().any(|f| f.id == "yaml"));
//! assert!(types.languages.iter().any(|l| l.id == "rust"));
//! ```
//!
//! # Pipeline
//! request → validation (every field, before any call) → prompt per kind (optional repository
//! context: description, tree summary and README, marked cacheable) → LLM (recorded as an
//! `LlmInteraction`) → extraction of the fenced block → validation for the kind → if it failed,
//! one repair round (the answer and the error sent back) → `Store::insert_artifact` with the
//! validation status, usage summed over the calls, model, cost and flags (`truncated`,
//! `fallback_extraction`). Idempotency keys: see [`idempotency`].

mod analyze;
mod ask;
mod command;
mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod generate;
pub mod idempotency;
mod languages;
mod llm_call;
mod repo_context;
mod request;
pub mod scan;
mod templates;
mod types;
mod validate;

pub use analyze::{AnalyzeRequest, ANALYSIS_TYPES};
pub use ask::{CitedFile, FILES_BUDGET, FILE_BUDGET, MAX_CANDIDATES, MAX_FILES};
pub use command::{CommandAction, CommandRequest, CommandResponse, RepoSyncer, ACTIONS};
pub use extract::Extraction;
pub use llm_call::{check_budget, record_completion, RecordedCompletion};
pub use request::{
    ArtifactRequest, GeneratedArtifact, ValidRequest, DEFAULT_OUTPUT_TOKENS, MAX_INPUT_BYTES,
    MAX_OUTPUT_TOKENS, MAX_TITLE_CHARS,
};
pub use scan::{
    scan_local_path, K8sResource, LanguageStats, Manifest, ManifestKind, ScanOptions, ScanReport,
    ScanTarget, ScannedFile,
};
pub use types::{supported_types, KindInfo, LanguageInfo, SupportedTypes};

use crate::config::ReposConfig;
use crate::error::{Error, Result};
use crate::provider::LlmProvider;
use crate::source::SourceHost;
use crate::store::Store;
use crate::time::Clock;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// Generates and analyses artifacts, answers AI commands, scans repositories.
///
/// Cheap to share: wrap it in an `Arc` and call it from any task.
#[derive(Debug)]
pub struct ArtifactService {
    store: Arc<dyn Store>,
    llm: Option<Arc<dyn LlmProvider>>,
    source: Option<Arc<dyn SourceHost>>,
    clock: Arc<dyn Clock>,
    syncer: Option<Arc<dyn RepoSyncer>>,
    repos_config: RwLock<Option<Arc<ReposConfig>>>,
    idempotency: idempotency::Idempotency,
}

impl ArtifactService {
    /// A service over a store, an optional LLM and source host, and a clock.
    pub fn new(
        store: Arc<dyn Store>,
        llm: Option<Arc<dyn LlmProvider>>,
        source: Option<Arc<dyn SourceHost>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        ArtifactService {
            store,
            llm,
            source,
            clock,
            syncer: None,
            repos_config: RwLock::new(None),
            idempotency: idempotency::Idempotency::default(),
        }
    }

    /// Wires the sync engine for the `sync` command action.
    pub fn with_syncer(mut self, syncer: Arc<dyn RepoSyncer>) -> Self {
        self.syncer = Some(syncer);
        self
    }

    /// Sets the repositories file the `process` action reports on.
    pub fn with_repos_config(self, config: ReposConfig) -> Self {
        self.set_repos_config(config);
        self
    }

    /// Replaces the repositories file (e.g. after `/multi-repo/add`).
    pub fn set_repos_config(&self, config: ReposConfig) {
        *self.repos_config.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(config));
    }

    /// The repositories file: the sync engine's current one when it keeps one (`add` rewrites
    /// it while the server runs), else the one set here.
    pub fn repos_config(&self) -> Option<Arc<ReposConfig>> {
        if let Some(live) = self.syncer.as_ref().and_then(|s| s.repos_config()) {
            return Some(Arc::new(live));
        }
        self.repos_config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The LLM, or [`Error::NotConfigured`] saying how to configure one.
    pub fn llm(&self) -> Result<&Arc<dyn LlmProvider>> {
        self.llm.as_ref().ok_or_else(|| Error::NotConfigured {
            what: "llm",
            hint: "set ANTHROPIC_API_KEY".into(),
        })
    }

    /// The source host, or [`Error::NotConfigured`] saying how to configure one.
    pub fn source(&self) -> Result<&Arc<dyn SourceHost>> {
        self.source.as_ref().ok_or_else(|| Error::NotConfigured {
            what: "github",
            hint: "set GITHUB_TOKEN".into(),
        })
    }

    /// The supported kinds, languages and formats (`GET /artifacts/types`).
    pub fn supported_types(&self) -> SupportedTypes {
        supported_types()
    }

    /// Scans a local directory; see [`scan_local_path`]. Blocking: from async code, call it
    /// inside `spawn_blocking`.
    pub fn scan_local(&self, path: &Path, opts: &ScanOptions) -> Result<ScanReport> {
        scan_local_path(path, opts)
    }
}
