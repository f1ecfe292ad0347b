//! The artifact pipeline's extraction and validation steps, which are otherwise internal,
//! for the fuzz targets in `fuzz/` (feature `fuzzing`). Not a stable API.

use crate::artifacts::{extract, generate, validate};
use crate::model::ArtifactKind;

pub use crate::artifacts::extract::{Extracted, Fence};
pub use crate::artifacts::validate::IniEntry;

/// Every fenced block of a Markdown answer, in order.
pub fn fences(text: &str) -> Vec<Fence> {
    extract::fences(text)
}

/// The block tagged `wanted`, else the first untagged one, else any, else the whole answer.
pub fn extract(answer: &str, wanted: &str) -> Extracted {
    extract::extract(answer, wanted)
}

/// A document: a block only when it wraps the whole answer, else the whole answer.
pub fn extract_document(answer: &str, format: &str) -> Extracted {
    extract::extract_document(answer, format)
}

/// Extraction as generation does it for `kind`.
pub fn pick(kind: ArtifactKind, target: &str, answer: &str) -> Extracted {
    generate::pick(kind, target, answer)
}

/// Whether a fence tag names the wanted language or format.
pub fn tag_matches(tag: &str, wanted: &str) -> bool {
    extract::tag_matches(tag, wanted)
}

/// Validation of extracted content for `kind` in `target` (a canonical id).
pub fn check(kind: ArtifactKind, target: &str, extracted: &Extracted) -> Result<(), String> {
    validate::check(kind, target, extracted)
}

/// Parses `content` as `json`, `yaml`, `toml`, `ini` or `xml`.
pub fn parse_format(format: &str, content: &str) -> Result<(), String> {
    validate::parse_format(format, content)
}

/// The INI parser behind `parse_format("ini", ..)`.
pub fn parse_ini(content: &str) -> Result<Vec<IniEntry>, String> {
    validate::parse_ini(content)
}

/// The Mermaid header check behind diagram validation.
pub fn check_mermaid(content: &str) -> Result<(), String> {
    validate::check_mermaid(content)
}
