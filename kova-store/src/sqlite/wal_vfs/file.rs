//! The file objects of the VFS: a database file and its WAL file, each wrapping the unix VFS's
//! own file object, linked to each other so that any call on the database file first writes
//! what the WAL file holds back.
//!
//! SQLite calls a file's methods only under its connection's lock (or from the one thread the
//! application lets use the connection at a time), and a database file and its WAL file belong
//! to one connection: the fields below need no lock of their own. Only the table that lets a
//! WAL file find its database file at open is shared between connections.

use super::coalesce::Coalescer;
use super::VfsData;
use rusqlite::ffi;
use std::os::raw::{c_int, c_void};
use std::ptr::{self, addr_of_mut};
use std::sync::Mutex;

/// Our file object: SQLite allocates `szOsFile` bytes for it (see `super::register`); the inner
/// VFS's file object starts at `inner` and takes the rest.
#[repr(C)]
pub(super) struct ShimFile {
    base: ffi::sqlite3_file,
    vfs: *const VfsData,
    /// A database file's WAL file once opened; a WAL file's database file.
    peer: *mut ShimFile,
    /// A WAL file's pending writes (`Box::into_raw`), null for a database file or a WAL file
    /// that found no database file to flush it.
    coalescer: *mut Coalescer,
    inner: ffi::sqlite3_file,
}

/// Where the inner file object starts in ours.
pub(super) const INNER_OFFSET: usize = std::mem::offset_of!(ShimFile, inner);

/// Open database files (ours), by the name pointer SQLite passed to `xOpen`: the WAL file's name
/// lives in the same allocation, and `sqlite3_filename_database` leads back to it.
static DATABASES: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

const OK: c_int = ffi::SQLITE_OK;

/// `xOpen`: a writable main database or WAL file gets our methods; any other file (read-only
/// connections, temporary files, the rollback journal) is the inner VFS's file object as is.
pub(super) unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let data = (*vfs).pAppData as *const VfsData;
    let inner_vfs = (*data).inner;
    let Some(inner_open) = (*inner_vfs).xOpen else {
        return ffi::SQLITE_CANTOPEN;
    };
    let main = flags & ffi::SQLITE_OPEN_MAIN_DB != 0;
    let wal = flags & ffi::SQLITE_OPEN_WAL != 0;
    if flags & ffi::SQLITE_OPEN_READWRITE == 0 || !(main || wal) || name.is_null() {
        return inner_open(inner_vfs, name, file, flags, out_flags);
    }
    let shim = file as *mut ShimFile;
    let inner = addr_of_mut!((*shim).inner);
    (*shim).base.pMethods = ptr::null();
    let rc = inner_open(inner_vfs, name, inner, flags, out_flags);
    if rc != OK {
        return rc;
    }
    if !has_methods((*inner).pMethods, main) {
        // Not the unix VFS's posix file (the only inner VFS registered): refuse rather than
        // offer SQLite methods the inner file cannot back.
        let methods = (*inner).pMethods;
        if let Some(close) = methods.as_ref().and_then(|m| m.xClose) {
            close(inner);
        }
        return ffi::SQLITE_CANTOPEN;
    }
    addr_of_mut!((*shim).vfs).write(data);
    addr_of_mut!((*shim).peer).write(ptr::null_mut());
    addr_of_mut!((*shim).coalescer).write(ptr::null_mut());
    if main {
        lock_databases().push((name as usize, shim as usize));
        (*shim).base.pMethods = &DATABASE_METHODS;
    } else {
        let database = ffi::sqlite3_filename_database(name) as usize;
        let found = lock_databases()
            .iter()
            .find(|(n, _)| *n == database)
            .map(|&(_, f)| f as *mut ShimFile);
        if let Some(db) = found {
            (*db).peer = shim;
            (*shim).peer = db;
            (*shim).coalescer = Box::into_raw(Box::default());
        }
        (*shim).base.pMethods = &WAL_METHODS;
    }
    OK
}

fn lock_databases() -> std::sync::MutexGuard<'static, Vec<(usize, usize)>> {
    // The table is only pushed to and filtered: a panic cannot leave it half-changed.
    DATABASES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the inner file has every method ours call: version 1's, and for a database file the
/// shared memory and memory mapping of version 3 (the unix VFS's WAL file has no locking).
unsafe fn has_methods(m: *const ffi::sqlite3_io_methods, database: bool) -> bool {
    if m.is_null() {
        return false;
    }
    let m = &*m;
    let version_1 = m.xClose.is_some()
        && m.xRead.is_some()
        && m.xWrite.is_some()
        && m.xTruncate.is_some()
        && m.xSync.is_some()
        && m.xFileSize.is_some()
        && m.xLock.is_some()
        && m.xUnlock.is_some()
        && m.xCheckReservedLock.is_some()
        && m.xFileControl.is_some()
        && m.xSectorSize.is_some()
        && m.xDeviceCharacteristics.is_some();
    let version_3 = m.iVersion >= 3
        && m.xShmMap.is_some()
        && m.xShmLock.is_some()
        && m.xShmBarrier.is_some()
        && m.xShmUnmap.is_some()
        && m.xFetch.is_some()
        && m.xUnfetch.is_some();
    version_1 && (version_3 || !database)
}

fn shim(file: *mut ffi::sqlite3_file) -> *mut ShimFile {
    file as *mut ShimFile
}

unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    addr_of_mut!((*shim(file)).inner)
}

/// Calls the inner file's method (checked present at open).
macro_rules! inner_call {
    ($file:expr, $method:ident $(, $arg:expr)*) => {{
        let inner = inner($file);
        ((*(*inner).pMethods).$method.unwrap_unchecked())(inner $(, $arg)*)
    }};
}

/// Defines methods that first settle the file (`$settle`: write what is held back, returning
/// its error if that fails), then call the inner file's method of the same name.
macro_rules! settled_methods {
    ($settle:ident: $($name:ident => $method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            match $settle(file) {
                OK => inner_call!(file, $method $(, $arg)*),
                rc => rc,
            }
        }
    )*};
}

/// Writes a WAL file's pending bytes to the inner file.
unsafe fn flush(wal: *mut ShimFile) -> c_int {
    let coalescer = (*wal).coalescer;
    if coalescer.is_null() {
        return OK;
    }
    (*coalescer).flush(&mut sink(wal))
}

/// Ends a WAL file's link to its database file, when either closes: what it holds back is
/// written (pending bytes can only be frames of a transaction that did not commit; written, as
/// SQLite alone would have, but failing to write them keeps neither file open), and it holds
/// nothing back any more, since nothing would flush it.
unsafe fn detach(wal: *mut ShimFile) {
    let _ = flush(wal);
    if !(*wal).coalescer.is_null() {
        drop(Box::from_raw((*wal).coalescer));
        (*wal).coalescer = ptr::null_mut();
    }
    if !(*wal).peer.is_null() {
        (*(*wal).peer).peer = ptr::null_mut();
        (*wal).peer = ptr::null_mut();
    }
}

/// The inner write of a WAL file, for the coalescer.
unsafe fn sink(wal: *mut ShimFile) -> impl FnMut(&[u8], i64) -> c_int {
    move |bytes: &[u8], offset: i64| {
        #[cfg(test)]
        if let Some(rc) = (*(*wal).vfs).faults.before_write() {
            return rc;
        }
        let file = wal as *mut ffi::sqlite3_file;
        inner_call!(
            file,
            xWrite,
            bytes.as_ptr() as *const c_void,
            bytes.len() as c_int,
            offset
        )
    }
}

// --- The WAL file -------------------------------------------------------------------------

/// A WAL file needs only version 1 methods: SQLite maps no memory and no shared memory on it.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(wal_close),
    xRead: Some(wal_read),
    xWrite: Some(wal_write),
    xTruncate: Some(wal_truncate),
    xSync: Some(wal_sync),
    xFileSize: Some(wal_file_size),
    xLock: Some(wal_lock),
    xUnlock: Some(wal_unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(wal_file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// Before any call on the WAL file but a write: the pending bytes go out, and the next write
/// is not sequential.
unsafe fn wal_settle(file: *mut ffi::sqlite3_file) -> c_int {
    let wal = shim(file);
    if !(*wal).coalescer.is_null() {
        (*(*wal).coalescer).interrupt();
    }
    flush(wal)
}

unsafe extern "C" fn wal_close(file: *mut ffi::sqlite3_file) -> c_int {
    detach(shim(file));
    inner_call!(file, xClose)
}

unsafe extern "C" fn wal_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let wal = shim(file);
    let coalescer = (*wal).coalescer;
    if coalescer.is_null() || amount <= 0 {
        return inner_call!(file, xWrite, buf, amount, offset);
    }
    #[cfg(test)]
    (*(*wal).vfs).faults.received();
    let data = std::slice::from_raw_parts(buf as *const u8, amount as usize);
    (*coalescer).write(data, offset, &mut sink(wal))
}

settled_methods! { wal_settle:
    wal_read => xRead(buf: *mut c_void, amount: c_int, offset: i64);
    wal_truncate => xTruncate(size: i64);
    wal_sync => xSync(flags: c_int);
    wal_file_size => xFileSize(size: *mut i64);
    wal_lock => xLock(level: c_int);
    wal_unlock => xUnlock(level: c_int);
    wal_file_control => xFileControl(op: c_int, arg: *mut c_void);
}

// Questions about the file, not its contents: nothing to write first.

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    inner_call!(file, xCheckReservedLock, out)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    inner_call!(file, xSectorSize)
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    inner_call!(file, xDeviceCharacteristics)
}

// --- The database file --------------------------------------------------------------------

static DATABASE_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(db_close),
    xRead: Some(db_read),
    xWrite: Some(db_write),
    xTruncate: Some(db_truncate),
    xSync: Some(db_sync),
    xFileSize: Some(db_file_size),
    xLock: Some(db_lock),
    xUnlock: Some(db_unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(db_file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(db_shm_map),
    xShmLock: Some(db_shm_lock),
    xShmBarrier: Some(db_shm_barrier),
    xShmUnmap: Some(db_shm_unmap),
    xFetch: Some(db_fetch),
    xUnfetch: Some(db_unfetch),
};

/// Before any call on the database file: its WAL file's pending bytes go out.
unsafe fn db_settle(file: *mut ffi::sqlite3_file) -> c_int {
    let wal = (*shim(file)).peer;
    if wal.is_null() {
        OK
    } else {
        flush(wal)
    }
}

unsafe extern "C" fn db_close(file: *mut ffi::sqlite3_file) -> c_int {
    let db = shim(file);
    lock_databases().retain(|&(_, f)| f != db as usize);
    // SQLite closes the WAL file first; should it not, the WAL file is detached here.
    if !(*db).peer.is_null() {
        detach((*db).peer);
    }
    inner_call!(file, xClose)
}

settled_methods! { db_settle:
    db_read => xRead(buf: *mut c_void, amount: c_int, offset: i64);
    db_write => xWrite(buf: *const c_void, amount: c_int, offset: i64);
    db_truncate => xTruncate(size: i64);
    db_sync => xSync(flags: c_int);
    db_file_size => xFileSize(size: *mut i64);
    db_lock => xLock(level: c_int);
    db_unlock => xUnlock(level: c_int);
    db_file_control => xFileControl(op: c_int, arg: *mut c_void);
    db_shm_map => xShmMap(region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void);
    db_shm_unmap => xShmUnmap(delete: c_int);
    db_fetch => xFetch(offset: i64, amount: c_int, out: *mut *mut c_void);
    db_unfetch => xUnfetch(offset: i64, page: *mut c_void);
}

/// The shared-memory slot of the WAL write lock (`WAL_WRITE_LOCK` in SQLite).
const WAL_WRITE_LOCK: c_int = 0;

unsafe extern "C" fn db_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let releases_write_lock = flags == ffi::SQLITE_SHM_UNLOCK | ffi::SQLITE_SHM_EXCLUSIVE
        && offset <= WAL_WRITE_LOCK
        && WAL_WRITE_LOCK < offset + n;
    if releases_write_lock {
        // The transaction is over. A commit's bytes were all written by its last page's write
        // (or the commit failed), so what is still held back are frames of a transaction that
        // rolled back: never to be read, and once the lock is free another connection may write
        // where they would go.
        let wal = (*shim(file)).peer;
        if !wal.is_null() && !(*wal).coalescer.is_null() {
            (*(*wal).coalescer).discard();
        }
    } else {
        let rc = db_settle(file);
        if rc != OK {
            return rc;
        }
    }
    inner_call!(file, xShmLock, offset, n, flags)
}

unsafe extern "C" fn db_shm_barrier(file: *mut ffi::sqlite3_file) {
    // Nothing of a commit is pending here (see `coalesce`); a failure leaves the bytes pending,
    // for the next call to write or report.
    let _ = db_settle(file);
    inner_call!(file, xShmBarrier)
}
