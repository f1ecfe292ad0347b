//! Python manifests: `pyproject.toml` (PEP 621, PEP 735 dependency groups, Poetry) and
//! `requirements*.txt`, whose entries are PEP 508 requirements.

use super::{DependencyScope, Manifest};

pub(super) fn pyproject(m: &mut Manifest, text: &str) -> Result<(), String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let table = |v: Option<&toml::Value>| v.and_then(toml::Value::as_table).cloned();
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(project) = table(doc.get("project")) {
        m.name = project
            .get("name")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        m.version = project
            .get("version")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        for req in strings(project.get("dependencies")) {
            pep508(m, &req, DependencyScope::Runtime);
        }
        if let Some(extras) = table(project.get("optional-dependencies")) {
            for group in extras.values() {
                for req in strings(Some(group)) {
                    pep508(m, &req, DependencyScope::Optional);
                }
            }
        }
    }
    // PEP 735 dependency groups (`dev`, `test`…).
    if let Some(groups) = table(doc.get("dependency-groups")) {
        for group in groups.values() {
            for req in strings(Some(group)) {
                pep508(m, &req, DependencyScope::Dev);
            }
        }
    }
    let poetry = table(doc.get("tool")).and_then(|t| table(t.get("poetry")));
    if let Some(poetry) = poetry {
        if m.name.is_none() {
            m.name = poetry
                .get("name")
                .and_then(toml::Value::as_str)
                .map(str::to_string);
            m.version = poetry
                .get("version")
                .and_then(toml::Value::as_str)
                .map(str::to_string);
        }
        poetry_deps(m, poetry.get("dependencies"), DependencyScope::Runtime);
        poetry_deps(m, poetry.get("dev-dependencies"), DependencyScope::Dev);
        if let Some(groups) = table(poetry.get("group")) {
            for (name, g) in groups {
                let scope = if matches!(name.as_str(), "dev" | "test" | "tests" | "lint") {
                    DependencyScope::Dev
                } else {
                    DependencyScope::Optional
                };
                poetry_deps(m, g.get("dependencies"), scope);
            }
        }
    }
    Ok(())
}

fn poetry_deps(m: &mut Manifest, deps: Option<&toml::Value>, scope: DependencyScope) {
    let Some(deps) = deps.and_then(toml::Value::as_table) else {
        return;
    };
    for (name, spec) in deps {
        // `python = "^3.11"` is the interpreter, not a package.
        if name.eq_ignore_ascii_case("python") {
            continue;
        }
        let version = match spec {
            toml::Value::String(v) => Some(v.clone()),
            toml::Value::Table(t) => t
                .get("version")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    t.get("git")
                        .and_then(toml::Value::as_str)
                        .map(|g| format!("git:{g}"))
                }),
            _ => None,
        };
        m.dep(name, version, scope);
    }
}

/// A PEP 508 requirement: `name[extras] (spec) ; markers` or `name @ url`.
fn pep508(m: &mut Manifest, req: &str, scope: DependencyScope) {
    let req = req.split(';').next().unwrap_or("").trim();
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let name = &req[..end];
    if name.is_empty() {
        return;
    }
    let mut rest = req[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    let version = rest
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    m.dep(name, Some(version), scope);
}

pub(super) fn requirements(m: &mut Manifest, text: &str) {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    for line in joined.lines() {
        // A `#` starts a comment at the line start or after whitespace (URLs keep theirs).
        let line = match line.find(" #") {
            Some(i) => &line[..i],
            None => line,
        }
        .trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        // `pkg==1.0 --hash=sha256:…`: options after the requirement are not part of it.
        let req = line.split(" --").next().unwrap_or(line);
        pep508(m, req, DependencyScope::Runtime);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{d, deps};
    use super::super::{parse, ManifestKind};
    use super::DependencyScope::*;

    #[test]
    fn pyproject_pep621_and_poetry() {
        let m = parse(
            ManifestKind::Pyproject,
            "pyproject.toml",
            r#"
[project]
name = "svc"
version = "2.0"
dependencies = ["httpx>=0.27", "pydantic[email] (>=2,<3)", "uvloop; sys_platform != 'win32'"]
[project.optional-dependencies]
docs = ["mkdocs"]
[tool.poetry.dependencies]
python = "^3.11"
fastapi = "^0.110"
[tool.poetry.group.dev.dependencies]
pytest = { version = "^8" }
"#,
        );
        assert_eq!(m.name.as_deref(), Some("svc"));
        assert_eq!(
            deps(&m),
            vec![
                d("httpx", Some(">=0.27"), Runtime),
                d("pydantic", Some(">=2,<3"), Runtime),
                d("uvloop", None, Runtime),
                d("mkdocs", None, Optional),
                d("fastapi", Some("^0.110"), Runtime),
                d("pytest", Some("^8"), Dev),
            ]
        );
    }

    #[test]
    fn requirements_lines() {
        let m = parse(
            ManifestKind::Requirements,
            "requirements.txt",
            "# pinned\nrequests==2.31.0  # http\n-r base.txt\n-e .\nnumpy>=1.26,\\\n  <2\n\
             flask\ntorch==2.2 --hash=sha256:abc\nmylib @ https://example.invalid/x.whl\n",
        );
        assert_eq!(
            deps(&m),
            vec![
                d("requests", Some("==2.31.0"), Runtime),
                d("numpy", Some(">=1.26, <2"), Runtime),
                d("flask", None, Runtime),
                d("torch", Some("==2.2"), Runtime),
                d("mylib", Some("@ https://example.invalid/x.whl"), Runtime),
            ]
        );
    }
}
