//! [`supported_types`]: the one list of artifact kinds, languages and formats Kova supports
//! (served as `GET /artifacts/types`).

use crate::artifacts::analyze::ANALYSIS_TYPES;
use crate::artifacts::languages::{
    code_languages, CONFIG_FORMATS, DATA_FORMATS, DIAGRAM_FORMATS, DOCUMENT_FORMATS, LANGUAGES,
    MERMAID_TYPES,
};
use serde::{Deserialize, Serialize};

/// Everything a caller may ask `generate` and `analyze_code` for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SupportedTypes {
    /// The kinds `generate` makes, with their formats or languages.
    pub kinds: Vec<KindInfo>,
    /// Languages for `code` artifacts, with the aliases accepted for each.
    pub languages: Vec<LanguageInfo>,
    /// Formats for `config` artifacts (each validated by a parser).
    pub config_formats: Vec<LanguageInfo>,
    /// Formats for `document` artifacts.
    pub document_formats: Vec<String>,
    /// Formats for `diagram` artifacts.
    pub diagram_formats: Vec<String>,
    /// Formats for `data` artifacts.
    pub data_formats: Vec<String>,
    /// The Mermaid diagram types a diagram may start with.
    pub diagram_types: Vec<String>,
    /// Analysis types for `analyze_code`.
    pub analysis_types: Vec<String>,
    /// Actions of the AI command (anything else is a free-form question).
    pub command_actions: Vec<String>,
}

/// One artifact kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KindInfo {
    /// `code`, `document`, `diagram`, `config`, `data`.
    pub kind: String,
    /// The request field that selects the variant: `language` or `format`.
    pub selector: String,
    /// Accepted values (canonical ids).
    pub values: Vec<String>,
    /// The value used when the request leaves it out; `None`: required.
    pub default: Option<String>,
    /// How the content is validated.
    pub validation: String,
}

/// A language or format and its accepted spellings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LanguageInfo {
    /// Canonical id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Other accepted spellings (also recognised as fence tags).
    pub aliases: Vec<String>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The supported kinds, languages and formats.
pub fn supported_types() -> SupportedTypes {
    let info = |l: &crate::artifacts::languages::Lang| LanguageInfo {
        id: l.id.into(),
        name: l.display.into(),
        aliases: strings(l.aliases),
    };
    let languages: Vec<LanguageInfo> = code_languages().map(info).collect();
    let config_formats = CONFIG_FORMATS
        .iter()
        .filter_map(|f| LANGUAGES.iter().find(|l| l.id == *f))
        .map(info)
        .collect();
    let kind = |kind: &str, selector: &str, values: Vec<String>, default: Option<&str>, v: &str| {
        KindInfo {
            kind: kind.into(),
            selector: selector.into(),
            values,
            default: default.map(String::from),
            validation: v.into(),
        }
    };
    SupportedTypes {
        kinds: vec![
            kind(
                "code",
                "language",
                languages.iter().map(|l| l.id.clone()).collect(),
                None,
                "non-empty, fenced with the requested language, looks like it (data formats must parse)",
            ),
            kind("document", "format", strings(DOCUMENT_FORMATS), Some("markdown"), "non-empty"),
            kind(
                "diagram",
                "format",
                strings(DIAGRAM_FORMATS),
                Some("mermaid"),
                "starts with a Mermaid diagram type",
            ),
            kind("config", "format", strings(CONFIG_FORMATS), None, "parses as its format"),
            kind("data", "format", strings(DATA_FORMATS), Some("json"), "parses as JSON"),
        ],
        languages,
        config_formats,
        document_formats: strings(DOCUMENT_FORMATS),
        diagram_formats: strings(DIAGRAM_FORMATS),
        data_formats: strings(DATA_FORMATS),
        diagram_types: strings(MERMAID_TYPES),
        analysis_types: strings(ANALYSIS_TYPES),
        command_actions: strings(crate::artifacts::command::ACTIONS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_kind_generate_accepts() {
        let t = supported_types();
        let kinds: Vec<&str> = t.kinds.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["code", "document", "diagram", "config", "data"]);
        assert!(t
            .languages
            .iter()
            .any(|l| l.id == "rust" && l.aliases.contains(&"rs".into())));
        assert!(!t.languages.iter().any(|l| l.id == "markdown"));
        let yaml = t.config_formats.iter().find(|f| f.id == "yaml").unwrap();
        assert_eq!(yaml.aliases, ["yml"]);
        assert!(serde_json::to_value(&t).unwrap()["kinds"].is_array());
    }
}
