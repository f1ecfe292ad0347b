//! Choosing a backend from a URL.

use crate::MemoryStore;
use kova_core::{Error, Result, Store};
use std::sync::Arc;

/// A URL with any password replaced, for messages (kept here for existing callers).
pub use kova_core::config::redact_url;

/// Opens the store a URL names:
/// - `memory:` — in-process, lost on exit (tests, experiments);
/// - `sqlite://path` (also `sqlite:path`; `sqlite:///abs/path` for an absolute path),
///   `sqlite::memory:`, with an optional `?synchronous=normal|full` — needs the `sqlite`
///   feature; see [`SqliteStore`](crate::SqliteStore);
/// - `postgres://…`, `postgresql://…`, with an optional `?schema=name` for Kova's tables
///   (created if missing; else the connection's default schema, usually `public`) — needs
///   the `postgres` feature; see [`PostgresStore`](crate::PostgresStore).
///
/// A scheme this build does not include is a clear [`Error::Config`] naming the feature.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "memory" => {
            if url != "memory:" && url != "memory://" {
                return Err(Error::Config(format!(
                    "memory store URL takes no path: use 'memory:' (got '{url}')"
                )));
            }
            Ok(Arc::new(MemoryStore::new()))
        }
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Arc::new(crate::sqlite::open_url(url).await?)),
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => Err(Error::Config(
            "sqlite store support is not compiled in: enable the `sqlite` feature of kova-store".into(),
        )),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(
            crate::postgres::PostgresStore::connect(url, crate::postgres::PgOptions::default())
                .await?,
        )),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(Error::Config(
            "postgres store support is not compiled in: enable the `postgres` feature of kova-store".into(),
        )),
        _ => Err(Error::Config(format!(
            "unknown store URL scheme in '{}': expected memory:, sqlite://path or postgres://…",
            redact_url(url)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_memory_and_explains_the_rest() {
        assert_eq!(open("memory:").await.unwrap().backend(), "memory");
        match open("memory:/x").await {
            Err(Error::Config(m)) => assert!(m.contains("takes no path")),
            other => panic!("{other:?}"),
        }
        match open("mysql://u:hunter2@h/db").await {
            Err(Error::Config(m)) => {
                assert!(m.contains("unknown store URL scheme"));
                assert!(!m.contains("hunter2"), "password leaked: {m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
