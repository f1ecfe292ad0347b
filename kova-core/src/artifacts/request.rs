//! What callers ask for: artifact generation and code analysis requests, validated before any
//! LLM call, and the result they get back.

use crate::artifacts::languages::{
    self, CONFIG_FORMATS, DATA_FORMATS, DIAGRAM_FORMATS, DOCUMENT_FORMATS,
};
use crate::error::{Error, Result};
use crate::model::{Artifact, ArtifactKind, EventId, RepoRef};
use serde::{Deserialize, Serialize};

/// Longest title (the stored artifact's name).
pub const MAX_TITLE_CHARS: usize = 512;
/// Most bytes of caller text (description + context, or code to analyse) in one request.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// Most output tokens a caller may ask for.
pub const MAX_OUTPUT_TOKENS: u32 = 64_000;
/// Output tokens when the caller does not say (capped by the model's own limit).
pub const DEFAULT_OUTPUT_TOKENS: u32 = 8_192;

/// A request to generate an artifact (code, document, diagram, config or data).
///
/// String fields are what the HTTP and Python faces receive; [`ArtifactService::generate`]
/// validates them all (naming the field) before any LLM call.
///
/// [`ArtifactService::generate`]: crate::artifacts::ArtifactService::generate
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactRequest {
    /// `code`, `document`, `diagram`, `config` or `data`.
    #[serde(alias = "type", alias = "artifact_type")]
    pub kind: String,
    /// The artifact's name; required.
    #[serde(alias = "name")]
    pub title: String,
    /// What to generate.
    #[serde(default)]
    pub description: String,
    /// Programming language (`code`; required there).
    #[serde(default)]
    pub language: Option<String>,
    /// Format: config `json|yaml|toml|ini|xml` (required), document
    /// `markdown|text|html|rst` (default markdown), diagram `mermaid`, data `json`.
    #[serde(default)]
    pub format: Option<String>,
    /// Extra context for the model (requirements, existing code, constraints).
    #[serde(default)]
    pub context: Option<String>,
    /// A repository whose README and file tree are given to the model as context.
    #[serde(default)]
    pub repository: Option<RepoRef>,
    /// Same key again → the artifact stored the first time, with no new LLM call.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The model; `None` is the provider's default.
    #[serde(default)]
    pub model: Option<String>,
    /// Output token limit; `None` is [`DEFAULT_OUTPUT_TOKENS`] capped by the model.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0.0..=1.0.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// The webhook event this artifact is made for (links the artifact and interactions).
    #[serde(default)]
    pub event_id: Option<EventId>,
    /// Whether content that fails validation gets one repair round (default true).
    #[serde(default = "yes")]
    pub repair: bool,
}

fn yes() -> bool {
    true
}

impl ArtifactRequest {
    /// A request for an artifact of `kind` named `title`.
    pub fn new(kind: ArtifactKind, title: impl Into<String>) -> Self {
        ArtifactRequest {
            kind: kind.as_str().to_string(),
            title: title.into(),
            description: String::new(),
            language: None,
            format: None,
            context: None,
            repository: None,
            idempotency_key: None,
            model: None,
            max_tokens: None,
            temperature: None,
            event_id: None,
            repair: true,
        }
    }

    /// Sets what to generate.
    pub fn with_description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// Sets the language (code).
    pub fn with_language(mut self, l: impl Into<String>) -> Self {
        self.language = Some(l.into());
        self
    }
    /// Sets the format (config, document, diagram, data).
    pub fn with_format(mut self, f: impl Into<String>) -> Self {
        self.format = Some(f.into());
        self
    }
    /// Adds context for the model.
    pub fn with_context(mut self, c: impl Into<String>) -> Self {
        self.context = Some(c.into());
        self
    }
    /// Gives the model a repository's README and file tree.
    pub fn with_repository(mut self, r: RepoRef) -> Self {
        self.repository = Some(r);
        self
    }
    /// Makes the request idempotent under `key`.
    pub fn with_idempotency_key(mut self, k: impl Into<String>) -> Self {
        self.idempotency_key = Some(k.into());
        self
    }
    /// Sets the model.
    pub fn with_model(mut self, m: impl Into<String>) -> Self {
        self.model = Some(m.into());
        self
    }
    /// Sets the output token limit.
    pub fn with_max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }
    /// Sets the temperature.
    pub fn with_temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }
    /// Turns the repair round on or off.
    pub fn with_repair(mut self, repair: bool) -> Self {
        self.repair = repair;
        self
    }
    /// Links the artifact to a webhook event.
    pub fn with_event(mut self, id: EventId) -> Self {
        self.event_id = Some(id);
        self
    }

    /// Checks every field and resolves aliases (`yml` → `yaml`). Errors name the field.
    pub fn validate(&self) -> Result<ValidRequest> {
        let kind: ArtifactKind = self.kind.trim().parse()?;
        let target = match kind {
            ArtifactKind::Code => {
                if let Some(f) = non_blank(&self.format) {
                    return Err(Error::invalid(
                        "format",
                        format!("not used for code (got '{f}'); set language"),
                    ));
                }
                let lang = non_blank(&self.language)
                    .ok_or_else(|| Error::invalid("language", "required for code"))?;
                languages::code_languages()
                    .find(|l| l.matches(lang))
                    .map(|l| l.id)
                    .ok_or_else(|| {
                        Error::invalid(
                            "language",
                            format!("unknown language '{lang}' (see supported_types)"),
                        )
                    })?
            }
            ArtifactKind::Config => self.format_in(CONFIG_FORMATS, None)?,
            ArtifactKind::Document => self.format_in(DOCUMENT_FORMATS, Some("markdown"))?,
            ArtifactKind::Diagram => self.format_in(DIAGRAM_FORMATS, Some("mermaid"))?,
            ArtifactKind::Data => self.format_in(DATA_FORMATS, Some("json"))?,
            ArtifactKind::Analysis => {
                return Err(Error::invalid(
                    "kind",
                    "analysis is produced by analyze_code, not generate",
                ))
            }
        };
        if kind != ArtifactKind::Code {
            if let Some(l) = non_blank(&self.language) {
                return Err(Error::invalid(
                    "language",
                    format!("only used for code (got '{l}'); set format"),
                ));
            }
        }
        let title = validate_title(&self.title)?;
        let input = self.description.len() + self.context.as_ref().map_or(0, String::len);
        if input > MAX_INPUT_BYTES {
            return Err(Error::invalid(
                "description",
                format!("description and context together must be at most {MAX_INPUT_BYTES} bytes"),
            ));
        }
        validate_common(
            &self.idempotency_key,
            self.max_tokens,
            self.temperature,
            &self.model,
        )?;
        Ok(ValidRequest {
            kind,
            target,
            title,
        })
    }

    fn format_in(&self, allowed: &[&str], default: Option<&'static str>) -> Result<&'static str> {
        match non_blank(&self.format) {
            Some(f) => languages::canonical_in(f, allowed).ok_or_else(|| {
                Error::invalid(
                    "format",
                    format!(
                        "unknown format '{f}' for {}: must be {}",
                        self.kind.trim(),
                        allowed.join("|")
                    ),
                )
            }),
            None => default.ok_or_else(|| {
                Error::invalid(
                    "format",
                    format!("required for {}: {}", self.kind.trim(), allowed.join("|")),
                )
            }),
        }
    }
}

/// A request after validation: the kind, the canonical language or format, the trimmed title.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidRequest {
    /// The artifact kind.
    pub kind: ArtifactKind,
    /// The canonical language (code) or format (everything else).
    pub target: &'static str,
    /// The trimmed title.
    pub title: String,
}

/// What `generate` and `analyze_code` return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GeneratedArtifact {
    /// The stored artifact (content, validation status, metadata, version).
    pub artifact: Artifact,
    /// True when an artifact stored earlier under the same idempotency key was returned and
    /// no LLM call was made.
    pub replayed: bool,
}

/// The trimmed value, if there is one.
pub(crate) fn non_blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(crate) fn validate_title(title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() {
        return Err(Error::invalid("title", "must not be empty"));
    }
    if t.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::invalid(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::invalid(
            "title",
            "must not contain control characters",
        ));
    }
    Ok(t.to_string())
}

/// A repository-relative path: non-empty, no `..`, not absolute.
pub(crate) fn validate_path(p: &str, field: &str) -> Result<()> {
    let t = p.trim();
    if t.is_empty() || t.len() > 1024 {
        return Err(Error::invalid(field, "must be 1..=1024 characters"));
    }
    if t.starts_with('/') || t.split('/').any(|c| c == "..") || t.contains('\0') {
        return Err(Error::invalid(
            field,
            "must be a path inside the repository (no leading '/', no '..')",
        ));
    }
    Ok(())
}

pub(crate) fn validate_common(
    key: &Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    model: &Option<String>,
) -> Result<()> {
    if let Some(k) = key {
        if k.is_empty() || k.len() > 256 {
            return Err(Error::invalid(
                "idempotency_key",
                "must be 1..=256 characters",
            ));
        }
    }
    if let Some(n) = max_tokens {
        if n == 0 || n > MAX_OUTPUT_TOKENS {
            return Err(Error::invalid(
                "max_tokens",
                format!("must be between 1 and {MAX_OUTPUT_TOKENS}"),
            ));
        }
    }
    if let Some(t) = temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(Error::invalid("temperature", "must be between 0.0 and 1.0"));
        }
    }
    if let Some(m) = model {
        if m.trim().is_empty() || m.len() > 128 {
            return Err(Error::invalid("model", "must be 1..=128 characters"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<ValidRequest>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn resolves_aliases_and_defaults() {
        let v = ArtifactRequest::new(ArtifactKind::Config, "c")
            .with_format("yml")
            .validate();
        assert_eq!(v.unwrap().target, "yaml");
        let v = ArtifactRequest::new(ArtifactKind::Code, " t ")
            .with_language("rs")
            .validate();
        let v = v.unwrap();
        assert_eq!((v.target, v.title.as_str()), ("rust", "t"));
        let v = ArtifactRequest::new(ArtifactKind::Document, "d").validate();
        assert_eq!(v.unwrap().target, "markdown");
        assert_eq!(
            ArtifactRequest::new(ArtifactKind::Data, "d")
                .validate()
                .unwrap()
                .target,
            "json"
        );
    }

    #[test]
    fn names_the_bad_field() {
        let base = |k| ArtifactRequest::new(k, "t");
        assert_eq!(field(base(ArtifactKind::Code).validate()), "language");
        assert_eq!(
            field(base(ArtifactKind::Code).with_language("klingon").validate()),
            "language"
        );
        assert_eq!(field(base(ArtifactKind::Config).validate()), "format");
        assert_eq!(
            field(base(ArtifactKind::Config).with_format("csv").validate()),
            "format"
        );
        assert_eq!(
            field(
                base(ArtifactKind::Diagram)
                    .with_format("plantuml")
                    .validate()
            ),
            "format"
        );
        assert_eq!(
            field(base(ArtifactKind::Diagram).with_language("rust").validate()),
            "language"
        );
        assert_eq!(
            field(ArtifactRequest::new(ArtifactKind::Data, "  ").validate()),
            "title"
        );
        assert_eq!(field(base(ArtifactKind::Analysis).validate()), "kind");
        let mut r = base(ArtifactKind::Data);
        r.kind = "world".into();
        assert_eq!(field(r.validate()), "kind");
        assert_eq!(
            field(base(ArtifactKind::Data).with_temperature(2.0).validate()),
            "temperature"
        );
        assert_eq!(
            field(base(ArtifactKind::Data).with_max_tokens(0).validate()),
            "max_tokens"
        );
        assert_eq!(
            field(base(ArtifactKind::Data).with_idempotency_key("").validate()),
            "idempotency_key"
        );
        let big = "x".repeat(MAX_INPUT_BYTES + 1);
        assert_eq!(
            field(base(ArtifactKind::Data).with_description(big).validate()),
            "description"
        );
    }

    #[test]
    fn deserializes_the_wire_shape() {
        let r: ArtifactRequest = serde_json::from_str(
            r#"{"type": "config", "name": "ci", "format": "yaml", "repository": "o/r"}"#,
        )
        .unwrap();
        assert_eq!(r.validate().unwrap().target, "yaml");
        assert_eq!(r.repository.unwrap().to_string(), "o/r");
    }
}
