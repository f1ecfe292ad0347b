//! Shared set-up for the artifacts integration tests: a memory store, a scripted LLM, a fake
//! source host and a manual clock behind one `ArtifactService`.

#![allow(dead_code)]

use kova_core::artifacts::ArtifactService;
use kova_core::testing::{FakeSource, ManualClock, ScriptedLlm};
use kova_core::{
    InteractionFilter, ListOptions, LlmInteraction, LlmProvider, RepoRef, SourceHost, Store,
};
use kova_store::MemoryStore;
use std::sync::Arc;

/// Everything a test needs, with handles on the doubles.
pub struct Env {
    pub store: Arc<MemoryStore>,
    pub llm: Arc<ScriptedLlm>,
    pub source: Arc<FakeSource>,
    pub clock: Arc<ManualClock>,
    pub service: ArtifactService,
}

pub fn start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// A service with an LLM and a source host.
pub fn env() -> Env {
    env_with(ScriptedLlm::new().with_price(3.0, 15.0))
}

/// A service with the given scripted LLM and a source host.
pub fn env_with(llm: ScriptedLlm) -> Env {
    let store = Arc::new(MemoryStore::new());
    let llm = Arc::new(llm);
    let source = Arc::new(FakeSource::new());
    let clock = Arc::new(ManualClock::new(start()));
    let service = ArtifactService::new(
        store.clone() as Arc<dyn Store>,
        Some(llm.clone() as Arc<dyn LlmProvider>),
        Some(source.clone() as Arc<dyn SourceHost>),
        clock.clone(),
    );
    Env {
        store,
        llm,
        source,
        clock,
        service,
    }
}

impl Env {
    /// Every recorded interaction, oldest first.
    pub async fn interactions(&self) -> Vec<LlmInteraction> {
        let mut v = self
            .store
            .list_interactions(
                &InteractionFilter::default(),
                &ListOptions::default().with_limit(1000),
            )
            .await
            .unwrap()
            .items;
        v.reverse();
        v
    }
}

pub fn repo(s: &str) -> RepoRef {
    s.parse().unwrap()
}

/// A fake repository with a README, sources, manifests and commits.
pub fn seed_repo(source: &FakeSource, name: &str) -> RepoRef {
    let r = repo(name);
    let mut remote = FakeSource::remote(&r);
    remote.description = Some("Webhook relay service".into());
    remote.language = Some("Rust".into());
    source.add_repo(remote);
    source
        .put_file(&r, "README.md", "# Relay\nReceives GitHub webhooks and relays them.\n")
        .put_file(
            &r,
            "src/webhook.rs",
            "/// Verifies the X-Hub-Signature-256 header with HMAC-SHA256 in constant time.\npub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool { todo() }\n",
        )
        .put_file(&r, "src/main.rs", "fn main() { relay::run(); }\n")
        .put_file(&r, "src/queue.rs", "pub struct Queue; // retries with backoff\n")
        .put_file(&r, "docs/logo.png", vec![0x89u8, 0x50, 0x4e, 0x47])
        .put_file(
            &r,
            "Cargo.toml",
            "[package]\nname = \"relay\"\nversion = \"0.3.0\"\n[dependencies]\nhmac = \"0.12\"\n",
        );
    r
}
