//! Checks that generated content is what was asked for: configs parse as their format, data is
//! JSON, diagrams start with a Mermaid diagram type, code is non-empty and looks like its
//! language. Each check returns the parser's message, which the repair round sends back to the
//! model.

use crate::artifacts::extract::{tag_matches, Extracted};
use crate::artifacts::languages::{self, MERMAID_TYPES};
use crate::model::ArtifactKind;

/// Checks `content` for `kind` in `lang_or_format` (a canonical id). `Err` carries a message
/// fit for both the stored status and the repair prompt.
pub(crate) fn check(
    kind: ArtifactKind,
    lang_or_format: &str,
    extracted: &Extracted,
) -> Result<(), String> {
    let content = extracted.content.as_str();
    if content.trim().is_empty() {
        return Err("the answer contained no content".into());
    }
    if extracted.unterminated {
        return Err("the fenced block was not closed (the answer looks cut off)".into());
    }
    match kind {
        ArtifactKind::Config | ArtifactKind::Data => parse_format(lang_or_format, content),
        ArtifactKind::Diagram => check_mermaid(content),
        ArtifactKind::Code => check_code(lang_or_format, extracted),
        ArtifactKind::Document | ArtifactKind::Analysis => Ok(()),
    }
}

/// Parses `content` as a structured format (`json`, `yaml`, `toml`, `ini`, `xml`).
pub(crate) fn parse_format(format: &str, content: &str) -> Result<(), String> {
    match format {
        "json" => serde_json::from_str::<serde_json::Value>(content)
            .map(drop)
            .map_err(|e| format!("not valid JSON: {e}")),
        "yaml" => parse_yaml(content).map(drop),
        "toml" => content
            .parse::<toml::Table>()
            .map(drop)
            .map_err(|e| format!("not valid TOML: {}", e.to_string().trim_end())),
        "xml" => roxmltree::Document::parse(content)
            .map(drop)
            .map_err(|e| format!("not well-formed XML: {e}")),
        "ini" => parse_ini(content).map(drop),
        other => Err(format!("no parser for format '{other}'")),
    }
}

/// Parses every document of a (possibly multi-document) YAML stream.
pub(crate) fn parse_yaml(content: &str) -> Result<Vec<serde_norway::Value>, String> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for (i, de) in serde_norway::Deserializer::from_str(content).enumerate() {
        let v = serde_norway::Value::deserialize(de)
            .map_err(|e| format!("not valid YAML (document {}): {e}", i + 1))?;
        docs.push(v);
    }
    if docs.iter().all(|d| d.is_null()) {
        return Err("not valid YAML: no document has any content".into());
    }
    Ok(docs)
}

/// One `key = value` of an INI file, with its section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// The section (`""` before the first header).
    pub section: String,
    /// The key.
    pub key: String,
    /// The value, trimmed.
    pub value: String,
}

/// A small INI parser: `[section]` headers, `key = value` or `key: value` pairs, `;` and `#`
/// comments, and indented continuation lines. Anything else is an error naming the line.
pub(crate) fn parse_ini(content: &str) -> Result<Vec<IniEntry>, String> {
    let mut section = String::new();
    let mut entries: Vec<IniEntry> = Vec::new();
    for (n, raw) in content.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            let name = line
                .strip_suffix(']')
                .map(|l| l[1..].trim())
                .ok_or_else(|| format!("not valid INI: line {line_no}: unclosed section header"))?;
            if name.is_empty() {
                return Err(format!("not valid INI: line {line_no}: empty section name"));
            }
            section = name.to_string();
            continue;
        }
        let continues = raw.starts_with([' ', '\t']) && !entries.is_empty();
        match line.find(['=', ':']) {
            Some(i) if i > 0 => entries.push(IniEntry {
                section: section.clone(),
                key: line[..i].trim().to_string(),
                value: line[i + 1..].trim().to_string(),
            }),
            _ if continues => {
                let last = entries.last_mut().expect("checked non-empty");
                last.value.push('\n');
                last.value.push_str(line);
            }
            _ => {
                return Err(format!(
                "not valid INI: line {line_no}: expected '[section]' or 'key = value', got '{}'",
                clip(line, 60)
            ))
            }
        }
    }
    if entries.is_empty() {
        return Err("not valid INI: no 'key = value' entries".into());
    }
    Ok(entries)
}

/// Checks that a Mermaid diagram starts (after `%%` comments, `%%{init}%%` directives and
/// `---` front matter) with a diagram type.
pub(crate) fn check_mermaid(content: &str) -> Result<(), String> {
    let mut lines = content.lines().map(str::trim).peekable();
    // Front matter: a `---` line, anything, a closing `---` line.
    while lines.peek().is_some_and(|l| l.is_empty()) {
        lines.next();
    }
    if lines.peek() == Some(&"---") {
        lines.next();
        if !lines.any(|l| l == "---") {
            return Err("Mermaid front matter ('---') is not closed".into());
        }
    }
    let first = lines.find(|l| !l.is_empty() && !l.starts_with("%%"));
    let Some(first) = first else {
        return Err("the diagram is empty (only comments or front matter)".into());
    };
    let word = first
        .split(|c: char| c.is_whitespace() || c == ':' || c == ';')
        .next()
        .unwrap_or("");
    if MERMAID_TYPES.contains(&word) {
        Ok(())
    } else {
        Err(format!(
            "not a Mermaid diagram: it must start with a diagram type ({}…), got '{}'",
            MERMAID_TYPES[..6].join(", "),
            clip(first, 60)
        ))
    }
}

/// Code must be non-empty, fenced (if fenced) with the requested language, parse when the
/// language is a data format, and contain one of the language's cheap markers.
fn check_code(language: &str, extracted: &Extracted) -> Result<(), String> {
    if let Some(tag) = &extracted.tag {
        if !tag_matches(tag, language) {
            return Err(format!(
                "the code is fenced as '{tag}', but {language} was requested"
            ));
        }
    }
    let content = extracted.content.as_str();
    if matches!(language, "json" | "yaml" | "toml" | "xml" | "ini") {
        return parse_format(language, content);
    }
    let Some(lang) = languages::find(language) else {
        return Ok(());
    };
    if lang.markers.is_empty() {
        return Ok(());
    }
    let lower = content.to_lowercase();
    let found = lang
        .markers
        .iter()
        .any(|m| content.contains(m) || lower.contains(&m.to_lowercase()));
    if found {
        Ok(())
    } else {
        Err(format!(
            "this does not look like {}: none of {} appears",
            lang.display,
            lang.markers
                .iter()
                .take(4)
                .map(|m| format!("'{}'", m.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::extract::{extract, Extraction};

    fn ex(content: &str, tag: Option<&str>) -> Extracted {
        Extracted {
            content: content.into(),
            how: Extraction::Tagged,
            tag: tag.map(String::from),
            unterminated: false,
        }
    }

    #[test]
    fn formats_parse_or_explain() {
        assert!(parse_format("json", "{\"a\": 1}").is_ok());
        assert!(parse_format("json", "{a: 1}").unwrap_err().contains("JSON"));
        assert!(parse_format("yaml", "a: 1\nb: [1, 2]\n").is_ok());
        assert!(parse_format("yaml", "a: [1, 2\n")
            .unwrap_err()
            .contains("YAML"));
        assert!(parse_format("yaml", "---\nkind: A\n---\nkind: B\n").is_ok());
        assert!(parse_format("toml", "[a]\nb = 1\n").is_ok());
        assert!(parse_format("toml", "[a\nb = \n")
            .unwrap_err()
            .contains("TOML"));
        assert!(parse_format("xml", "<a><b/></a>").is_ok());
        assert!(parse_format("xml", "<a><b></a>")
            .unwrap_err()
            .contains("XML"));
        assert!(parse_format("ini", "[s]\nk = v\n").is_ok());
        assert!(parse_format("ini", "[s]\njust words\n")
            .unwrap_err()
            .contains("line 2"));
    }

    #[test]
    fn ini_sections_comments_and_continuations() {
        let e = parse_ini("; c\nroot=1\n[db]\nhost: x\n  more\n# c\n[ empty ]\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].section, "");
        assert_eq!(
            (e[1].section.as_str(), e[1].value.as_str()),
            ("db", "x\nmore")
        );
        assert!(parse_ini("[]\nk=v").is_err());
        assert!(parse_ini("[open\nk=v").is_err());
        assert!(parse_ini("# only comments\n").is_err());
    }

    #[test]
    fn mermaid_headers() {
        assert!(check_mermaid("graph TD\n A-->B").is_ok());
        assert!(check_mermaid("%% c\n%%{init: {}}%%\nsequenceDiagram\n A->>B: hi").is_ok());
        assert!(check_mermaid("---\ntitle: X\n---\nstateDiagram-v2\n [*] --> A").is_ok());
        assert!(check_mermaid("C4Context\n title x").is_ok());
        assert!(check_mermaid("A --> B").is_err());
        assert!(check_mermaid("---\ntitle: X\n").is_err());
        assert!(check_mermaid("%% only").is_err());
    }

    #[test]
    fn code_checks() {
        assert!(check(
            ArtifactKind::Code,
            "rust",
            &ex("fn main() {}\n", Some("rust"))
        )
        .is_ok());
        let e = check(
            ArtifactKind::Code,
            "rust",
            &ex("def f(): pass\n", Some("python")),
        );
        assert!(e.unwrap_err().contains("fenced as 'python'"));
        let e = check(ArtifactKind::Code, "rust", &ex("hello there\n", None));
        assert!(e.unwrap_err().contains("does not look like Rust"));
        assert!(check(ArtifactKind::Code, "json", &ex("{\"a\":1}", None)).is_ok());
        assert!(check(ArtifactKind::Code, "json", &ex("{a}", None)).is_err());
        assert!(check(ArtifactKind::Code, "shell", &ex("ls -la\n", Some("bash"))).is_ok());
        assert!(check(ArtifactKind::Code, "rust", &ex("  \n", None)).is_err());
    }

    #[test]
    fn unterminated_blocks_fail() {
        let e = extract("```json\n{\"a\": 1}\n", "json");
        assert!(check(ArtifactKind::Data, "json", &e)
            .unwrap_err()
            .contains("cut off"));
    }
}
