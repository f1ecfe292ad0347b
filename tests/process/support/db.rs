//! Test databases, and reading a store back after the servers stopped.

use kova::{
    Artifact, ArtifactFilter, EventFilter, InteractionFilter, Job, JobFilter, LlmInteraction,
    Store, StoreExt, WebhookEvent,
};
use std::sync::Arc;

/// Where a scenario's store lives: a SQLite file, or a fresh PostgreSQL schema.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl TestDb {
    /// A SQLite file in a new temporary directory.
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    /// A new schema in `KOVA_TEST_POSTGRES_URL`, created and migrated; `None` without the
    /// variable.
    pub async fn postgres() -> Option<TestDb> {
        let url = std::env::var("KOVA_TEST_POSTGRES_URL").ok()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_nanos();
        let schema = format!(
            "kova_proc_{:x}_{}",
            nanos & 0xffff_ffff_ffff,
            std::process::id()
        );
        let db = TestDb::Postgres { url, schema };
        db.pg().await;
        Some(db)
    }

    async fn pg(&self) -> kova::store::PostgresStore {
        let TestDb::Postgres { url, schema } = self else {
            panic!("not a postgres database")
        };
        kova::store::PostgresStore::connect(
            url,
            kova::store::PgOptions::default()
                .with_schema(schema)
                .with_max_connections(4),
        )
        .await
        .expect("connect to KOVA_TEST_POSTGRES_URL")
    }

    /// The `DATABASE_URL` a server uses for this store.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.path().join("kova.db").display()),
            // The schema exists already; the server's connections just search it.
            TestDb::Postgres { url, schema } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options[search_path]={schema}")
            }
        }
    }

    /// Opens the store (after the servers stopped) to check what they left.
    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            TestDb::Sqlite(_) => kova::store::open(&self.url()).await.expect("open sqlite"),
            TestDb::Postgres { .. } => Arc::new(self.pg().await),
        }
    }
}

/// Drops the PostgreSQL schema, also when the test failed (the SQLite directory goes with the
/// value). Drop runs inside the test's runtime, where blocking on a future is not allowed: a
/// short-lived thread with its own runtime drops the schema.
impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDb::Postgres { url, schema } = self else {
            return;
        };
        let (url, schema) = (url.clone(), schema.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Every stored event.
pub async fn all_events(store: &dyn Store) -> Vec<WebhookEvent> {
    store
        .all_events(&EventFilter::default())
        .await
        .expect("list")
}

/// Every job.
pub async fn all_jobs(store: &dyn Store) -> Vec<Job> {
    store.all_jobs(&JobFilter::default()).await.expect("list")
}

/// Every artifact.
pub async fn all_artifacts(store: &dyn Store) -> Vec<Artifact> {
    store
        .all_artifacts(&ArtifactFilter::default())
        .await
        .expect("list")
}

/// Every LLM interaction.
pub async fn all_interactions(store: &dyn Store) -> Vec<LlmInteraction> {
    store
        .all_interactions(&InteractionFilter::default())
        .await
        .expect("list")
}

/// A Prometheus sample's value, summed over every label set of `name` whose labels contain
/// `labels` (e.g. `outcome="ok"`).
pub fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
