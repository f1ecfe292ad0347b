//! # kova-store
//!
//! Store backends for Kova. [`MemoryStore`] is always here; [`SqliteStore`] comes with the
//! `sqlite` feature and [`PostgresStore`] with the `postgres` feature. [`open`] picks one from a
//! URL.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = kova_store::open("memory:").await.unwrap();
//! assert_eq!(store.backend(), "memory");
//! # }
//! ```

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod body;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod codec;
mod memory;
mod open;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use memory::MemoryStore;
pub use open::{open, redact_url};
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous, WriteStats};
