//! # kova-py
//!
//! Python bindings for Kova, built with maturin as the extension module `kova._kova` and
//! re-exported by the pure-Python package `kova` (`python/kova/__init__.py`, with stubs in
//! `__init__.pyi`). Logic stays in the Rust crates; this crate converts arguments, results and
//! errors, and runs the engine on one shared tokio runtime.

mod ai;
mod config;
mod convert;
mod engine;
mod errors;
mod page;
mod reads;
mod reports;
mod repos;
mod runtime;
mod types;
mod workers;

use crate::errors::to_py_err;
use kova_github::{GitHubWebhooks, Secret};
use pyo3::prelude::*;
use std::path::PathBuf;

/// Checks a webhook body's `X-Hub-Signature-256` value against one secret or several (during
/// rotation), in constant time. Returns False for a missing, malformed, SHA-1 or wrong
/// signature; raises `SignatureError` (reason "no_secret_configured") when no non-empty
/// secret is given, because that is a configuration mistake, not a bad request.
#[pyfunction]
#[pyo3(signature = (secret, body, header))]
fn verify_signature(
    secret: &Bound<'_, PyAny>,
    body: &[u8],
    header: Option<&str>,
) -> PyResult<bool> {
    let secrets: Vec<String> = if let Ok(s) = secret.extract::<String>() {
        vec![s]
    } else {
        secret.extract::<Vec<String>>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err("secret must be a str or a list of str")
        })?
    };
    let receiver = GitHubWebhooks::new(secrets.into_iter().map(Secret::new).collect());
    if receiver.secret_count() == 0 {
        return Err(to_py_err(kova_core::Error::Signature(
            kova_core::SignatureError::NoSecretConfigured,
        )));
    }
    let headers: Vec<(String, String)> = header
        .map(|h| vec![("X-Hub-Signature-256".to_string(), h.to_string())])
        .unwrap_or_default();
    Ok(receiver.verify(&headers, body).is_ok())
}

/// The kinds, languages and formats `generate_artifact` accepts (`GET /artifacts/types`).
#[pyfunction]
fn supported_types() -> PyResult<reports::SupportedTypes> {
    reports::SupportedTypes::from_core(&kova_core::artifacts::supported_types()).map_err(to_py_err)
}

/// Reads and validates a repositories file (`kova_repos_config.json`).
#[pyfunction]
fn parse_repos_config(py: Python<'_>, path: PathBuf) -> PyResult<types::ReposConfig> {
    let config = py
        .detach(|| kova_core::config::ReposConfig::load(&path))
        .map_err(to_py_err)?;
    Ok(types::ReposConfig::new(&config))
}

/// The native module; `import kova` re-exports everything in it.
#[pymodule]
fn _kova(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_STORE", config::DEFAULT_STORE)?;
    errors::register(m)?;
    m.add_class::<engine::Kova>()?;
    m.add_class::<page::Page>()?;
    m.add_class::<types::Usage>()?;
    m.add_class::<types::IngestResult>()?;
    m.add_class::<types::ProcessReport>()?;
    m.add_class::<types::Repository>()?;
    m.add_class::<types::Event>()?;
    m.add_class::<types::Artifact>()?;
    m.add_class::<types::Interaction>()?;
    m.add_class::<types::UsageTotals>()?;
    m.add_class::<types::JobsSummary>()?;
    m.add_class::<types::Job>()?;
    m.add_class::<types::RepoError>()?;
    m.add_class::<types::RepoEntry>()?;
    m.add_class::<types::ReposConfig>()?;
    m.add_class::<reports::GeneratedArtifact>()?;
    m.add_class::<reports::SyncReport>()?;
    m.add_class::<reports::RepoSyncResult>()?;
    m.add_class::<reports::SyncTotals>()?;
    m.add_class::<reports::SyncProgress>()?;
    m.add_class::<reports::DiscoverReport>()?;
    m.add_class::<reports::AddOutcome>()?;
    m.add_class::<reports::SyncStatus>()?;
    m.add_class::<reports::CommandResponse>()?;
    m.add_class::<reports::ScanReport>()?;
    m.add_function(wrap_pyfunction!(verify_signature, m)?)?;
    m.add_function(wrap_pyfunction!(parse_repos_config, m)?)?;
    m.add_class::<reports::SupportedTypes>()?;
    m.add_function(wrap_pyfunction!(supported_types, m)?)?;
    Ok(())
}
