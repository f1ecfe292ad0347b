//! # kova-store
//!
//! Store backends for Kova. [`MemoryStore`] is always here; SQLite and PostgreSQL come with the
//! `sqlite` and `postgres` features. [`open`] picks one from a URL.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = kova_store::open("memory:").await.unwrap();
//! assert_eq!(store.backend(), "memory");
//! # }
//! ```

mod memory;
mod open;

pub use memory::MemoryStore;
pub use open::open;
