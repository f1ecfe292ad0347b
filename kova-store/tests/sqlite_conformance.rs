//! The whole Store conformance suite on the SQLite backend, each test on a fresh file.
#![cfg(feature = "sqlite")]

use kova_store::{SqliteOptions, SqliteStore};

/// A store on a new file in its own temporary directory, removed with the store.
struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TempStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

async fn fresh() -> TempStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("kova.db"), SqliteOptions::default())
        .await
        .expect("open sqlite");
    TempStore { store, _dir: dir }
}

kova_core::conformance_suite!(async { fresh().await });

/// The same suite on `sqlite::memory:` (reads through the writer).
mod in_memory {
    use kova_store::{SqliteOptions, SqliteStore};
    kova_core::conformance_suite!(async {
        Box::new(
            SqliteStore::open_in_memory(SqliteOptions::default())
                .await
                .expect("open in memory"),
        )
    });
}
