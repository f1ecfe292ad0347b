//! Scanning a local directory with `std::fs`. Blocking: call it from
//! `tokio::task::spawn_blocking` (or a dedicated thread) in async code.

use super::{Builder, ScanOptions, ScanReport, ScanTarget};
use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// Scans the directory at `path`: walks it (skipping [`ScanOptions::skip_dirs`], never
/// following symbolic links, so the walk cannot loop or leave the directory), counts files by
/// language, and reads manifests — within the limits of `opts`.
///
/// This is blocking file-system work: from async code, run it with `spawn_blocking`:
///
/// ```ignore
/// let report = tokio::task::spawn_blocking(move || scan_local_path(&path, &opts)).await??;
/// ```
///
/// Errors: [`Error::Invalid`] (field `path`) when the path is empty, not a directory, or
/// outside [`ScanOptions::allowed_roots`]; [`Error::NotFound`] when it does not exist.
pub fn scan_local_path(path: &Path, opts: &ScanOptions) -> Result<ScanReport> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid("path", "must not be empty"));
    }
    let root = fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found("directory", path.display()),
        _ => Error::invalid("path", format!("cannot be read: {e}")),
    })?;
    if !root.is_dir() {
        return Err(Error::invalid("path", "must be a directory"));
    }
    if !opts.allowed_roots.is_empty()
        && !opts
            .allowed_roots
            .iter()
            .filter_map(|r| fs::canonicalize(r).ok())
            .any(|r| root.starts_with(r))
    {
        return Err(Error::invalid(
            "path",
            "is outside the directories this server allows scanning",
        ));
    }
    let mut b = Builder::new(
        ScanTarget::Local {
            path: path.display().to_string(),
        },
        opts,
    );
    let mut skipped_links = 0u64;
    let mut unreadable = Vec::new();
    // Depth-first, entries sorted by name, so reports are deterministic.
    let mut stack: Vec<PathBuf> = vec![root.clone()];
    'walk: while let Some(dir) = stack.pop() {
        let mut entries: Vec<fs::DirEntry> = match fs::read_dir(&dir) {
            Ok(rd) => rd.filter_map(|e| e.ok()).collect(),
            Err(e) => {
                unreadable.push(format!("{}: {e}", rel(&root, &dir)));
                continue;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let Ok(meta) = fs::symlink_metadata(entry.path()) else {
                unreadable.push(rel(&root, &entry.path()));
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if meta.file_type().is_symlink() {
                skipped_links += 1;
            } else if meta.is_dir() {
                if !opts.skips(&name) {
                    subdirs.push(entry.path());
                }
            } else if meta.is_file() {
                if !b.room() {
                    break 'walk;
                }
                b.add_file(&rel(&root, &entry.path()), meta.len());
            }
        }
        b.report.directory_count += subdirs.len() as u64;
        // Reverse so the first directory by name is walked first.
        stack.extend(subdirs.into_iter().rev());
    }
    for (path, _, kind) in b.take_candidates() {
        match fs::read(root.join(&path)) {
            Ok(bytes) => b.add_manifest(&path, kind, &bytes),
            Err(e) => unreadable.push(format!("{path}: {e}")),
        }
    }
    if skipped_links > 0 {
        b.report
            .notes
            .push(format!("{skipped_links} symbolic links not followed"));
    }
    if !unreadable.is_empty() {
        b.report.notes.push(format!(
            "{} entries could not be read: {}",
            unreadable.len(),
            unreadable
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(b.finish())
}

/// `path` relative to `root`, `/`-separated on every platform.
fn rel(root: &Path, path: &Path) -> String {
    let p = path.strip_prefix(root).unwrap_or(path);
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
