//! Artifact generation: each kind, each validator (valid, repaired, invalid twice), fallback
//! extraction, truncation, idempotency, repository context and interaction records.

#![cfg(feature = "testing")]

mod artifacts_support;

use artifacts_support::{env, env_with, repo, seed_repo};
use kova_core::artifacts::{AnalyzeRequest, ArtifactRequest, ArtifactService};
use kova_core::testing::ScriptedLlm;
use kova_core::{
    ArtifactKind, ArtifactSource, Clock, Error, EventId, NewArtifact, Role, Store, Usage,
    Validation,
};
use serde_json::json;
use std::sync::Arc;

fn fenced(tag: &str, body: &str) -> String {
    format!("Here it is:\n\n```{tag}\n{body}\n```\n\nLet me know if you need changes.")
}

fn config(format: &str) -> ArtifactRequest {
    ArtifactRequest::new(ArtifactKind::Config, format!("{format} config"))
        .with_format(format)
        .with_description("service settings")
}

#[tokio::test]
async fn each_kind_is_generated_extracted_validated_and_stored() {
    let cases: Vec<(ArtifactRequest, String, &str, &str)> = vec![
        (
            ArtifactRequest::new(ArtifactKind::Code, "hello").with_language("rs"),
            fenced("rust", "fn main() {\n    println!(\"hi\");\n}"),
            "rust",
            "fn main() {\n    println!(\"hi\");\n}\n",
        ),
        (
            ArtifactRequest::new(ArtifactKind::Document, "guide"),
            "# Guide\n\nInstall it.\n\n```sh\ncargo install kova\n```\n".into(),
            "markdown",
            "# Guide\n\nInstall it.\n\n```sh\ncargo install kova\n```\n",
        ),
        (
            ArtifactRequest::new(ArtifactKind::Diagram, "flow"),
            fenced("mermaid", "flowchart TD\n  A --> B"),
            "mermaid",
            "flowchart TD\n  A --> B\n",
        ),
        (
            config("yml"),
            fenced("yaml", "server:\n  port: 8080"),
            "yaml",
            "server:\n  port: 8080\n",
        ),
        (
            ArtifactRequest::new(ArtifactKind::Data, "users"),
            fenced("json", "[{\"id\": 1, \"name\": \"Ada\"}]"),
            "json",
            "[{\"id\": 1, \"name\": \"Ada\"}]\n",
        ),
    ];
    for (req, answer, target, content) in cases {
        let e = env();
        e.llm.push_text(answer);
        let kind = req.kind.clone();
        let out = e.service.generate(req).await.unwrap();
        let a = &out.artifact;
        assert!(!out.replayed);
        assert_eq!(a.kind.as_str(), kind);
        assert_eq!(a.content, content, "{kind}");
        assert_eq!(a.language.as_deref(), Some(target));
        assert_eq!(a.validation, Validation::Valid, "{kind}");
        assert_eq!(a.version, 1);
        assert_eq!(a.source, ArtifactSource::Request);
        assert_eq!(a.metadata.model.as_deref(), Some(ScriptedLlm::MODEL));
        assert_eq!(a.metadata.extra["truncated"], json!(false));
        assert_eq!(a.metadata.extra["llm_calls"], json!(1));
        assert_eq!(a.content_hash, kova_core::content_hash(content));
        assert!(a.metadata.usage.input_tokens > 0 && a.metadata.usage.output_tokens > 0);
        assert!(a.metadata.cost_usd.unwrap() > 0.0);
        // The call is recorded with the same usage.
        let recorded = e.interactions().await;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].purpose, format!("artifact:{kind}"));
        assert!(recorded[0].success);
        assert_eq!(recorded[0].usage, a.metadata.usage);
        // And it is in the store.
        assert_eq!(e.store.get_artifact(a.id).await.unwrap().as_ref(), Some(a));
    }
}

/// For every config format: a valid answer, an invalid one repaired, and two invalid ones.
#[tokio::test]
async fn config_validators_accept_repair_and_reject() {
    let cases = [
        ("json", "{\"port\": 8080}", "{port: 8080,}", "JSON"),
        (
            "yaml",
            "port: 8080\nhosts: [a, b]",
            "port: [8080\nhosts: {",
            "YAML",
        ),
        ("toml", "[server]\nport = 8080", "[server\nport = ", "TOML"),
        (
            "ini",
            "[server]\nport = 8080",
            "[server]\nthis is not ini",
            "INI",
        ),
        (
            "xml",
            "<server><port>8080</port></server>",
            "<server><port>8080</server>",
            "XML",
        ),
    ];
    for (format, good, bad, name) in cases {
        // Valid at once.
        let e = env();
        e.llm.push_text(fenced(format, good));
        let a = e.service.generate(config(format)).await.unwrap().artifact;
        assert_eq!(a.validation, Validation::Valid, "{format}");

        // Invalid, then repaired: the error goes back in a second turn.
        let e = env();
        e.llm
            .push_text(fenced(format, bad))
            .push_text(fenced(format, good));
        let a = e.service.generate(config(format)).await.unwrap().artifact;
        assert_eq!(a.validation, Validation::Repaired, "{format}");
        assert_eq!(a.content, format!("{good}\n"));
        let reqs = e.llm.requests();
        assert_eq!(reqs.len(), 2);
        let turns: Vec<Role> = reqs[1].messages.iter().map(|m| m.role).collect();
        assert_eq!(turns, [Role::User, Role::Assistant, Role::User]);
        assert_eq!(reqs[1].messages[0], reqs[0].messages[0]);
        assert!(reqs[1].messages[1].content.contains(bad));
        assert!(
            reqs[1].messages[2].content.contains(name),
            "{format}: {}",
            reqs[1].messages[2].content
        );
        let recorded = e.interactions().await;
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[1].purpose, "artifact:config:repair");
        assert_eq!(a.metadata.usage, recorded[0].usage + recorded[1].usage);
        let cost = recorded[0].cost_usd.unwrap() + recorded[1].cost_usd.unwrap();
        assert!((a.metadata.cost_usd.unwrap() - cost).abs() < 1e-12);
        assert_eq!(a.metadata.extra["llm_calls"], json!(2));
        assert!(a.metadata.extra["first_validation_error"]
            .as_str()
            .unwrap()
            .contains(name));

        // Invalid twice: stored, with the status saying why.
        let e = env();
        e.llm
            .push_text(fenced(format, bad))
            .push_text(fenced(format, bad));
        let a = e.service.generate(config(format)).await.unwrap().artifact;
        match &a.validation {
            Validation::Invalid(msg) => assert!(msg.contains(name), "{format}: {msg}"),
            other => panic!("{format}: {other:?}"),
        }
        assert_eq!(
            e.store
                .get_artifact(a.id)
                .await
                .unwrap()
                .unwrap()
                .validation,
            a.validation
        );
        assert_eq!(e.llm.calls(), 2);
    }
}

#[tokio::test]
async fn data_diagram_and_code_validators() {
    // Data must be JSON.
    let e = env();
    e.llm
        .push_text(fenced("json", "{'a': 1}"))
        .push_text(fenced("json", "{\"a\": 1}"));
    let req = ArtifactRequest::new(ArtifactKind::Data, "d");
    assert_eq!(
        e.service.generate(req).await.unwrap().artifact.validation,
        Validation::Repaired
    );

    let e = env();
    e.llm
        .push_text("```json\nnot json\n```")
        .push_text("```json\nstill not\n```");
    let req = ArtifactRequest::new(ArtifactKind::Data, "d");
    let v = e.service.generate(req).await.unwrap().artifact.validation;
    assert!(matches!(v, Validation::Invalid(m) if m.contains("JSON")));

    // Diagrams start with a diagram type (comments and front matter allowed before it).
    let e = env();
    e.llm
        .push_text(fenced("mermaid", "A --> B"))
        .push_text(fenced(
            "mermaid",
            "---\ntitle: Flow\n---\n%% c\nsequenceDiagram\n  A->>B: hi",
        ));
    let a = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Diagram, "seq"))
        .await
        .unwrap()
        .artifact;
    assert_eq!(a.validation, Validation::Repaired);
    assert!(e.llm.requests()[1].messages[2].content.contains("Mermaid"));

    let e = env();
    e.llm
        .push_text(fenced("mermaid", "boxes"))
        .push_text(fenced("mermaid", "arrows"));
    let v = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Diagram, "x"))
        .await
        .unwrap()
        .artifact
        .validation;
    assert!(matches!(v, Validation::Invalid(m) if m.contains("Mermaid")));

    // Code fenced in another language is repaired; code that does not look like the language
    // twice is invalid.
    let e = env();
    e.llm
        .push_text(fenced("python", "def main():\n    pass"))
        .push_text(fenced("rust", "fn main() {}"));
    let req = ArtifactRequest::new(ArtifactKind::Code, "m").with_language("rust");
    let a = e.service.generate(req).await.unwrap().artifact;
    assert_eq!(a.validation, Validation::Repaired);
    assert_eq!(a.content, "fn main() {}\n");
    assert!(e.llm.requests()[1].messages[2]
        .content
        .contains("fenced as 'python'"));

    let e = env();
    e.llm
        .push_text(fenced("go", "hello"))
        .push_text(fenced("go", "world"));
    let req = ArtifactRequest::new(ArtifactKind::Code, "m").with_language("golang");
    let v = e.service.generate(req).await.unwrap().artifact.validation;
    assert!(matches!(v, Validation::Invalid(m) if m.contains("Go")));

    // Empty code is invalid.
    let e = env();
    e.llm.push_text("```rust\n```").push_text("```rust\n\n```");
    let req = ArtifactRequest::new(ArtifactKind::Code, "m").with_language("rust");
    let v = e.service.generate(req).await.unwrap().artifact.validation;
    assert!(matches!(v, Validation::Invalid(m) if m.contains("no content")));
}

#[tokio::test]
async fn an_answer_without_a_fence_is_used_whole_and_flagged() {
    let e = env();
    e.llm.push_text("port: 8080\nhost: example.org\n");
    let a = e.service.generate(config("yaml")).await.unwrap().artifact;
    assert_eq!(a.content, "port: 8080\nhost: example.org\n");
    assert_eq!(a.validation, Validation::Valid);
    assert_eq!(a.metadata.extra["fallback_extraction"], json!(true));
    assert_eq!(a.metadata.extra["extraction"], json!("whole_text"));

    // An untagged block is taken when no tagged one exists, and flagged too.
    let e = env();
    e.llm.push_text("```\n{\"a\": true}\n```");
    let a = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Data, "d"))
        .await
        .unwrap()
        .artifact;
    assert_eq!(a.content, "{\"a\": true}\n");
    assert_eq!(a.metadata.extra["extraction"], json!("untagged"));
    assert_eq!(a.metadata.extra["fallback_extraction"], json!(true));

    // The tagged block wins over earlier blocks in other languages.
    let e = env();
    e.llm
        .push_text("```sh\nexport X=1\n```\n```toml\na = 1\n```");
    let a = e.service.generate(config("toml")).await.unwrap().artifact;
    assert_eq!(a.content, "a = 1\n");
    assert_eq!(a.metadata.extra["fallback_extraction"], json!(false));
    assert_eq!(a.metadata.extra["fence_tag"], json!("toml"));
}

#[tokio::test]
async fn truncated_answers_are_flagged_and_repaired_or_marked_invalid() {
    // Cut off, then complete: repaired, flagged.
    let e = env();
    e.llm
        .push_truncated("# Guide\n\nStep one, step two, and then")
        .push_text("# Guide\n\nShort and complete.");
    let req = ArtifactRequest::new(ArtifactKind::Document, "guide").with_max_tokens(50);
    let a = e.service.generate(req).await.unwrap().artifact;
    assert_eq!(a.validation, Validation::Repaired);
    // The stored content is complete; the cut-off first call is still on record.
    assert_eq!(a.metadata.extra["truncated"], json!(false));
    assert_eq!(a.metadata.extra["truncated_calls"], json!([1]));
    let repair = &e.llm.requests()[1].messages[2].content;
    assert!(repair.contains("cut off"), "{repair}");
    assert_eq!(e.llm.requests()[0].max_tokens, Some(50));
    // The repair round may answer at more length.
    assert_eq!(e.llm.requests()[1].max_tokens, Some(100));

    // Cut off twice: stored as invalid, flagged, even though the text "parses".
    let e = env();
    e.llm
        .push_truncated("```json\n{\"a\": 1}\n```")
        .push_truncated("{\"a\": 1}");
    let a = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Data, "d"))
        .await
        .unwrap()
        .artifact;
    assert!(matches!(&a.validation, Validation::Invalid(m) if m.contains("cut off")));
    assert_eq!(a.metadata.extra["truncated"], json!(true));
    assert_eq!(a.metadata.extra["truncated_calls"], json!([1, 2]));

    // An unclosed fence is a truncation sign too.
    let e = env();
    e.llm
        .push_truncated("```yaml\na: 1\nb: [1,")
        .push_text("```yaml\na: 1\n```");
    let a = e.service.generate(config("yaml")).await.unwrap().artifact;
    assert_eq!(a.validation, Validation::Repaired);
    assert_eq!(a.content, "a: 1\n");
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_artifact_without_a_second_call() {
    let e = env();
    e.llm.push_text(fenced("json", "{\"x\": 1}"));
    let req = ArtifactRequest::new(ArtifactKind::Data, "d").with_idempotency_key("req-1");
    let first = e.service.generate(req.clone()).await.unwrap();
    let again = e.service.generate(req.clone()).await.unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.artifact, again.artifact);
    assert_eq!(e.llm.calls(), 1);

    // A new service over the same store (a restart, another server) finds it in the store,
    // however many artifacts of its kind came after it.
    for n in 0..300 {
        let later = NewArtifact::new(format!("later-{n}"), ArtifactKind::Data, "{}");
        e.store
            .insert_artifact(&later, e.clock.now())
            .await
            .unwrap();
    }
    let other = ArtifactService::new(
        e.store.clone() as Arc<dyn Store>,
        Some(e.llm.clone() as Arc<dyn kova_core::LlmProvider>),
        None,
        e.clock.clone(),
    );
    let third = other.generate(req).await.unwrap();
    assert!(third.replayed);
    assert_eq!(third.artifact.id, first.artifact.id);
    assert_eq!(e.llm.calls(), 1);

    // A different key is new work.
    e.llm.push_text(fenced("json", "{\"x\": 2}"));
    let req = ArtifactRequest::new(ArtifactKind::Data, "d").with_idempotency_key("req-2");
    let fourth = e.service.generate(req).await.unwrap();
    assert_ne!(fourth.artifact.id, first.artifact.id);
    assert_eq!(fourth.artifact.version, 2);
    assert_eq!(e.llm.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_key_make_one_call() {
    let e = env_with(ScriptedLlm::new().with_responder(|_| Ok("```json\n[1, 2]\n```".into())));
    let service = Arc::new(e.service);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = service.clone();
        tasks.push(tokio::spawn(async move {
            let req = ArtifactRequest::new(ArtifactKind::Data, "d").with_idempotency_key("same");
            s.generate(req).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().artifact.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(e.llm.calls(), 1);
}

#[tokio::test]
async fn bad_requests_fail_before_any_call_naming_the_field() {
    let e = env();
    let cases = [
        (
            ArtifactRequest::new(ArtifactKind::Code, " ").with_language("rust"),
            "title",
        ),
        (ArtifactRequest::new(ArtifactKind::Code, "t"), "language"),
        (
            ArtifactRequest::new(ArtifactKind::Code, "t").with_language("cobol++"),
            "language",
        ),
        (ArtifactRequest::new(ArtifactKind::Config, "t"), "format"),
        (
            ArtifactRequest::new(ArtifactKind::Config, "t").with_format("csv"),
            "format",
        ),
        (
            ArtifactRequest::new(ArtifactKind::Data, "t").with_format("xml"),
            "format",
        ),
        (
            ArtifactRequest::new(ArtifactKind::Data, "t").with_temperature(1.5),
            "temperature",
        ),
    ];
    for (req, field) in cases {
        match e.service.generate(req).await {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let mut req = ArtifactRequest::new(ArtifactKind::Data, "t");
    req.kind = "spreadsheet".into();
    assert!(
        matches!(e.service.generate(req).await, Err(Error::Invalid { field, .. }) if field == "kind")
    );
    assert_eq!(e.llm.calls(), 0);
    assert!(e.interactions().await.is_empty());

    // No LLM configured.
    let none = ArtifactService::new(
        e.store.clone() as Arc<dyn Store>,
        None,
        None,
        e.clock.clone(),
    );
    let err = none
        .generate(ArtifactRequest::new(ArtifactKind::Data, "t"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotConfigured { what: "llm", .. }),
        "{err:?}"
    );
    // A repository without a source host.
    let err = none
        .generate(ArtifactRequest::new(ArtifactKind::Data, "t").with_repository(repo("o/r")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotConfigured { .. }), "{err:?}");
}

#[tokio::test]
async fn llm_failures_are_recorded_and_nothing_is_stored() {
    let e = env();
    e.llm.push_error(Error::Overloaded {
        service: "scripted".into(),
    });
    let err = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Data, "d"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Overloaded { .. }));
    let recorded = e.interactions().await;
    assert_eq!(recorded.len(), 1);
    assert!(!recorded[0].success);
    assert!(recorded[0].error.as_deref().unwrap().contains("overloaded"));
    let listed = e
        .store
        .list_artifacts(&Default::default(), &Default::default())
        .await
        .unwrap();
    assert!(listed.items.is_empty());
}

#[tokio::test]
async fn repository_context_is_fetched_and_marked_cacheable() {
    let e = env();
    let r = seed_repo(&e.source, "octo/relay");
    e.llm
        .push_text(fenced("mermaid", "graph LR\n  GitHub --> Relay"));
    let req = ArtifactRequest::new(ArtifactKind::Diagram, "architecture")
        .with_description("components and data flow")
        .with_context("focus on webhooks")
        .with_repository(r.clone())
        .with_event(EventId(7));
    let a = e.service.generate(req).await.unwrap().artifact;
    assert_eq!(a.repo.as_ref(), Some(&r));
    assert_eq!(a.source, ArtifactSource::Event(EventId(7)));
    let sent = &e.llm.requests()[0];
    assert_eq!(sent.system.len(), 2);
    assert!(!sent.system[0].cache);
    let ctx = &sent.system[1];
    assert!(ctx.cache, "repository context is the cacheable prefix");
    assert!(ctx.text.contains("Receives GitHub webhooks"));
    assert!(ctx.text.contains("src/webhook.rs"));
    assert!(ctx.text.contains("Webhook relay service"));
    let user = &sent.messages[0].content;
    assert!(user.contains("architecture") && user.contains("focus on webhooks"));
    assert_eq!(
        a.metadata.extra["repository_context"]["readme"],
        json!("README.md")
    );
    let recorded = e.interactions().await;
    assert_eq!(recorded[0].repo.as_ref(), Some(&r));
    assert_eq!(recorded[0].event_id, Some(EventId(7)));

    // A missing repository is the host's NotFound, before any LLM call.
    let err = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Data, "d").with_repository(repo("octo/none")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(e.llm.calls(), 1);
}

#[tokio::test]
async fn the_same_title_makes_new_versions_and_options_reach_the_provider() {
    let e = env();
    e.llm
        .push_text(fenced("json", "1"))
        .push_text(fenced("json", "2"));
    let req = ArtifactRequest::new(ArtifactKind::Data, "numbers")
        .with_model("claude-test")
        .with_temperature(0.2);
    let a1 = e.service.generate(req.clone()).await.unwrap().artifact;
    let a2 = e.service.generate(req).await.unwrap().artifact;
    assert_eq!((a1.version, a2.version), (1, 2));
    let sent = &e.llm.requests()[0];
    assert_eq!(sent.model.as_deref(), Some("claude-test"));
    assert_eq!(sent.temperature, Some(0.2));
    // The default output limit is capped by the model's.
    assert_eq!(sent.max_tokens, Some(8_192));
}

#[tokio::test]
async fn a_prompt_over_the_context_window_is_refused_before_the_call() {
    let e = env_with(ScriptedLlm::new().with_context_window(1_000));
    let req = ArtifactRequest::new(ArtifactKind::Document, "long")
        .with_description("word ".repeat(2_000))
        .with_max_tokens(100);
    let err = e.service.generate(req).await.unwrap_err();
    assert!(matches!(err, Error::ContextTooLong { .. }), "{err:?}");
    assert_eq!(e.llm.calls(), 0);
}

#[tokio::test]
async fn code_is_analysed_into_an_analysis_artifact() {
    let e = env();
    e.llm
        .push_text("## Summary\nFine.\n\n## Findings\n- low: naming\n");
    let req = AnalyzeRequest::new("fn add(a: i32, b: i32) -> i32 { a + b }")
        .with_language("rust")
        .with_analysis_type("security")
        .with_file_path("src/math.rs")
        .with_idempotency_key("an-1");
    let out = e.service.analyze_code(req.clone()).await.unwrap();
    let a = &out.artifact;
    assert_eq!(a.kind, ArtifactKind::Analysis);
    assert_eq!(a.name, "security analysis of src/math.rs");
    assert!(a.content.starts_with("## Summary"));
    assert_eq!(a.validation, Validation::Valid);
    assert_eq!(a.metadata.extra["code_language"], json!("rust"));
    let prompt = &e.llm.requests()[0].messages[0].content;
    assert!(prompt.contains("security") && prompt.contains("```rust\nfn add"));
    assert_eq!(e.interactions().await[0].purpose, "artifact:analysis");
    // Idempotent too.
    let again = e.service.analyze_code(req).await.unwrap();
    assert!(again.replayed);
    assert_eq!(e.llm.calls(), 1);

    let err = e
        .service
        .analyze_code(AnalyzeRequest::new(""))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { field, .. } if field == "code"));
}

#[tokio::test]
async fn usage_totals_match_the_artifacts() {
    let e = env();
    e.llm
        .push_text(fenced("json", "{bad"))
        .push_text(fenced("json", "{\"ok\": true}"))
        .push_text(fenced("json", "[]"));
    let a = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Data, "a"))
        .await
        .unwrap()
        .artifact;
    let b = e
        .service
        .generate(ArtifactRequest::new(ArtifactKind::Data, "b"))
        .await
        .unwrap()
        .artifact;
    let totals = e.store.usage_totals(&Default::default()).await.unwrap();
    assert_eq!(totals.calls, 3);
    let sum: Usage = a.metadata.usage + b.metadata.usage;
    assert_eq!(totals.usage, sum);
}

#[tokio::test]
async fn the_repair_round_can_be_turned_off() {
    let e = env();
    e.llm.push_text(fenced("json", "{nope"));
    let req = ArtifactRequest::new(ArtifactKind::Data, "d").with_repair(false);
    let a = e.service.generate(req).await.unwrap().artifact;
    assert!(matches!(&a.validation, Validation::Invalid(m) if m.contains("JSON")));
    assert_eq!(e.llm.calls(), 1);
    assert_eq!(a.metadata.extra["llm_calls"], json!(1));
    // The wire shape defaults to repairing.
    let r: ArtifactRequest = serde_json::from_str(r#"{"kind": "data", "title": "t"}"#).unwrap();
    assert!(r.repair);

    // Without repair, a truncated answer is stored flagged and invalid.
    let e = env();
    e.llm.push_truncated("# Title\n\nThe first part of");
    let req = ArtifactRequest::new(ArtifactKind::Document, "doc").with_repair(false);
    let a = e.service.generate(req).await.unwrap().artifact;
    assert!(matches!(&a.validation, Validation::Invalid(m) if m.contains("cut off")));
    assert_eq!(a.metadata.extra["truncated"], json!(true));
    assert_eq!(a.content, "# Title\n\nThe first part of\n");
}
