//! The one table of languages and formats Kova knows: fence tags and their aliases, file
//! extensions (for scans), and cheap "does this look like X" markers (for code validation).
//! Everything else (`supported_types`, extraction, validation, scans) reads from here, so a
//! language added here is supported everywhere at once.

/// A programming, markup or data language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lang {
    /// Canonical id used in requests and stored artifacts (`rust`, `python`).
    pub id: &'static str,
    /// Display name used in scan reports (`Rust`, `Python`).
    pub display: &'static str,
    /// Other fence tags and request spellings that mean the same (`rs`).
    pub aliases: &'static [&'static str],
    /// File extensions (lowercase, without the dot).
    pub extensions: &'static [&'static str],
    /// Substrings of which at least one appears in any plausible program of this language;
    /// empty means "no cheap check".
    pub markers: &'static [&'static str],
}

impl Lang {
    /// Whether `tag` (a fence info-string word or a request value) names this language.
    pub fn matches(&self, tag: &str) -> bool {
        let t = tag.trim().to_ascii_lowercase();
        t == self.id || self.aliases.contains(&t.as_str())
    }
}

const fn lang(
    id: &'static str,
    display: &'static str,
    aliases: &'static [&'static str],
    extensions: &'static [&'static str],
    markers: &'static [&'static str],
) -> Lang {
    Lang {
        id,
        display,
        aliases,
        extensions,
        markers,
    }
}

/// Every language Kova generates code in or recognises in a scan.
pub(crate) const LANGUAGES: &[Lang] = &[
    lang(
        "rust",
        "Rust",
        &["rs"],
        &["rs"],
        &[
            "fn ",
            "struct ",
            "enum ",
            "impl ",
            "use ",
            "mod ",
            "trait ",
            "const ",
            "static ",
            "macro_rules!",
            "let ",
        ],
    ),
    lang(
        "python",
        "Python",
        &["py", "python3", "py3"],
        &["py", "pyi"],
        &[
            "def ",
            "import ",
            "class ",
            "print(",
            " = ",
            "return",
            "if ",
            "for ",
            "async def",
            "lambda",
        ],
    ),
    lang(
        "javascript",
        "JavaScript",
        &["js", "node", "jsx", "mjs", "cjs"],
        &["js", "jsx", "mjs", "cjs"],
        &[
            "function", "=>", "const ", "let ", "var ", "import ", "export ", "require(", "class ",
            "console.",
        ],
    ),
    lang(
        "typescript",
        "TypeScript",
        &["ts", "tsx"],
        &["ts", "tsx", "mts", "cts"],
        &[
            "function",
            "=>",
            "const ",
            "let ",
            "interface ",
            "type ",
            "import ",
            "export ",
            "class ",
            "console.",
        ],
    ),
    lang(
        "go",
        "Go",
        &["golang"],
        &["go"],
        &["package ", "func ", "import "],
    ),
    lang(
        "java",
        "Java",
        &[],
        &["java"],
        &[
            "class ",
            "interface ",
            "enum ",
            "record ",
            "import ",
            "package ",
        ],
    ),
    lang(
        "kotlin",
        "Kotlin",
        &["kt", "kts"],
        &["kt", "kts"],
        &[
            "fun ", "class ", "val ", "var ", "object ", "import ", "package ",
        ],
    ),
    lang(
        "c",
        "C",
        &["h"],
        &["c", "h"],
        &["#include", "int ", "void ", "struct ", "return", "#define"],
    ),
    lang(
        "cpp",
        "C++",
        &["c++", "cxx", "cc", "hpp"],
        &["cpp", "cc", "cxx", "hpp", "hh", "hxx"],
        &[
            "#include",
            "int ",
            "void ",
            "class ",
            "struct ",
            "namespace ",
            "template",
            "std::",
            "auto ",
        ],
    ),
    lang(
        "csharp",
        "C#",
        &["cs", "c#"],
        &["cs"],
        &[
            "class ",
            "namespace ",
            "using ",
            "void ",
            "public ",
            "record ",
            "interface ",
            "Console.",
        ],
    ),
    lang(
        "ruby",
        "Ruby",
        &["rb"],
        &["rb"],
        &[
            "def ", "class ", "module ", "require", "puts ", "end", " = ",
        ],
    ),
    lang(
        "php",
        "PHP",
        &[],
        &["php"],
        &["<?php", "function ", "class ", "$", "echo "],
    ),
    lang(
        "swift",
        "Swift",
        &[],
        &["swift"],
        &[
            "func ",
            "let ",
            "var ",
            "struct ",
            "class ",
            "import ",
            "enum ",
            "protocol ",
        ],
    ),
    lang(
        "scala",
        "Scala",
        &["sc"],
        &["scala", "sc"],
        &[
            "def ", "object ", "class ", "val ", "trait ", "import ", "case ",
        ],
    ),
    lang(
        "shell",
        "Shell",
        &["bash", "sh", "zsh", "shellscript"],
        &["sh", "bash", "zsh"],
        &[],
    ),
    lang(
        "powershell",
        "PowerShell",
        &["ps1", "pwsh", "ps"],
        &["ps1", "psm1"],
        &[],
    ),
    lang(
        "sql",
        "SQL",
        &["postgresql", "postgres", "mysql", "sqlite", "plsql"],
        &["sql"],
        &[
            "select", "create ", "insert ", "update ", "delete ", "alter ", "with ",
        ],
    ),
    lang("html", "HTML", &["htm", "xhtml"], &["html", "htm"], &["<"]),
    lang(
        "css",
        "CSS",
        &["scss", "sass", "less"],
        &["css", "scss", "sass", "less"],
        &["{"],
    ),
    lang(
        "lua",
        "Lua",
        &[],
        &["lua"],
        &["function", "local ", "end", "return", "="],
    ),
    lang(
        "r",
        "R",
        &["rlang"],
        &["r"],
        &["<-", "function", "library(", "=", "("],
    ),
    lang(
        "dart",
        "Dart",
        &[],
        &["dart"],
        &["void ", "class ", "import ", "final ", "var ", "=>"],
    ),
    lang(
        "haskell",
        "Haskell",
        &["hs"],
        &["hs"],
        &["::", "=", "module ", "import ", "where"],
    ),
    lang(
        "elixir",
        "Elixir",
        &["ex", "exs"],
        &["ex", "exs"],
        &["defmodule", "def ", "fn ", "|>", "do"],
    ),
    lang(
        "zig",
        "Zig",
        &[],
        &["zig"],
        &["fn ", "const ", "pub ", "var "],
    ),
    lang(
        "dockerfile",
        "Dockerfile",
        &["docker", "containerfile"],
        &["dockerfile"],
        &["FROM", "from "],
    ),
    lang(
        "terraform",
        "HCL",
        &["hcl", "tf"],
        &["tf", "hcl", "tfvars"],
        &[
            "resource ",
            "variable ",
            "provider ",
            "module ",
            "output ",
            "locals",
            "terraform ",
            "data ",
        ],
    ),
    lang("makefile", "Makefile", &["make", "mk"], &["mk"], &[":"]),
    lang("json", "JSON", &["jsonc", "json5"], &["json"], &[]),
    lang("yaml", "YAML", &["yml"], &["yaml", "yml"], &[]),
    lang("toml", "TOML", &[], &["toml"], &[]),
    lang(
        "xml",
        "XML",
        &["svg", "xsd", "xsl"],
        &["xml", "xsd", "xsl", "svg"],
        &[],
    ),
    lang(
        "ini",
        "INI",
        &["cfg", "conf", "properties", "dosini"],
        &["ini", "cfg", "conf", "properties"],
        &[],
    ),
    lang(
        "markdown",
        "Markdown",
        &["md", "mdx"],
        &["md", "markdown", "mdx"],
        &[],
    ),
    lang(
        "text",
        "Text",
        &["txt", "plain", "plaintext"],
        &["txt"],
        &[],
    ),
    lang(
        "rst",
        "reStructuredText",
        &["restructuredtext", "rest"],
        &["rst"],
        &[],
    ),
    lang("mermaid", "Mermaid", &["mmd"], &["mmd", "mermaid"], &[]),
];

/// Languages accepted for `code` artifacts: every language above except prose and diagrams,
/// which have their own kinds.
pub(crate) fn code_languages() -> impl Iterator<Item = &'static Lang> {
    LANGUAGES
        .iter()
        .filter(|l| !matches!(l.id, "markdown" | "text" | "rst" | "mermaid"))
}

/// Config formats (`config` artifacts), each validated by a parser.
pub(crate) const CONFIG_FORMATS: &[&str] = &["json", "yaml", "toml", "ini", "xml"];
/// Document formats (`document` artifacts).
pub(crate) const DOCUMENT_FORMATS: &[&str] = &["markdown", "text", "html", "rst"];
/// Diagram formats (`diagram` artifacts).
pub(crate) const DIAGRAM_FORMATS: &[&str] = &["mermaid"];
/// Data formats (`data` artifacts).
pub(crate) const DATA_FORMATS: &[&str] = &["json"];

/// The Mermaid diagram types a diagram may start with.
pub(crate) const MERMAID_TYPES: &[&str] = &[
    "graph",
    "flowchart",
    "flowchart-elk",
    "sequenceDiagram",
    "classDiagram",
    "classDiagram-v2",
    "stateDiagram",
    "stateDiagram-v2",
    "erDiagram",
    "journey",
    "gantt",
    "pie",
    "gitGraph",
    "mindmap",
    "timeline",
    "quadrantChart",
    "requirementDiagram",
    "sankey-beta",
    "xychart-beta",
    "block-beta",
    "packet-beta",
    "architecture-beta",
    "kanban",
    "radar-beta",
    "zenuml",
    "C4Context",
    "C4Container",
    "C4Component",
    "C4Dynamic",
    "C4Deployment",
];

/// The language a request value or fence tag names, if any.
pub(crate) fn find(tag: &str) -> Option<&'static Lang> {
    LANGUAGES.iter().find(|l| l.matches(tag))
}

/// The canonical id for a request value, if it names a language in `allowed`.
pub(crate) fn canonical_in(value: &str, allowed: &[&str]) -> Option<&'static str> {
    find(value).map(|l| l.id).filter(|id| allowed.contains(id))
}

/// The language of a file, by name (`Dockerfile`, `Makefile`) or extension.
pub(crate) fn for_path(path: &str) -> Option<&'static Lang> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let lower = file.to_ascii_lowercase();
    if lower == "dockerfile" || lower.starts_with("dockerfile.") || lower == "containerfile" {
        return find("dockerfile");
    }
    if lower == "makefile" || lower == "gnumakefile" {
        return find("makefile");
    }
    let (_, ext) = lower.rsplit_once('.')?;
    LANGUAGES.iter().find(|l| l.extensions.contains(&ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_one_language() {
        assert_eq!(find("yml").unwrap().id, "yaml");
        assert_eq!(find("JS").unwrap().id, "javascript");
        assert_eq!(find("py").unwrap().id, "python");
        assert_eq!(find("rs").unwrap().id, "rust");
        assert_eq!(find("sh").unwrap().id, "shell");
        assert_eq!(find("bash").unwrap().id, "shell");
        assert!(find("klingon").is_none());
    }

    #[test]
    fn every_tag_names_one_language() {
        let mut seen = std::collections::HashSet::new();
        for l in LANGUAGES {
            for t in std::iter::once(&l.id).chain(l.aliases) {
                assert!(seen.insert(*t), "tag {t} used twice");
            }
        }
    }

    #[test]
    fn paths_map_to_languages() {
        assert_eq!(for_path("src/main.rs").unwrap().id, "rust");
        assert_eq!(for_path("deploy/Dockerfile").unwrap().id, "dockerfile");
        assert_eq!(for_path("a/b/values.YML").unwrap().id, "yaml");
        assert!(for_path("LICENSE").is_none());
    }

    #[test]
    fn config_formats_are_languages() {
        for f in CONFIG_FORMATS
            .iter()
            .chain(DOCUMENT_FORMATS)
            .chain(DATA_FORMATS)
        {
            assert_eq!(find(f).unwrap().id, *f);
        }
    }
}
