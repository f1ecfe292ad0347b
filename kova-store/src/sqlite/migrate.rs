//! Embedded, versioned schema migrations for SQLite.

use super::error::SqlResultExt;
use kova_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension};

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_body_codec.sql"),
    include_str!("../../migrations/sqlite/0003_event_lookups.sql"),
];

/// The schema version this build writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`LATEST`] in one transaction (a failing migration leaves the schema
/// as it was). A database written
/// by a newer Kova is refused: this build would not know its tables.
pub(super) fn migrate(conn: &mut Connection, shown: &str) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .db()?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version     INTEGER NOT NULL,
             applied_at  INTEGER NOT NULL
         )",
    )
    .db()?;
    let current: i64 = tx
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()
        .db()?
        .flatten()
        .unwrap_or(0);
    if current > LATEST {
        return Err(Error::Config(format!(
            "the SQLite database {shown} has schema version {current}, newer than the \
             version {LATEST} this build of Kova knows: upgrade Kova to open it"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        tx.execute_batch(sql).map_err(|e| {
            Error::backend(
                "sqlite",
                format!("migration to schema version {version} failed: {e}"),
            )
        })?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
            (version, chrono::Utc::now().timestamp_micros()),
        )
        .db()?;
    }
    tx.commit().db()
}
