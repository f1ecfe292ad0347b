//! Generated artifacts: code, documents, diagrams, configs, data and analyses.

use crate::error::{Error, Result};
use crate::model::ids::{ArtifactId, EventId, SyncLogId};
use crate::model::llm::Usage;
use crate::model::repo::RepoRef;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// What kind of thing an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// Source code in some language.
    Code,
    /// Prose: READMEs, guides, descriptions.
    Document,
    /// A Mermaid diagram.
    Diagram,
    /// A configuration file (json, yaml, toml, ini, xml).
    Config,
    /// Structured data (JSON).
    Data,
    /// An analysis or review produced from code, a PR, an issue or a CI failure.
    Analysis,
}

impl ArtifactKind {
    /// Every kind.
    pub const ALL: [ArtifactKind; 6] = [
        ArtifactKind::Code,
        ArtifactKind::Document,
        ArtifactKind::Diagram,
        ArtifactKind::Config,
        ArtifactKind::Data,
        ArtifactKind::Analysis,
    ];

    /// The lowercase name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Code => "code",
            ArtifactKind::Document => "document",
            ArtifactKind::Diagram => "diagram",
            ArtifactKind::Config => "config",
            ArtifactKind::Data => "data",
            ArtifactKind::Analysis => "analysis",
        }
    }
}

impl FromStr for ArtifactKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ArtifactKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid("kind", "must be code|document|diagram|config|data|analysis")
            })
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What produced an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum ArtifactSource {
    /// An API request (HTTP, Python or Rust caller).
    Request,
    /// Processing of a webhook event.
    Event(EventId),
    /// A sync run.
    Sync(SyncLogId),
}

/// Whether an artifact's content passed the checks for its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Validation {
    /// Passed.
    Valid,
    /// Passed after a repair round.
    Repaired,
    /// Failed; the message says how.
    Invalid(String),
    /// Not checked (kind without a validator).
    Unchecked,
}

/// Metadata kept with an artifact: which model made it, at what cost, and its content hash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMetadata {
    /// The model that produced it, if an LLM did.
    pub model: Option<String>,
    /// Token usage of the LLM calls that produced it.
    pub usage: Usage,
    /// Cost in US dollars of those calls, if known.
    pub cost_usd: Option<f64>,
    /// Anything else (skipped files, cited paths…).
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// An artifact to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewArtifact {
    /// A short human name (`review of #12`, `architecture diagram`).
    pub name: String,
    /// Its kind.
    pub kind: ArtifactKind,
    /// The content.
    pub content: String,
    /// Language (code) or format (config, data, diagram).
    pub language: Option<String>,
    /// The repository it concerns.
    pub repo: Option<RepoRef>,
    /// What produced it.
    pub source: ArtifactSource,
    /// Validation status.
    pub validation: Validation,
    /// Model, usage, cost and extras.
    pub metadata: ArtifactMetadata,
    /// Same key twice → the first artifact is returned, nothing new is stored.
    pub idempotency_key: Option<String>,
}

impl NewArtifact {
    /// An unchecked artifact from a request.
    pub fn new(name: impl Into<String>, kind: ArtifactKind, content: impl Into<String>) -> Self {
        NewArtifact {
            name: name.into(),
            kind,
            content: content.into(),
            language: None,
            repo: None,
            source: ArtifactSource::Request,
            validation: Validation::Unchecked,
            metadata: ArtifactMetadata::default(),
            idempotency_key: None,
        }
    }

    /// Checks the artifact before any store writes it.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() || self.name.len() > 512 {
            return Err(Error::invalid("name", "must be 1..=512 characters"));
        }
        if matches!(&self.idempotency_key, Some(k) if k.is_empty() || k.len() > 256) {
            return Err(Error::invalid(
                "idempotency_key",
                "must be 1..=256 characters",
            ));
        }
        Ok(())
    }
}

/// An artifact as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Row id.
    pub id: ArtifactId,
    /// A short human name.
    pub name: String,
    /// Its kind.
    pub kind: ArtifactKind,
    /// The content.
    pub content: String,
    /// Language or format.
    pub language: Option<String>,
    /// The repository it concerns.
    pub repo: Option<RepoRef>,
    /// What produced it.
    pub source: ArtifactSource,
    /// Validation status.
    pub validation: Validation,
    /// Model, usage, cost and extras.
    pub metadata: ArtifactMetadata,
    /// Hex SHA-256 of `content`.
    pub content_hash: String,
    /// 1 for the first artifact of this (repository, kind, name), then 2, 3…
    pub version: u32,
    /// See [`NewArtifact::idempotency_key`].
    pub idempotency_key: Option<String>,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// Hex SHA-256 of a text, as stored in [`Artifact::content_hash`].
pub fn content_hash(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// The result of storing an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "artifact", rename_all = "snake_case")]
pub enum ArtifactOutcome {
    /// Stored now.
    Inserted(Artifact),
    /// An artifact with the same idempotency key existed; it is returned unchanged.
    Existing(Artifact),
}

impl ArtifactOutcome {
    /// The artifact, new or existing.
    pub fn into_artifact(self) -> Artifact {
        match self {
            ArtifactOutcome::Inserted(a) | ArtifactOutcome::Existing(a) => a,
        }
    }
}
