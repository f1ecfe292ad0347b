//! `Kova` methods of the artifact service: generate artifacts, analyse code, AI commands and
//! scans. Each has a blocking form and an `*_async` twin.

use crate::convert::opt_repo;
use crate::engine::Kova;
use crate::reports::{CommandResponse, GeneratedArtifact, ScanReport};
use crate::runtime::{awaitable, block_on};
use kova_core::artifacts::{AnalyzeRequest, ArtifactRequest, CommandRequest, ScanOptions};
use kova_core::{ArtifactKind, Error, Result};
use pyo3::prelude::*;
use std::future::Future;
use std::path::PathBuf;

/// The arguments of `generate_artifact`, checked by the core before any LLM call.
#[allow(clippy::too_many_arguments)]
fn artifact_request(
    kind: String,
    title: String,
    description: Option<String>,
    language: Option<String>,
    format: Option<String>,
    context: Option<String>,
    repository: Option<&str>,
    idempotency_key: Option<String>,
    model: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    repair: bool,
) -> PyResult<ArtifactRequest> {
    // The kind is kept as text: the core validates it with the other fields and names it.
    let mut req = ArtifactRequest::new(ArtifactKind::Code, title).with_repair(repair);
    req.kind = kind;
    if let Some(d) = description {
        req = req.with_description(d);
    }
    if let Some(l) = language {
        req = req.with_language(l);
    }
    if let Some(f) = format {
        req = req.with_format(f);
    }
    if let Some(c) = context {
        req = req.with_context(c);
    }
    if let Some(r) = opt_repo(repository)? {
        req = req.with_repository(r);
    }
    if let Some(k) = idempotency_key {
        req = req.with_idempotency_key(k);
    }
    if let Some(m) = model {
        req = req.with_model(m);
    }
    if let Some(n) = max_tokens {
        req = req.with_max_tokens(n);
    }
    if let Some(t) = temperature {
        req = req.with_temperature(t);
    }
    Ok(req)
}

#[allow(clippy::too_many_arguments)]
fn analyze_request(
    code: String,
    language: Option<String>,
    analysis_type: Option<String>,
    title: Option<String>,
    file_path: Option<String>,
    context: Option<String>,
    repository: Option<&str>,
    idempotency_key: Option<String>,
    model: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
) -> PyResult<AnalyzeRequest> {
    let mut req = AnalyzeRequest::new(code);
    if let Some(l) = language {
        req = req.with_language(l);
    }
    if let Some(t) = analysis_type {
        req = req.with_analysis_type(t);
    }
    if let Some(p) = file_path {
        req = req.with_file_path(p);
    }
    if let Some(c) = context {
        req = req.with_context(c);
    }
    if let Some(r) = opt_repo(repository)? {
        req = req.with_repository(r);
    }
    if let Some(k) = idempotency_key {
        req = req.with_idempotency_key(k);
    }
    req.title = title;
    req.model = model;
    req.max_tokens = max_tokens;
    req.temperature = temperature;
    Ok(req)
}

#[allow(clippy::too_many_arguments)]
fn command_request(
    command: String,
    action: Option<String>,
    repository: Option<&str>,
    file_path: Option<String>,
    context: Option<String>,
    model: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
) -> PyResult<CommandRequest> {
    let mut req = CommandRequest::new(command);
    if let Some(a) = action {
        req = req.with_action(a);
    }
    if let Some(r) = opt_repo(repository)? {
        req = req.with_repository(r);
    }
    if let Some(p) = file_path {
        req = req.with_file_path(p);
    }
    if let Some(c) = context {
        req = req.with_context(c);
    }
    req.model = model;
    req.max_tokens = max_tokens;
    req.temperature = temperature;
    Ok(req)
}

/// What `scan` looks at: exactly one of a repository on GitHub or a local directory.
enum ScanWhat {
    Repo(kova_core::RepoRef),
    Local(PathBuf),
}

fn scan_what(repository: Option<&str>, path: Option<PathBuf>) -> PyResult<ScanWhat> {
    match (opt_repo(repository)?, path) {
        (Some(r), None) => Ok(ScanWhat::Repo(r)),
        (None, Some(p)) => Ok(ScanWhat::Local(p)),
        _ => Err(crate::errors::invalid(
            "target",
            "give exactly one of repository= and path=",
        )),
    }
}

impl Kova {
    fn generate_fut(
        &self,
        req: ArtifactRequest,
    ) -> impl Future<Output = Result<GeneratedArtifact>> + Send + 'static {
        let service = self.artifacts.clone();
        async move { GeneratedArtifact::from_core(&service.generate(req).await?) }
    }

    fn analyze_fut(
        &self,
        req: AnalyzeRequest,
    ) -> impl Future<Output = Result<GeneratedArtifact>> + Send + 'static {
        let service = self.artifacts.clone();
        async move { GeneratedArtifact::from_core(&service.analyze_code(req).await?) }
    }

    fn command_fut(
        &self,
        req: CommandRequest,
    ) -> impl Future<Output = Result<CommandResponse>> + Send + 'static {
        let service = self.artifacts.clone();
        async move { CommandResponse::from_core(&service.command(req).await?) }
    }

    fn scan_fut(
        &self,
        what: ScanWhat,
        opts: ScanOptions,
    ) -> impl Future<Output = Result<ScanReport>> + Send + 'static {
        let service = self.artifacts.clone();
        async move {
            let report = match what {
                ScanWhat::Repo(r) => service.scan_repository(&r, &opts).await?,
                // A directory walk is blocking file I/O: keep it off the runtime's workers.
                ScanWhat::Local(p) => {
                    tokio::task::spawn_blocking(move || service.scan_local(&p, &opts))
                        .await
                        .map_err(|e| Error::Internal(format!("scan task failed: {e}")))??
                }
            };
            ScanReport::from_core(&report)
        }
    }
}

fn scan_options(git_ref: Option<String>, max_files: Option<usize>) -> ScanOptions {
    let mut o = ScanOptions::default();
    if let Some(r) = git_ref {
        o = o.with_git_ref(r);
    }
    if let Some(n) = max_files {
        o = o.with_max_files(n);
    }
    o
}

#[pymethods]
impl Kova {
    /// Generates an artifact (code, document, diagram, config, data) with the LLM, validates
    /// it (one repair round when it fails), stores it and returns it.
    #[pyo3(signature = (
        kind, title, *, description=None, language=None, format=None, context=None,
        repository=None, idempotency_key=None, model=None, max_tokens=None, temperature=None,
        repair=true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn generate_artifact(
        &self,
        py: Python<'_>,
        kind: String,
        title: String,
        description: Option<String>,
        language: Option<String>,
        format: Option<String>,
        context: Option<String>,
        repository: Option<&str>,
        idempotency_key: Option<String>,
        model: Option<String>,
        max_tokens: Option<u32>,
        temperature: Option<f32>,
        repair: bool,
    ) -> PyResult<GeneratedArtifact> {
        let req = artifact_request(
            kind,
            title,
            description,
            language,
            format,
            context,
            repository,
            idempotency_key,
            model,
            max_tokens,
            temperature,
            repair,
        )?;
        block_on(py, self.generate_fut(req))
    }

    /// Awaitable form of `generate_artifact`.
    #[pyo3(signature = (
        kind, title, *, description=None, language=None, format=None, context=None,
        repository=None, idempotency_key=None, model=None, max_tokens=None, temperature=None,
        repair=true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn generate_artifact_async<'py>(
        &self,
        py: Python<'py>,
        kind: String,
        title: String,
        description: Option<String>,
        language: Option<String>,
        format: Option<String>,
        context: Option<String>,
        repository: Option<&str>,
        idempotency_key: Option<String>,
        model: Option<String>,
        max_tokens: Option<u32>,
        temperature: Option<f32>,
        repair: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = artifact_request(
            kind,
            title,
            description,
            language,
            format,
            context,
            repository,
            idempotency_key,
            model,
            max_tokens,
            temperature,
            repair,
        )?;
        awaitable(py, self.generate_fut(req))
    }

    /// Analyses code with the LLM and stores the analysis as an artifact.
    #[pyo3(signature = (
        code, *, language=None, analysis_type=None, title=None, file_path=None, context=None,
        repository=None, idempotency_key=None, model=None, max_tokens=None, temperature=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn analyze_code(
        &self,
        py: Python<'_>,
        code: String,
        language: Option<String>,
        analysis_type: Option<String>,
        title: Option<String>,
        file_path: Option<String>,
        context: Option<String>,
        repository: Option<&str>,
        idempotency_key: Option<String>,
        model: Option<String>,
        max_tokens: Option<u32>,
        temperature: Option<f32>,
    ) -> PyResult<GeneratedArtifact> {
        let req = analyze_request(
            code,
            language,
            analysis_type,
            title,
            file_path,
            context,
            repository,
            idempotency_key,
            model,
            max_tokens,
            temperature,
        )?;
        block_on(py, self.analyze_fut(req))
    }

    /// Awaitable form of `analyze_code`.
    #[pyo3(signature = (
        code, *, language=None, analysis_type=None, title=None, file_path=None, context=None,
        repository=None, idempotency_key=None, model=None, max_tokens=None, temperature=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn analyze_code_async<'py>(
        &self,
        py: Python<'py>,
        code: String,
        language: Option<String>,
        analysis_type: Option<String>,
        title: Option<String>,
        file_path: Option<String>,
        context: Option<String>,
        repository: Option<&str>,
        idempotency_key: Option<String>,
        model: Option<String>,
        max_tokens: Option<u32>,
        temperature: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = analyze_request(
            code,
            language,
            analysis_type,
            title,
            file_path,
            context,
            repository,
            idempotency_key,
            model,
            max_tokens,
            temperature,
        )?;
        awaitable(py, self.analyze_fut(req))
    }

    /// Runs an AI command (`action`: "analyze", "sync", "process", "ask", or free-form).
    #[pyo3(signature = (
        command, *, action=None, repository=None, file_path=None, context=None, model=None,
        max_tokens=None, temperature=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn command(
        &self,
        py: Python<'_>,
        command: String,
        action: Option<String>,
        repository: Option<&str>,
        file_path: Option<String>,
        context: Option<String>,
        model: Option<String>,
        max_tokens: Option<u32>,
        temperature: Option<f32>,
    ) -> PyResult<CommandResponse> {
        let req = command_request(
            command,
            action,
            repository,
            file_path,
            context,
            model,
            max_tokens,
            temperature,
        )?;
        block_on(py, self.command_fut(req))
    }

    /// Awaitable form of `command`.
    #[pyo3(signature = (
        command, *, action=None, repository=None, file_path=None, context=None, model=None,
        max_tokens=None, temperature=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn command_async<'py>(
        &self,
        py: Python<'py>,
        command: String,
        action: Option<String>,
        repository: Option<&str>,
        file_path: Option<String>,
        context: Option<String>,
        model: Option<String>,
        max_tokens: Option<u32>,
        temperature: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = command_request(
            command,
            action,
            repository,
            file_path,
            context,
            model,
            max_tokens,
            temperature,
        )?;
        awaitable(py, self.command_fut(req))
    }

    /// Scans a repository on GitHub (`repository=`, at `git_ref` or its default branch) or a
    /// local directory (`path=`): files, languages and manifests.
    #[pyo3(signature = (*, repository=None, path=None, git_ref=None, max_files=None))]
    fn scan(
        &self,
        py: Python<'_>,
        repository: Option<&str>,
        path: Option<PathBuf>,
        git_ref: Option<String>,
        max_files: Option<usize>,
    ) -> PyResult<ScanReport> {
        let what = scan_what(repository, path)?;
        block_on(py, self.scan_fut(what, scan_options(git_ref, max_files)))
    }

    /// Awaitable form of `scan`.
    #[pyo3(signature = (*, repository=None, path=None, git_ref=None, max_files=None))]
    fn scan_async<'py>(
        &self,
        py: Python<'py>,
        repository: Option<&str>,
        path: Option<PathBuf>,
        git_ref: Option<String>,
        max_files: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let what = scan_what(repository, path)?;
        awaitable(py, self.scan_fut(what, scan_options(git_ref, max_files)))
    }
}
