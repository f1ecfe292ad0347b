//! Embedded, versioned schema migrations for PostgreSQL.

use super::error::PgResultExt;
use kova_core::{Error, Result};
use sqlx::{PgPool, Row};

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_body_lz4.sql"),
    include_str!("../../migrations/postgres/0003_jobs_autovacuum.sql"),
    include_str!("../../migrations/postgres/0004_body_codec.sql"),
];

/// The schema version this build writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Creates the schema if asked, then brings it to [`LATEST`] in one transaction. Processes
/// starting together serialize on an advisory lock, so each migration runs once. A schema
/// written by a newer Kova is refused with [`Error::Config`].
pub(super) async fn migrate(pool: &PgPool, schema: Option<&str>) -> Result<()> {
    let mut tx = pool.begin().await.db()?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('kova:migrate', 0))")
        .execute(&mut *tx)
        .await
        .db()?;
    if let Some(s) = schema {
        // `s` was validated as a plain identifier; quoting keeps it exact.
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""))
            .execute(&mut *tx)
            .await
            .db()?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version     BIGINT NOT NULL,
             applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *tx)
    .await
    .db()?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        .fetch_one(&mut *tx)
        .await
        .db()?
        .try_get(0)
        .db()?;
    if current > LATEST {
        let shown = schema.unwrap_or("the connection's default schema");
        return Err(Error::Config(format!(
            "the PostgreSQL schema {shown} has Kova schema version {current}, newer than the \
             version {LATEST} this build of Kova knows: upgrade Kova to use it"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| {
            Error::backend(
                "postgres",
                format!("migration to schema version {version} failed: {e}"),
            )
        })?;
        sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    super::routines::install(&mut tx).await?;
    tx.commit().await.db()
}
