//! The VFS under a real SQLite: a writer through it, readers, checkpoints and WAL recovery
//! through the plain unix VFS, and writes the file refuses.

use super::{register, VfsData};
use rand::{Rng, SeedableRng};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::ffi::CString;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Test switches of one registered VFS: count the writes SQLite makes to the WAL and the writes
/// that reach the file; refuse the latter on demand.
#[derive(Debug, Default)]
pub(super) struct Faults {
    refuse: AtomicBool,
    received: AtomicU64,
    written: AtomicU64,
}

impl Faults {
    /// Called for each write SQLite makes to a WAL file.
    pub(super) fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    /// Called before each write to the WAL file: `Some(code)` refuses it.
    pub(super) fn before_write(&self) -> Option<c_int> {
        if self.refuse.load(Ordering::SeqCst) {
            return Some(rusqlite::ffi::SQLITE_IOERR_WRITE);
        }
        self.written.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// A VFS of its own for one test (so tests running at once do not share switches).
fn test_vfs(label: &str) -> (&'static str, &'static Faults) {
    let name = CString::new(format!("kova-wal-test-{label}")).unwrap();
    let name = Box::leak(name.into_boxed_c_str());
    let data = VfsData {
        inner: std::ptr::null_mut(),
        faults: Faults::default(),
    };
    let (name, data) = register(name, data).expect("the unix VFS is there");
    (name, &data.faults)
}

/// A path for a new database in a directory removed when the guard drops.
fn scratch_database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    (dir, path)
}

fn writer(path: &Path, vfs: &str) -> Connection {
    let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, tx INTEGER NOT NULL, v BLOB NOT NULL);
         CREATE INDEX IF NOT EXISTS t_tx ON t (tx);
         CREATE TABLE IF NOT EXISTS ledger (tx INTEGER PRIMARY KEY, rows INTEGER NOT NULL);",
    )
    .unwrap();
    conn
}

/// Row `id`'s value: its length and bytes follow from the id, so any torn or stale page shows.
fn value(id: i64) -> Vec<u8> {
    let len = 200 + (id as usize * 7919) % 3000;
    (0..len).map(|i| (id as usize + i * 31) as u8).collect()
}

/// Inserts transaction `tx`'s `rows` rows and its ledger line.
fn insert(conn: &Connection, tx: i64, rows: i64, first_id: i64) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("INSERT INTO t (id, tx, v) VALUES (?1, ?2, ?3)")?;
    for id in first_id..first_id + rows {
        stmt.execute(params![id, tx, value(id)])?;
    }
    conn.execute(
        "INSERT INTO ledger (tx, rows) VALUES (?1, ?2)",
        params![tx, rows],
    )?;
    Ok(())
}

/// Inserts and commits transaction `tx` (see `insert`).
fn commit(conn: &Connection, tx: i64, rows: i64, first_id: i64) {
    conn.execute_batch("BEGIN").unwrap();
    insert(conn, tx, rows, first_id).unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

/// In one read transaction: every transaction in the ledger has exactly its rows, with their
/// values, and no row belongs to a transaction missing from the ledger. Returns the row count.
fn check(conn: &mut Connection) -> i64 {
    let tx = conn.transaction().unwrap();
    let mut expected = std::collections::HashMap::new();
    for row in tx
        .prepare("SELECT tx, rows FROM ledger")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (t, n) = row.unwrap();
        expected.insert(t, n);
    }
    let mut seen = std::collections::HashMap::new();
    let mut count = 0;
    for row in tx
        .prepare("SELECT id, tx, v FROM t")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .unwrap()
    {
        let (id, t, v) = row.unwrap();
        assert!(v == value(id), "row {id} has a wrong value");
        *seen.entry(t).or_insert(0i64) += 1;
        count += 1;
    }
    assert_eq!(seen, expected, "transactions seen in part");
    count
}

fn reader(path: &Path) -> Connection {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap()
}

/// Copies the database and its WAL as a crash would leave them (no shared memory, so SQLite
/// rebuilds the index from the WAL's frames and checksums), and opens the copy.
fn recovered_copy(path: &Path, into: &Path) -> Connection {
    let copy = into.join("copy.db");
    for stale in ["copy.db-wal", "copy.db-shm"] {
        let _ = std::fs::remove_file(into.join(stale));
    }
    std::fs::copy(path, &copy).unwrap();
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        std::fs::copy(&wal, into.join("copy.db-wal")).unwrap();
    }
    let conn = Connection::open(&copy).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    conn
}

#[test]
fn readers_checkpoints_and_recovery_see_every_commit_whole_while_writes_are_gathered() {
    let (vfs, faults) = test_vfs("readers");
    let (_dir, path) = scratch_database();
    let mut w = writer(&path, vfs);
    // A small WAL limit restarts the WAL often, and a small cache makes big transactions spill
    // frames before their commit.
    w.execute_batch("PRAGMA wal_autocheckpoint = 200; PRAGMA cache_size = 20;")
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let (path, done) = (path.clone(), done.clone());
            std::thread::spawn(move || {
                let mut conn = reader(&path);
                let mut checks = 0;
                while !done.load(Ordering::Acquire) {
                    if i == 2 {
                        // A second process's checkpointer would do the same.
                        let rw = Connection::open(&path).unwrap();
                        rw.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                            .unwrap();
                    }
                    check(&mut conn);
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut next_id = 1;
    for tx in 0..400 {
        let rows = if tx % 25 == 0 {
            300
        } else {
            rng.gen_range(1..40)
        };
        let t = w.transaction().unwrap();
        insert(&t, tx, rows, next_id).unwrap();
        if tx % 25 == 0 {
            // Pages written before the commit (spilled) and then changed again: SQLite rewrites
            // those frames in place and their checksums after the commit frame.
            t.execute("UPDATE t SET v = v WHERE tx = ?1", [tx]).unwrap();
        }
        t.commit().unwrap();
        next_id += rows;
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    let mut conn = reader(&path);
    assert_eq!(check(&mut conn), next_id - 1);
    let copy_dir = tempfile::tempdir().unwrap();
    let mut copy = recovered_copy(&path, copy_dir.path());
    assert_eq!(check(&mut copy), next_id - 1);

    let (received, written) = (
        faults.received.load(Ordering::Relaxed),
        faults.written.load(Ordering::Relaxed),
    );
    assert!(
        written * 3 < received,
        "{received} WAL writes reached the file as {written}"
    );
}

#[test]
fn a_commit_the_file_refuses_fails_and_leaves_nothing_behind() {
    let (vfs, faults) = test_vfs("refused");
    let (_dir, path) = scratch_database();
    let w = writer(&path, vfs);
    for (tx, spill) in [(0, false), (1, true)] {
        // A committed transaction, then one whose commit the file refuses (with a small cache,
        // after frames were spilled).
        w.execute_batch(if spill {
            "PRAGMA cache_size = 10"
        } else {
            "PRAGMA cache_size = 2000"
        })
        .unwrap();
        let base = tx * 10_000;
        commit(&w, base, 5, base + 1);
        w.execute_batch("BEGIN").unwrap();
        insert(&w, base + 1, 200, base + 100).unwrap();
        faults.refuse.store(true, Ordering::SeqCst);
        let failed = w.execute_batch("COMMIT");
        faults.refuse.store(false, Ordering::SeqCst);
        let err = failed.expect_err("the commit must fail");
        assert!(err.to_string().contains("disk I/O error"), "{err}");
        if !w.is_autocommit() {
            w.execute_batch("ROLLBACK").unwrap();
        }
        // Neither a reader now, nor recovery from the files, sees the refused transaction.
        let mut r = reader(&path);
        let rows_before = check(&mut r);
        let ledger: Option<i64> = r
            .query_row("SELECT rows FROM ledger WHERE tx = ?1", [base + 1], |row| {
                row.get(0)
            })
            .optional()
            .unwrap();
        assert_eq!(ledger, None);
        let copy_dir = tempfile::tempdir().unwrap();
        assert_eq!(
            check(&mut recovered_copy(&path, copy_dir.path())),
            rows_before
        );
        // And the writer goes on.
        commit(&w, base + 2, 50, base + 1000);
        assert_eq!(check(&mut r), rows_before + 50);
        assert_eq!(
            check(&mut recovered_copy(&path, copy_dir.path())),
            rows_before + 50
        );
    }
}

#[test]
fn a_rolled_back_spill_is_never_written_over_another_connections_commit() {
    let (vfs, _faults) = test_vfs("rollback");
    let (_dir, path) = scratch_database();
    let a = writer(&path, vfs);
    let b = writer(&path, vfs);
    a.execute_batch("PRAGMA cache_size = 10").unwrap();
    a.execute_batch("BEGIN").unwrap();
    insert(&a, 1, 300, 1).unwrap();
    a.execute_batch("ROLLBACK").unwrap();
    // B writes where A's spilled frames went; then A writes again.
    commit(&b, 2, 100, 1000);
    commit(&a, 3, 20, 5000);
    let mut r = reader(&path);
    assert_eq!(check(&mut r), 120);
    let copy_dir = tempfile::tempdir().unwrap();
    assert_eq!(check(&mut recovered_copy(&path, copy_dir.path())), 120);
}
