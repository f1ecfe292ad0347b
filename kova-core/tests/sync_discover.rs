//! Adding and discovering repositories against `FakeSource` and `MemoryStore`.

mod sync_support;

use kova_core::sync::*;
use kova_core::*;
use sync_support::*;

#[tokio::test]
async fn add_checks_the_host_and_saves_the_file() {
    let o = org();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kova_repos_config.json");
    o.config.save(&path).unwrap();
    let svc = SyncService::builder(o.store.clone(), o.host.clone())
        .with_clock(o.clock.clone())
        .with_config_file(&path)
        .unwrap()
        .build();

    let found = svc
        .add(
            AddRepo::new(r("octo/kova-ai-newthing"), RepoKind::Experimental)
                .with_priority(2)
                .with_features(vec!["ai".into()]),
        )
        .await
        .unwrap();
    assert!(found.found && !found.existed && found.saved_config);
    let rec = &found.repository;
    assert_eq!(rec.status, RepoStatus::Active);
    assert_eq!(rec.default_branch.as_deref(), Some("main"));
    assert_eq!(rec.language.as_deref(), Some("Rust"));
    assert_eq!(rec.topics, vec!["ai".to_string()]);
    assert_eq!(
        rec.description.as_deref(),
        Some("octo/kova-ai-newthing on the host")
    );

    let missing = svc
        .add(AddRepo::new(r("octo/not-yet"), RepoKind::Core).with_description("planned"))
        .await
        .unwrap();
    assert!(!missing.found);
    assert_eq!(missing.repository.status, RepoStatus::Planned);
    assert!(svc
        .add(AddRepo::new(r("octo/x"), RepoKind::Core).with_priority(9))
        .await
        .is_err());

    let reloaded = config::ReposConfig::load(&path).unwrap();
    let e = reloaded.entry(&r("octo/kova-ai-newthing")).unwrap();
    assert_eq!((e.kind, e.sync_priority), (RepoKind::Experimental, 2));
    assert_eq!(
        reloaded
            .entry(&r("octo/not-yet"))
            .unwrap()
            .description
            .as_deref(),
        Some("planned")
    );
    assert_eq!(reloaded.repositories.len(), 8);
    assert_eq!(
        o.store
            .get_repository(&r("octo/not-yet"))
            .await
            .unwrap()
            .unwrap()
            .status,
        RepoStatus::Planned
    );

    // Re-adding updates the entry, keeps the count.
    let again = svc
        .add(AddRepo::new(r("octo/not-yet"), RepoKind::Service))
        .await
        .unwrap();
    assert!(again.existed);
    assert_eq!(
        config::ReposConfig::load(&path).unwrap().repositories.len(),
        8
    );
}

#[tokio::test]
async fn discover_matches_the_glob_and_auto_adds() {
    let o = org();
    let svc = o.service();
    let d = svc.discover().await.unwrap();
    assert_eq!(d.owner, "octo");
    assert_eq!(d.pattern.as_deref(), Some("kova-ai-*"));
    assert_eq!(d.scanned, 7, "every octo repository on the host");
    let matched: Vec<(String, bool)> = d
        .matched
        .iter()
        .map(|m| (m.repo.to_string(), m.known))
        .collect();
    assert_eq!(
        matched,
        vec![
            ("octo/kova-ai-docengine".to_string(), true),
            ("octo/kova-ai-newthing".to_string(), false)
        ]
    );
    assert!(!d.matched.iter().any(|m| m.repo.name() == "kova-website"));
    assert_eq!(d.new, vec![r("octo/kova-ai-newthing")]);
    assert!(d.added.is_empty(), "auto_add is off");
    assert!(o
        .store
        .get_repository(&r("octo/kova-ai-newthing"))
        .await
        .unwrap()
        .is_none());

    // Topic search, like kubestats: any owner.
    assert_eq!(d.topics.len(), 1);
    let topic: Vec<(String, bool)> = d.topics[0]
        .repos
        .iter()
        .map(|m| (m.repo.to_string(), m.known))
        .collect();
    assert_eq!(
        topic,
        vec![
            ("octo/orchestrator".to_string(), true),
            ("other/k8s-tool".to_string(), false)
        ]
    );
    assert!(o
        .host
        .calls()
        .contains(&"search_repos topic:kubernetes".to_string()));

    // auto_add from the settings adds the new one, which then syncs.
    let mut cfg = o.config.clone();
    cfg.discovery_settings.auto_discover_new_repos = true;
    let svc = o
        .builder_with(o.host.clone())
        .with_config(cfg, None)
        .build();
    let d = svc.discover().await.unwrap();
    assert_eq!(d.added, vec![r("octo/kova-ai-newthing")]);
    let stored = o
        .store
        .get_repository(&r("octo/kova-ai-newthing"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, RepoStatus::Active);
    assert!(svc
        .config()
        .unwrap()
        .entry(&r("octo/kova-ai-newthing"))
        .is_some());
    let again = svc.discover().await.unwrap();
    assert!(again.new.is_empty() && again.added.is_empty());
    let report = svc
        .sync(SyncRequest::repos(vec![r("octo/kova-ai-newthing")]))
        .await
        .unwrap();
    assert_eq!(report.results[0].outcome, SyncOutcome::Updated);
}

#[tokio::test]
async fn discover_without_a_pattern_reports_all_and_skips_excluded() {
    let mut o = org();
    o.config.discovery_settings.repo_name_pattern = None;
    o.config.extra.insert(
        "excluded_repositories".into(),
        serde_json::json!([{"full_name": "octo/kova-website", "reason": "static"}]),
    );
    let d = o
        .service()
        .discover_with(DiscoverOptions::default().with_topics(false))
        .await
        .unwrap();
    assert_eq!(d.matched.len(), 7);
    assert_eq!(d.new, vec![r("octo/kova-ai-newthing")]);
    assert!(d.topics.is_empty());
}
