//! Pulling the artifact out of an LLM answer: the fenced block whose tag names the requested
//! language or format, or the whole answer when there is no usable block (flagged).

use crate::artifacts::languages;
use serde::{Deserialize, Serialize};

/// One fenced block of a Markdown answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The first word of the info string, lowercased (`rust`, `yaml`); empty when untagged.
    pub tag: String,
    /// The block's content, without the fences.
    pub body: String,
    /// The answer ended before the closing fence (typically a truncated answer).
    pub unterminated: bool,
}

/// How the content was found in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extraction {
    /// A fenced block tagged with the requested language or format.
    Tagged,
    /// An untagged fenced block (no better one existed).
    Untagged,
    /// A block tagged with another language (no better one existed); validation decides.
    OtherTag,
    /// The whole answer: it had no fenced block.
    WholeText,
}

impl Extraction {
    /// Whether the answer did not contain a block clearly meant as the artifact.
    pub fn is_fallback(self) -> bool {
        !matches!(self, Extraction::Tagged)
    }
}

/// What extraction found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The content.
    pub content: String,
    /// How it was found.
    pub how: Extraction,
    /// The fence tag of the chosen block, if any.
    pub tag: Option<String>,
    /// The chosen block was not closed.
    pub unterminated: bool,
}

/// Every fenced block, in order. Follows CommonMark: a fence is three or more backticks or
/// tildes indented at most three spaces; it is closed by a fence of the same character at least
/// as long with no info string, so a four-backtick block may contain three-backtick ones.
pub(crate) fn fences(text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut open: Option<(char, usize, String, Vec<&str>)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        let fence_char = rest.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = fence_char.map_or(0, |c| rest.chars().take_while(|x| *x == c).count());
        match &mut open {
            None => {
                if indent <= 3 && run >= 3 {
                    let c = fence_char.expect("run > 0 implies a fence char");
                    let info = rest[run..].trim();
                    // A backtick fence's info string may not contain backticks (inline code).
                    if c == '`' && info.contains('`') {
                        continue;
                    }
                    let tag = info
                        .split(|ch: char| ch.is_whitespace() || ch == '{' || ch == ',')
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    open = Some((c, run, tag, Vec::new()));
                }
            }
            Some((c, len, _, lines)) => {
                let closes = indent <= 3
                    && fence_char == Some(*c)
                    && run >= *len
                    && rest[run..].trim().is_empty();
                if closes {
                    let (_, _, tag, lines) = open.take().expect("open fence");
                    out.push(Fence {
                        tag,
                        body: join(&lines),
                        unterminated: false,
                    });
                } else {
                    lines.push(line);
                }
            }
        }
    }
    if let Some((_, _, tag, lines)) = open {
        out.push(Fence {
            tag,
            body: join(&lines),
            unterminated: true,
        });
    }
    out
}

fn join(lines: &[&str]) -> String {
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// Whether a fence tag names the wanted language or format (`yml` for `yaml`, `rs` for
/// `rust`); diagrams accept `mermaid` only.
pub(crate) fn tag_matches(tag: &str, wanted: &str) -> bool {
    if tag.is_empty() {
        return false;
    }
    match (languages::find(tag), languages::find(wanted)) {
        (Some(a), Some(b)) => a.id == b.id,
        _ => tag.eq_ignore_ascii_case(wanted),
    }
}

/// Picks the artifact out of an answer: the first block tagged `wanted`, else the first
/// untagged block, else the first block of any tag, else the whole answer.
pub(crate) fn extract(answer: &str, wanted: &str) -> Extracted {
    let blocks = fences(answer);
    let pick = |how: Extraction, f: &Fence| Extracted {
        content: f.body.clone(),
        how,
        tag: (!f.tag.is_empty()).then(|| f.tag.clone()),
        unterminated: f.unterminated,
    };
    if let Some(f) = blocks.iter().find(|f| tag_matches(&f.tag, wanted)) {
        return pick(Extraction::Tagged, f);
    }
    if let Some(f) = blocks.iter().find(|f| f.tag.is_empty()) {
        return pick(Extraction::Untagged, f);
    }
    if let Some(f) = blocks.first() {
        return pick(Extraction::OtherTag, f);
    }
    Extracted {
        content: answer.trim().to_string() + "\n",
        how: Extraction::WholeText,
        tag: None,
        unterminated: false,
    }
}

/// Picks a document out of an answer. A document is Markdown (or text) that may itself contain
/// code blocks, so a block is taken only when it wraps the whole answer and is tagged with the
/// format (or untagged); otherwise the whole answer is the document.
pub(crate) fn extract_document(answer: &str, format: &str) -> Extracted {
    let trimmed = answer.trim();
    let whole = || Extracted {
        content: trimmed.to_string() + "\n",
        // For documents the whole answer is the expected shape, not a fallback.
        how: Extraction::Tagged,
        tag: None,
        unterminated: false,
    };
    let lines: Vec<&str> = trimmed.lines().collect();
    let Some(first) = lines.first() else {
        return whole();
    };
    let fence_char = match first.chars().next() {
        Some(c @ ('`' | '~')) if first.starts_with(&c.to_string().repeat(3)) => c,
        _ => return whole(),
    };
    let run = first.chars().take_while(|c| *c == fence_char).count();
    let tag = first[run..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let blocks = fences(trimmed);
    if tag.is_empty() {
        // An untagged wrapper only when it is the answer's single block.
        return match blocks.as_slice() {
            [only] if lines.len() > 1 && is_bare_fence(lines[lines.len() - 1], fence_char, run) => {
                Extracted {
                    content: only.body.clone(),
                    how: Extraction::Untagged,
                    tag: None,
                    unterminated: false,
                }
            }
            _ => whole(),
        };
    }
    if !tag_matches(&tag, format) {
        return whole();
    }
    // Tagged with the format: everything between the first line and a closing fence on the
    // last line, even if inner blocks use fences of the same length (a common LLM habit).
    let last = lines[lines.len() - 1];
    let (inner, unterminated) = if lines.len() > 1 && is_bare_fence(last, fence_char, run) {
        (&lines[1..lines.len() - 1], false)
    } else {
        (&lines[1..], true)
    };
    Extracted {
        content: join(inner),
        how: Extraction::Tagged,
        tag: Some(tag),
        unterminated,
    }
}

fn is_bare_fence(line: &str, c: char, min: usize) -> bool {
    let t = line.trim();
    !t.is_empty() && t.chars().all(|x| x == c) && t.chars().count() >= min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_block_tagged_with_an_alias() {
        let a = "Here:\n```json\n{}\n```\nand\n```yml\nkey: 1\n```\n";
        let e = extract(a, "yaml");
        assert_eq!(e.content, "key: 1\n");
        assert_eq!(e.how, Extraction::Tagged);
        assert_eq!(e.tag.as_deref(), Some("yml"));
    }

    #[test]
    fn info_string_attributes_are_ignored() {
        let e = extract("```rust title=\"main.rs\"\nfn main() {}\n```", "rs");
        assert_eq!(e.content, "fn main() {}\n");
        assert_eq!(e.how, Extraction::Tagged);
    }

    #[test]
    fn falls_back_in_order() {
        let e = extract("```\nplain\n```\n```python\nx=1\n```", "rust");
        assert_eq!(
            (e.content.as_str(), e.how),
            ("plain\n", Extraction::Untagged)
        );
        let e = extract("```python\nx=1\n```", "rust");
        assert_eq!(e.how, Extraction::OtherTag);
        assert_eq!(e.tag.as_deref(), Some("python"));
        let e = extract("  just text  ", "rust");
        assert_eq!(
            (e.content.as_str(), e.how),
            ("just text\n", Extraction::WholeText)
        );
        assert!(e.how.is_fallback());
    }

    #[test]
    fn longer_fences_contain_shorter_ones_and_tildes_work() {
        let a = "````markdown\n# T\n```rust\nfn x() {}\n```\n````\n~~~toml\na = 1\n~~~\n";
        let f = fences(a);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].body, "# T\n```rust\nfn x() {}\n```\n");
        assert_eq!(f[1].tag, "toml");
    }

    #[test]
    fn an_unterminated_block_runs_to_the_end() {
        let e = extract("```yaml\na: 1\nb: [", "yaml");
        assert!(e.unterminated);
        assert_eq!(e.content, "a: 1\nb: [\n");
    }

    #[test]
    fn documents_keep_their_inner_code_blocks() {
        let doc = "# Guide\n\n```rust\nfn main() {}\n```\n\nDone.";
        let e = extract_document(doc, "markdown");
        assert_eq!(e.content, format!("{doc}\n"));
        let wrapped = "```markdown\n# Guide\n\n```sh\nls\n```\nText\n```";
        let e = extract_document(wrapped, "md");
        assert_eq!(e.content, "# Guide\n\n```sh\nls\n```\nText\n");
        assert!(!e.unterminated);
        let plain = "```\nText\n```";
        assert_eq!(extract_document(plain, "markdown").content, "Text\n");
        let two = "```\na\n```\nmiddle\n```\nb\n```";
        assert_eq!(
            extract_document(two, "markdown").content,
            format!("{two}\n")
        );
    }
}
