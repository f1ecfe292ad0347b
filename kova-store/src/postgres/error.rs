//! sqlx errors mapped into Kova's by kind (SQLSTATE codes, never message text).

use kova_core::Error;

/// Maps a sqlx error: lost connections, pool timeouts, serialization failures and deadlocks
/// are transient; a unique violation is a conflict; the library error is kept as the source.
pub(crate) fn pg_err(e: sqlx::Error) -> Error {
    let transient = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // unique_violation: lost a race to insert the same key.
            Some("23505") => {
                return Error::Conflict {
                    message: format!("postgres unique constraint violated: {}", db.message()),
                }
            }
            // serialization_failure, deadlock_detected, admin/crash shutdown,
            // cannot_connect_now, too_many_connections, insufficient resources.
            Some(c) => {
                matches!(c, "40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300")
                    || c.starts_with("08")
                    || c.starts_with("53")
            }
            None => false,
        },
        _ => false,
    };
    let message = match &e {
        // The connection error text never contains the password (sqlx does not echo it), but
        // the URL is not repeated here either.
        sqlx::Error::Database(db) => format!(
            "{} (SQLSTATE {})",
            db.message(),
            db.code().unwrap_or_default()
        ),
        other => other.to_string(),
    };
    Error::Backend {
        backend: "postgres",
        message,
        transient,
        source: Some(Box::new(e)),
    }
}

/// `?` for sqlx results inside the store.
pub(crate) trait PgResultExt<T> {
    /// Maps the error with [`pg_err`].
    fn db(self) -> kova_core::Result<T>;
}

impl<T> PgResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> kova_core::Result<T> {
        self.map_err(pg_err)
    }
}
