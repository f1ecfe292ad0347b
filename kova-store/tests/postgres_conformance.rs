//! The whole Store conformance suite on PostgreSQL, when `KOVA_TEST_POSTGRES_URL` is set; each
//! test runs in its own fresh schema, dropped afterwards. Without the variable each test prints
//! a notice and passes.
#![cfg(feature = "postgres")]

use kova_store::{PgOptions, PostgresStore};
use rand::Rng;

/// A store in its own `kova_test_<random>` schema; dropping it drops the schema.
struct TestSchema {
    store: Option<PostgresStore>,
    url: String,
    schema: String,
}

impl std::ops::Deref for TestSchema {
    type Target = PostgresStore;
    fn deref(&self) -> &PostgresStore {
        self.store.as_ref().expect("store")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, where blocking on a future is not allowed: a
        // short-lived thread with its own runtime drops the schema.
        drop(self.store.take());
        let (url, schema) = (self.url.clone(), self.schema.clone());
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

/// A store in a new schema, or `None` without a test database.
async fn fresh() -> Option<TestSchema> {
    let url = std::env::var("KOVA_TEST_POSTGRES_URL").ok()?;
    let schema = format!("kova_test_{:016x}", rand::thread_rng().gen::<u64>());
    let store = PostgresStore::connect(
        &url,
        PgOptions::default()
            .with_schema(&schema)
            .with_max_connections(8),
    )
    .await
    .expect("connect to KOVA_TEST_POSTGRES_URL");
    Some(TestSchema {
        store: Some(store),
        url,
        schema,
    })
}

kova_core::conformance_suite!(optional: async { fresh().await });
