//! Multi-repository sync against `FakeSource` and `MemoryStore`.

mod sync_support;

use kova_core::sync::*;
use kova_core::testing::{FakeSource, ScriptedLlm};
use kova_core::*;
use std::sync::Arc;
use std::time::Duration;
use sync_support::*;

fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs(*s)).collect()
}

fn flaky_twice(o: &Org) {
    o.host.fail("get_repo", Some(&r("octo/flaky")), 2, || {
        Error::upstream("github", 503, "unavailable")
    });
}

#[tokio::test]
async fn first_sync_of_six_repositories() {
    let o = org();
    flaky_twice(&o);
    let svc = o.service();
    let report = svc.sync(SyncRequest::all()).await.unwrap();

    let order: Vec<String> = report.results.iter().map(|x| x.repo.to_string()).collect();
    assert_eq!(
        order,
        vec![
            "octo/orchestrator",
            "octo/kova-ai-docengine",
            "octo/flaky",
            "octo/huge",
            "octo/ghost",
            "octo/goapp"
        ],
        "first priority first, then by name"
    );
    assert_eq!(report.totals.repos, 6);
    assert_eq!(report.totals.updated, 5);
    assert_eq!(report.totals.missing, 1);
    assert_eq!(report.totals.failed, 0);

    // Missing on the host: recorded as planned, outcome missing.
    let ghost = report.result(&r("octo/ghost")).unwrap();
    assert_eq!(ghost.outcome, SyncOutcome::Missing);
    assert_eq!(ghost.status, RepoStatus::Planned);
    let stored = o
        .store
        .get_repository(&r("octo/ghost"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, RepoStatus::Planned);
    assert_eq!(stored.last_synced_at, None);

    // Erroring twice then succeeding: waited 2 s then 4 s, three attempts.
    let flaky = report.result(&r("octo/flaky")).unwrap();
    assert_eq!(flaky.outcome, SyncOutcome::Updated);
    assert_eq!(flaky.attempts, 3);
    assert_eq!(o.sleeper.waits(), secs(&[2, 4]));

    // A truncated tree is flagged in the result, the summary and the progress.
    let huge = report.result(&r("octo/huge")).unwrap();
    assert!(huge.tree_truncated);
    assert!(huge.summary.as_ref().unwrap().tree.truncated);
    assert!(!report.result(&r("octo/goapp")).unwrap().tree_truncated);

    // The stored repository carries what the sync learnt.
    let orch = o
        .store
        .get_repository(&r("octo/orchestrator"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(orch.status, RepoStatus::Active);
    assert_eq!(orch.head_sha.as_deref(), Some("orchestrator-1"));
    assert_eq!(orch.default_branch.as_deref(), Some("main"));
    assert_eq!(orch.language.as_deref(), Some("Rust"));
    assert_eq!(orch.topics, vec!["kubernetes".to_string()]);
    assert_eq!(orch.sync_priority, 1);
    assert!(orch
        .last_synced_at
        .is_some_and(|t| t >= t0() && t <= o.clock.now()));

    // Manifests: Cargo, Dockerfile, Kubernetes (two objects), README; CI YAML ignored.
    let res = report.result(&r("octo/orchestrator")).unwrap();
    let sum = res.summary.as_ref().unwrap();
    assert_eq!(sum.readme_path.as_deref(), Some("README.md"));
    let kinds: Vec<(String, ManifestKind)> = sum
        .manifests
        .iter()
        .map(|m| (m.path.clone(), m.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("Cargo.toml".to_string(), ManifestKind::Cargo),
            ("Dockerfile".to_string(), ManifestKind::Dockerfile),
            ("k8s/deploy.yaml".to_string(), ManifestKind::Kubernetes),
        ]
    );
    let k8s = &sum.manifests[2].kubernetes;
    assert_eq!(k8s.len(), 2);
    assert_eq!(
        (k8s[0].kind.as_str(), k8s[0].namespace.as_deref()),
        ("Deployment", Some("prod"))
    );
    assert_eq!(sum.dependency_names(), vec!["proptest", "serde", "tokio"]);
    assert_eq!(sum.languages.get("Rust"), Some(&1000));
    assert_eq!(res.manifests, 3);
    assert_eq!(res.files, 6);
    // get_repo, list_commits, get_tree, README, 3 manifests, languages.
    assert_eq!(res.requests, 8);

    let doc = report
        .result(&r("octo/kova-ai-docengine"))
        .unwrap()
        .summary
        .clone()
        .unwrap();
    assert_eq!(doc.readme_path.as_deref(), Some("readme.rst"));
    assert_eq!(doc.dependency_names(), vec!["marked", "requests", "vitest"]);

    // One sync log per repository, the summary artifact linked to it, one snapshot each.
    let logs = o
        .store
        .list_sync_logs(None, &ListOptions::default())
        .await
        .unwrap()
        .items;
    assert_eq!(logs.len(), 6);
    let flaky_log = logs.iter().find(|l| l.repo == r("octo/flaky")).unwrap();
    assert_eq!(
        (flaky_log.attempts, flaky_log.outcome),
        (3, SyncOutcome::Updated)
    );
    let ghost_log = logs.iter().find(|l| l.repo == r("octo/ghost")).unwrap();
    assert_eq!(ghost_log.outcome, SyncOutcome::Missing);
    let art = o
        .store
        .get_artifact(res.summary_artifact_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(art.kind, ArtifactKind::Data);
    assert_eq!(art.name, SUMMARY_ARTIFACT);
    assert_eq!(art.source, ArtifactSource::Sync(res.sync_log_id.unwrap()));
    let back: RepoSummary = serde_json::from_str(&art.content).unwrap();
    assert_eq!(&back, sum);
    let snaps = o
        .store
        .list_snapshots(&r("octo/orchestrator"), &ListOptions::default())
        .await
        .unwrap()
        .items;
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].stars, 7);

    // The latest summary and the overall status, as the faces read them.
    assert_eq!(
        svc.summary(&r("octo/orchestrator")).await.unwrap().as_ref(),
        Some(sum)
    );
    assert_eq!(svc.summary(&r("octo/ghost")).await.unwrap(), None);
    let status = svc.status().await.unwrap();
    assert_eq!((status.total, status.active, status.planned), (6, 5, 1));
    assert_eq!(status.owner.as_deref(), Some("octo"));
    assert!(status.syncing.is_empty());

    // The report serialises for the HTTP and Python faces.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["results"][4]["outcome"], "missing");
}

#[tokio::test]
async fn unchanged_repositories_cost_only_metadata_and_head_checks() {
    let o = org();
    let svc = o.service();
    svc.sync(SyncRequest::all()).await.unwrap();
    let before = o.host.calls().len();

    let second = svc.sync(SyncRequest::all()).await.unwrap();
    let calls = o.calls_since(before);
    assert!(
        calls
            .iter()
            .all(|c| c.starts_with("get_repo ") || c.starts_with("list_commits ")),
        "{calls:#?}"
    );
    // Five found repositories: metadata + head each; the missing one: metadata only.
    assert_eq!(calls.len(), 5 * 2 + 1);
    assert_eq!(second.totals.unchanged, 5);
    assert_eq!(second.totals.missing, 1);
    assert!(second.results.iter().all(|x| x.summary.is_none()));

    // A push to one repository: only it fetches its content again.
    o.host.push_commit(&r("octo/goapp"), commit("goapp-2"));
    let before = o.host.calls().len();
    let third = svc.sync(SyncRequest::all()).await.unwrap();
    let fetches: Vec<String> = o
        .calls_since(before)
        .into_iter()
        .filter(|c| !c.starts_with("get_repo ") && !c.starts_with("list_commits "))
        .collect();
    assert_eq!(
        fetches,
        vec![
            "get_tree octo/goapp@goapp-2",
            "get_file octo/goapp:go.mod@goapp-2",
            "get_languages octo/goapp"
        ]
    );
    let goapp = third.result(&r("octo/goapp")).unwrap();
    assert_eq!(goapp.outcome, SyncOutcome::Updated);
    assert_eq!(goapp.head_sha.as_deref(), Some("goapp-2"));
    let stored = o
        .store
        .get_repository(&r("octo/goapp"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.head_sha.as_deref(), Some("goapp-2"));

    // `force` re-reads an unchanged repository.
    let before = o.host.calls().len();
    svc.sync(SyncRequest::repos(vec![r("octo/huge")]).with_force(true))
        .await
        .unwrap();
    assert!(o
        .calls_since(before)
        .iter()
        .any(|c| c.starts_with("get_tree octo/huge")));
}

#[tokio::test]
async fn failures_stay_with_their_repository() {
    let o = org();
    o.host.fail("get_tree", Some(&r("octo/goapp")), 1, || {
        Error::PermissionDenied {
            service: "github".into(),
            message: "resource not accessible".into(),
        }
    });
    o.host.fail("get_repo", Some(&r("octo/huge")), 99, || {
        Error::upstream("github", 502, "bad gateway")
    });
    let svc = o.service();
    let report = svc.sync(SyncRequest::all()).await.unwrap();
    assert_eq!(report.totals.failed, 2);
    assert_eq!(report.totals.updated, 3);

    let goapp = report.result(&r("octo/goapp")).unwrap();
    assert_eq!(goapp.outcome, SyncOutcome::Failed);
    assert_eq!(goapp.attempts, 1, "a permanent error is not retried");
    assert!(goapp
        .error
        .as_deref()
        .unwrap()
        .contains("permission denied"));
    let stored = o
        .store
        .get_repository(&r("octo/goapp"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, RepoStatus::Error);
    assert_eq!(
        stored.head_sha, None,
        "a failed content fetch keeps the old head"
    );

    let huge = report.result(&r("octo/huge")).unwrap();
    assert_eq!(huge.attempts, 5);
    assert_eq!(o.sleeper.waits(), secs(&[2, 4, 8, 16]));
    let log = o
        .store
        .list_sync_logs(Some(&r("octo/huge")), &ListOptions::default())
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(log.outcome, SyncOutcome::Failed);
    assert!(log.error.unwrap().contains("HTTP 502"));

    // The next sync of the failed repository fetches its content (the head never moved in
    // the store) and clears the error.
    let again = svc
        .sync(SyncRequest::repos(vec![r("octo/goapp")]))
        .await
        .unwrap();
    assert_eq!(again.results[0].outcome, SyncOutcome::Updated);
    assert_eq!(again.results[0].status, RepoStatus::Active);
}

#[tokio::test]
async fn retry_after_is_honoured_when_longer_and_refused_when_too_long() {
    let o = org();
    o.host.fail("list_commits", Some(&r("octo/goapp")), 1, || {
        Error::RateLimited {
            service: "github".into(),
            retry_after: Some(Duration::from_secs(30)),
        }
    });
    o.host.fail("get_repo", Some(&r("octo/huge")), 1, || {
        Error::RateLimited {
            service: "github".into(),
            retry_after: Some(Duration::from_secs(7200)),
        }
    });
    let report = o.service().sync(SyncRequest::all()).await.unwrap();
    assert_eq!(o.sleeper.waits(), secs(&[30]));
    assert_eq!(report.result(&r("octo/goapp")).unwrap().attempts, 2);
    let huge = report.result(&r("octo/huge")).unwrap();
    assert_eq!(huge.outcome, SyncOutcome::Failed);
    assert!(huge.error.as_deref().unwrap().contains("rate limited"));
}

#[tokio::test]
async fn explicit_requests_name_repositories_and_skip_untracked_ones() {
    let o = org();
    let svc = o.service();
    let report = svc
        .sync(SyncRequest::repos(vec![
            r("octo/goapp"),
            r("OCTO/GOAPP"),
            r("octo/kova-website"),
            r("octo/orchestrator"),
        ]))
        .await
        .unwrap();
    let synced: Vec<String> = report.results.iter().map(|x| x.repo.to_string()).collect();
    assert_eq!(synced, vec!["octo/orchestrator", "octo/goapp"]);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].repo, r("octo/kova-website"));
}

#[tokio::test]
async fn disabled_repositories_sync_only_when_named() {
    let mut o = org();
    let mut e = o.config.entry(&r("octo/goapp")).unwrap().clone();
    e.enabled = false;
    o.config.upsert_entry(e);
    let svc = o.service();
    let all = svc.sync(SyncRequest::all()).await.unwrap();
    assert!(all.result(&r("octo/goapp")).is_none());
    let named = svc
        .sync(SyncRequest::repos(vec![r("octo/goapp")]))
        .await
        .unwrap();
    assert_eq!(named.results[0].outcome, SyncOutcome::Updated);
}

fn stages_of(events: &[SyncProgress], repo: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.repo == r(repo))
        .map(|e| match &e.stage {
            SyncStage::Retrying {
                attempt, wait_ms, ..
            } => format!("retrying:{attempt}:{wait_ms}"),
            SyncStage::Done { outcome } => format!("done:{outcome:?}"),
            SyncStage::Tree { files, truncated } => format!("tree:{files}:{truncated}"),
            SyncStage::Manifests { count } => format!("manifests:{count}"),
            other => serde_json::to_value(other).unwrap()["stage"]
                .as_str()
                .unwrap()
                .to_string(),
        })
        .collect()
}

#[tokio::test]
async fn progress_events_come_in_order_per_repository() {
    let o = org();
    flaky_twice(&o);
    let llm = Arc::new(ScriptedLlm::new().with_responder(|_| Ok("## Purpose\nx".into())));
    let svc = o.builder_with(o.host.clone()).with_llm(Some(llm)).build();
    let (sink, events) = collector();
    svc.sync_with_progress(SyncRequest::all(), sink)
        .await
        .unwrap();
    let ev = events.lock().unwrap().clone();
    assert_eq!(
        stages_of(&ev, "octo/orchestrator"),
        vec![
            "started",
            "metadata",
            "tree:6:false",
            "manifests:3",
            "done:Updated"
        ]
    );
    assert_eq!(
        stages_of(&ev, "octo/flaky"),
        vec![
            "started",
            "retrying:2:2000",
            "retrying:3:4000",
            "metadata",
            "tree:1:false",
            "manifests:1",
            "done:Updated"
        ]
    );
    assert_eq!(stages_of(&ev, "octo/huge")[2], "tree:2:true");
    assert_eq!(
        stages_of(&ev, "octo/ghost"),
        vec!["started", "done:Missing"]
    );

    // Second run, with analysis, through a channel (as SSE would): unchanged repositories
    // are not analysed again.
    let (sink, mut rx) = progress_channel();
    svc.sync_with_progress(SyncRequest::all().with_analysis(true), sink)
        .await
        .unwrap();
    let mut ev = Vec::new();
    while let Ok(e) = rx.try_recv() {
        ev.push(e);
    }
    assert_eq!(
        stages_of(&ev, "octo/goapp"),
        vec!["started", "metadata", "unchanged", "done:Unchanged"]
    );
    let json = serde_json::to_value(&ev[0]).unwrap();
    assert_eq!(json["stage"], "started");
    assert_eq!(json["repo"], "octo/orchestrator");

    o.host.push_commit(&r("octo/goapp"), commit("goapp-2"));
    let (sink, events) = collector();
    svc.sync_with_progress(SyncRequest::all().with_analysis(true), sink)
        .await
        .unwrap();
    assert_eq!(
        stages_of(&events.lock().unwrap(), "octo/goapp"),
        vec![
            "started",
            "metadata",
            "tree:1:false",
            "manifests:1",
            "analysis",
            "done:Updated"
        ]
    );
}

#[tokio::test]
async fn analysis_is_stored_with_usage_and_its_interaction() {
    let o = org();
    let llm = Arc::new(
        ScriptedLlm::new()
            .with_price(3.0, 15.0)
            .with_responder(|req| {
                let prompt = req.render();
                assert!(prompt.contains("# Repository "));
                Ok("## Purpose\nOrchestrates.\n## Tech stack\nRust".into())
            }),
    );
    let svc = o
        .builder_with(o.host.clone())
        .with_llm(Some(llm.clone()))
        .build();
    let report = svc
        .sync(SyncRequest::repos(vec![r("octo/orchestrator")]).with_analysis(true))
        .await
        .unwrap();
    let res = &report.results[0];
    let analysis = res.analysis.as_ref().unwrap();
    assert_eq!(analysis.error, None);
    let art = o
        .store
        .get_artifact(analysis.artifact_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(art.kind, ArtifactKind::Analysis);
    assert_eq!(art.name, ANALYSIS_ARTIFACT);
    assert_eq!(art.source, ArtifactSource::Sync(res.sync_log_id.unwrap()));
    assert_eq!(art.metadata.model.as_deref(), Some(ScriptedLlm::MODEL));
    assert!(art.metadata.usage.input_tokens > 0 && art.metadata.usage.output_tokens > 0);
    assert!(art.metadata.cost_usd.unwrap() > 0.0);
    assert_eq!(art.metadata.extra["head_sha"], "orchestrator-1");
    assert!(art.content.contains("Orchestrates"));

    let prompt = &llm.requests()[0].messages[0].content;
    assert!(prompt.contains("Cargo.toml") && prompt.contains("serde"));
    assert!(prompt.contains("Deployment orchestrator in prod"));
    assert!(prompt.contains("Runs everything."));

    let interactions = o
        .store
        .list_interactions(&InteractionFilter::default(), &ListOptions::default())
        .await
        .unwrap()
        .items;
    assert_eq!(interactions.len(), 1);
    let i = &interactions[0];
    assert_eq!(i.purpose, ANALYSIS_PURPOSE);
    assert_eq!(i.repo, Some(r("octo/orchestrator")));
    assert!(i.success);
    assert_eq!(i.usage, art.metadata.usage);
    assert_eq!(art.metadata.extra["interaction_id"], i.id.0);

    // A failing LLM does not fail the sync; the failed call is recorded too.
    let failing = Arc::new(ScriptedLlm::new());
    failing.push_error(Error::Overloaded {
        service: "anthropic".into(),
    });
    let svc = o
        .builder_with(o.host.clone())
        .with_llm(Some(failing))
        .build();
    let report = svc
        .sync(SyncRequest::repos(vec![r("octo/goapp")]).with_analysis(true))
        .await
        .unwrap();
    assert_eq!(report.results[0].outcome, SyncOutcome::Updated);
    assert!(report.results[0]
        .analysis
        .as_ref()
        .unwrap()
        .error
        .as_deref()
        .unwrap()
        .contains("overloaded"));
    let totals = o
        .store
        .usage_totals(&InteractionFilter::default())
        .await
        .unwrap();
    assert_eq!((totals.calls, totals.failures), (2, 1));

    // No LLM configured: the sync works and says why there is no analysis.
    let svc = o.service();
    let report = svc
        .sync(SyncRequest::repos(vec![r("octo/huge")]).with_analysis(true))
        .await
        .unwrap();
    let a = report.results[0].analysis.as_ref().unwrap();
    assert!(a.artifact_id.is_none() && a.error.as_deref().unwrap().contains("not configured"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_across_calls() {
    let o = org();
    for i in 0..10 {
        let name = format!("octo/extra-{i}");
        o.host.add_repo(FakeSource::remote(&r(&name)));
        o.host.push_commit(&r(&name), commit(&format!("x{i}")));
        o.host.put_file(&r(&name), "Cargo.toml", CARGO);
    }
    let gated = Arc::new(Gated::new(o.host.clone(), 20));
    let svc = o
        .builder_with(gated.clone())
        .with_options(SyncOptions::default().with_concurrency(3))
        .build();
    for i in 0..10 {
        svc.add(AddRepo::new(
            r(&format!("octo/extra-{i}")),
            RepoKind::Service,
        ))
        .await
        .unwrap();
    }
    let (a, b) = tokio::join!(
        svc.sync(SyncRequest::all()),
        svc.sync(SyncRequest::repos(vec![
            r("octo/extra-9"),
            r("octo/extra-8")
        ])),
    );
    assert_eq!(a.unwrap().totals.repos, 16);
    assert_eq!(b.unwrap().totals.repos, 2);
    assert_eq!(
        gated.max.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "the limit is reached, never passed"
    );
    assert_eq!(
        gated.max_per_repo.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_never_syncs_twice_at_once() {
    let o = org();
    let gated = Arc::new(Gated::new(o.host.clone(), 50));
    let svc = o.builder_with(gated.clone()).build();
    let (sink_a, ev_a) = collector();
    let (sink_b, ev_b) = collector();
    let (a, b) = tokio::join!(
        svc.sync_with_progress(SyncRequest::all(), sink_a),
        svc.sync_with_progress(SyncRequest::all(), sink_b),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // Each repository's metadata was fetched once: the second request joined the first.
    let get_repo = |name: &str| {
        o.host
            .calls()
            .iter()
            .filter(|c| *c == &format!("get_repo {name}"))
            .count()
    };
    for (name, _) in CONFIGURED {
        assert_eq!(get_repo(name), 1, "{name}");
        let (x, y) = (a.result(&r(name)).unwrap(), b.result(&r(name)).unwrap());
        assert!(
            x.joined != y.joined,
            "{name}: exactly one of the two joined"
        );
        assert_eq!((x.outcome, x.sync_log_id), (y.outcome, y.sync_log_id));
    }
    assert_eq!(
        gated.max_per_repo.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(svc.syncing().is_empty());
    // The joiner saw "joined" and then the end of the running sync.
    let all: Vec<SyncProgress> = ev_a
        .lock()
        .unwrap()
        .iter()
        .chain(ev_b.lock().unwrap().iter())
        .cloned()
        .collect();
    let joined = all.iter().filter(|e| e.stage == SyncStage::Joined).count();
    assert_eq!(joined, 6);
    let done = all.iter().filter(|e| e.stage.is_final()).count();
    assert_eq!(done, 12, "both callers see each repository finish");

    // A fresh request (after a push) joining a running sync gets a second pass that sees the
    // new commit.
    let before = o.host.calls().len();
    let goapp = r("octo/goapp");
    let host = o.host.clone();
    let first = svc.sync(SyncRequest::repos(vec![goapp.clone()]));
    let second = async {
        while !svc.syncing().contains(&goapp) {
            tokio::task::yield_now().await;
        }
        host.push_commit(&goapp, commit("goapp-2"));
        svc.sync(SyncRequest::repos(vec![goapp.clone()]).with_fresh(true))
            .await
    };
    let (x, y) = tokio::join!(first, second);
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.results[0].head_sha.as_deref(), Some("goapp-2"));
    assert_eq!(y.results[0].head_sha.as_deref(), Some("goapp-2"));
    assert!(y.results[0].joined);
    let passes = o
        .calls_since(before)
        .iter()
        .filter(|c| *c == "get_repo octo/goapp")
        .count();
    assert_eq!(passes, 2);
}

#[tokio::test]
async fn a_dropped_sync_frees_its_repository() {
    use futures::FutureExt;
    let o = org();
    let gated = Arc::new(Gated::new(o.host.clone(), 5));
    let svc = o.builder_with(gated).build();
    // Poll once (it starts and registers), then drop it.
    let fut = svc.sync(SyncRequest::repos(vec![r("octo/goapp")]));
    assert!(fut.now_or_never().is_none());
    assert!(svc.syncing().is_empty(), "a dropped sync leaves no trace");
    let report = svc
        .sync(SyncRequest::repos(vec![r("octo/goapp")]))
        .await
        .unwrap();
    assert!(!report.results[0].joined);
    assert_eq!(report.results[0].outcome, SyncOutcome::Updated);
}

#[tokio::test]
async fn an_empty_repository_syncs_without_content() {
    let o = org();
    let empty = r("octo/empty");
    o.host.add_repo(FakeSource::remote(&empty));
    o.host.fail("list_commits", Some(&empty), 1, || {
        Error::upstream("github", 409, "Git Repository is empty.")
    });
    let svc = o.service();
    svc.add(AddRepo::new(empty.clone(), RepoKind::Experimental))
        .await
        .unwrap();
    let report = svc
        .sync(SyncRequest::repos(vec![empty.clone()]))
        .await
        .unwrap();
    let res = &report.results[0];
    assert_eq!(res.outcome, SyncOutcome::Updated);
    assert_eq!(res.attempts, 1, "409 on an empty repository is not retried");
    assert_eq!(res.head_sha, None);
    assert!(o.sleeper.waits().is_empty());
}

#[tokio::test]
async fn adding_asks_the_host_once_and_reports_a_passing_failure_as_retryable() {
    let o = org();
    let repo = r("octo/newcomer");
    o.host.add_repo(FakeSource::remote(&repo));
    o.host.fail("get_repo", Some(&repo), 1, || {
        Error::upstream("github", 502, "bad gateway")
    });
    let svc = o.service();
    let err = svc
        .add(AddRepo::new(repo.clone(), RepoKind::Service))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        o.sleeper.waits().is_empty(),
        "no sync backoff on the caller's time"
    );
    let asked = o
        .host
        .calls()
        .iter()
        .filter(|c| c.starts_with("get_repo"))
        .count();
    assert_eq!(asked, 1);
    assert!(
        o.store.get_repository(&repo).await.unwrap().is_none(),
        "nothing half-added"
    );
    // The caller tries again and the host answers.
    let added = svc
        .add(AddRepo::new(repo.clone(), RepoKind::Service))
        .await
        .unwrap();
    assert!(!added.existed);
}

#[tokio::test]
async fn the_artifact_service_sees_repositories_added_after_it_was_built() {
    let o = org();
    let svc = o.service();
    let artifacts = ArtifactService::new(o.store.clone(), None, None, o.clock.clone())
        .with_syncer(Arc::new(svc.clone()));
    let repo = r("octo/late-arrival");
    o.host.add_repo(FakeSource::remote(&repo));
    assert!(artifacts.repos_config().unwrap().entry(&repo).is_none());
    svc.add(AddRepo::new(repo.clone(), RepoKind::Service))
        .await
        .unwrap();
    assert!(
        artifacts.repos_config().unwrap().entry(&repo).is_some(),
        "the `process` status reports the added repository as configured"
    );
}
