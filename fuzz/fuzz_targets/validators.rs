//! The artifact validators for every kind and language or format Kova supports, on arbitrary
//! answers, plus the format parsers on the raw text.
//!
//! Input: one byte choosing the (kind, language or format) pair, then the answer.

#![no_main]

use kova_core::artifacts::fuzzing::{
    check, check_mermaid, parse_format, parse_ini, pick, tag_matches,
};
use kova_core::{supported_types, ArtifactKind};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Every (kind, target) pair `generate` and `analyze_code` accept, and the Mermaid types.
struct Targets {
    pairs: Vec<(ArtifactKind, String)>,
    mermaid_types: Vec<String>,
}

fn targets() -> &'static Targets {
    static TARGETS: OnceLock<Targets> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let types = supported_types();
        let mut pairs: Vec<(ArtifactKind, String)> = types
            .kinds
            .iter()
            .flat_map(|k| {
                let kind: ArtifactKind = k.kind.parse().expect("known kind");
                k.values.iter().map(move |v| (kind, v.clone()))
            })
            .collect();
        pairs.extend(
            types
                .analysis_types
                .iter()
                .map(|t| (ArtifactKind::Analysis, t.clone())),
        );
        Targets {
            pairs,
            mermaid_types: types.diagram_types,
        }
    })
}

const FORMATS: &[&str] = &["json", "yaml", "toml", "ini", "xml"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Targets {
        pairs,
        mermaid_types,
    } = targets();
    let (kind, target) = &pairs[usize::from(selector) % pairs.len()];
    let (kind, target) = (*kind, target.as_str());
    let answer = String::from_utf8_lossy(rest);

    // The pipeline: extraction for the kind, then its check.
    let extracted = pick(kind, target, &answer);
    let result = check(kind, target, &extracted);
    let content = extracted.content.as_str();
    let usable = !content.trim().is_empty() && !extracted.unterminated;
    match kind {
        ArtifactKind::Document | ArtifactKind::Analysis => assert_eq!(result.is_ok(), usable),
        ArtifactKind::Config | ArtifactKind::Data => assert_eq!(
            result.is_ok(),
            usable && parse_format(target, content).is_ok()
        ),
        ArtifactKind::Diagram => {
            assert_eq!(result.is_ok(), usable && check_mermaid(content).is_ok())
        }
        ArtifactKind::Code => {
            if result.is_ok() {
                assert!(usable);
                if let Some(tag) = &extracted.tag {
                    assert!(tag_matches(tag, target));
                }
                if FORMATS.contains(&target) {
                    assert!(parse_format(target, content).is_ok());
                }
            }
        }
    }
    if let Err(message) = &result {
        assert!(!message.is_empty());
    }

    // The parsers themselves, on the raw answer.
    let text = answer.as_ref();
    for format in FORMATS {
        let _ = parse_format(format, text);
    }
    assert_eq!(
        parse_format("json", text).is_ok(),
        serde_json::from_str::<serde_json::Value>(text).is_ok()
    );
    if let Ok(entries) = parse_ini(text) {
        assert!(!entries.is_empty());
        for e in &entries {
            assert!(!e.key.is_empty() && !e.key.contains(['=', ':']));
            assert_eq!(e.key, e.key.trim());
            assert_eq!(e.section, e.section.trim());
        }
    }
    if check_mermaid(text).is_ok() {
        let starts_a_diagram = text
            .lines()
            .map(str::trim)
            .any(|line| mermaid_types.iter().any(|t| line.starts_with(t.as_str())));
        assert!(starts_a_diagram);
    }
});
