//! Build and deployment manifests: which files they are, and the dependencies (names and
//! version specs), images and Kubernetes objects they declare.

mod containers;
mod python;

use crate::sync::kubernetes::{self, K8sObject};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What kind of manifest a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ManifestKind {
    /// `Cargo.toml`.
    Cargo,
    /// `package.json`.
    PackageJson,
    /// `pyproject.toml`.
    Pyproject,
    /// `requirements*.txt`.
    Requirements,
    /// `go.mod`.
    GoMod,
    /// `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`.
    Dockerfile,
    /// `docker-compose*.yml|yaml`, `compose.yml|yaml`.
    DockerCompose,
    /// YAML with Kubernetes objects.
    Kubernetes,
}

/// How a dependency is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DependencyScope {
    /// Needed at run time.
    Runtime,
    /// Development and tests only.
    Dev,
    /// Build scripts only.
    Build,
    /// Optional (features, extras, optional groups).
    Optional,
    /// Expected from the host project (npm peer dependencies).
    Peer,
    /// Needed only by other dependencies (Go `// indirect`).
    Indirect,
}

/// One declared dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// Package name as declared.
    pub name: String,
    /// Version requirement as written (`^1.2`, `>=2,<3`, `v1.9.0`, `workspace`, `git:…`).
    pub version: Option<String>,
    /// How it is used.
    pub scope: DependencyScope,
}

/// What a manifest declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Path from the repository root.
    pub path: String,
    /// Its kind.
    pub kind: ManifestKind,
    /// The package or module name, if it declares one.
    pub name: Option<String>,
    /// The package version, if it declares one.
    pub version: Option<String>,
    /// Declared dependencies, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// Container images used (Dockerfile `FROM`, compose `image`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Compose services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Ports exposed (Dockerfile `EXPOSE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Kubernetes objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes: Vec<K8sObject>,
    /// Why the file could not be (fully) parsed, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Manifest {
    fn empty(path: &str, kind: ManifestKind) -> Self {
        Manifest {
            path: path.to_string(),
            kind,
            name: None,
            version: None,
            dependencies: Vec::new(),
            images: Vec::new(),
            services: Vec::new(),
            ports: Vec::new(),
            kubernetes: Vec::new(),
            error: None,
        }
    }

    pub(crate) fn dep(&mut self, name: &str, version: Option<String>, scope: DependencyScope) {
        self.dependencies.push(Dependency {
            name: name.to_string(),
            version: version.filter(|v| !v.is_empty()),
            scope,
        });
    }
}

/// Directories whose manifests belong to someone else (vendored or generated).
const FOREIGN_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "third_party",
    "third-party",
    ".venv",
    "venv",
    "site-packages",
    "target",
    "dist",
    ".git",
    "bower_components",
];

/// Whether a path lies inside a vendored or generated directory.
pub fn is_foreign(path: &str) -> bool {
    path.split('/')
        .rev()
        .skip(1)
        .any(|d| FOREIGN_DIRS.contains(&d.to_ascii_lowercase().as_str()))
}

/// The manifest kind a path names, by file name alone (Kubernetes YAML is recognised by its
/// content: see [`kubernetes::is_candidate_path`]).
pub fn kind_of(path: &str) -> Option<ManifestKind> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let lower = file.to_ascii_lowercase();
    let in_requirements_dir = path
        .rsplit('/')
        .nth(1)
        .is_some_and(|d| d.eq_ignore_ascii_case("requirements"));
    Some(match lower.as_str() {
        "cargo.toml" => ManifestKind::Cargo,
        "package.json" => ManifestKind::PackageJson,
        "pyproject.toml" => ManifestKind::Pyproject,
        "go.mod" => ManifestKind::GoMod,
        "dockerfile" | "containerfile" => ManifestKind::Dockerfile,
        l if l.starts_with("dockerfile.") || l.ends_with(".dockerfile") => ManifestKind::Dockerfile,
        l if (l.starts_with("requirements") || in_requirements_dir) && l.ends_with(".txt") => {
            ManifestKind::Requirements
        }
        l if (l.starts_with("docker-compose") || l.starts_with("compose."))
            && (l.ends_with(".yml") || l.ends_with(".yaml")) =>
        {
            ManifestKind::DockerCompose
        }
        _ => return None,
    })
}

/// Parses a manifest's text. Never fails: what could not be read is said in
/// [`Manifest::error`].
pub fn parse(kind: ManifestKind, path: &str, text: &str) -> Manifest {
    let mut m = Manifest::empty(path, kind);
    let result = match kind {
        ManifestKind::Cargo => cargo(&mut m, text),
        ManifestKind::PackageJson => package_json(&mut m, text),
        ManifestKind::Pyproject => python::pyproject(&mut m, text),
        ManifestKind::Requirements => {
            python::requirements(&mut m, text);
            Ok(())
        }
        ManifestKind::GoMod => {
            go_mod(&mut m, text);
            Ok(())
        }
        ManifestKind::Dockerfile => {
            containers::dockerfile(&mut m, text);
            Ok(())
        }
        ManifestKind::DockerCompose => containers::compose(&mut m, text),
        ManifestKind::Kubernetes => {
            m.kubernetes = kubernetes::parse_objects(text);
            Ok(())
        }
    };
    if let Err(e) = result {
        m.error = Some(e);
    }
    m
}

fn cargo(m: &mut Manifest, text: &str) -> Result<(), String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    if let Some(pkg) = doc.get("package").and_then(toml::Value::as_table) {
        m.name = pkg
            .get("name")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        m.version = pkg
            .get("version")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
    }
    let tables = [
        ("dependencies", DependencyScope::Runtime),
        ("dev-dependencies", DependencyScope::Dev),
        ("build-dependencies", DependencyScope::Build),
    ];
    for (key, scope) in tables {
        cargo_deps(m, doc.get(key), scope);
    }
    // Platform-specific dependencies: [target.'cfg(unix)'.dependencies].
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        for t in targets.values().filter_map(toml::Value::as_table) {
            for (key, scope) in tables {
                cargo_deps(m, t.get(key), scope);
            }
        }
    }
    if let Some(ws) = doc.get("workspace").and_then(toml::Value::as_table) {
        cargo_deps(m, ws.get("dependencies"), DependencyScope::Runtime);
    }
    Ok(())
}

fn cargo_deps(m: &mut Manifest, table: Option<&toml::Value>, scope: DependencyScope) {
    let Some(table) = table.and_then(toml::Value::as_table) else {
        return;
    };
    for (name, spec) in table {
        let (version, optional) = match spec {
            toml::Value::String(v) => (Some(v.clone()), false),
            toml::Value::Table(t) => {
                let s = |k: &str| t.get(k).and_then(toml::Value::as_str);
                let version = if let Some(v) = s("version") {
                    Some(v.to_string())
                } else if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
                    Some("workspace".to_string())
                } else if let Some(p) = s("path") {
                    Some(format!("path:{p}"))
                } else {
                    s("git").map(|g| format!("git:{g}"))
                };
                let optional = t.get("optional").and_then(toml::Value::as_bool) == Some(true);
                (version, optional)
            }
            _ => (None, false),
        };
        let scope = if optional && scope == DependencyScope::Runtime {
            DependencyScope::Optional
        } else {
            scope
        };
        m.dep(name, version, scope);
    }
}

fn package_json(m: &mut Manifest, text: &str) -> Result<(), String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let s = |k: &str| doc.get(k).and_then(Json::as_str).map(str::to_string);
    m.name = s("name");
    m.version = s("version");
    for (key, scope) in [
        ("dependencies", DependencyScope::Runtime),
        ("devDependencies", DependencyScope::Dev),
        ("peerDependencies", DependencyScope::Peer),
        ("optionalDependencies", DependencyScope::Optional),
    ] {
        if let Some(deps) = doc.get(key).and_then(Json::as_object) {
            for (name, v) in deps {
                m.dep(name, v.as_str().map(str::to_string), scope);
            }
        }
    }
    Ok(())
}

fn go_mod(m: &mut Manifest, text: &str) {
    let mut in_require = false;
    for raw in text.lines() {
        let indirect = raw.contains("// indirect");
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if in_require {
            if line == ")" {
                in_require = false;
            } else {
                go_require(m, line, indirect);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("module ") {
            m.name = Some(rest.trim().trim_matches('"').to_string());
        } else if let Some(rest) = line.strip_prefix("go ") {
            m.version = Some(format!("go {}", rest.trim()));
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest == "(" {
                in_require = true;
            } else {
                go_require(m, rest, indirect);
            }
        }
    }
}

fn go_require(m: &mut Manifest, line: &str, indirect: bool) {
    let mut parts = line.split_whitespace();
    if let Some(name) = parts.next() {
        let scope = if indirect {
            DependencyScope::Indirect
        } else {
            DependencyScope::Runtime
        };
        m.dep(name, parts.next().map(str::to_string), scope);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn deps(m: &Manifest) -> Vec<(String, Option<String>, DependencyScope)> {
        m.dependencies
            .iter()
            .map(|d| (d.name.clone(), d.version.clone(), d.scope))
            .collect()
    }

    pub(crate) fn d(
        n: &str,
        v: Option<&str>,
        s: DependencyScope,
    ) -> (String, Option<String>, DependencyScope) {
        (n.into(), v.map(Into::into), s)
    }

    use DependencyScope::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(kind_of("Cargo.toml"), Some(ManifestKind::Cargo));
        assert_eq!(kind_of("web/package.json"), Some(ManifestKind::PackageJson));
        assert_eq!(
            kind_of("requirements-dev.txt"),
            Some(ManifestKind::Requirements)
        );
        assert_eq!(
            kind_of("requirements/base.txt"),
            Some(ManifestKind::Requirements)
        );
        assert_eq!(
            kind_of("docker/Dockerfile.prod"),
            Some(ManifestKind::Dockerfile)
        );
        assert_eq!(kind_of("api.Dockerfile"), Some(ManifestKind::Dockerfile));
        assert_eq!(
            kind_of("docker-compose.override.yaml"),
            Some(ManifestKind::DockerCompose)
        );
        assert_eq!(kind_of("compose.yml"), Some(ManifestKind::DockerCompose));
        assert_eq!(kind_of("notes.txt"), None);
        assert!(is_foreign("web/node_modules/x/package.json"));
        assert!(!is_foreign("vendor"));
    }

    #[test]
    fn cargo_tables() {
        let m = parse(
            ManifestKind::Cargo,
            "Cargo.toml",
            r#"
[package]
name = "app"
version = "0.3.0"
[dependencies]
serde = { version = "1", features = ["derive"] }
tokio = "1.40"
local = { path = "../local" }
shared = { workspace = true }
extra = { version = "0.2", optional = true }
[dev-dependencies]
proptest = "1"
[build-dependencies]
cc = "1.0"
[target.'cfg(unix)'.dependencies]
libc = "0.2"
"#,
        );
        assert_eq!(m.name.as_deref(), Some("app"));
        assert_eq!(m.version.as_deref(), Some("0.3.0"));
        assert_eq!(
            deps(&m),
            vec![
                d("serde", Some("1"), Runtime),
                d("tokio", Some("1.40"), Runtime),
                d("local", Some("path:../local"), Runtime),
                d("shared", Some("workspace"), Runtime),
                d("extra", Some("0.2"), Optional),
                d("proptest", Some("1"), Dev),
                d("cc", Some("1.0"), Build),
                d("libc", Some("0.2"), Runtime),
            ]
        );
        let bad = parse(ManifestKind::Cargo, "Cargo.toml", "[package\nname=");
        assert!(bad.error.is_some());
    }

    #[test]
    fn package_json_scopes() {
        let m = parse(
            ManifestKind::PackageJson,
            "package.json",
            r#"{"name":"web","version":"1.0.0","dependencies":{"react":"^18.2.0"},
               "devDependencies":{"vite":"5.x"},"peerDependencies":{"react-dom":">=18"}}"#,
        );
        assert_eq!(
            deps(&m),
            vec![
                d("react", Some("^18.2.0"), Runtime),
                d("vite", Some("5.x"), Dev),
                d("react-dom", Some(">=18"), Peer),
            ]
        );
    }

    #[test]
    fn go_mod_requires() {
        let m = parse(
            ManifestKind::GoMod,
            "go.mod",
            "module github.com/o/app\n\ngo 1.22\n\nrequire github.com/spf13/cobra v1.8.0\n\
             require (\n\tgolang.org/x/sync v0.7.0\n\tgithub.com/x/y v0.1.0 // indirect\n)\n",
        );
        assert_eq!(m.name.as_deref(), Some("github.com/o/app"));
        assert_eq!(m.version.as_deref(), Some("go 1.22"));
        assert_eq!(
            deps(&m),
            vec![
                d("github.com/spf13/cobra", Some("v1.8.0"), Runtime),
                d("golang.org/x/sync", Some("v0.7.0"), Runtime),
                d("github.com/x/y", Some("v0.1.0"), Indirect),
            ]
        );
    }
}
