//! The whole Store conformance suite on PostgreSQL, when `KOVA_TEST_POSTGRES_URL` is set; each
//! test runs in its own fresh schema. Without the variable each test prints a notice and passes.
#![cfg(feature = "postgres")]

use kova_store::{PgOptions, PostgresStore};
use rand::Rng;

/// A store in a new `kova_test_<random>` schema, or `None` without a test database.
async fn fresh() -> Option<Box<PostgresStore>> {
    let url = std::env::var("KOVA_TEST_POSTGRES_URL").ok()?;
    let schema = format!("kova_test_{:016x}", rand::thread_rng().gen::<u64>());
    let store = PostgresStore::connect(
        &url,
        PgOptions::default()
            .with_schema(schema)
            .with_max_connections(8),
    )
    .await
    .expect("connect to KOVA_TEST_POSTGRES_URL");
    Some(Box::new(store))
}

kova_core::conformance_suite!(optional: async { fresh().await });
