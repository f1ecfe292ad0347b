//! The repositories file: the original format parses, round-trips with unknown fields kept, and
//! every rule violation is reported with the field and the rule.

use kova_core::config::{RepoEntry, ReposConfig};
use kova_core::{Error, RepoKind, RepoRef};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/kova_repos_config.json");

fn invalid(text: &str) -> (String, String) {
    match ReposConfig::parse(text) {
        Err(Error::Invalid { field, message }) => (field, message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn with_repo(entry: Value) -> String {
    json!({"github_owner": "octo", "repositories": [entry]}).to_string()
}

#[test]
fn parses_the_original_format() {
    let c = ReposConfig::parse(FIXTURE).unwrap();
    assert_eq!(c.github_owner, "octo-org");
    assert_eq!(c.repositories.len(), 4);
    let dash = &c.repositories[1];
    assert_eq!(
        dash.repo,
        "octo-org/kova-ai-dash".parse::<RepoRef>().unwrap()
    );
    assert_eq!(
        (dash.kind, dash.enabled, dash.sync_priority),
        (RepoKind::Frontend, false, 2)
    );
    assert_eq!(dash.extra["migration_target"], "octo-org/site");
    assert!(c.sync_settings.auto_sync_enabled);
    assert_eq!(c.sync_settings.sync_interval_minutes, 15);
    let pattern = c.discovery_settings.repo_name_pattern.as_ref().unwrap();
    assert!(pattern.matches("kova-ai-docengine"));
    assert!(!pattern.matches("kova-website"));
    assert!(c.integration_settings.claude_api_enabled);
    let order: Vec<String> = c
        .enabled_by_priority()
        .iter()
        .map(|e| e.repo.name().to_string())
        .collect();
    assert_eq!(order, ["orchestrator", "kova-ai-mem0", "sandbox"]);
}

#[test]
fn round_trip_keeps_unknown_fields_and_values() {
    let c = ReposConfig::parse(FIXTURE).unwrap();
    let written = c.to_json_string();
    let original: Value = serde_json::from_str(FIXTURE).unwrap();
    let rewritten: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(original, rewritten, "nothing lost or changed on round trip");
    assert_eq!(ReposConfig::parse(&written).unwrap(), c);
    // The original key order is kept too, so diffs of the file stay small.
    let keys: Vec<&String> = rewritten.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "github_owner",
            "repositories",
            "worlds",
            "excluded_repositories",
            "sync_settings",
            "discovery_settings",
            "integration_settings",
            "architecture_mode",
            "architecture_policy_file"
        ]
    );
}

#[test]
fn unknown_numbers_survive_repeated_saves() {
    // Found by the `repos_config` fuzz target: without serde_json's `float_roundtrip`, a float
    // with more digits than an f64 holds was read 1 ULP off, so each save changed it again.
    let text = r#"{"github_owner": "octo", "measure": 411111111111111111111111111111111111111111111111111111111111111111,
        "ratio": 0.1000000000000000055511151231257827021181583404541015625, "tiny": 2.2250738585072011e-308}"#;
    let c = ReposConfig::parse(text).unwrap();
    let written = c.to_json_string();
    let again = ReposConfig::parse(&written).unwrap();
    assert_eq!(again, c);
    assert_eq!(again.to_json_string(), written);
    // Read exactly as the standard library reads it (correctly rounded).
    let original: Value = serde_json::from_str(text).unwrap();
    let digits = format!("4{}", "1".repeat(65));
    assert_eq!(original["measure"].as_f64(), digits.parse::<f64>().ok());
}

#[test]
fn save_and_load_through_a_file() {
    let dir = std::env::temp_dir().join(format!("kova-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kova_repos_config.json");
    let mut c = ReposConfig::parse(FIXTURE).unwrap();
    let mut e = RepoEntry::new("octo-org/new-one".parse().unwrap(), RepoKind::Service);
    e.sync_priority = 2;
    c.upsert_entry(e);
    c.save(&path).unwrap();
    let back = ReposConfig::load(&path).unwrap();
    assert_eq!(back.repositories.len(), 5);
    assert_eq!(back, c);
    assert!(
        !path.with_extension("json.tmp").exists(),
        "temporary file renamed away"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(ReposConfig::load(&path), Err(Error::Config(m)) if m.contains("cannot read")));
}

#[test]
fn upsert_replaces_and_keeps_unknown_fields() {
    let mut c = ReposConfig::parse(FIXTURE).unwrap();
    let mut e = RepoEntry::new("OCTO-ORG/KOVA-AI-DASH".parse().unwrap(), RepoKind::Frontend);
    e.enabled = true;
    c.upsert_entry(e);
    assert_eq!(
        c.repositories.len(),
        4,
        "same repository, case-insensitively"
    );
    let dash = c.entry(&"octo-org/kova-ai-dash".parse().unwrap()).unwrap();
    assert!(dash.enabled);
    assert_eq!(dash.extra["migration_target"], "octo-org/site");
}

#[test]
fn each_rule_names_the_field() {
    let base = || json!({"name": "app", "full_name": "octo/app", "type": "core", "enabled": true, "sync_priority": 1, "features": []});
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            {
                let mut e = base();
                e["type"] = json!("world");
                e
            },
            "repositories[0].type",
            "must be core|service|frontend|experimental",
        ),
        (
            {
                let mut e = base();
                e["sync_priority"] = json!(0);
                e
            },
            "repositories[0].sync_priority",
            "from 1 to 5",
        ),
        (
            {
                let mut e = base();
                e["sync_priority"] = json!(6);
                e
            },
            "repositories[0].sync_priority",
            "from 1 to 5",
        ),
        (
            {
                let mut e = base();
                e["sync_priority"] = json!("high");
                e
            },
            "repositories[0].sync_priority",
            "from 1 to 5",
        ),
        (
            {
                let mut e = base();
                e["full_name"] = json!("no-slash");
                e
            },
            "repositories[0].full_name",
            "owner/name",
        ),
        (
            {
                let mut e = base();
                e.as_object_mut().unwrap().remove("full_name");
                e
            },
            "repositories[0].full_name",
            "is required",
        ),
        (
            {
                let mut e = base();
                e["name"] = json!("other");
                e
            },
            "repositories[0].name",
            "must match",
        ),
        (
            {
                let mut e = base();
                e["enabled"] = json!("yes");
                e
            },
            "repositories[0].enabled",
            "true or false",
        ),
        (
            {
                let mut e = base();
                e["features"] = json!([1]);
                e
            },
            "repositories[0].features[0]",
            "must be a string",
        ),
    ];
    for (entry, field, rule) in cases {
        let (f, m) = invalid(&with_repo(entry.clone()));
        assert_eq!(f, field, "for {entry}");
        assert!(m.contains(rule), "message '{m}' should contain '{rule}'");
    }
}

#[test]
fn duplicates_owner_settings_and_json_errors() {
    let dup = json!({"github_owner": "octo", "repositories": [
        {"name": "app", "full_name": "octo/app", "type": "core"},
        {"name": "App", "full_name": "Octo/App", "type": "core"}
    ]});
    let (f, m) = invalid(&dup.to_string());
    assert_eq!(f, "repositories[1].full_name");
    assert!(m.contains("duplicate of repositories[0]"), "{m}");

    let (f, _) = invalid(r#"{"repositories": []}"#);
    assert_eq!(f, "github_owner");
    let (f, _) = invalid(r#"{"github_owner": "bad owner!"}"#);
    assert_eq!(f, "github_owner");
    let (f, m) = invalid(r#"{"github_owner": "o", "sync_settings": {"sync_interval_minutes": 0}}"#);
    assert_eq!(
        (f.as_str(), m.contains("1 to 10080")),
        ("sync_settings.sync_interval_minutes", true)
    );
    let (f, m) = invalid(
        r#"{"github_owner": "o", "discovery_settings": {"repo_name_pattern": "kova-[ai"}}"#,
    );
    assert_eq!(f, "discovery_settings.repo_name_pattern");
    assert!(m.contains("glob"), "{m}");
    let (f, m) = invalid("{not json");
    assert_eq!(f, "kova_repos_config.json");
    assert!(m.contains("not valid JSON"));
    let (f, _) = invalid("[]");
    assert_eq!(f, "kova_repos_config.json");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = json!({"github_owner": "octo", "repositories": [
        {"name": "a", "full_name": "octo/a", "type": "nope", "sync_priority": 9}
    ], "sync_settings": {"sync_on_push": "sometimes"}})
    .to_string();
    let (f, m) = invalid(&text);
    assert_eq!(f, "repositories[0].type");
    assert!(m.contains("and 2 more"), "{m}");
    assert!(m.contains("repositories[0].sync_priority"), "{m}");
    assert!(m.contains("sync_settings.sync_on_push"), "{m}");
}

#[test]
fn entries_become_planned_repositories() {
    let c = ReposConfig::parse(FIXTURE).unwrap();
    let now = chrono::Utc::now();
    let r = c.repositories[0].to_repository(now);
    assert_eq!(r.status, kova_core::RepoStatus::Planned);
    assert_eq!(r.sync_priority, 1);
    assert_eq!(r.features, ["orchestration", "api", "ci"]);
    assert_eq!(
        r.description.as_deref(),
        Some("Backend and orchestration hub")
    );
}
