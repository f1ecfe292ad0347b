//! Code analysis requests (`/artifacts/code/analyze`), validated before any LLM call.

use crate::artifacts::languages;
use crate::artifacts::request::{
    non_blank, validate_common, validate_path, validate_title, MAX_INPUT_BYTES, MAX_TITLE_CHARS,
};
use crate::error::{Error, Result};
use crate::model::{EventId, RepoRef};
use serde::{Deserialize, Serialize};

/// What to look for when analysing code.
pub const ANALYSIS_TYPES: &[&str] = &[
    "general",
    "review",
    "security",
    "performance",
    "bugs",
    "style",
    "complexity",
    "documentation",
    "tests",
];

/// A request to analyse a piece of code (`/artifacts/code/analyze`); the result is stored as
/// an `analysis` artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AnalyzeRequest {
    /// The code to analyse; required.
    pub code: String,
    /// Its language, if known (validated when given).
    #[serde(default)]
    pub language: Option<String>,
    /// One of [`ANALYSIS_TYPES`]; default `general`.
    #[serde(default)]
    pub analysis_type: Option<String>,
    /// The artifact's name; default `analysis of <file or language> code`.
    #[serde(default)]
    pub title: Option<String>,
    /// Where the code comes from, for the prompt and the record.
    #[serde(default)]
    pub file_path: Option<String>,
    /// Extra context or a question about the code.
    #[serde(default)]
    pub context: Option<String>,
    /// The repository the code belongs to (README and tree are given to the model).
    #[serde(default)]
    pub repository: Option<RepoRef>,
    /// Same key again → the analysis stored the first time, with no new LLM call.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The model; `None` is the provider's default.
    #[serde(default)]
    pub model: Option<String>,
    /// Output token limit.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0.0..=1.0.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// The webhook event this analysis is made for.
    #[serde(default)]
    pub event_id: Option<EventId>,
}

impl AnalyzeRequest {
    /// A request to analyse `code`.
    pub fn new(code: impl Into<String>) -> Self {
        AnalyzeRequest {
            code: code.into(),
            language: None,
            analysis_type: None,
            title: None,
            file_path: None,
            context: None,
            repository: None,
            idempotency_key: None,
            model: None,
            max_tokens: None,
            temperature: None,
            event_id: None,
        }
    }
    /// Sets the language.
    pub fn with_language(mut self, l: impl Into<String>) -> Self {
        self.language = Some(l.into());
        self
    }
    /// Sets the analysis type.
    pub fn with_analysis_type(mut self, t: impl Into<String>) -> Self {
        self.analysis_type = Some(t.into());
        self
    }
    /// Sets the file path.
    pub fn with_file_path(mut self, p: impl Into<String>) -> Self {
        self.file_path = Some(p.into());
        self
    }
    /// Sets the repository.
    pub fn with_repository(mut self, r: RepoRef) -> Self {
        self.repository = Some(r);
        self
    }
    /// Makes the request idempotent under `key`.
    pub fn with_idempotency_key(mut self, k: impl Into<String>) -> Self {
        self.idempotency_key = Some(k.into());
        self
    }
    /// Adds context or a question.
    pub fn with_context(mut self, c: impl Into<String>) -> Self {
        self.context = Some(c.into());
        self
    }

    /// Checks every field; returns (canonical language if given, analysis type, title).
    pub(crate) fn validate(&self) -> Result<(Option<&'static str>, &'static str, String)> {
        if self.code.trim().is_empty() {
            return Err(Error::invalid("code", "must not be empty"));
        }
        let input = self.code.len() + self.context.as_ref().map_or(0, String::len);
        if input > MAX_INPUT_BYTES {
            return Err(Error::invalid(
                "code",
                format!("code and context together must be at most {MAX_INPUT_BYTES} bytes"),
            ));
        }
        let language = match non_blank(&self.language) {
            None => None,
            Some(l) => Some(languages::find(l).map(|l| l.id).ok_or_else(|| {
                Error::invalid(
                    "language",
                    format!("unknown language '{l}' (see supported_types)"),
                )
            })?),
        };
        let analysis_type = match non_blank(&self.analysis_type) {
            None => "general",
            Some(t) => ANALYSIS_TYPES
                .iter()
                .copied()
                .find(|x| x.eq_ignore_ascii_case(t))
                .ok_or_else(|| {
                    Error::invalid(
                        "analysis_type",
                        format!(
                            "unknown analysis type '{t}': must be {}",
                            ANALYSIS_TYPES.join("|")
                        ),
                    )
                })?,
        };
        if let Some(p) = &self.file_path {
            validate_path(p, "file_path")?;
        }
        let title = match &self.title {
            Some(t) => validate_title(t)?,
            None => {
                let what = self
                    .file_path
                    .clone()
                    .or_else(|| language.map(|l| format!("{l} code")))
                    .unwrap_or_else(|| "code".into());
                format!("{analysis_type} analysis of {what}")
                    .chars()
                    .take(MAX_TITLE_CHARS)
                    .collect()
            }
        };
        validate_common(
            &self.idempotency_key,
            self.max_tokens,
            self.temperature,
            &self.model,
        )?;
        Ok((language, analysis_type, title))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyze_validation() {
        assert!(AnalyzeRequest::new(" ").validate().is_err());
        let (l, t, title) = AnalyzeRequest::new("fn x() {}")
            .with_language("rs")
            .validate()
            .unwrap();
        assert_eq!(
            (l, t, title.as_str()),
            (Some("rust"), "general", "general analysis of rust code")
        );
        let e = AnalyzeRequest::new("x")
            .with_analysis_type("vibes")
            .validate()
            .unwrap_err();
        assert!(matches!(e, Error::Invalid { field, .. } if field == "analysis_type"));
        let e = AnalyzeRequest::new("x")
            .with_file_path("../etc/passwd")
            .validate()
            .unwrap_err();
        assert!(matches!(e, Error::Invalid { field, .. } if field == "file_path"));
    }
}
