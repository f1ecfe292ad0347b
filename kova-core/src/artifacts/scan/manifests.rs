//! Recognising and reading manifests: Cargo.toml, package.json, pyproject.toml,
//! requirements*.txt, go.mod, Dockerfiles, Compose files and Kubernetes YAML (every document
//! of a multi-document file).

use crate::artifacts::validate::parse_yaml;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Dependencies listed per manifest at most.
const MAX_DEPENDENCIES: usize = 200;

/// What kind of manifest a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ManifestKind {
    /// `Cargo.toml`.
    Cargo,
    /// `package.json`.
    Npm,
    /// `pyproject.toml`.
    Pyproject,
    /// `requirements*.txt`.
    Requirements,
    /// `go.mod`.
    GoMod,
    /// `Dockerfile`, `Dockerfile.*`, `*.dockerfile`, `Containerfile`.
    Dockerfile,
    /// `docker-compose*.yml`, `compose*.yaml`.
    DockerCompose,
    /// YAML with Kubernetes objects (`apiVersion` and `kind`).
    Kubernetes,
}

/// One Kubernetes object of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sResource {
    /// `kind` (`Deployment`).
    pub kind: String,
    /// `apiVersion` (`apps/v1`).
    pub api_version: String,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// Which document of the file (1-based).
    pub document: usize,
}

/// A manifest and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// Path from the root.
    pub path: String,
    /// What it is.
    pub kind: ManifestKind,
    /// Package, module or project name.
    pub name: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Dependency names (packages, modules, base images, service images), at most 200.
    pub dependencies: Vec<String>,
    /// Kubernetes objects, one per document that declares one.
    pub resources: Vec<K8sResource>,
    /// Kind-specific facts: workspace members, scripts, exposed ports, services, Go version.
    pub details: Value,
    /// Why it could not be parsed (the manifest is still listed).
    pub error: Option<String>,
}

impl Manifest {
    fn new(path: &str, kind: ManifestKind) -> Self {
        Manifest {
            path: path.to_string(),
            kind,
            name: None,
            version: None,
            dependencies: Vec::new(),
            resources: Vec::new(),
            details: Value::Null,
            error: None,
        }
    }

    fn failed(path: &str, kind: ManifestKind, error: String) -> Self {
        let mut m = Manifest::new(path, kind);
        m.error = Some(error);
        m
    }
}

/// A file worth reading, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Candidate {
    Known(ManifestKind),
    /// Any other YAML: Kubernetes if a document has `apiVersion` and `kind`.
    Yaml,
}

/// Whether a path names a manifest (or YAML that may be Kubernetes).
pub(crate) fn candidate(path: &str) -> Option<Candidate> {
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let yaml = file.ends_with(".yml") || file.ends_with(".yaml");
    let kind = match file.as_str() {
        "cargo.toml" => ManifestKind::Cargo,
        "package.json" => ManifestKind::Npm,
        "pyproject.toml" => ManifestKind::Pyproject,
        "go.mod" => ManifestKind::GoMod,
        "dockerfile" | "containerfile" => ManifestKind::Dockerfile,
        f if f.starts_with("dockerfile.") || f.ends_with(".dockerfile") => ManifestKind::Dockerfile,
        f if f.starts_with("requirements") && f.ends_with(".txt") => ManifestKind::Requirements,
        f if yaml && (f.starts_with("docker-compose") || f.starts_with("compose")) => {
            ManifestKind::DockerCompose
        }
        _ if yaml => return Some(Candidate::Yaml),
        _ => return None,
    };
    Some(Candidate::Known(kind))
}

/// Reads a manifest; `None` for YAML that turned out not to be Kubernetes.
pub(crate) fn parse(path: &str, candidate: Candidate, text: &str) -> Option<Manifest> {
    let kind = match candidate {
        Candidate::Yaml => return kubernetes(path, text),
        Candidate::Known(k) => k,
    };
    let parsed = match kind {
        ManifestKind::Cargo => cargo(path, text),
        ManifestKind::Npm => npm(path, text),
        ManifestKind::Pyproject => pyproject(path, text),
        ManifestKind::Requirements => Ok(requirements(path, text)),
        ManifestKind::GoMod => Ok(go_mod(path, text)),
        ManifestKind::Dockerfile => Ok(dockerfile(path, text)),
        ManifestKind::DockerCompose => compose(path, text),
        ManifestKind::Kubernetes => return kubernetes(path, text),
    };
    Some(parsed.unwrap_or_else(|e| Manifest::failed(path, kind, e)))
}

fn capped(mut deps: Vec<String>) -> Vec<String> {
    deps.dedup();
    deps.truncate(MAX_DEPENDENCIES);
    deps
}

fn table_keys(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

fn cargo(path: &str, text: &str) -> Result<Manifest, String> {
    let t: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut m = Manifest::new(path, ManifestKind::Cargo);
    let pkg = t.get("package").and_then(|p| p.as_table());
    m.name = pkg
        .and_then(|p| p.get("name"))
        .and_then(|v| v.as_str())
        .map(String::from);
    m.version = pkg
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(String::from);
    let mut deps = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        deps.extend(table_keys(t.get(section)));
    }
    let ws = t.get("workspace").and_then(|w| w.as_table());
    deps.extend(table_keys(ws.and_then(|w| w.get("dependencies"))));
    m.dependencies = capped(deps);
    let members: Vec<String> = ws
        .and_then(|w| w.get("members"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    m.details = json!({ "workspace": ws.is_some(), "workspace_members": members });
    Ok(m)
}

fn npm(path: &str, text: &str) -> Result<Manifest, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut m = Manifest::new(path, ManifestKind::Npm);
    m.name = v["name"].as_str().map(String::from);
    m.version = v["version"].as_str().map(String::from);
    let mut deps = Vec::new();
    for section in [
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
    ] {
        if let Some(o) = v[section].as_object() {
            deps.extend(o.keys().cloned());
        }
    }
    m.dependencies = capped(deps);
    let scripts: Vec<&String> = v["scripts"]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    m.details = json!({ "scripts": scripts, "private": v["private"].as_bool().unwrap_or(false) });
    Ok(m)
}

/// The package name of a PEP 508 requirement (`requests[socks]>=2; python_version<'3.8'`).
fn requirement_name(spec: &str) -> Option<String> {
    let name: String = spec
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then_some(name)
}

fn pyproject(path: &str, text: &str) -> Result<Manifest, String> {
    let t: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut m = Manifest::new(path, ManifestKind::Pyproject);
    let project = t.get("project").and_then(|p| p.as_table());
    let poetry = t
        .get("tool")
        .and_then(|x| x.get("poetry"))
        .and_then(|p| p.as_table());
    let field = |k: &str| {
        project
            .and_then(|p| p.get(k))
            .or_else(|| poetry.and_then(|p| p.get(k)))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    m.name = field("name");
    m.version = field("version");
    let mut deps: Vec<String> = project
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().and_then(requirement_name))
                .collect()
        })
        .unwrap_or_default();
    deps.extend(
        table_keys(poetry.and_then(|p| p.get("dependencies")))
            .into_iter()
            .filter(|d| d != "python"),
    );
    m.dependencies = capped(deps);
    let build = t
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(|v| v.as_str());
    m.details = json!({ "build_backend": build, "poetry": poetry.is_some() });
    Ok(m)
}

fn requirements(path: &str, text: &str) -> Manifest {
    let mut m = Manifest::new(path, ManifestKind::Requirements);
    let deps = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .filter_map(requirement_name)
        .collect();
    m.dependencies = capped(deps);
    m
}

fn go_mod(path: &str, text: &str) -> Manifest {
    let mut m = Manifest::new(path, ManifestKind::GoMod);
    let mut go_version = None;
    let mut deps = Vec::new();
    let mut in_require = false;
    for line in text.lines() {
        let l = line.split("//").next().unwrap_or("").trim();
        if in_require {
            if l == ")" {
                in_require = false;
            } else if let Some(module) = l.split_whitespace().next() {
                deps.push(module.to_string());
            }
        } else if let Some(rest) = l.strip_prefix("module ") {
            m.name = Some(rest.trim().trim_matches('"').to_string());
        } else if let Some(rest) = l.strip_prefix("go ") {
            go_version = Some(rest.trim().to_string());
        } else if l == "require (" || l == "require(" {
            in_require = true;
        } else if let Some(rest) = l.strip_prefix("require ") {
            if let Some(module) = rest.split_whitespace().next() {
                deps.push(module.to_string());
            }
        }
    }
    m.dependencies = capped(deps);
    m.details = json!({ "go": go_version });
    m
}

fn dockerfile(path: &str, text: &str) -> Manifest {
    let mut m = Manifest::new(path, ManifestKind::Dockerfile);
    let mut images = Vec::new();
    let mut ports = Vec::new();
    let mut stages = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
            Some("FROM") => {
                // FROM [--platform=…] image [AS name]
                let args: Vec<&str> = words[1..]
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                if let Some(image) = args.first() {
                    images.push(image.to_string());
                }
                if args.len() >= 3 && args[1].eq_ignore_ascii_case("as") {
                    stages.push(args[2].to_string());
                }
            }
            Some("EXPOSE") => ports.extend(words[1..].iter().map(|p| p.to_string())),
            _ => {}
        }
    }
    // A base image naming an earlier stage is not a dependency.
    m.dependencies = capped(images.into_iter().filter(|i| !stages.contains(i)).collect());
    m.details = json!({ "exposed_ports": ports, "stages": stages });
    m
}

fn compose(path: &str, text: &str) -> Result<Manifest, String> {
    let docs = parse_yaml(text)?;
    let mut m = Manifest::new(path, ManifestKind::DockerCompose);
    let mut services = Vec::new();
    let mut images = Vec::new();
    for doc in &docs {
        if let Some(s) = doc.get("services").and_then(|s| s.as_mapping()) {
            for (name, svc) in s {
                if let Some(n) = name.as_str() {
                    services.push(n.to_string());
                }
                if let Some(i) = svc.get("image").and_then(|i| i.as_str()) {
                    images.push(i.to_string());
                }
            }
        }
    }
    m.name = docs
        .iter()
        .find_map(|d| d.get("name").and_then(|n| n.as_str()))
        .map(String::from);
    m.dependencies = capped(images);
    m.details = json!({ "services": services });
    Ok(m)
}

fn kubernetes(path: &str, text: &str) -> Option<Manifest> {
    let str_at =
        |v: &serde_norway::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
    match parse_yaml(text) {
        Ok(docs) => {
            let mut m = Manifest::new(path, ManifestKind::Kubernetes);
            for (i, doc) in docs.iter().enumerate() {
                let (Some(kind), Some(api_version)) =
                    (str_at(doc, "kind"), str_at(doc, "apiVersion"))
                else {
                    continue;
                };
                let meta = doc.get("metadata");
                m.resources.push(K8sResource {
                    kind,
                    api_version,
                    name: meta.and_then(|x| str_at(x, "name")),
                    namespace: meta.and_then(|x| str_at(x, "namespace")),
                    document: i + 1,
                });
            }
            (!m.resources.is_empty()).then(|| {
                m.details = json!({ "documents": docs.len() });
                m
            })
        }
        // Templated manifests (Helm) do not parse as YAML; list them when they clearly are
        // Kubernetes objects.
        Err(e) if text.contains("apiVersion:") && text.contains("kind:") => {
            Some(Manifest::failed(path, ManifestKind::Kubernetes, e))
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(path: &str, text: &str) -> Manifest {
        let Some(c) = candidate(path) else {
            panic!("{path} is no candidate")
        };
        parse(path, c, text).unwrap()
    }

    #[test]
    fn recognises_manifest_names() {
        assert_eq!(
            candidate("a/Cargo.toml"),
            Some(Candidate::Known(ManifestKind::Cargo))
        );
        assert_eq!(
            candidate("requirements-dev.txt"),
            Some(Candidate::Known(ManifestKind::Requirements))
        );
        assert_eq!(
            candidate("docker-compose.prod.yml"),
            Some(Candidate::Known(ManifestKind::DockerCompose))
        );
        assert_eq!(
            candidate("Dockerfile.dev"),
            Some(Candidate::Known(ManifestKind::Dockerfile))
        );
        assert_eq!(candidate("k8s/app.yaml"), Some(Candidate::Yaml));
        assert_eq!(candidate("src/main.rs"), None);
    }

    #[test]
    fn reads_cargo_npm_python_go() {
        let m = known("Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.1.0\"\n[dependencies]\nserde = \"1\"\n[dev-dependencies]\ntokio = \"1\"\n");
        assert_eq!(
            (m.name.as_deref(), m.version.as_deref()),
            (Some("x"), Some("0.1.0"))
        );
        assert_eq!(m.dependencies, ["serde", "tokio"]);
        let m = known(
            "package.json",
            r#"{"name":"w","version":"1.0.0","dependencies":{"react":"18"},"scripts":{"build":"x"}}"#,
        );
        assert_eq!(m.dependencies, ["react"]);
        assert_eq!(m.details["scripts"][0], "build");
        let m = known(
            "pyproject.toml",
            "[project]\nname = \"p\"\ndependencies = [\"requests[socks]>=2\", \"numpy\"]\n",
        );
        assert_eq!(m.dependencies, ["requests", "numpy"]);
        let m = known(
            "requirements.txt",
            "# c\nflask==3.0 # web\n-r base.txt\nuvicorn[standard]\n",
        );
        assert_eq!(m.dependencies, ["flask", "uvicorn"]);
        let m = known("go.mod", "module example.com/x\n\ngo 1.22\n\nrequire (\n\tgithub.com/a/b v1.0.0 // indirect\n)\nrequire golang.org/x/net v0.1.0\n");
        assert_eq!(m.name.as_deref(), Some("example.com/x"));
        assert_eq!(m.dependencies, ["github.com/a/b", "golang.org/x/net"]);
        assert_eq!(m.details["go"], "1.22");
    }

    #[test]
    fn reads_docker_and_compose() {
        let m = known("Dockerfile", "FROM --platform=linux/amd64 rust:1.82 AS build\nFROM debian:bookworm-slim\nCOPY --from=build /x /x\nEXPOSE 8080 9090\n");
        assert_eq!(m.dependencies, ["rust:1.82", "debian:bookworm-slim"]);
        assert_eq!(m.details["exposed_ports"], json!(["8080", "9090"]));
        let m = known(
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1\n  db:\n    image: postgres:16\n",
        );
        assert_eq!(m.details["services"], json!(["web", "db"]));
        assert_eq!(m.dependencies, ["nginx:1", "postgres:16"]);
    }

    #[test]
    fn reads_multi_document_kubernetes_yaml() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n---\n# a comment only\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n";
        let m = known("deploy/app.yaml", text);
        assert_eq!(m.kind, ManifestKind::Kubernetes);
        assert_eq!(m.resources.len(), 2);
        assert_eq!(m.resources[0].namespace.as_deref(), Some("prod"));
        assert_eq!(
            (m.resources[1].kind.as_str(), m.resources[1].document),
            ("Service", 3)
        );
        assert!(parse("ci.yml", Candidate::Yaml, "on: push\njobs: {}\n").is_none());
        let helm = parse(
            "t/d.yaml",
            Candidate::Yaml,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n  x: [\n",
        );
        assert!(helm.unwrap().error.is_some());
    }

    #[test]
    fn broken_manifests_are_listed_with_the_error() {
        let m = known("Cargo.toml", "[package\n");
        assert!(m.error.is_some());
    }
}
