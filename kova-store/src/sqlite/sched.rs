//! The scheduling class of the checkpoint thread.
//!
//! It runs as `SCHED_BATCH` on Linux: it gets the same share of the CPU as before (the nice
//! value is kept), but waking it no longer preempts the thread that is running. Under load that
//! thread is usually a request thread between the receipt of one delivery and the hand-off of
//! the next, which would switch away from (and back to) a request half done. Measured under
//! `wrk` at 64 connections on two cores when a writer thread still ran beside it, as
//! `SCHED_BATCH` too (`scripts/ingest-cost.sh`, alternating builds in the same hour): 1.02–1.10×
//! the deliveries per second and a tenth less writer and checkpoint CPU per delivery; the p99
//! moved within the run-to-run noise (README, Performance). Commits now run on their callers'
//! tasks (the `writer` module), so this thread is the store's only one. The change is per
//! thread and needs no privilege; where the system refuses it (a seccomp filter, another OS)
//! the thread runs as it was.

/// Puts the calling thread in the batch scheduling class; says so in the log if it cannot.
pub(super) fn run_as_batch() {
    // With pid 0, Linux applies the policy to the calling thread only.
    #[cfg(target_os = "linux")]
    if scheduler::set_self_policy(scheduler::Policy::Batch, 0).is_err() {
        tracing::debug!(
            thread = std::thread::current().name(),
            "could not set SCHED_BATCH; the thread keeps its policy"
        );
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_calling_thread_alone_becomes_batch() {
        let policy = |tid: &str| {
            // Field 41 of /proc/<pid>/task/<tid>/stat is the policy (3 = SCHED_BATCH); the
            // fields after the parenthesised name are counted from field 3.
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            after_name.split(' ').nth(41 - 3).unwrap().to_string()
        };
        let main_tid = std::fs::read_link("/proc/thread-self").unwrap();
        let main_tid = main_tid.file_name().unwrap().to_str().unwrap().to_string();
        let before = policy(&main_tid);
        let batch = std::thread::spawn(move || {
            super::run_as_batch();
            let own = std::fs::read_link("/proc/thread-self").unwrap();
            policy(own.file_name().unwrap().to_str().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(batch, "3");
        assert_eq!(policy(&main_tid), before);
    }
}
