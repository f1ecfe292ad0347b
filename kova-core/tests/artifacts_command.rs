//! The AI command: analyze, sync (through a fake syncer), process, ask (with cited files) and
//! free-form; every call recorded as an interaction with usage.

#![cfg(feature = "testing")]

mod artifacts_support;

use artifacts_support::{env, repo, seed_repo, start};
use async_trait::async_trait;
use kova_core::artifacts::{CommandAction, CommandRequest, RepoSyncer, FILES_BUDGET, FILE_BUDGET};
use kova_core::config::{RepoEntry, ReposConfig};
use kova_core::{
    CommitSummary, Error, RepoKind, RepoRef, RepoStatus, Repository, Result, Store, SyncLog,
    SyncLogId, SyncOutcome,
};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct FakeSyncer {
    synced: Mutex<Vec<RepoRef>>,
    fail: bool,
}

#[async_trait]
impl RepoSyncer for FakeSyncer {
    async fn sync_one(&self, repo: &RepoRef) -> Result<Value> {
        self.synced.lock().unwrap().push(repo.clone());
        if self.fail {
            return Err(Error::RateLimited {
                service: "github".into(),
                retry_after: None,
            });
        }
        Ok(json!({"repository": repo.full_name(), "outcome": "updated", "files": 6}))
    }
}

fn user_prompt(e: &artifacts_support::Env, i: usize) -> String {
    e.llm.requests()[i].messages[0].content.clone()
}

#[tokio::test]
async fn analyze_gathers_structure_commits_and_the_file() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    e.source.push_commit(
        &r,
        CommitSummary {
            sha: "a1b2c3d4e5f6a7b8".into(),
            message: "Add signature verification\n\nLong body".into(),
            author: Some("ada".into()),
            date: Some(start()),
        },
    );
    e.source
        .set_languages(&r, [("Rust".to_string(), 1234u64)].into_iter().collect());
    e.store
        .upsert_repository(&Repository::new(r.clone(), RepoKind::Service, start()))
        .await
        .unwrap();
    e.llm.push_text("The relay is a small Rust service.");
    let req = CommandRequest::new("Summarise the architecture")
        .with_action("analyze")
        .with_repository(r.clone())
        .with_file_path("src/main.rs");
    let resp = e.service.command(req).await.unwrap();
    assert_eq!(resp.action, CommandAction::Analyze);
    assert_eq!(resp.answer, "The relay is a small Rust service.");
    assert_eq!(
        resp.data["recent_commits"][0]["message"],
        "Add signature verification"
    );
    assert_eq!(resp.data["languages"]["Rust"], 1234);
    assert_eq!(resp.data["tracked"]["kind"], "service");
    assert_eq!(resp.files_used.len(), 1);
    assert_eq!(resp.files_used[0].path, "src/main.rs");
    let prompt = user_prompt(&e, 0);
    assert!(prompt.contains("Add signature verification"));
    assert!(prompt.contains("fn main() { relay::run(); }"));
    assert!(prompt.contains("Summarise the architecture"));
    let sent = &e.llm.requests()[0];
    assert!(sent
        .system
        .iter()
        .any(|b| b.cache && b.text.contains("src/webhook.rs")));
    let recorded = e.interactions().await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].purpose, "command:analyze");
    assert_eq!(recorded[0].repo.as_ref(), Some(&r));
    assert_eq!(recorded[0].usage, resp.usage);
    assert!(resp.usage.input_tokens > 0);
    assert_eq!(recorded[0].id, resp.interaction_id);
}

#[tokio::test]
async fn sync_runs_the_syncer_then_answers() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    let syncer = Arc::new(FakeSyncer::default());
    let service = e.service.with_syncer(syncer.clone());
    e.llm.push_text("Synced: 6 files.");
    let resp = service
        .command(
            CommandRequest::new("sync it and tell me")
                .with_action("sync")
                .with_repository(r.clone()),
        )
        .await
        .unwrap();
    assert_eq!(resp.action, CommandAction::Sync);
    assert_eq!(*syncer.synced.lock().unwrap(), vec![r.clone()]);
    assert_eq!(resp.data["outcome"], "updated");
    assert!(e.llm.requests()[0].messages[0]
        .content
        .contains("\"files\": 6"));
    assert_eq!(resp.answer, "Synced: 6 files.");

    // A failing sync is reported as its error; no LLM call is made for it.
    let failing = Arc::new(FakeSyncer {
        fail: true,
        ..Default::default()
    });
    let e2 = env();
    seed_repo(&e2.source, "octo/relay");
    let service = e2.service.with_syncer(failing);
    let err = service
        .command(
            CommandRequest::new("sync")
                .with_action("sync")
                .with_repository(r),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    assert_eq!(e2.llm.calls(), 0);
}

#[tokio::test]
async fn sync_without_a_syncer_is_not_configured() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    let err = e
        .service
        .command(
            CommandRequest::new("sync")
                .with_action("sync")
                .with_repository(r),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotConfigured { what: "sync", .. }),
        "{err:?}"
    );
    assert_eq!(e.llm.calls(), 0);
}

#[tokio::test]
async fn process_reports_every_configured_and_stored_repository() {
    let e = env();
    let mut config = ReposConfig::new("octo");
    config.upsert_entry(RepoEntry::new(repo("octo/relay"), RepoKind::Service));
    config.upsert_entry(RepoEntry::new(repo("octo/planned"), RepoKind::Experimental));
    let mut stored = Repository::new(repo("octo/relay"), RepoKind::Service, start());
    stored.status = RepoStatus::Active;
    stored.last_synced_at = Some(start());
    e.store.upsert_repository(&stored).await.unwrap();
    e.store
        .upsert_repository(&Repository::new(
            repo("octo/legacy"),
            RepoKind::Core,
            start(),
        ))
        .await
        .unwrap();
    e.store
        .record_sync_log(&SyncLog {
            id: SyncLogId(0),
            repo: repo("octo/relay"),
            outcome: SyncOutcome::Updated,
            started_at: start(),
            duration_ms: 420,
            requests: 3,
            not_modified: 1,
            files: 6,
            manifests: 1,
            attempts: 1,
            error: None,
        })
        .await
        .unwrap();
    e.service.set_repos_config(config);
    e.llm
        .push_text("Two repositories are tracked; one is planned.");
    let resp = e
        .service
        .command(CommandRequest::new("How are my repositories doing?").with_action("process"))
        .await
        .unwrap();
    assert_eq!(resp.action, CommandAction::Process);
    let d = &resp.data;
    assert_eq!(d["github_owner"], "octo");
    assert_eq!(d["totals"]["repositories"], 3);
    assert_eq!(d["totals"]["configured"], 2);
    assert_eq!(d["totals"]["tracked"], 2);
    let rows = d["repositories"].as_array().unwrap();
    let relay = rows
        .iter()
        .find(|r| r["repository"] == "octo/relay")
        .unwrap();
    assert_eq!(relay["status"], "active");
    assert_eq!(relay["last_sync"]["outcome"], "updated");
    let planned = rows
        .iter()
        .find(|r| r["repository"] == "octo/planned")
        .unwrap();
    assert_eq!(planned["tracked"], false);
    let legacy = rows
        .iter()
        .find(|r| r["repository"] == "octo/legacy")
        .unwrap();
    assert_eq!(legacy["configured"], false);
    assert!(d["jobs"].is_object());
    let prompt = user_prompt(&e, 0);
    assert!(prompt.contains("octo/planned") && prompt.contains("How are my repositories doing?"));
    assert_eq!(e.interactions().await[0].purpose, "command:process");
    // Process needs no source host and no repository.
    assert!(e.source.calls().is_empty());
}

#[tokio::test]
async fn ask_answers_from_the_most_relevant_files_and_cites_them() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    e.llm
        .push_text("See `src/webhook.rs`: HMAC-SHA256, constant time.");
    let resp = e
        .service
        .command(
            CommandRequest::new("How is the webhook signature verified?")
                .with_action("ask")
                .with_repository(r.clone()),
        )
        .await
        .unwrap();
    assert_eq!(resp.action, CommandAction::Ask);
    let cited: Vec<&str> = resp.files_used.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(cited.first(), Some(&"src/webhook.rs"), "{cited:?}");
    // Files that match no keyword are not given to the model; binaries never.
    assert!(!cited.contains(&"docs/logo.png"));
    assert!(!cited.contains(&"src/queue.rs"));
    assert!(resp.files_used[0].score > 0);
    assert!(!resp.files_used[0].truncated);
    let prompt = user_prompt(&e, 0);
    assert!(prompt.contains("### src/webhook.rs"));
    assert!(prompt.contains("constant time"));
    assert!(!prompt.contains("retries with backoff"));
    let recorded = e.interactions().await;
    assert_eq!(recorded[0].purpose, "command:ask");
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(json["files_used"][0]["path"], "src/webhook.rs");
    assert_eq!(json["action"], "ask");
}

#[tokio::test]
async fn ask_respects_the_byte_budget_and_pins_the_named_file() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    // A big file about the topic: included, but only its beginning.
    e.source.put_file(
        &r,
        "src/retry.rs",
        format!(
            "// retry policy\n{}",
            "retry backoff jitter\n".repeat(2_000)
        ),
    );
    e.llm.push_text("ok");
    let resp = e
        .service
        .command(
            CommandRequest::new("Explain the retry backoff")
                .with_action("ask")
                .with_repository(r)
                .with_file_path("src/main.rs"),
        )
        .await
        .unwrap();
    assert_eq!(
        resp.files_used[0].path, "src/main.rs",
        "the named file comes first"
    );
    let retry = resp
        .files_used
        .iter()
        .find(|f| f.path == "src/retry.rs")
        .unwrap();
    assert!(retry.truncated);
    assert_eq!(retry.included_bytes, FILE_BUDGET as u64);
    let total: u64 = resp.files_used.iter().map(|f| f.included_bytes).sum();
    assert!(total <= FILES_BUDGET as u64);

    // A named file that is not in the repository is an error, before any LLM call.
    let calls = e.llm.calls();
    let err = e
        .service
        .command(
            CommandRequest::new("Explain")
                .with_action("ask")
                .with_repository(repo("octo/relay"))
                .with_file_path("src/missing.rs"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(e.llm.calls(), calls);
}

#[tokio::test]
async fn anything_else_is_a_free_form_answer() {
    let e = env();
    e.llm.push_text("Kova automates GitHub with an LLM.");
    let resp = e
        .service
        .command(
            CommandRequest::new("What can you do?")
                .with_action("dance")
                .with_context("I am new"),
        )
        .await
        .unwrap();
    assert_eq!(resp.action, CommandAction::General);
    assert_eq!(resp.answer, "Kova automates GitHub with an LLM.");
    assert!(resp.files_used.is_empty());
    assert!(!resp.truncated);
    let prompt = user_prompt(&e, 0);
    assert!(prompt.contains("I am new") && prompt.contains("What can you do?"));
    assert_eq!(e.interactions().await[0].purpose, "command:general");

    // A truncated answer says so.
    e.llm.push_truncated("Kova does many things, for example");
    let resp = e
        .service
        .command(CommandRequest::new("List everything"))
        .await
        .unwrap();
    assert!(resp.truncated);

    // With a repository, the repository context is given.
    let r = seed_repo(&e.source, "octo/relay");
    e.llm.push_text("It relays webhooks.");
    e.service
        .command(CommandRequest::new("What is this?").with_repository(r))
        .await
        .unwrap();
    let sent = e.llm.requests().pop().unwrap();
    assert!(sent
        .system
        .iter()
        .any(|b| b.text.contains("Receives GitHub webhooks")));
}

#[tokio::test]
async fn bad_commands_fail_before_any_call() {
    let e = env();
    let cases = [
        (CommandRequest::new("  "), "command"),
        (CommandRequest::new("x").with_action("ask"), "repository"),
        (
            CommandRequest::new("x").with_action("analyze"),
            "repository",
        ),
        (
            CommandRequest::new("x").with_file_path("a.rs"),
            "repository",
        ),
        (
            CommandRequest::new("x")
                .with_repository(repo("o/r"))
                .with_file_path("../x"),
            "file_path",
        ),
    ];
    for (req, field) in cases {
        match e.service.command(req).await {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(e.llm.calls(), 0);
    let none = kova_core::artifacts::ArtifactService::new(
        e.store.clone() as Arc<dyn Store>,
        None,
        None,
        e.clock.clone(),
    );
    let err = none.command(CommandRequest::new("hi")).await.unwrap_err();
    assert!(matches!(err, Error::NotConfigured { what: "llm", .. }));
}

#[tokio::test]
async fn llm_errors_are_recorded_as_failed_interactions() {
    let e = env();
    e.llm.push_error(Error::Timeout {
        service: "scripted".into(),
    });
    let err = e
        .service
        .command(CommandRequest::new("hi"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }));
    let recorded = e.interactions().await;
    assert_eq!(recorded.len(), 1);
    assert!(!recorded[0].success);
    assert_eq!(recorded[0].purpose, "command:general");
}
