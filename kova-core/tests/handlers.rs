//! The shipped handlers end to end on the memory store: ingest → worker → stored artifacts,
//! with a fake source host and a scripted LLM.

use bytes::Bytes;
use kova_core::handlers::{HandlerSettings, Respond};
use kova_core::testing::{FakeSource, ManualClock, ScriptedLlm};
use kova_core::*;
use kova_store::MemoryStore;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn repo() -> RepoRef {
    "octo-org/app".parse().unwrap()
}

fn repo_json() -> Value {
    json!({"id": 1, "name": "app", "full_name": "octo-org/app", "default_branch": "main",
           "owner": {"login": "octo-org", "type": "Organization"}, "private": false})
}

struct World {
    kova: Kova,
    store: Arc<dyn Store>,
    llm: Arc<ScriptedLlm>,
    source: Arc<FakeSource>,
    seq: AtomicUsize,
}

impl World {
    fn new(settings: HandlerSettings, llm: ScriptedLlm) -> Self {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let llm = Arc::new(llm);
        let source = Arc::new(FakeSource::new());
        source.add_repo(FakeSource::remote(&repo()));
        let kova = Kova::builder(store.clone())
            .llm(llm.clone())
            .source(source.clone())
            .clock(Arc::new(ManualClock::new(
                kova_core::testing::conformance::t0(),
            )))
            .default_handlers(settings)
            .build()
            .unwrap();
        World {
            kova,
            store,
            llm,
            source,
            seq: AtomicUsize::new(0),
        }
    }

    async fn deliver(&self, event: &str, body: Value) -> IngestOutcome {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        self.deliver_as(&format!("delivery-{n}"), event, body).await
    }

    async fn deliver_as(&self, id: &str, event: &str, body: Value) -> IngestOutcome {
        let mut d = WebhookDelivery::new(
            id,
            event,
            Bytes::from(body.to_string()),
            self.kova.clock().now(),
        );
        d.action = body["action"].as_str().map(str::to_string);
        d.repo = Some(repo());
        self.kova.ingest(d).await.unwrap()
    }

    async fn run(&self) -> ProcessReport {
        self.kova.process_pending("worker", 100).await.unwrap()
    }

    async fn artifacts(&self, event_id: EventId) -> Vec<Artifact> {
        self.store
            .list_artifacts(
                &ArtifactFilter::default().with_event(event_id),
                &ListOptions::default(),
            )
            .await
            .unwrap()
            .items
    }
}

fn pr_body(action: &str, number: u64, head: &str, before: Option<&str>) -> Value {
    let mut v = json!({
        "action": action, "number": number,
        "pull_request": {"number": number, "title": "Add caching", "body": "Caches the index.",
            "state": "open", "draft": false,
            "head": {"sha": head, "ref": "feature"}, "base": {"sha": "base0", "ref": "main"},
            "user": {"login": "dev", "type": "User"}},
        "repository": repo_json(), "sender": {"login": "dev", "type": "User"}
    });
    if let Some(b) = before {
        v["before"] = json!(b);
        v["after"] = json!(head);
    }
    v
}

fn changed(name: &str, patch: Option<&str>) -> ChangedFile {
    ChangedFile {
        filename: name.into(),
        status: "modified".into(),
        additions: 3,
        deletions: 1,
        patch: patch.map(str::to_string),
        previous_filename: None,
    }
}

fn pull(number: u64, head: &str) -> PullRequest {
    PullRequest {
        number,
        title: "Add caching".into(),
        body: None,
        state: "open".into(),
        draft: false,
        head_sha: head.into(),
        head_ref: "feature".into(),
        base_sha: "base0".into(),
        base_ref: "main".into(),
        author: Some("dev".into()),
    }
}

fn commit(sha: &str) -> CommitSummary {
    CommitSummary {
        sha: sha.into(),
        message: format!("commit {sha}"),
        author: Some("dev".into()),
        date: None,
    }
}

#[tokio::test]
async fn a_large_pull_request_is_reviewed_within_budget_and_lists_what_was_left_out() {
    let w = World::new(
        HandlerSettings::default().with_review_budget(2_000),
        ScriptedLlm::new().with_responder(|_| Ok("1. `src/cache.rs:3` unwrap on a lock.".into())),
    );
    let big = "+line\n".repeat(3_000);
    w.source.add_pull(
        &repo(),
        pull(12, "h1"),
        vec![
            changed("Cargo.lock", Some("+dep\n")),
            changed("src/cache.rs", Some("+let x = lock.unwrap();\n")),
            changed("src/huge.rs", Some(&big)),
            changed("assets/logo.png", None),
        ],
    );
    let out = w
        .deliver("pull_request", pr_body("opened", 12, "h1", None))
        .await;
    assert_eq!(out.handler.as_deref(), Some("pr_review"));
    let r = w.run().await;
    assert_eq!(r.completed, 1, "{r:?}");
    let arts = w.artifacts(out.event_id).await;
    assert_eq!(arts.len(), 1);
    let a = &arts[0];
    assert_eq!(a.kind, ArtifactKind::Analysis);
    let reviewed = a.metadata.extra["reviewed_files"].as_array().unwrap();
    assert_eq!(reviewed, &vec![json!("src/cache.rs"), json!("Cargo.lock")]);
    let skipped: Vec<&str> = a.metadata.extra["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["src/huge.rs", "assets/logo.png"]);
    assert!(
        a.content.contains("### Not reviewed"),
        "the review text lists skipped files too"
    );
    assert!(a.content.contains("`src/huge.rs`: over the token budget"));
    let prompt = &w.llm.requests()[0].messages[0].content;
    assert!(prompt.contains("src/cache.rs") && !prompt.contains("+line\n+line"));
    assert!(
        prompt.contains("NOT shown"),
        "the model is told what it cannot see"
    );
    let interactions = w
        .store
        .list_interactions(
            &InteractionFilter::default().with_purpose("pr_review"),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(interactions.items.len(), 1);
    assert_eq!(interactions.items[0].event_id, Some(out.event_id));
}

#[tokio::test]
async fn synchronize_reviews_only_new_commits_and_a_force_push_gets_a_full_review() {
    let w = World::new(
        HandlerSettings::default(),
        ScriptedLlm::new().with_responder(|_| Ok("ok".into())),
    );
    for sha in ["base0", "h1", "h2"] {
        w.source.push_commit(&repo(), commit(sha));
    }
    w.source.add_pull(
        &repo(),
        pull(3, "h1"),
        vec![changed("src/a.rs", Some("+a\n"))],
    );
    w.deliver("pull_request", pr_body("opened", 3, "h1", None))
        .await;
    w.run().await;

    let out = w
        .deliver("pull_request", pr_body("synchronize", 3, "h2", Some("h1")))
        .await;
    w.run().await;
    let a = &w.artifacts(out.event_id).await[0];
    assert_eq!(
        a.metadata.extra["scope"],
        json!({"type": "incremental", "since": "h1"})
    );
    assert!(w
        .source
        .calls()
        .iter()
        .any(|c| c == "compare octo-org/app:h1...h2"));

    // The branch is rewritten: h3 does not descend from h2.
    let out = w
        .deliver("pull_request", pr_body("synchronize", 3, "h3", Some("h2")))
        .await;
    w.run().await;
    let a = &w.artifacts(out.event_id).await[0];
    assert_eq!(a.metadata.extra["scope"]["type"], "full_after_force_push");
    assert_eq!(a.metadata.extra["reviewed_files"], json!(["src/a.rs"]));
}

#[tokio::test]
async fn with_respond_on_three_deliveries_leave_exactly_one_comment() {
    let w = World::new(
        HandlerSettings::default().with_respond(Respond::All),
        ScriptedLlm::new()
            .with_responder(|r| Ok(format!("review #{}", r.messages[0].content.len()))),
    );
    for sha in ["base0", "h1", "h2"] {
        w.source.push_commit(&repo(), commit(sha));
    }
    w.source.add_pull(
        &repo(),
        pull(5, "h1"),
        vec![changed("src/a.rs", Some("+a\n"))],
    );
    let first = w
        .deliver_as(
            "same-delivery",
            "pull_request",
            pr_body("opened", 5, "h1", None),
        )
        .await;
    let dup = w
        .deliver_as(
            "same-delivery",
            "pull_request",
            pr_body("opened", 5, "h1", None),
        )
        .await;
    assert!(dup.duplicate);
    w.run().await;
    w.deliver("pull_request", pr_body("synchronize", 5, "h2", Some("h1")))
        .await;
    w.run().await;
    let comments = w.source.comments(&repo(), 5);
    assert_eq!(
        comments.len(),
        1,
        "one comment, updated in place: {comments:?}"
    );
    assert!(comments[0].body.contains("<!-- kova:pr_review -->"));
    assert!(w
        .source
        .calls()
        .iter()
        .any(|c| c.starts_with("update_issue_comment")));
    let a = &w.artifacts(first.event_id).await[0];
    assert_eq!(a.metadata.extra["comment_id"], json!(comments[0].id));
}

#[tokio::test]
async fn pushes_to_the_default_branch_are_summarised_and_request_a_resync() {
    let pushed: Arc<Mutex<Vec<RepoRef>>> = Arc::default();
    let p2 = pushed.clone();
    let w = World::new(
        HandlerSettings::default().with_push_hook(Arc::new(move |r: &RepoRef| {
            p2.lock().unwrap().push(r.clone())
        })),
        ScriptedLlm::new().with_responder(|_| Ok("- Adds caching".into())),
    );
    let body = json!({"ref": "refs/heads/main", "before": "aaaaaaaa", "after": "bbbbbbbb",
        "created": false, "deleted": false, "forced": false, "pusher": {"name": "dev"},
        "commits": [
            {"id": "c1c1c1c1", "message": "Add cache\n\nlong text", "author": {"name": "dev"},
             "added": ["src/cache.rs"], "removed": [], "modified": ["src/lib.rs"]},
            {"id": "c2c2c2c2", "message": "Fix test", "author": {"name": "dev"},
             "added": [], "removed": ["old.txt"], "modified": ["src/lib.rs"]}],
        "repository": repo_json()});
    let out = w.deliver("push", body.clone()).await;
    let mut feature = body;
    feature["ref"] = json!("refs/heads/feature");
    let other = w.deliver("push", feature).await;
    w.run().await;
    let a = &w.artifacts(out.event_id).await[0];
    assert!(a.content.starts_with("- Adds caching"));
    assert!(a.content.contains("c1c1c1c Add cache (dev)"));
    assert!(a.content.contains("1 added, 1 modified, 1 removed"));
    assert_eq!(a.metadata.extra["resync_requested"], true);
    assert_eq!(*pushed.lock().unwrap(), vec![repo()]);
    assert!(
        w.artifacts(other.event_id).await.is_empty(),
        "other branches are not summarised"
    );
    assert_eq!(w.llm.calls(), 1);
}

#[tokio::test]
async fn issues_are_triaged_with_likely_duplicates_from_stored_issues() {
    let w = World::new(
        HandlerSettings::default(),
        ScriptedLlm::new().with_responder(|r| {
            let p = &r.messages[0].content;
            let dup = if p.contains("#1 ") { "[1]" } else { "[]" };
            Ok(format!("```json\n{{\"summary\": \"Crash on start\", \"labels\": [\"bug\"], \"duplicates\": {dup}}}\n```"))
        }),
    );
    let issue = |n: u64, title: &str, body: &str| {
        json!({"action": "opened", "issue": {"number": n, "title": title, "body": body, "labels": [],
               "user": {"login": "u", "type": "User"}}, "repository": repo_json()})
    };
    w.deliver(
        "issues",
        issue(
            1,
            "App crashes on startup with config error",
            "panic in config loader",
        ),
    )
    .await;
    w.deliver(
        "issues",
        issue(2, "Dark mode request", "please add a dark theme"),
    )
    .await;
    w.run().await;
    let out = w
        .deliver(
            "issues",
            issue(
                3,
                "Crash on startup: config loader panic",
                "the app crashes at startup",
            ),
        )
        .await;
    w.run().await;
    let a = &w.artifacts(out.event_id).await[0];
    assert_eq!(a.validation, Validation::Valid);
    assert_eq!(a.metadata.extra["labels"], json!(["bug"]));
    assert_eq!(a.metadata.extra["duplicates"], json!([1]));
    assert_eq!(a.metadata.extra["candidates"][0]["number"], 1);
    assert!(a.content.contains("Likely duplicates: #1"));
}

#[tokio::test]
async fn comment_commands_answer_and_never_answer_bots() {
    let w = World::new(
        HandlerSettings::default().with_respond(Respond::All),
        ScriptedLlm::new(),
    );
    w.llm.push_text("It caches the index.");
    w.source.add_pull(
        &repo(),
        pull(9, "h1"),
        vec![changed("src/a.rs", Some("+a\n"))],
    );
    let comment = |id: u64, body: &str, user_type: &str| {
        json!({"action": "created", "issue": {"number": 9, "title": "Add caching", "body": "",
               "pull_request": {"url": "x"}, "user": {"login": "dev", "type": "User"}},
               "comment": {"id": id, "body": body, "user": {"login": "someone", "type": user_type}},
               "repository": repo_json(), "sender": {"login": "someone", "type": user_type}})
    };
    let ask = w
        .deliver(
            "issue_comment",
            comment(100, "/kova ask what does this do?", "User"),
        )
        .await;
    let help = w
        .deliver("issue_comment", comment(101, "/kova dance", "User"))
        .await;
    let bot = w
        .deliver("issue_comment", comment(102, "/kova review", "Bot"))
        .await;
    let r = w.run().await;
    assert_eq!(r.completed, 3);
    let a = &w.artifacts(ask.event_id).await[0];
    assert!(a.content.starts_with("It caches the index."));
    let h = &w.artifacts(help.event_id).await[0];
    assert!(h.content.contains("/kova review"));
    assert!(w.artifacts(bot.event_id).await.is_empty());
    assert_eq!(w.llm.calls(), 1, "help needs no LLM call, bots get nothing");
    let bodies: Vec<String> = w
        .source
        .comments(&repo(), 9)
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    // Redelivering the same comment (new delivery id) does not run the command again.
    let again = w
        .deliver(
            "issue_comment",
            comment(100, "/kova ask what does this do?", "User"),
        )
        .await;
    assert!(matches!(again.job, Some(EnqueueOutcome::Deduplicated(_))));
}

#[tokio::test]
async fn failed_workflow_runs_become_repository_errors_with_a_fix() {
    let w = World::new(HandlerSettings::default(), ScriptedLlm::new());
    w.llm
        .push_text("The test `cache::evicts` is flaky: seed the RNG.");
    let run = |conclusion: &str, id: u64| {
        json!({"action": "completed", "workflow_run": {"id": id, "name": "CI", "head_branch": "main",
               "head_sha": "abc123", "conclusion": conclusion, "html_url": "https://example.invalid/run",
               "run_attempt": 1, "event": "push", "display_title": "Add cache",
               "head_commit": {"message": "Add cache"}}, "repository": repo_json()})
    };
    w.deliver("workflow_run", run("failure", 1)).await;
    let ok = w.deliver("workflow_run", run("success", 2)).await;
    w.run().await;
    let errors = w
        .store
        .list_repo_errors(Some(&repo()), &ListOptions::default())
        .await
        .unwrap()
        .items;
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(e.title, "CI failure on main");
    assert_eq!(e.head_sha.as_deref(), Some("abc123"));
    assert!(e.analysis.as_deref().unwrap().contains("flaky"));
    assert!(w.artifacts(ok.event_id).await.is_empty());
}

#[tokio::test]
async fn installations_add_and_disable_repositories_and_pings_are_recorded() {
    let w = World::new(HandlerSettings::default(), ScriptedLlm::new());
    w.deliver(
        "installation_repositories",
        json!({"action": "added",
        "repositories_added": [{"full_name": "octo-org/new-one"}, {"full_name": "octo-org/app"}],
        "repositories_removed": []}),
    )
    .await;
    w.run().await;
    let new_one = w
        .store
        .get_repository(&"octo-org/new-one".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(new_one.enabled);
    assert_eq!(new_one.status, RepoStatus::Planned);
    w.deliver(
        "installation_repositories",
        json!({"action": "removed",
        "repositories_added": [], "repositories_removed": [{"full_name": "octo-org/new-one"}]}),
    )
    .await;
    w.run().await;
    let new_one = w
        .store
        .get_repository(&"octo-org/new-one".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!new_one.enabled, "removed repositories are kept, disabled");

    let ping = w
        .deliver(
            "ping",
            json!({"zen": "Design for failure.", "hook_id": 42,
        "hook": {"id": 42, "events": ["push", "pull_request"], "active": true}}),
        )
        .await;
    w.run().await;
    let a = &w.artifacts(ping.event_id).await[0];
    let v: Value = serde_json::from_str(&a.content).unwrap();
    assert_eq!(
        (v["hook_id"].clone(), v["events"].clone()),
        (json!(42), json!(["push", "pull_request"]))
    );
    assert_eq!(w.llm.calls(), 0);
}

#[tokio::test]
async fn a_handler_registered_first_replaces_the_shipped_one() {
    #[derive(Debug)]
    struct MyPing;
    #[async_trait::async_trait]
    impl EventHandler for MyPing {
        fn name(&self) -> &str {
            "my_ping"
        }
        fn accepts(&self, e: &str, _: Option<&str>) -> bool {
            e == "ping"
        }
        async fn handle(&self, _: &HandlerContext, _: &WebhookEvent) -> Result<HandlerOutcome> {
            Ok(HandlerOutcome::empty().with_artifact(NewArtifact::new(
                "mine",
                ArtifactKind::Data,
                "{}",
            )))
        }
    }
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let kova = Kova::builder(store.clone())
        .handler(Arc::new(MyPing))
        .default_handlers(HandlerSettings::default())
        .build()
        .unwrap();
    let d = WebhookDelivery::new("p", "ping", Bytes::from_static(b"{}"), chrono::Utc::now());
    assert_eq!(
        kova.ingest(d).await.unwrap().handler.as_deref(),
        Some("my_ping")
    );
}
