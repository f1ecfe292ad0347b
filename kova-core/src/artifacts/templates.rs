//! Prompt templates: one system prompt per artifact kind, the user turn built from the request,
//! and the repair turn that sends a validation error back to the model.

use crate::artifacts::languages;
use crate::model::ArtifactKind;

/// The fence tag the model is asked to use for a language or format.
pub(crate) fn fence_tag(target: &str) -> &str {
    target
}

fn display(target: &str) -> &'static str {
    languages::find(target).map_or("the requested format", |l| l.display)
}

/// The system prompt for generating an artifact of `kind` in `target`.
pub(crate) fn system_prompt(kind: ArtifactKind, target: &str) -> String {
    let tag = fence_tag(target);
    let name = display(target);
    let body = match kind {
        ArtifactKind::Code => format!(
            "You write production-quality {name} code. Write complete, working code: no \
             placeholders, no elided parts, no TODOs standing in for logic. Prefer the \
             language's standard library and idioms; include brief comments where the intent is \
             not obvious. Put the whole program or module in ONE fenced code block tagged \
             `{tag}`; explanations, if any, go outside that block and stay short."
        ),
        ArtifactKind::Document => format!(
            "You write clear technical documentation in {name}. Structure it with headings, keep \
             sentences short and concrete, and include examples where they help. Answer with the \
             document only, no preamble and no closing remarks."
        ),
        ArtifactKind::Diagram => "You draw Mermaid diagrams. Choose the diagram type that fits \
             the request (flowchart, sequenceDiagram, classDiagram, stateDiagram-v2, erDiagram, \
             gantt, …). The diagram must start with its type keyword and be valid Mermaid syntax. \
             Put it in ONE fenced code block tagged `mermaid`; no other code blocks."
            .to_string(),
        ArtifactKind::Config => format!(
            "You write configuration files in {name}. The file must parse as {name} with no \
             errors: no comments where {name} does not allow them, no placeholders that break \
             the syntax. Use sensible, secure defaults and never include real secrets (use \
             clearly named environment variable references instead). Put the whole file in ONE \
             fenced code block tagged `{tag}`."
        ),
        ArtifactKind::Data => "You produce structured data as JSON. The output must be valid \
             JSON (RFC 8259): double-quoted keys, no comments, no trailing commas. Make the data \
             realistic and internally consistent. Put it in ONE fenced code block tagged `json`."
            .to_string(),
        ArtifactKind::Analysis => "You are a senior engineer reviewing code. Be specific: cite \
             line numbers or identifiers, separate real problems from suggestions, and order \
             findings by severity. Answer in Markdown with the sections Summary, Findings \
             (each with severity: critical|high|medium|low), and Recommendations."
            .to_string(),
    };
    format!("{body}\nThe artifact is stored and used as is, so its content must be complete.")
}

/// The user turn for a generation request.
pub(crate) fn user_prompt(
    kind: ArtifactKind,
    target: &str,
    title: &str,
    description: &str,
    context: Option<&str>,
    with_repo: bool,
) -> String {
    let what = match kind {
        ArtifactKind::Code => format!("{} code", display(target)),
        ArtifactKind::Document => format!("a {} document", display(target)),
        ArtifactKind::Diagram => "a Mermaid diagram".to_string(),
        ArtifactKind::Config => format!("a {} configuration file", display(target)),
        ArtifactKind::Data => "JSON data".to_string(),
        ArtifactKind::Analysis => "an analysis".to_string(),
    };
    let mut out = format!("Create {what}.\n\nTitle: {title}\n");
    if !description.trim().is_empty() {
        out.push_str(&format!("\nDescription:\n{}\n", description.trim()));
    }
    if let Some(c) = context.map(str::trim).filter(|c| !c.is_empty()) {
        out.push_str(&format!("\nAdditional context:\n{c}\n"));
    }
    if with_repo {
        out.push_str("\nFit it to the repository described in the system prompt.\n");
    }
    if kind != ArtifactKind::Document {
        out.push_str(&format!(
            "\nAnswer with one fenced block tagged `{}`.\n",
            fence_tag(target)
        ));
    }
    out
}

/// The user turn of the repair round: what was wrong, and how to answer.
pub(crate) fn repair_prompt(
    kind: ArtifactKind,
    target: &str,
    error: &str,
    truncated: bool,
) -> String {
    let mut out = String::new();
    if truncated {
        out.push_str(
            "Your previous answer was cut off at the output length limit. Answer again, more \
             concisely, so that it fits.\n",
        );
    }
    out.push_str(&format!(
        "Your previous answer failed validation: {error}\n\nReply with the corrected, complete \
         artifact only"
    ));
    if kind == ArtifactKind::Document {
        out.push_str(".\n");
    } else {
        out.push_str(&format!(
            ", in one fenced block tagged `{}`.\n",
            fence_tag(target)
        ));
    }
    out
}

/// The user turn for a code analysis.
pub(crate) fn analyze_prompt(
    code: &str,
    language: Option<&str>,
    analysis_type: &str,
    file_path: Option<&str>,
    context: Option<&str>,
) -> String {
    let focus = match analysis_type {
        "security" => "security: injection, authentication and authorisation, secrets, unsafe input handling, dependency risks",
        "performance" => "performance: algorithmic complexity, allocations, I/O patterns, concurrency",
        "bugs" => "bugs: logic errors, edge cases, error handling, resource leaks, races",
        "style" => "style and readability: naming, structure, idioms of the language",
        "complexity" => "complexity: long functions, deep nesting, coupling, what to simplify",
        "documentation" => "documentation: missing or misleading comments and docs",
        "tests" => "tests: what is untested and which test cases to add",
        "review" => "a code review as for a pull request",
        _ => "correctness, security, performance and maintainability",
    };
    let tag = language.unwrap_or("");
    let mut out = format!("Analyse this code. Focus on {focus}.\n");
    if let Some(p) = file_path {
        out.push_str(&format!("File: {p}\n"));
    }
    if let Some(l) = language {
        out.push_str(&format!("Language: {}\n", display(l)));
    }
    if let Some(c) = context.map(str::trim).filter(|c| !c.is_empty()) {
        out.push_str(&format!("\nContext or question:\n{c}\n"));
    }
    // A fence longer than any backtick run in the code, so the code cannot close it early.
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    out.push_str(&format!("\n{fence}{tag}\n{}\n{fence}\n", code.trim_end()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_name_the_fence_tag() {
        let s = system_prompt(ArtifactKind::Config, "yaml");
        assert!(s.contains("YAML") && s.contains("`yaml`"));
        let u = user_prompt(ArtifactKind::Code, "rust", "t", "d", Some("c"), true);
        assert!(
            u.contains("Rust code") && u.contains("Additional context:\nc") && u.contains("`rust`")
        );
        let r = repair_prompt(ArtifactKind::Data, "json", "bad", true);
        assert!(r.contains("cut off") && r.contains("failed validation: bad"));
    }

    #[test]
    fn analysed_code_cannot_break_out_of_its_fence() {
        let p = analyze_prompt("a ```` b", Some("rust"), "general", None, None);
        assert!(p.contains("`````rust\na ```` b\n`````"));
    }
}
