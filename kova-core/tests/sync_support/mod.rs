//! Shared fixtures for the sync tests: a six-repository organisation on a `FakeSource`, a
//! sleeper that records waits (and moves a manual clock), and a source wrapper that yields
//! and counts requests in flight.

#![allow(dead_code)]

use async_trait::async_trait;
use chrono::TimeZone;
use kova_core::config::{NamePattern, RepoEntry, ReposConfig};
use kova_core::source::*;
use kova_core::sync::*;
use kova_core::testing::{FakeSource, ManualClock};
use kova_core::*;
use kova_store::MemoryStore;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn r(s: &str) -> RepoRef {
    s.parse().unwrap()
}

pub fn t0() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

/// Records every wait; advances the manual clock by it; never really sleeps.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    pub waits: Mutex<Vec<Duration>>,
    pub clock: Option<Arc<ManualClock>>,
}

impl RecordingSleeper {
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
}

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, d: Duration) {
        self.waits.lock().unwrap().push(d);
        if let Some(c) = &self.clock {
            c.advance(d);
        }
    }
}

pub fn commit(sha: &str) -> CommitSummary {
    CommitSummary {
        sha: sha.into(),
        message: format!("commit {sha}"),
        author: Some("dev".into()),
        date: Some(t0()),
    }
}

pub const CARGO: &str = r#"[package]
name = "orchestrator"
version = "1.2.0"
[dependencies]
serde = { version = "1", features = ["derive"] }
tokio = "1"
[dev-dependencies]
proptest = "1"
"#;

pub const K8S: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orchestrator\n  \
namespace: prod\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: orchestrator\n  namespace: prod\n";

/// The organisation: six configured repositories (one missing on the host, one flaky added by
/// the test, one with a truncated tree) and two unconfigured ones for discovery.
pub struct Org {
    pub host: Arc<FakeSource>,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub sleeper: Arc<RecordingSleeper>,
    pub config: ReposConfig,
}

pub const CONFIGURED: [(&str, u8); 6] = [
    ("octo/orchestrator", 1),
    ("octo/kova-ai-docengine", 2),
    ("octo/flaky", 3),
    ("octo/huge", 3),
    ("octo/ghost", 4),
    ("octo/goapp", 5),
];

pub fn org() -> Org {
    let host = Arc::new(FakeSource::new());
    let add = |name: &str, lang: &str, topics: &[&str], files: &[(&str, &str)]| {
        let repo = r(name);
        let mut remote = FakeSource::remote(&repo);
        remote.language = Some(lang.into());
        remote.topics = topics.iter().map(|t| t.to_string()).collect();
        remote.stars = 7;
        remote.description = Some(format!("{name} on the host"));
        host.add_repo(remote);
        for (path, content) in files {
            host.put_file(&repo, path, content.to_string());
        }
        host.push_commit(&repo, commit(&format!("{}-1", repo.name())));
        host.set_languages(&repo, BTreeMap::from([(lang.to_string(), 1000)]));
    };
    add(
        "octo/orchestrator",
        "Rust",
        &["kubernetes"],
        &[
            ("README.md", "# Orchestrator\nRuns everything."),
            ("Cargo.toml", CARGO),
            ("k8s/deploy.yaml", K8S),
            (
                "Dockerfile",
                "FROM rust:1.82 AS build\nFROM debian:bookworm\nEXPOSE 8080\n",
            ),
            ("src/main.rs", "fn main() {}"),
            (".github/workflows/ci.yml", "on: push\n"),
        ],
    );
    add(
        "octo/kova-ai-docengine",
        "TypeScript",
        &[],
        &[
            ("readme.rst", "Docengine"),
            (
                "package.json",
                r#"{"name":"docengine","dependencies":{"marked":"^12"},"devDependencies":{"vitest":"^1"}}"#,
            ),
            ("tools/requirements.txt", "requests==2.31\n"),
        ],
    );
    add(
        "octo/flaky",
        "Python",
        &[],
        &[(
            "pyproject.toml",
            "[project]\nname='flaky'\ndependencies=['httpx>=0.27']\n",
        )],
    );
    add(
        "octo/huge",
        "C",
        &[],
        &[("README", "big"), ("src/a.c", "int main;")],
    );
    host.set_tree_truncated(&r("octo/huge"), true);
    add(
        "octo/goapp",
        "Go",
        &[],
        &[(
            "go.mod",
            "module example.com/goapp\n\ngo 1.22\nrequire golang.org/x/sync v0.7.0\n",
        )],
    );
    add("octo/kova-website", "HTML", &[], &[]);
    add("octo/kova-ai-newthing", "Rust", &["ai"], &[]);
    add("other/k8s-tool", "Go", &["kubernetes"], &[]);

    let mut config = ReposConfig::new("octo");
    for (name, prio) in CONFIGURED {
        let mut e = RepoEntry::new(r(name), RepoKind::Service);
        e.sync_priority = prio;
        config.upsert_entry(e);
    }
    config.discovery_settings.repo_name_pattern = Some(NamePattern::new("kova-ai-*").unwrap());
    config.discovery_settings.topics = vec!["kubernetes".into()];
    let clock = Arc::new(ManualClock::new(t0()));
    Org {
        host,
        store: Arc::new(MemoryStore::new()),
        sleeper: Arc::new(RecordingSleeper {
            waits: Mutex::new(Vec::new()),
            clock: Some(clock.clone()),
        }),
        clock,
        config,
    }
}

impl Org {
    pub fn builder_with(&self, source: Arc<dyn SourceHost>) -> SyncServiceBuilder {
        SyncService::builder(self.store.clone(), source)
            .with_clock(self.clock.clone())
            .with_sleeper(self.sleeper.clone())
            .with_config(self.config.clone(), None)
    }

    pub fn service(&self) -> SyncService {
        self.builder_with(self.host.clone()).build()
    }

    /// Calls made so far, from index `from`.
    pub fn calls_since(&self, from: usize) -> Vec<String> {
        self.host.calls()[from..].to_vec()
    }
}

/// Collects progress events.
pub fn collector() -> (ProgressSink, Arc<Mutex<Vec<SyncProgress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (
        Arc::new(move |p: &SyncProgress| e.lock().unwrap().push(p.clone())),
        events,
    )
}

/// A `SourceHost` that yields a few times inside every call (so concurrent syncs really
/// interleave) and counts requests in flight, overall and per repository.
#[derive(Debug)]
pub struct Gated {
    pub inner: Arc<FakeSource>,
    pub yields: usize,
    now: AtomicUsize,
    pub max: AtomicUsize,
    per_repo: Mutex<HashMap<String, usize>>,
    pub max_per_repo: AtomicUsize,
}

impl Gated {
    pub fn new(inner: Arc<FakeSource>, yields: usize) -> Self {
        Gated {
            inner,
            yields,
            now: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
            per_repo: Mutex::new(HashMap::new()),
            max_per_repo: AtomicUsize::new(0),
        }
    }

    async fn around<T>(
        &self,
        repo: Option<&RepoRef>,
        f: impl std::future::Future<Output = T>,
    ) -> T {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
        if let Some(repo) = repo {
            let mut m = self.per_repo.lock().unwrap();
            let c = m.entry(repo.full_name()).or_default();
            *c += 1;
            self.max_per_repo.fetch_max(*c, Ordering::SeqCst);
        }
        for _ in 0..self.yields {
            tokio::task::yield_now().await;
        }
        let out = f.await;
        if let Some(repo) = repo {
            *self
                .per_repo
                .lock()
                .unwrap()
                .get_mut(&repo.full_name())
                .unwrap() -= 1;
        }
        self.now.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

#[async_trait]
impl SourceHost for Gated {
    fn name(&self) -> &str {
        "gated"
    }
    async fn get_repo(&self, repo: &RepoRef) -> Result<RemoteRepo> {
        self.around(Some(repo), self.inner.get_repo(repo)).await
    }
    async fn list_owner_repos(&self, owner: &str) -> Result<Vec<RemoteRepo>> {
        self.around(None, self.inner.list_owner_repos(owner)).await
    }
    async fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>> {
        self.around(None, self.inner.search_repos(query)).await
    }
    async fn get_tree(&self, repo: &RepoRef, git_ref: &str) -> Result<Tree> {
        self.around(Some(repo), self.inner.get_tree(repo, git_ref))
            .await
    }
    async fn get_file(
        &self,
        repo: &RepoRef,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<FileContent> {
        self.around(Some(repo), self.inner.get_file(repo, path, git_ref))
            .await
    }
    async fn get_languages(&self, repo: &RepoRef) -> Result<BTreeMap<String, u64>> {
        self.around(Some(repo), self.inner.get_languages(repo))
            .await
    }
    async fn list_commits(&self, repo: &RepoRef, q: &CommitQuery) -> Result<Vec<CommitSummary>> {
        self.around(Some(repo), self.inner.list_commits(repo, q))
            .await
    }
    async fn compare(&self, repo: &RepoRef, base: &str, head: &str) -> Result<Comparison> {
        self.inner.compare(repo, base, head).await
    }
    async fn get_pull_request(&self, repo: &RepoRef, n: u64) -> Result<PullRequest> {
        self.inner.get_pull_request(repo, n).await
    }
    async fn pull_request_files(&self, repo: &RepoRef, n: u64) -> Result<Vec<ChangedFile>> {
        self.inner.pull_request_files(repo, n).await
    }
    async fn list_issue_comments(&self, repo: &RepoRef, n: u64) -> Result<Vec<IssueComment>> {
        self.inner.list_issue_comments(repo, n).await
    }
    async fn create_issue_comment(
        &self,
        repo: &RepoRef,
        n: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.inner.create_issue_comment(repo, n, body).await
    }
    async fn update_issue_comment(
        &self,
        repo: &RepoRef,
        id: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.inner.update_issue_comment(repo, id, body).await
    }
}
