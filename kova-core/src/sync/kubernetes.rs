//! Kubernetes manifests: which YAML files may be ones, and the objects (kind, apiVersion,
//! name, namespace) each document of a multi-document file declares.

use serde::{Deserialize, Serialize};
use serde_norway::Value;

/// One Kubernetes object declared in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`, if set (generated names and templates may lack it).
    pub name: Option<String>,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
}

/// Directory names that usually hold Kubernetes manifests.
const K8S_DIRS: &[&str] = &[
    "k8s",
    "kube",
    "kubernetes",
    "manifests",
    "deploy",
    "deployment",
    "deployments",
    "helm",
    "charts",
    "templates",
    "kustomize",
    "base",
    "overlays",
    "argocd",
    "gitops",
    "infra",
    "ops",
];

/// File name words that usually mean a Kubernetes manifest.
const K8S_WORDS: &[&str] = &[
    "deployment",
    "service",
    "ingress",
    "configmap",
    "secret",
    "statefulset",
    "daemonset",
    "cronjob",
    "job",
    "namespace",
    "kustomization",
    "k8s",
    "kube",
    "rbac",
    "pvc",
    "hpa",
    "networkpolicy",
    "serviceaccount",
    "crd",
    "manifest",
];

/// YAML files that are never Kubernetes objects (CI, tooling, Helm chart metadata).
const NOT_K8S: &[&str] = &[
    "chart.yaml",
    "chart.yml",
    "values.yaml",
    "values.yml",
    ".pre-commit-config.yaml",
    "mkdocs.yml",
    "mkdocs.yaml",
    "codecov.yml",
    ".gitlab-ci.yml",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "environment.yml",
    "environment.yaml",
    "action.yml",
    "action.yaml",
    ".golangci.yml",
    ".goreleaser.yml",
    ".goreleaser.yaml",
    "dependabot.yml",
    "openapi.yaml",
    "openapi.yml",
    "swagger.yaml",
    ".readthedocs.yaml",
    ".readthedocs.yml",
    "netlify.yml",
    "_config.yml",
];

/// Whether a YAML path is worth fetching to look for Kubernetes objects: under a directory
/// with a Kubernetes-ish name, at the root, or named like a Kubernetes object — and not CI or
/// tooling configuration. Only the content decides ([`parse_objects`]); this keeps a
/// repository with hundreds of YAML fixtures from costing hundreds of requests.
pub fn is_candidate_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if !(lower.ends_with(".yaml") || lower.ends_with(".yml")) {
        return false;
    }
    let mut parts: Vec<&str> = lower.split('/').collect();
    let file = parts.pop().unwrap_or_default();
    if NOT_K8S.contains(&file)
        || file.starts_with("docker-compose")
        || file.starts_with("compose.")
        || parts.iter().any(|d| *d == ".github" || *d == ".circleci")
    {
        return false;
    }
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    parts.is_empty()
        || parts.iter().any(|d| K8S_DIRS.contains(d))
        || stem
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| K8S_WORDS.contains(&w))
}

/// The Kubernetes objects in a (multi-document) YAML text. A document counts when it has
/// string `apiVersion` and `kind` fields; a `…List` kind contributes its `items`. Documents
/// that are not valid YAML (Helm templates with `{{ }}`) are read line by line for their
/// top-level `apiVersion`, `kind` and `metadata` fields.
pub fn parse_objects(text: &str) -> Vec<K8sObject> {
    let mut out = Vec::new();
    for doc in split_documents(text) {
        if doc.trim().is_empty() {
            continue;
        }
        match serde_norway::from_str::<Value>(doc) {
            Ok(v) => collect(&v, &mut out),
            Err(_) => out.extend(scan_lines(doc)),
        }
    }
    out
}

/// Splits on `---` document markers (a line that is `---`, optionally followed by a comment
/// or content after a space).
fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end();
        if l == "---" || l.starts_with("--- ") || l == "..." {
            docs.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    docs
}

fn collect(v: &Value, out: &mut Vec<K8sObject>) {
    let Some(map) = v.as_mapping() else { return };
    let get = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(api_version), Some(kind)) = (get("apiVersion"), get("kind")) else {
        return;
    };
    if kind.ends_with("List") {
        if let Some(items) = map.get("items").and_then(Value::as_sequence) {
            for item in items {
                collect(item, out);
            }
            return;
        }
    }
    let meta = map.get("metadata").and_then(Value::as_mapping);
    let meta_str = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    out.push(K8sObject {
        api_version,
        kind,
        name: meta_str("name"),
        namespace: meta_str("namespace"),
    });
}

/// The fallback for templated YAML: top-level `key: value` lines and the first indented level
/// under `metadata:`.
fn scan_lines(doc: &str) -> Option<K8sObject> {
    let (mut api_version, mut kind, mut name, mut namespace) = (None, None, None, None);
    let mut in_meta = false;
    let mut meta_indent: Option<usize> = None;
    for line in doc.lines() {
        let content = line.split(" #").next().unwrap_or("").trim_end();
        if content.trim().is_empty() || content.trim_start().starts_with('#') {
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        let Some((key, value)) = content.trim_start().split_once(':') else {
            continue;
        };
        let value = clean_scalar(value);
        if indent == 0 {
            in_meta = key == "metadata";
            meta_indent = None;
            match key {
                "apiVersion" => api_version = value,
                "kind" => kind = value,
                _ => {}
            }
        } else if in_meta {
            let level = *meta_indent.get_or_insert(indent);
            if indent == level {
                match key {
                    "name" => name = value,
                    "namespace" => namespace = value,
                    _ => {}
                }
            }
        }
    }
    Some(K8sObject {
        api_version: api_version?,
        kind: kind?,
        name,
        namespace,
    })
}

/// A plain or quoted scalar; `None` when empty or templated.
fn clean_scalar(v: &str) -> Option<String> {
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
    (!v.is_empty() && !v.contains("{{")).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_with_namespaces_and_lists() {
        let text = "\
# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels: {app: web}
spec:
  replicas: 2
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg, namespace: prod}
---
not: kubernetes
";
        let objs = parse_objects(text);
        let kinds: Vec<_> = objs
            .iter()
            .map(|o| (o.kind.as_str(), o.name.as_deref(), o.namespace.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("Deployment", Some("web"), Some("prod")),
                ("Service", Some("web"), None),
                ("ConfigMap", Some("cfg"), Some("prod")),
            ]
        );
        assert_eq!(objs[0].api_version, "apps/v1");
    }

    #[test]
    fn helm_templates_fall_back_to_line_scan() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"x.fullname\" . }}
  namespace: tools
spec:
  {{- toYaml .Values.spec | nindent 2 }}
";
        let objs = parse_objects(text);
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].kind, "Deployment");
        assert_eq!(objs[0].name, None);
        assert_eq!(objs[0].namespace.as_deref(), Some("tools"));
    }

    #[test]
    fn candidate_paths() {
        assert!(is_candidate_path("k8s/app.yaml"));
        assert!(is_candidate_path("deploy/prod/web.yml"));
        assert!(is_candidate_path("config/web-deployment.yaml"));
        assert!(is_candidate_path("stack.yaml"));
        assert!(!is_candidate_path(".github/workflows/ci.yml"));
        assert!(!is_candidate_path("docker-compose.yml"));
        assert!(!is_candidate_path("charts/app/Chart.yaml"));
        assert!(!is_candidate_path("tests/fixtures/data.yaml"));
        assert!(!is_candidate_path("k8s/readme.md"));
    }
}
