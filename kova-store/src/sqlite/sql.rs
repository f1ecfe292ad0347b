//! Small query helpers over rusqlite that speak Kova's `Result`, and newest-first paging.

use super::error::SqlResultExt;
use kova_core::{ListOptions, Page, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, Params, Row};

/// Runs a query and maps every row.
pub(super) fn collect<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    f: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(f(row)?);
    }
    Ok(out)
}

/// Runs a query and maps its first row, if any.
pub(super) fn opt_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    f: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    match rows.next().db()? {
        Some(row) => Ok(Some(f(row)?)),
        None => Ok(None),
    }
}

/// A newest-first page of `table` whose rows match the `(column, value)` equalities, resuming
/// below the cursor. With an index on `(column, id)` for each filter this is a range scan.
pub(super) fn page_desc<T>(
    conn: &Connection,
    table: &str,
    cols: &str,
    filters: Vec<(&str, Value)>,
    opts: &ListOptions,
    f: impl Fn(&Row<'_>) -> Result<T>,
    id_of: impl Fn(&T) -> i64,
) -> Result<Page<T>> {
    let limit = opts.effective_limit();
    let below = opts.id_cursor()?.unwrap_or(i64::MAX);
    let mut sql = format!("SELECT {cols} FROM {table} WHERE id < ?1");
    let mut values: Vec<Value> = vec![Value::Integer(below)];
    for (col, v) in filters {
        values.push(v);
        sql.push_str(&format!(" AND {col} = ?{}", values.len()));
    }
    values.push(Value::Integer(limit as i64 + 1));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", values.len()));
    let items = collect(conn, &sql, rusqlite::params_from_iter(values), f)?;
    Ok(Page::from_overfetch(items, limit, |t| {
        Page::<()>::id_cursor(id_of(t))
    }))
}

/// A text filter value.
pub(super) fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}
