//! Scans of a repository on a fake host and of a local directory: tree, languages, manifests
//! (Kubernetes multi-document YAML included), limits, and input validation.

#![cfg(feature = "testing")]

mod artifacts_support;

use artifacts_support::{env, repo, seed_repo};
use kova_core::artifacts::{scan_local_path, ManifestKind, ScanOptions, ScanReport, ScanTarget};
use kova_core::Error;
use std::fs;
use std::path::Path;

const K8S: &str = include_str!("fixtures/artifacts/k8s-app.yaml");
const COMPOSE: &str =
    "services:\n  relay:\n    image: ghcr.io/octo/relay:0.3.0\n  redis:\n    image: redis:7\n";
const WORKFLOW: &str = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n";

fn manifest<'a>(r: &'a ScanReport, path: &str) -> &'a kova_core::artifacts::Manifest {
    r.manifests
        .iter()
        .find(|m| m.path == path)
        .unwrap_or_else(|| panic!("no manifest {path} in {:?}", r.manifests))
}

fn check_k8s(r: &ScanReport, path: &str) {
    let m = manifest(r, path);
    assert_eq!(m.kind, ManifestKind::Kubernetes);
    let kinds: Vec<(&str, &str, Option<&str>, Option<&str>)> = m
        .resources
        .iter()
        .map(|x| {
            (
                x.kind.as_str(),
                x.api_version.as_str(),
                x.name.as_deref(),
                x.namespace.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("Namespace", "v1", Some("relay"), None),
            ("Deployment", "apps/v1", Some("relay"), Some("relay")),
            ("Service", "v1", Some("relay"), Some("relay")),
        ]
    );
    assert_eq!(m.resources[2].document, 4);
    assert_eq!(m.details["documents"], 4);
}

#[tokio::test]
async fn scans_a_repository_on_the_host() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    e.source
        .put_file(&r, "deploy/k8s/app.yaml", K8S)
        .put_file(&r, "docker-compose.yml", COMPOSE)
        .put_file(&r, ".github/workflows/ci.yml", WORKFLOW)
        .put_file(
            &r,
            "Dockerfile",
            "FROM rust:1.82 AS build\nFROM debian:bookworm-slim\nEXPOSE 8080\n",
        )
        .put_file(
            &r,
            "node_modules/left-pad/package.json",
            "{\"name\": \"left-pad\"}",
        )
        .set_languages(&r, [("Rust".to_string(), 999u64)].into_iter().collect());
    let report = e
        .service
        .scan_repository(&r, &ScanOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.target,
        ScanTarget::Repository {
            repository: r.clone(),
            git_ref: "main".into()
        }
    );
    // node_modules is skipped: 10 files seeded + 5 added - 1 skipped.
    assert_eq!(report.file_count, 10);
    assert!(report
        .files
        .iter()
        .all(|f| !f.path.starts_with("node_modules")));
    assert_eq!(report.languages["Rust"].files, 3);
    assert_eq!(report.languages["YAML"].files, 3);
    assert_eq!(report.host_languages.as_ref().unwrap()["Rust"], 999);
    assert_eq!(
        report.total_bytes,
        report.files.iter().map(|f| f.size).sum::<u64>()
    );
    assert!(!report.truncated);
    check_k8s(&report, "deploy/k8s/app.yaml");
    let cargo = manifest(&report, "Cargo.toml");
    assert_eq!(
        (cargo.name.as_deref(), cargo.version.as_deref()),
        (Some("relay"), Some("0.3.0"))
    );
    assert_eq!(cargo.dependencies, ["hmac"]);
    let compose = manifest(&report, "docker-compose.yml");
    assert_eq!(
        compose.dependencies,
        ["ghcr.io/octo/relay:0.3.0", "redis:7"]
    );
    let docker = manifest(&report, "Dockerfile");
    assert_eq!(docker.dependencies, ["rust:1.82", "debian:bookworm-slim"]);
    // A workflow is YAML but not Kubernetes: not a manifest.
    assert!(report
        .manifests
        .iter()
        .all(|m| m.path != ".github/workflows/ci.yml"));
    assert_eq!(report.manifests.len(), 4);
    // Manifests were read at the scanned ref; no LLM was involved.
    assert!(e
        .source
        .calls()
        .iter()
        .any(|c| c == "get_file octo/relay:Cargo.toml@main"));
    assert_eq!(e.llm.calls(), 0);
    // The report is serializable for the HTTP face.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["target"]["type"], "repository");
    assert_eq!(json["manifests"][0]["kind"], "cargo");
}

#[tokio::test]
async fn repository_scans_report_limits_and_host_errors() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    e.source.set_tree_truncated(&r, true);
    let opts = ScanOptions::default().with_max_files(2).with_git_ref("v1");
    let report = e.service.scan_repository(&r, &opts).await.unwrap();
    assert_eq!(report.file_count, 2);
    assert!(report.truncated);
    assert!(report.notes.iter().any(|n| n.contains("incomplete")));
    assert!(report.notes.iter().any(|n| n.contains("max_files")));
    assert!(e
        .source
        .calls()
        .iter()
        .any(|c| c == "get_tree octo/relay@v1"));

    let err = e
        .service
        .scan_repository(&repo("octo/none"), &ScanOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = e
        .service
        .scan_repository(&r, &ScanOptions::default().with_git_ref("a b"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { field, .. } if field == "git_ref"));
}

fn write(root: &Path, path: &str, content: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn local_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"app\"]\n");
    write(
        root,
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"1.2.3\"\n[dependencies]\ntokio = \"1\"\n",
    );
    write(root, "app/src/main.rs", "fn main() {}\n");
    write(
        root,
        "web/package.json",
        "{\"name\": \"web\", \"version\": \"0.1.0\", \"devDependencies\": {\"vite\": \"5\"}}",
    );
    write(root, "web/src/index.ts", "export const x = 1;\n");
    write(
        root,
        "py/pyproject.toml",
        "[project]\nname = \"tool\"\nversion = \"0.9\"\ndependencies = [\"httpx>=0.27\"]\n",
    );
    write(root, "py/requirements-dev.txt", "pytest==8.0\n");
    write(root, "py/tool.py", "import httpx\n");
    write(
        root,
        "svc/go.mod",
        "module example.com/svc\n\ngo 1.22\n\nrequire github.com/go-chi/chi/v5 v5.0.0\n",
    );
    write(root, "k8s/app.yaml", K8S);
    write(root, ".github/workflows/ci.yml", WORKFLOW);
    write(root, "Dockerfile", "FROM python:3.12-slim\n");
    write(root, "compose.yaml", COMPOSE);
    // Never walked.
    write(root, ".git/config", "[core]\n");
    write(root, "target/debug/app.d", "x");
    write(
        root,
        "web/node_modules/vite/package.json",
        "{\"name\": \"vite\"}",
    );
    dir
}

#[test]
fn scans_a_local_directory() {
    let dir = local_fixture();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let report = scan_local_path(dir.path(), &ScanOptions::default()).unwrap();
    assert!(matches!(&report.target, ScanTarget::Local { .. }));
    let paths: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(report.file_count, 13, "{paths:?}");
    assert!(paths.iter().all(|p| !p.starts_with(".git/")
        && !p.starts_with("target/")
        && !p.contains("node_modules")));
    assert!(paths.windows(2).all(|w| w[0] < w[1]), "sorted: {paths:?}");
    assert!(paths.contains(&"app/src/main.rs"));
    assert_eq!(report.languages["Rust"].files, 1);
    assert_eq!(report.languages["TypeScript"].files, 1);
    assert_eq!(report.languages["Python"].files, 1);
    check_k8s(&report, "k8s/app.yaml");
    let kinds: Vec<(&str, ManifestKind)> = report
        .manifests
        .iter()
        .map(|m| (m.path.as_str(), m.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Cargo.toml", ManifestKind::Cargo),
            ("Dockerfile", ManifestKind::Dockerfile),
            ("app/Cargo.toml", ManifestKind::Cargo),
            ("compose.yaml", ManifestKind::DockerCompose),
            ("k8s/app.yaml", ManifestKind::Kubernetes),
            ("py/pyproject.toml", ManifestKind::Pyproject),
            ("py/requirements-dev.txt", ManifestKind::Requirements),
            ("svc/go.mod", ManifestKind::GoMod),
            ("web/package.json", ManifestKind::Npm),
        ]
    );
    assert_eq!(
        manifest(&report, "Cargo.toml").details["workspace_members"][0],
        "app"
    );
    assert_eq!(
        manifest(&report, "py/pyproject.toml").dependencies,
        ["httpx"]
    );
    assert_eq!(
        manifest(&report, "svc/go.mod").dependencies,
        ["github.com/go-chi/chi/v5"]
    );
    assert_eq!(manifest(&report, "web/package.json").dependencies, ["vite"]);
    #[cfg(unix)]
    assert!(report.notes.iter().any(|n| n.contains("symbolic link")));
    assert!(!report.truncated);
}

#[test]
fn local_scans_are_bounded_and_validated() {
    let dir = local_fixture();
    let report = scan_local_path(dir.path(), &ScanOptions::default().with_max_files(4)).unwrap();
    assert_eq!(report.file_count, 4);
    assert!(report.truncated);

    let report =
        scan_local_path(dir.path(), &ScanOptions::default().with_max_manifests(2)).unwrap();
    assert_eq!(report.manifests.len(), 2);
    assert!(report.truncated);

    let missing = dir.path().join("nope");
    assert!(matches!(
        scan_local_path(&missing, &ScanOptions::default()),
        Err(Error::NotFound { .. })
    ));
    let file = dir.path().join("Dockerfile");
    assert!(matches!(
        scan_local_path(&file, &ScanOptions::default()),
        Err(Error::Invalid { field, .. }) if field == "path"
    ));
    assert!(matches!(
        scan_local_path(Path::new(""), &ScanOptions::default()),
        Err(Error::Invalid { field, .. }) if field == "path"
    ));
    // Outside the allowed roots.
    let other = tempfile::tempdir().unwrap();
    let opts = ScanOptions::default().with_allowed_root(other.path());
    assert!(matches!(
        scan_local_path(dir.path(), &opts),
        Err(Error::Invalid { field, .. }) if field == "path"
    ));
    let inside = ScanOptions::default().with_allowed_root(dir.path());
    assert!(scan_local_path(&dir.path().join("k8s"), &inside).is_ok());
}

#[tokio::test]
async fn the_local_scan_runs_off_the_async_threads() {
    let dir = local_fixture();
    let e = env();
    let path = dir.path().to_path_buf();
    let service = std::sync::Arc::new(e.service);
    let s = service.clone();
    let report = tokio::task::spawn_blocking(move || s.scan_local(&path, &ScanOptions::default()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.file_count, 13);
}
