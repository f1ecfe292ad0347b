//! Real payloads through the receiver and the typed views: the vendored fixtures always, and
//! the whole `@octokit/webhooks-examples` package when it is present.

use bytes::Bytes;
use kova_core::{Error, SignatureError, WebhookDelivery, WebhookReceiver};
use kova_github::events::GitHubEvent;
use kova_github::webhook::sign;
use kova_github::{GitHubWebhooks, Secret};
use std::path::{Path, PathBuf};

const TEST_SECRET: &str = "kova-test-secret-not-real";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks")
}

/// Signs `body` as GitHub would and runs it through the receiver.
fn deliver(event: &str, body: Vec<u8>) -> kova_core::Result<WebhookDelivery> {
    let secret = Secret::new(TEST_SECRET);
    let receiver = GitHubWebhooks::new(vec![Secret::new("rotated-out-secret"), secret.clone()]);
    let signature = sign(&secret, &body);
    let headers = vec![
        ("X-GitHub-Event".to_string(), event.to_string()),
        (
            "X-GitHub-Delivery".to_string(),
            "0b989ba4-242f-11e5-81e1-c7b6966d2516".to_string(),
        ),
        ("X-GitHub-Hook-ID".to_string(), "292430182".to_string()),
        (
            "X-GitHub-Hook-Installation-Target-Type".to_string(),
            "repository".to_string(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-ID".to_string(),
            "79929171".to_string(),
        ),
        (
            "User-Agent".to_string(),
            "GitHub-Hookshot/044aadd".to_string(),
        ),
        ("Content-Type".to_string(), "application/json".to_string()),
        ("X-Hub-Signature-256".to_string(), signature),
    ];
    receiver.receive(&headers, Bytes::from(body), chrono::Utc::now())
}

/// The event name of a fixture file: `pull_request.opened.json` → `pull_request`.
fn event_of(path: &Path) -> String {
    let stem = path.file_name().unwrap().to_str().unwrap();
    let stem = stem.strip_prefix("ghes-35.").unwrap_or(stem);
    stem.split('.').next().unwrap().to_string()
}

fn fixture(name: &str) -> (String, Vec<u8>) {
    let path = fixtures_dir().join(name);
    (event_of(&path), std::fs::read(&path).unwrap())
}

/// Receives and parses one payload; checks the envelope agrees with the payload itself.
fn check(event: &str, body: Vec<u8>) -> Result<GitHubEvent, String> {
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let d = deliver(event, body).map_err(|e| format!("receive: {e}"))?;
    if d.event != event || d.hook_id != Some(292430182) || d.target_id != Some(79929171) {
        return Err(format!("headers misread: {d:?}"));
    }
    let want_action = value.get("action").and_then(|a| a.as_str());
    if d.action.as_deref() != want_action {
        return Err(format!("action {:?} != {want_action:?}", d.action));
    }
    let want_repo = value
        .pointer("/repository/full_name")
        .and_then(|a| a.as_str());
    if d.repo.as_ref().map(|r| r.to_string()).as_deref() != want_repo {
        return Err(format!("repo {:?} != {want_repo:?}", d.repo));
    }
    let want_inst = value.pointer("/installation/id").and_then(|a| a.as_i64());
    if d.installation_id != want_inst {
        return Err(format!(
            "installation {:?} != {want_inst:?}",
            d.installation_id
        ));
    }
    let want_sender = value.pointer("/sender/login").and_then(|a| a.as_str());
    if d.sender.as_deref() != want_sender {
        return Err(format!("sender {:?} != {want_sender:?}", d.sender));
    }
    let parsed = GitHubEvent::from_delivery(&d).map_err(|e| format!("typed view: {e}"))?;
    if parsed.name() != event {
        return Err(format!("parsed as {}", parsed.name()));
    }
    Ok(parsed)
}

#[test]
fn every_vendored_fixture_verifies_and_parses() {
    let mut count = 0;
    let mut events = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let event = event_of(&path);
        let body = std::fs::read(&path).unwrap();
        if let Err(e) = check(&event, body) {
            panic!("{}: {e}", path.display());
        }
        events.insert(event);
        count += 1;
    }
    assert!(count >= 60, "only {count} fixtures");
    for typed in [
        "push",
        "pull_request",
        "issues",
        "issue_comment",
        "workflow_run",
        "ping",
        "installation",
        "installation_repositories",
    ] {
        assert!(events.contains(typed), "no fixture for {typed}");
    }
}

#[test]
fn typed_views_read_real_payloads() {
    let (ev, body) = fixture("push.branch.json");
    let GitHubEvent::Push(push) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!(push.branch(), Some("master"));
    assert_eq!(push.after, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(push.commits.len(), 1);
    assert_eq!(push.commits[0].id, push.after);
    assert!(push.head_commit.is_some());
    // Push payloads give `pushed_at` in epoch seconds.
    assert_eq!(push.repository.pushed_at.unwrap().timestamp(), 1557933657);

    let (ev, body) = fixture("pull_request.opened.json");
    let GitHubEvent::PullRequest(pr) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!((pr.action.as_str(), pr.number), ("opened", 2));
    assert_eq!(
        pr.pull_request.head.sha,
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    assert_eq!(pr.pull_request.base.git_ref, "master");
    assert_eq!(pr.repository.full_name, "Codertocat/Hello-World");

    let (ev, body) = fixture("issue_comment.created.json");
    let GitHubEvent::IssueComment(c) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!((c.issue.number, c.comment.id), (1, 492700400));
    assert!(!c.comment.body.is_empty());

    let (ev, body) = fixture("issues.pinned.json");
    let GitHubEvent::Issues(i) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!((i.action.as_str(), i.issue.number), ("pinned", 1));
    assert_eq!(i.installation.unwrap().id, 1);

    let (ev, body) = fixture("workflow_run.completed.json");
    let GitHubEvent::WorkflowRun(w) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!(w.workflow_run.id, 289782451);
    assert_eq!(w.workflow_run.conclusion.as_deref(), Some("success"));
    assert!(!w.failed());

    let (ev, body) = fixture("ping.default.json");
    let GitHubEvent::Ping(p) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!(p.hook_id, Some(109948940));
    assert!(!p.zen.is_empty());

    let (ev, body) = fixture("installation.created.json");
    let GitHubEvent::Installation(i) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!(i.installation.id, 957387);
    assert_eq!(i.installation.account.unwrap().login, "Codertocat");

    let (ev, body) = fixture("installation_repositories.added.json");
    let GitHubEvent::InstallationRepositories(i) = check(&ev, body).unwrap() else {
        panic!()
    };
    assert_eq!(i.repositories_added.len(), 1);

    let (ev, body) = fixture("star.created.json");
    assert!(
        matches!(check(&ev, body).unwrap(), GitHubEvent::Other { event, .. } if event == "star")
    );
}

#[test]
fn a_fixture_signed_with_an_unknown_secret_is_rejected() {
    let (_, body) = fixture("push.branch.json");
    let receiver = GitHubWebhooks::new(vec![Secret::new(TEST_SECRET)]);
    let headers: Vec<(String, String)> = [
        ("X-GitHub-Event", "push".to_string()),
        ("X-GitHub-Delivery", "x".to_string()),
        ("X-Hub-Signature-256", sign(&Secret::new("attacker"), &body)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let err = receiver
        .receive(&headers, Bytes::from(body), chrono::Utc::now())
        .unwrap_err();
    assert!(matches!(err, Error::Signature(SignatureError::Mismatch)));
}

/// Where the whole npm package is: `KOVA_WEBHOOK_EXAMPLES`, else `/tmp/octokit-webhooks-examples`
/// (`cd /tmp && npm pack @octokit/webhooks-examples && mkdir octokit-webhooks-examples &&
/// tar xzf octokit-webhooks-examples-*.tgz --strip-components=1 -C octokit-webhooks-examples`).
fn examples_package() -> Option<PathBuf> {
    let root = std::env::var_os("KOVA_WEBHOOK_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/octokit-webhooks-examples"));
    [root.clone(), root.join("package")]
        .into_iter()
        .find(|p| p.join("api.github.com/index.json").is_file())
}

#[test]
fn the_whole_octokit_examples_package_verifies_and_parses() {
    let Some(root) = examples_package() else {
        eprintln!(
            "skipped: @octokit/webhooks-examples not found (set KOVA_WEBHOOK_EXAMPLES to the \
             unpacked npm package)"
        );
        return;
    };
    let mut failures = Vec::new();
    let mut total = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("index.json").is_file())
        .collect();
    dirs.sort();
    for dir in &dirs {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        for spec in index.as_array().unwrap() {
            let event = spec["name"].as_str().unwrap();
            for (i, example) in spec["examples"].as_array().unwrap().iter().enumerate() {
                total += 1;
                let body = serde_json::to_vec(example).unwrap();
                if let Err(e) = check(event, body) {
                    failures.push(format!("{}/{event}[{i}]: {e}", dir.display()));
                }
            }
        }
    }
    assert!(
        total >= 329,
        "only {total} examples under {}",
        root.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{total} examples from {} directories verified and parsed",
        dirs.len()
    );
}
