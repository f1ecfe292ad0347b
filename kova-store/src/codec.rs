//! How domain values become column values and back, shared by the SQL backends: enums as
//! their lowercase names, nested values as JSON text, and a clear error for a row that does
//! not decode (a damaged or hand-edited database), never a panic.

use kova_core::{
    ArtifactMetadata, ArtifactSource, Error, RepoRef, Result, SyncOutcome, Validation,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A value read from a row that does not decode: the database holds something Kova never wrote.
pub(crate) fn corrupt(
    backend: &'static str,
    column: &str,
    detail: impl std::fmt::Display,
) -> Error {
    Error::backend(
        backend,
        format!("stored value of column `{column}` does not decode: {detail}"),
    )
}

/// JSON text of a value Kova serializes (maps, vectors, tagged enums): cannot fail for these
/// types, but a failure is reported rather than unwrapped.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("encoding to JSON: {e}")))
}

/// Decodes a JSON column.
pub(crate) fn from_json<T: DeserializeOwned>(
    backend: &'static str,
    column: &str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(backend, column, e))
}

/// Parses a text column into a type with `FromStr` (statuses, kinds, repository names).
pub(crate) fn parse<T>(backend: &'static str, column: &str, text: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| corrupt(backend, column, e))
}

/// Parses an optional repository column.
pub(crate) fn opt_repo(backend: &'static str, text: Option<String>) -> Result<Option<RepoRef>> {
    text.map(|t| parse(backend, "repo", &t)).transpose()
}

/// `SyncOutcome` as stored (its serde name).
pub(crate) fn sync_outcome_str(o: SyncOutcome) -> &'static str {
    match o {
        SyncOutcome::Updated => "updated",
        SyncOutcome::Unchanged => "unchanged",
        SyncOutcome::Missing => "missing",
        SyncOutcome::Failed => "failed",
    }
}

/// Reads a stored `SyncOutcome`.
pub(crate) fn sync_outcome(backend: &'static str, text: &str) -> Result<SyncOutcome> {
    Ok(match text {
        "updated" => SyncOutcome::Updated,
        "unchanged" => SyncOutcome::Unchanged,
        "missing" => SyncOutcome::Missing,
        "failed" => SyncOutcome::Failed,
        other => return Err(corrupt(backend, "outcome", format!("'{other}'"))),
    })
}

/// The event an artifact came from, kept in its own indexed column for filtering.
pub(crate) fn source_event(source: &ArtifactSource) -> Option<i64> {
    match source {
        ArtifactSource::Event(id) => Some(id.0),
        _ => None,
    }
}

/// The encoded (source, validation, metadata) of an artifact.
pub(crate) fn artifact_json(
    source: &ArtifactSource,
    validation: &Validation,
    metadata: &ArtifactMetadata,
) -> Result<(String, String, String)> {
    Ok((to_json(source)?, to_json(validation)?, to_json(metadata)?))
}

/// Microseconds since the epoch: SQLite's timestamp column type, exact to what every backend
/// keeps (see [`kova_core::time::to_micros`]).
#[cfg(feature = "sqlite")]
pub(crate) fn micros(ts: kova_core::Timestamp) -> i64 {
    ts.timestamp_micros()
}

/// The timestamp for stored microseconds.
#[cfg(feature = "sqlite")]
pub(crate) fn from_micros(
    backend: &'static str,
    column: &str,
    us: i64,
) -> Result<kova_core::Timestamp> {
    chrono::DateTime::from_timestamp_micros(us)
        .ok_or_else(|| corrupt(backend, column, format!("{us} is out of range")))
}

/// An unsigned counter as a signed 64-bit column; values beyond `i64::MAX` are refused rather
/// than wrapped.
pub(crate) fn u64_col(field: &str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::invalid(field, "must be at most 9223372036854775807"))
}

/// A signed column back to an unsigned counter.
pub(crate) fn col_u64(backend: &'static str, column: &str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(backend, column, format!("negative value {v}")))
}

/// A signed column back to an unsigned 32-bit counter.
pub(crate) fn col_u32(backend: &'static str, column: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(backend, column, format!("value {v} out of range")))
}

/// The conflict for a job the worker does not hold.
pub(crate) fn not_held(id: i64, worker: &str) -> Error {
    Error::Conflict {
        message: format!(
            "job {id} is not held by worker {worker} (its lease expired or it finished)"
        ),
    }
}
