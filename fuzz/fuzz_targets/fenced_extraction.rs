//! Pulling the artifact out of an LLM answer: fenced blocks, the block for a language, and
//! documents that wrap (or do not wrap) their inner blocks.
//!
//! Input: one byte choosing the requested language or format, then the answer.

#![no_main]

use kova_core::artifacts::fuzzing::{extract, extract_document, fences, pick, tag_matches};
use kova_core::artifacts::Extraction;
use kova_core::ArtifactKind;
use libfuzzer_sys::fuzz_target;

const WANTED: &[&str] = &[
    "rust",
    "rs",
    "python",
    "yaml",
    "yml",
    "json",
    "toml",
    "ini",
    "xml",
    "mermaid",
    "markdown",
    "md",
    "text",
    "html",
    "shell",
    "bash",
    "typescript",
    "go",
    "",
    "RUST",
    "c++",
    "unknown",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let wanted = WANTED[usize::from(selector) % WANTED.len()];
    let answer = String::from_utf8_lossy(rest);
    let answer = answer.as_ref();

    // Every block is made of lines of the answer, tags are single lowercase words, and only
    // the last block can be unterminated.
    let blocks = fences(answer);
    for (i, block) in blocks.iter().enumerate() {
        assert_eq!(block.tag, block.tag.to_ascii_lowercase());
        assert!(!block.tag.contains(char::is_whitespace));
        assert!(!block.unterminated || i == blocks.len() - 1);
        assert!(block.body.is_empty() || block.body.ends_with('\n'));
        if !answer.contains('\r') {
            assert!(answer.contains(block.body.trim_end_matches('\n')));
        }
        for line in block.body.lines() {
            assert!(answer.contains(line));
        }
    }

    let e = extract(answer, wanted);
    match e.how {
        Extraction::WholeText => {
            assert!(blocks.is_empty());
            assert_eq!(e.content, format!("{}\n", answer.trim()));
            assert_eq!(e.tag, None);
            assert!(!e.unterminated);
        }
        how => {
            let tag = e.tag.as_deref().unwrap_or("");
            assert!(
                blocks.iter().any(|b| b.body == e.content
                    && b.unterminated == e.unterminated
                    && b.tag == tag),
                "extracted content is one of the blocks"
            );
            match how {
                Extraction::Tagged => assert!(tag_matches(e.tag.as_deref().unwrap(), wanted)),
                Extraction::Untagged => {
                    assert!(e.tag.is_none());
                    assert!(!blocks.iter().any(|b| tag_matches(&b.tag, wanted)));
                }
                Extraction::OtherTag => {
                    assert!(e.tag.is_some());
                    assert!(!blocks
                        .iter()
                        .any(|b| b.tag.is_empty() || tag_matches(&b.tag, wanted)));
                }
                Extraction::WholeText => unreachable!(),
            }
        }
    }
    assert_eq!(pick(ArtifactKind::Code, wanted, answer), e);

    // A document is the whole answer, or the inside of one block wrapping all of it.
    let d = extract_document(answer, wanted);
    assert!(matches!(d.how, Extraction::Tagged | Extraction::Untagged));
    if let Some(tag) = &d.tag {
        assert!(tag_matches(tag, wanted));
    }
    if d.content != format!("{}\n", answer.trim()) {
        assert!(d.content.is_empty() || d.content.ends_with('\n'));
        for line in d.content.lines() {
            assert!(answer.contains(line));
        }
        assert!(d.content.len() < answer.len());
    }
    assert_eq!(pick(ArtifactKind::Document, wanted, answer), d);
});
