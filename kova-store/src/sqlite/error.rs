//! rusqlite errors mapped into Kova's by kind.

use kova_core::Error;
use rusqlite::ErrorCode;

/// Maps a rusqlite error: busy/locked are transient, a constraint violation is a conflict, a
/// damaged file says so; the library error is kept as the source.
pub(crate) fn sqlite_err(e: rusqlite::Error) -> Error {
    let (message, transient) = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                ("the database is busy".to_string(), true)
            }
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => (
                format!("the database file is damaged or not a SQLite database: {e}"),
                false,
            ),
            ErrorCode::DiskFull => ("the disk is full".to_string(), true),
            ErrorCode::ConstraintViolation => {
                return Error::Conflict {
                    message: format!("sqlite constraint violated: {e}"),
                }
            }
            _ => (e.to_string(), false),
        },
        _ => (e.to_string(), false),
    };
    Error::Backend {
        backend: "sqlite",
        message,
        transient,
        source: Some(Box::new(e)),
    }
}

/// `?` for rusqlite results inside the store.
pub(crate) trait SqlResultExt<T> {
    /// Maps the error with [`sqlite_err`].
    fn db(self) -> kova_core::Result<T>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn db(self) -> kova_core::Result<T> {
        self.map_err(sqlite_err)
    }
}
