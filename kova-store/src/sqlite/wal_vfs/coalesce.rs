//! Which writes to a WAL file wait in a buffer, and when the buffer goes to the file: the part of
//! the VFS (see the parent module) that needs no FFI, so it is tested on its own.
//!
//! Invariants the parent relies on:
//! - only a run of *sequential* writes is buffered (each starting where the previous write on
//!   the file ended, no other call on the file in between): `walFrames` appending frames. Any
//!   other write (a page rewritten in place, `walRewriteChecksums`, which reads before each
//!   write, a WAL restart) flushes the buffer and goes straight to the file;
//! - the write that completes a commit frame (the page after a frame header whose "database size
//!   after commit" field is non-zero) returns only once everything before it is in the file,
//!   with the error if the file refused it: SQLite then fails the commit. So nothing of a commit
//!   is ever pending when SQLite publishes it to readers (`walIndexWriteHdr`);
//! - a failed flush keeps the bytes, so a later flush retries them: frames SQLite believes written
//!   are never dropped silently. They are dropped only when they can belong only to a transaction
//!   that did not commit: when the commit frame's flush fails (the commit fails), and when the
//!   write lock is released (the parent).

use std::os::raw::c_int;

/// The most one write to the unix VFS may carry: its `seekAndWrite` masks each count with
/// 0x1ffff, so a larger write would be cut short (a 1 MiB one to nothing, which SQLite reports as
/// a full disk).
pub(super) const MAX_WRITE: usize = 0x1ffff;

/// A WAL frame header's size; its bytes 4..8 hold the database size after a commit, zero in every
/// frame but the last of a commit.
const FRAME_HEADER: usize = 24;

const OK: c_int = 0;

/// Pending sequential writes of one WAL file.
#[derive(Debug, Default)]
pub(super) struct Coalescer {
    pending: Vec<u8>,
    /// The file offset of `pending[0]`.
    start: i64,
    /// Where the previous write ended, unless another call on the file came after it.
    sequential_end: Option<i64>,
    /// The previous write was a commit frame's header: the next one, its page, ends the commit.
    after_commit_header: bool,
}

impl Coalescer {
    /// Takes a write of `data` at `offset`; `sink` writes to the file (returning an SQLite result
    /// code). The result is what SQLite should see for this write.
    pub(super) fn write(
        &mut self,
        data: &[u8],
        offset: i64,
        sink: &mut impl FnMut(&[u8], i64) -> c_int,
    ) -> c_int {
        let ends_commit = self.after_commit_header;
        let sequential = self.sequential_end == Some(offset);
        self.after_commit_header = data.len() == FRAME_HEADER && data[4..8] != [0; 4];
        self.sequential_end = Some(offset + data.len() as i64);
        let appends = !self.pending.is_empty()
            && offset == self.end()
            && self.pending.len() + data.len() <= MAX_WRITE;
        if !appends {
            let rc = self.flush(sink);
            if rc != OK {
                return self.failed(rc);
            }
            if !sequential || data.len() > MAX_WRITE {
                let rc = sink(data, offset);
                return if rc == OK { OK } else { self.failed(rc) };
            }
            if self.pending.capacity() == 0 {
                self.pending.reserve_exact(MAX_WRITE);
            }
            self.start = offset;
        }
        self.pending.extend_from_slice(data);
        if ends_commit {
            let rc = self.flush(sink);
            if rc != OK {
                // The commit fails, and with it the transaction: its frames are never needed
                // (a retry writes them all again), and written later they would carry a commit
                // mark that WAL recovery after a crash would believe.
                self.discard();
                return self.failed(rc);
            }
        }
        OK
    }

    /// Writes what is pending. On failure the bytes stay pending (a later flush retries them).
    pub(super) fn flush(&mut self, sink: &mut impl FnMut(&[u8], i64) -> c_int) -> c_int {
        if self.pending.is_empty() {
            return OK;
        }
        let rc = sink(&self.pending, self.start);
        if rc == OK {
            self.pending.clear();
        }
        rc
    }

    /// Another call on the file came between writes: the next write is not sequential.
    pub(super) fn interrupt(&mut self) {
        self.sequential_end = None;
        self.after_commit_header = false;
    }

    /// Forgets what is pending (see the module docs for the one time that is right).
    pub(super) fn discard(&mut self) {
        self.pending.clear();
    }

    #[cfg(test)]
    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn end(&self) -> i64 {
        self.start + self.pending.len() as i64
    }

    /// After a failed write nothing is assumed about what comes next.
    fn failed(&mut self, rc: c_int) -> c_int {
        self.interrupt();
        rc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const PAGE: usize = 4096;
    const FRAME: usize = FRAME_HEADER + PAGE;
    const IOERR: c_int = 10;

    /// A file in memory that records each write it receives.
    #[derive(Default)]
    struct File {
        bytes: Vec<u8>,
        writes: Vec<(i64, usize)>,
        fail: bool,
    }

    impl File {
        fn sink(&mut self) -> impl FnMut(&[u8], i64) -> c_int + '_ {
            |data, offset| {
                if self.fail {
                    return IOERR;
                }
                assert!(data.len() <= MAX_WRITE, "a write of {} bytes", data.len());
                let (start, end) = (offset as usize, offset as usize + data.len());
                if self.bytes.len() < end {
                    self.bytes.resize(end, 0);
                }
                self.bytes[start..end].copy_from_slice(data);
                self.writes.push((offset, data.len()));
                OK
            }
        }
    }

    fn header(page_number: u32, commit_size: u32) -> Vec<u8> {
        let mut h = vec![0u8; FRAME_HEADER];
        h[0..4].copy_from_slice(&page_number.to_be_bytes());
        h[4..8].copy_from_slice(&commit_size.to_be_bytes());
        h[8..].fill(0xab);
        h
    }

    fn page(fill: u8) -> Vec<u8> {
        vec![fill; PAGE]
    }

    /// Writes frames `first..first + n` (frame k at 32 + k * FRAME), the last a commit frame if
    /// `commit`, the way `walFrames` does: header, then page.
    fn frames(c: &mut Coalescer, f: &mut File, first: usize, n: usize, commit: bool) -> c_int {
        for k in first..first + n {
            let size = if commit && k == first + n - 1 { 100 } else { 0 };
            let offset = (32 + k * FRAME) as i64;
            let rc = c.write(&header(k as u32, size), offset, &mut f.sink());
            if rc != OK {
                return rc;
            }
            let rc = c.write(&page(k as u8), offset + FRAME_HEADER as i64, &mut f.sink());
            if rc != OK {
                return rc;
            }
        }
        OK
    }

    /// A coalescer and its file after a first one-frame commit, with that commit's writes
    /// forgotten: what follows starts as it would on a WAL in use.
    fn after_a_first_commit() -> (Coalescer, File) {
        let mut c = Coalescer::default();
        let mut f = File::default();
        assert_eq!(frames(&mut c, &mut f, 0, 1, true), OK);
        f.writes.clear();
        (c, f)
    }

    #[test]
    fn a_commit_after_the_previous_one_is_gathered_and_in_the_file_when_its_last_page_returns() {
        let mut c = Coalescer::default();
        let mut f = File::default();
        assert_eq!(frames(&mut c, &mut f, 0, 3, true), OK);
        // The very first header is not known to be sequential: it goes alone; the rest together.
        assert_eq!(f.writes, vec![(32, 24), (56, 3 * FRAME - 24)]);
        assert!(!c.has_pending());
        f.writes.clear();
        assert_eq!(frames(&mut c, &mut f, 3, 5, true), OK);
        assert_eq!(f.writes, vec![((32 + 3 * FRAME) as i64, 5 * FRAME)]);
        assert!(!c.has_pending());
    }

    #[test]
    fn a_long_commit_goes_in_writes_the_unix_vfs_takes_whole() {
        let (mut c, mut f) = after_a_first_commit();
        assert_eq!(frames(&mut c, &mut f, 1, 100, true), OK);
        // Contiguous, in order, each at most MAX_WRITE (the sink asserts), covering every byte.
        let mut at = (32 + FRAME) as i64;
        for &(offset, len) in &f.writes {
            assert_eq!(offset, at);
            at += len as i64;
        }
        assert_eq!(at, (32 + 101 * FRAME) as i64);
        assert!(
            f.writes.len() <= 100 * FRAME / (MAX_WRITE - FRAME) + 1,
            "{:?}",
            f.writes
        );
    }

    #[test]
    fn a_spill_stays_pending_until_the_commit_or_another_call_and_writes_out_of_sequence_go_straight_through(
    ) {
        let (mut c, mut f) = after_a_first_commit();
        assert_eq!(frames(&mut c, &mut f, 1, 2, false), OK);
        assert!(c.has_pending() && f.writes.is_empty());
        // A page of frame 1 rewritten in place (the transaction changed it again): the pending
        // frames are written first, then the rewrite, each as it came.
        let in_place = (32 + FRAME + FRAME_HEADER) as i64;
        assert_eq!(c.write(&page(0xee), in_place, &mut f.sink()), OK);
        assert_eq!(
            f.writes,
            vec![((32 + FRAME) as i64, 2 * FRAME), (in_place, PAGE)]
        );
        // walRewriteChecksums: a read (interrupt) before each header rewrite.
        c.interrupt();
        assert_eq!(
            c.write(&header(1, 0), (32 + FRAME) as i64, &mut f.sink()),
            OK
        );
        assert!(!c.has_pending());
    }

    #[test]
    fn a_refused_spill_keeps_its_bytes_for_a_later_flush_and_a_refused_commit_drops_them() {
        let (mut c, mut f) = after_a_first_commit();
        assert_eq!(frames(&mut c, &mut f, 1, 2, false), OK);
        f.fail = true;
        // A read of the WAL flushes first: refused, the frames stay.
        assert_eq!(c.flush(&mut f.sink()), IOERR);
        assert!(c.has_pending());
        f.fail = false;
        assert_eq!(c.flush(&mut f.sink()), OK);
        assert!(!c.has_pending());
        assert_eq!(f.bytes.len(), 32 + 3 * FRAME);

        f.fail = true;
        assert_eq!(frames(&mut c, &mut f, 3, 3, true), IOERR);
        assert!(
            !c.has_pending(),
            "a failed commit's frames, commit mark included, are dropped"
        );
        f.fail = false;
        assert_eq!(f.bytes.len(), 32 + 3 * FRAME);
    }

    /// Any mix of sequential runs, jumps, commit headers, interrupts and flushes leaves the file
    /// byte for byte as writing each call straight through would, once flushed; and after each
    /// commit page returns, everything written before it is in the file.
    #[test]
    fn whatever_the_order_of_calls_the_file_ends_as_writing_straight_through_would() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let mut c = Coalescer::default();
            let (mut gathered, mut direct) = (File::default(), File::default());
            let mut offset = 0i64;
            let mut after_commit_header = false;
            for _ in 0..rng.gen_range(1..200) {
                match rng.gen_range(0..10) {
                    0 => {
                        c.interrupt();
                        after_commit_header = false;
                    }
                    1 => offset = rng.gen_range(0..40_000),
                    2 => assert_eq!(c.flush(&mut gathered.sink()), OK),
                    _ => {
                        let data: Vec<u8> = match rng.gen_range(0..3) {
                            0 => header(rng.gen(), rng.gen_range(0..2)),
                            1 => vec![rng.gen(); PAGE],
                            _ => vec![rng.gen(); rng.gen_range(1..20_000)],
                        };
                        assert_eq!(c.write(&data, offset, &mut gathered.sink()), OK);
                        assert_eq!(direct.sink()(&data, offset), OK);
                        if after_commit_header {
                            assert!(!c.has_pending());
                            assert_eq!(gathered.bytes, direct.bytes);
                        }
                        after_commit_header = data.len() == FRAME_HEADER && data[4..8] != [0; 4];
                        offset += data.len() as i64;
                    }
                }
                if after_commit_header && rng.gen_bool(0.1) {
                    // Another call between a header and its page: nothing is assumed.
                    c.interrupt();
                    after_commit_header = false;
                }
            }
            assert_eq!(c.flush(&mut gathered.sink()), OK);
            assert_eq!(gathered.bytes, direct.bytes);
        }
    }
}
