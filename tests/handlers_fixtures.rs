//! The shipped handlers on real GitHub payloads (the vendored `@octokit/webhooks-examples`
//! subset): every handled fixture is verified, ingested and processed to `done`; real payloads
//! edited into the interesting cases (a push to the default branch, a failed CI run, a `/kova`
//! command) produce their artifacts.

use bytes::Bytes;
use kova::github::{webhook::sign, GitHubWebhooks, Secret};
use kova::handlers::HandlerSettings;
use kova::testing::{FakeSource, ScriptedLlm};
use kova::*;
use serde_json::Value;
use std::sync::Arc;

const SECRET: &str = "fixture-secret";
const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/kova-github/tests/fixtures/webhooks"
);

fn load(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(format!("{DIR}/{name}.json")).unwrap()).unwrap()
}

/// The vendored fixtures' names (without `.json`), sorted.
fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    names
}

fn event_of(name: &str) -> &str {
    let mut parts = name.split('.');
    let first = parts.next().unwrap();
    if first.starts_with("ghes-") {
        parts.next().unwrap()
    } else {
        first
    }
}

struct World {
    kova: Kova,
    store: Arc<dyn Store>,
    llm: Arc<ScriptedLlm>,
}

fn world() -> World {
    let store: Arc<dyn Store> = Arc::new(kova::store::MemoryStore::new());
    let source = Arc::new(FakeSource::new());
    for r in ["Codertocat/Hello-World", "octo-org/octo-repo"] {
        source.add_repo(FakeSource::remote(&r.parse().unwrap()));
    }
    let repo: RepoRef = "Codertocat/Hello-World".parse().unwrap();
    source.add_pull(
        &repo,
        PullRequest {
            number: 2,
            title: "Update the README with new information.".into(),
            body: None,
            state: "open".into(),
            draft: false,
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
            head_ref: "changes".into(),
            base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
            base_ref: "master".into(),
            author: None,
        },
        vec![ChangedFile {
            filename: "README.md".into(),
            status: "modified".into(),
            additions: 1,
            deletions: 0,
            patch: Some("+More information.".into()),
            previous_filename: None,
        }],
    );
    let llm = Arc::new(ScriptedLlm::new().with_responder(|_| {
        Ok("{\"summary\": \"ok\", \"labels\": [], \"duplicates\": []}".into())
    }));
    let kova = Kova::builder(store.clone())
        .llm(llm.clone())
        .source(source)
        .receiver(Arc::new(GitHubWebhooks::new(vec![Secret::new(SECRET)])))
        .default_handlers(HandlerSettings::default())
        .build()
        .unwrap();
    World { kova, store, llm }
}

async fn deliver(w: &World, event: &str, id: &str, body: &Value) -> IngestOutcome {
    let body = Bytes::from(serde_json::to_vec(body).unwrap());
    let sig = sign(&Secret::new(SECRET), &body);
    let headers = vec![
        ("X-GitHub-Event".to_string(), event.to_string()),
        ("X-GitHub-Delivery".to_string(), id.to_string()),
        ("X-GitHub-Hook-ID".to_string(), "1".to_string()),
        ("X-Hub-Signature-256".to_string(), sig),
    ];
    w.kova.ingest_request(&headers, body).await.unwrap()
}

#[tokio::test]
async fn every_handled_fixture_runs_to_done() {
    let w = world();
    let mut handled = 0;
    let names = fixture_names();
    for (i, name) in names.iter().enumerate() {
        let out = deliver(&w, event_of(name), &format!("fx-{i}"), &load(name)).await;
        // A redelivery of the same delivery id stores nothing and queues nothing.
        let again = deliver(&w, event_of(name), &format!("fx-{i}"), &load(name)).await;
        assert!(again.duplicate, "{name}");
        if out.job.is_some() {
            handled += 1;
        }
    }
    assert!(handled >= 10, "only {handled} fixtures had a handler");
    let r = w.kova.process_pending("w", 1000).await.unwrap();
    let summary = w.store.jobs_summary().await.unwrap();
    assert_eq!(summary.dead, 0, "{r:?}: a real payload made a handler fail");
    assert_eq!(summary.queued + summary.running, 0);
    let reviews = w
        .store
        .list_artifacts(
            &ArtifactFilter::default().with_kind(ArtifactKind::Analysis),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert!(reviews.items.iter().any(|a| a.name == "review of #2"));
    let added = w
        .store
        .get_repository(&"Codertocat/Space".parse().unwrap())
        .await
        .unwrap();
    assert!(
        added.is_some_and(|r| r.enabled),
        "installation_repositories.added adds its repository"
    );
}

#[tokio::test]
async fn real_payloads_edited_into_the_interesting_cases() {
    let w = world();
    let mut push = load("push.default");
    push["ref"] = "refs/heads/master".into();
    push["deleted"] = false.into();
    push["commits"] = serde_json::json!([{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Update README.md",
        "author": {"name": "Codertocat"}, "added": [], "removed": [], "modified": ["README.md"]}]);
    let push_out = deliver(&w, "push", "edit-1", &push).await;

    let mut run = load("workflow_run.completed");
    run["workflow_run"]["conclusion"] = "failure".into();
    deliver(&w, "workflow_run", "edit-2", &run).await;

    let mut comment = load("issue_comment.created");
    comment["comment"]["body"] = "/kova ask what changed?".into();
    let ask = deliver(&w, "issue_comment", "edit-3", &comment).await;

    let r = w.kova.process_pending("w", 100).await.unwrap();
    assert_eq!((r.completed, r.dead), (3, 0), "{r:?}");
    let arts = |id: EventId| {
        let store = w.store.clone();
        async move {
            store
                .list_artifacts(
                    &ArtifactFilter::default().with_event(id),
                    &ListOptions::default(),
                )
                .await
                .unwrap()
                .items
        }
    };
    let summary = &arts(push_out.event_id).await[0];
    assert!(summary.content.contains("Update README.md"));
    let errors = w
        .store
        .list_repo_errors(None, &ListOptions::default())
        .await
        .unwrap()
        .items;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].title.contains("failure"));
    assert_eq!(arts(ask.event_id).await.len(), 1);
    assert_eq!(w.llm.calls(), 3);
}

/// The keys `job_for` reads at ingest come from small key-only views of the payload; they must
/// be the keys the full payload spells, for every vendored fixture a keyed handler takes.
#[tokio::test]
async fn job_keys_read_at_ingest_match_the_full_payload() {
    let w = world();
    let names = fixture_names();
    let mut keyed = std::collections::BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        let event = event_of(name);
        let v = load(name);
        let out = deliver(&w, event, &format!("keys-{i}"), &v).await;
        let Some(job) = out.job else { continue };
        let job = w.store.get_job(job.job_id()).await.unwrap().unwrap();
        // Only the keyed events name a repository for certain.
        let repo = || v["repository"]["full_name"].as_str().unwrap();
        let (dedupe, coalesce) = match event {
            "pull_request" => {
                let pr = &v["pull_request"];
                let base = format!("{}:{}#{}", job.kind, repo(), pr["number"]);
                let sha = pr["head"]["sha"].as_str().unwrap();
                (format!("{base}@{sha}"), Some(base))
            }
            "issue_comment" => (
                format!("{}:{}:{}", job.kind, repo(), v["comment"]["id"]),
                None,
            ),
            "workflow_run" => {
                let run = &v["workflow_run"];
                let key = format!(
                    "{}:{}:{}:{}",
                    job.kind,
                    repo(),
                    run["id"],
                    run["run_attempt"]
                );
                (key, None)
            }
            _ => continue,
        };
        assert_eq!(job.dedupe_key.as_deref(), Some(dedupe.as_str()), "{name}");
        assert_eq!(job.coalesce_key, coalesce, "{name}");
        keyed.insert(event);
    }
    assert_eq!(
        keyed.into_iter().collect::<Vec<_>>(),
        ["issue_comment", "pull_request", "workflow_run"],
        "a keyed handler took none of its fixtures"
    );
}
