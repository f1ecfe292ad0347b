//! The writer: SQLite's one write connection and its group commit.
//!
//! SQLite allows one writer at a time, and a commit's cost (the WAL write, and with
//! `synchronous=FULL` an fsync) barely depends on how much it carries. So writes queue up, and
//! whoever commits takes every write waiting, runs them in one transaction, commits once, and
//! only then answers each caller.
//!
//! Whoever commits is one of the callers, not a thread of its own (flat combining): the caller
//! that finds nobody committing commits, on its own task, the writes queued so far; writes that
//! arrive meanwhile wait, and when the commit is done the oldest waiting caller gets the baton
//! and commits them. A writer thread did this before, but under load it was one more thread
//! competing for the CPU with the request threads: once woken by a write, it waited for a CPU
//! for 1–2 ms, and every write queued behind it waited too (README, Performance). A caller that
//! holds the baton is already running.
//!
//! The price is that a commit runs on an async worker thread: a group's transaction is CPU work
//! of tens to hundreds of microseconds (with the default `synchronous=NORMAL` it does not wait
//! for the disk; the checkpoints' fsyncs run on the checkpoint thread), and the other workers go
//! on with the other tasks meanwhile. With `synchronous=FULL` the group's fsync runs there too:
//! its writes waited for it on the thread as well, but now the tasks queued on that worker wait
//! too unless another worker takes them.
//!
//! Measured on a slow day of the VM, alternating the two in the store bench (`cargo bench -p
//! kova --features sqlite,postgres --bench store -- store/sqlite/empty/record_delivery`): one
//! caller writing after another, 4.6–4.9k writes/s instead of 1.9–2.3k (the round trip to the
//! thread is gone); 64 concurrent callers, 13.6–13.9k against 10.0–14.4k, the same within the
//! noise. Webhook ingest under wrk: the same deliveries/s and p99, a fifth less WAL per delivery
//! (larger groups), fewer context switches (README, Performance).
//!
//! A request that fails must not take the others' writes with it. Wrapping each request in a
//! SAVEPOINT would guarantee that, but SQLite then copies every page a request touches that
//! already existed into the savepoint journal; with the group's requests all appending to the
//! same table and index pages, that is most of what they touch (13% of the writer's time in
//! the store bench). So a group first runs optimistically, without savepoints: a request that
//! fails without having changed a row (SQLite's change counter tells) leaves nothing behind.
//! Only when a request fails after changing rows is the whole group rolled back and run again
//! with one savepoint per request, so that the failure rolls back only itself.

use super::checkpoint::Nudge;
use kova_core::{Error, Result};
use rusqlite::Connection;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// At most this many requests share one transaction, so one group's latency stays bounded.
const MAX_GROUP: usize = 1024;

/// A write waiting for its group.
trait Request: Send {
    /// Runs the request inside the group's transaction; whether it succeeded, i.e. whether its
    /// changes are kept. Runs again when the group is rolled back and re-run: each run replaces
    /// the outcome of the one before.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the group's commit succeeded or failed.
    fn answer(self: Box<Self>, commit: std::result::Result<(), &str>);
    /// Hands the baton to the caller: it is to commit the next group. False if the caller
    /// stopped waiting, so it cannot.
    fn pass_baton(&self) -> bool;
}

/// Where a caller waits: for its answer, or for the baton.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    answer: Option<Result<T>>,
    /// The caller is to commit the next group.
    baton: bool,
    /// The caller stopped waiting (its future was dropped); its write stands.
    gone: bool,
    waker: Option<Waker>,
}

impl<T> Slot<T> {
    fn new() -> Slot<T> {
        Slot {
            state: Mutex::new(SlotState {
                answer: None,
                baton: false,
                gone: false,
                waker: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        // Nothing panics while holding the lock, but a poisoned slot is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the slot with `tell` and, if it says the caller is to hear of it, wakes the
    /// caller (outside the lock). Returns what `tell` said.
    fn tell(&self, tell: impl FnOnce(&mut SlotState<T>) -> bool) -> bool {
        let waker = {
            let mut slot = self.lock();
            if !tell(&mut slot) {
                return false;
            }
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }
}

struct Call<T, F> {
    f: F,
    out: Option<Result<T>>,
    slot: Arc<Slot<T>>,
}

impl<T, F> Request for Call<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let f = &mut self.f;
        // A panicking request must not take the group (and every later write) down with it.
        let out = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(Error::Internal("a sqlite write panicked".into())));
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn answer(self: Box<Self>, commit: std::result::Result<(), &str>) {
        let out = match commit {
            Ok(()) => self
                .out
                .unwrap_or_else(|| Err(Error::Internal("sqlite write was not run".into()))),
            Err(e) => Err(Error::Backend {
                backend: "sqlite",
                message: format!("the transaction did not commit: {e}"),
                transient: true,
                source: None,
            }),
        };
        // A caller that stopped waiting has no waker left; the write stands all the same.
        self.slot.tell(|slot| {
            slot.answer = Some(out);
            true
        });
    }

    fn pass_baton(&self) -> bool {
        self.slot.tell(|slot| {
            slot.baton = !slot.gone;
            slot.baton
        })
    }
}

/// The write connection and the queue of writes waiting for it. Dropping it closes the
/// connection; no write is left behind, since a caller that stops waiting while it holds the
/// baton commits before it goes.
pub(super) struct Writer {
    queue: Mutex<Queue>,
    /// Locked only by the caller that holds the baton, so never contended.
    conn: Mutex<Connection>,
    after_commit: Option<Nudge>,
    stats: Stats,
}

struct Queue {
    waiting: VecDeque<Box<dyn Request>>,
    /// A caller holds the baton: it is committing, or has been handed the baton and will.
    committing: bool,
}

/// What the writer did so far: how well group commit works under the current load.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Transactions committed (or attempted).
    pub(super) groups: AtomicU64,
    /// Requests run in them.
    pub(super) requests: AtomicU64,
    /// Groups rolled back and run again with a savepoint per request, because one of their
    /// requests failed after changing rows.
    pub(super) isolated: AtomicU64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// The writer of an open, migrated connection; `after_commit` (if any) is told of every
    /// commit.
    pub(super) fn new(conn: Connection, after_commit: Option<Nudge>) -> Writer {
        Writer {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                committing: false,
            }),
            conn: Mutex::new(conn),
            after_commit,
            stats: Stats::default(),
        }
    }

    /// What the writer did so far.
    pub(super) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Runs `f` in the next group and answers once that group committed. `f` may run twice
    /// (see the module documentation): it must act only through the connection. The group may
    /// be committed on this call's own task.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let baton = {
            let mut queue = self.lock_queue();
            queue.waiting.push_back(Box::new(Call {
                f,
                out: None,
                slot: Arc::clone(&slot),
            }));
            !std::mem::replace(&mut queue.committing, true)
        };
        let mut waiter = Waiter {
            writer: self,
            slot,
            baton,
            yielded: false,
        };
        poll_fn(|cx| waiter.poll(cx)).await
    }

    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits the waiting writes, group by group, until the baton can go to a caller that is
    /// still waiting, or nothing waits.
    fn commit_waiting(&self) {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // Never empty: whoever holds the baton has a write queued, or was handed the
            // baton because writes were.
            let mut group: Vec<Box<dyn Request>> = {
                let mut queue = self.lock_queue();
                let n = queue.waiting.len().min(MAX_GROUP);
                queue.waiting.drain(..n).collect()
            };
            self.commit_group(&conn, &mut group);
            let mut queue = self.lock_queue();
            if queue.waiting.is_empty() {
                queue.committing = false;
                return;
            }
            // The oldest caller still waiting commits the rest. If every one has stopped
            // waiting, their writes stand: commit them here.
            if queue.waiting.iter().any(|r| r.pass_baton()) {
                return;
            }
        }
    }

    fn commit_group(&self, conn: &Connection, group: &mut Vec<Box<dyn Request>>) {
        // The requests' own panics are caught where they run; this is for SQLite's. Unwinding
        // out of here would leave the baton with nobody, and every later write waiting forever.
        let commit = catch_unwind(AssertUnwindSafe(|| run_group(conn, group, &self.stats)))
            .unwrap_or_else(|_| {
                let _ = exec(conn, "ROLLBACK");
                Err("the commit panicked".to_owned())
            });
        if let Some(nudge) = &self.after_commit {
            nudge.nudge();
        }
        self.stats.groups.fetch_add(1, Ordering::Relaxed);
        self.stats
            .requests
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        if let Err(e) = &commit {
            tracing::error!(error = %e, requests = group.len(), "sqlite group commit failed");
        }
        for r in group.drain(..) {
            r.answer(commit.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }
}

/// A caller waiting for its write's answer.
struct Waiter<'w, T> {
    writer: &'w Writer,
    slot: Arc<Slot<T>>,
    /// This caller holds the baton: it commits next.
    baton: bool,
    /// The caller has let its task's other futures run once since it queued its write.
    yielded: bool,
}

impl<T> Waiter<'_, T> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<T>> {
        loop {
            if self.baton && !self.yielded {
                // A caller that found nobody committing would otherwise commit its write
                // alone, right away: writes started together in one task (`join_all`) would
                // each get a transaction of their own. Yielding once lets them queue first.
                self.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if std::mem::take(&mut self.baton) {
                self.writer.commit_waiting();
            }
            let mut slot = self.slot.lock();
            if let Some(answer) = slot.answer.take() {
                return Poll::Ready(answer);
            }
            if std::mem::take(&mut slot.baton) {
                // Handed on after a commit: the writes waiting for it had their time to queue.
                self.baton = true;
                self.yielded = true;
                continue;
            }
            match &mut slot.waker {
                Some(w) => w.clone_from(cx.waker()),
                None => slot.waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
    }
}

impl<T> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        let baton = self.baton || {
            let mut slot = self.slot.lock();
            slot.gone = true;
            std::mem::take(&mut slot.baton)
        };
        // A caller that stops waiting with the baton must not strand the writes queued behind
        // it (its own among them: they stand).
        if baton {
            self.writer.commit_waiting();
        }
    }
}

/// One transaction for the whole group: optimistically without savepoints, and again with
/// one savepoint per request if a request failed after changing rows.
fn run_group(
    conn: &Connection,
    group: &mut [Box<dyn Request>],
    stats: &Stats,
) -> std::result::Result<(), String> {
    let mut run = || {
        if run_optimistic(conn, group)? {
            return Ok(());
        }
        stats.isolated.fetch_add(1, Ordering::Relaxed);
        run_isolated(conn, group)
    };
    run().map_err(|e: rusqlite::Error| e.to_string())
}

/// Runs the group without savepoints and commits; `Ok(false)` (with everything rolled back)
/// when a request failed after changing rows.
fn run_optimistic(
    conn: &Connection,
    group: &mut [Box<dyn Request>],
) -> std::result::Result<bool, rusqlite::Error> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let mut body = || -> std::result::Result<bool, rusqlite::Error> {
        for r in group.iter_mut() {
            let before = conn.total_changes();
            // A failed statement undoes its own partial changes and counts none, so an
            // unchanged counter means the request left nothing behind.
            if !r.run(conn) && conn.total_changes() != before {
                exec(conn, "ROLLBACK")?;
                return Ok(false);
            }
        }
        exec(conn, "COMMIT")?;
        Ok(true)
    };
    body().inspect_err(|_| {
        let _ = exec(conn, "ROLLBACK");
    })
}

/// One transaction for the group, one savepoint per request.
fn run_isolated(
    conn: &Connection,
    group: &mut [Box<dyn Request>],
) -> std::result::Result<(), rusqlite::Error> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let mut body = || -> std::result::Result<(), rusqlite::Error> {
        for r in group.iter_mut() {
            exec(conn, "SAVEPOINT kova_req")?;
            if r.run(conn) {
                exec(conn, "RELEASE kova_req")?;
            } else {
                exec(conn, "ROLLBACK TO kova_req")?;
                exec(conn, "RELEASE kova_req")?;
            }
        }
        exec(conn, "COMMIT")
    };
    body().inspect_err(|_| {
        // Nothing of the group is kept; every caller hears that the commit failed.
        let _ = exec(conn, "ROLLBACK");
    })
}

fn exec(conn: &Connection, sql: &str) -> std::result::Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;
    use std::future::Future;
    use std::pin::Pin;
    use std::time::Duration;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        Writer::new(conn, None)
    }

    fn insert(c: &Connection, k: i64) -> Result<()> {
        c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])
            .map_err(super::super::error::sqlite_err)?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_a_failure_rolls_back_only_itself() {
        let w = writer();
        // Every 10th request writes, then fails: its write must vanish, the others' stay.
        let results = join_all((0..400i64).map(|k| {
            w.write(move |c| {
                insert(c, k)?;
                if k % 10 == 0 {
                    return Err(Error::invalid("k", "fails after writing"));
                }
                Ok(k)
            })
        }))
        .await;
        for (k, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), k % 10 != 0, "request {k}: {r:?}");
        }
        let (n, sum): (i64, i64) = w
            .write(|c| {
                c.query_row("SELECT COUNT(*), SUM(k % 10) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(super::super::error::sqlite_err)
            })
            .await
            .unwrap();
        assert_eq!(n, 360, "the failed requests' rows were rolled back");
        assert!(sum > 0);
        let groups = w.stats().groups.load(Ordering::Relaxed);
        let requests = w.stats().requests.load(Ordering::Relaxed);
        assert_eq!(requests, 401);
        assert!(
            groups < requests,
            "concurrent writes were grouped: {groups} transactions for {requests} requests"
        );
        assert!(
            w.stats().isolated.load(Ordering::Relaxed) > 0,
            "groups with a failure after a write were re-run with savepoints"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failure_before_any_change_costs_the_group_nothing() {
        let w = writer();
        // Keys 0, 10, 20, … exist already: inserting them again fails before changing a row.
        w.write(|c| (0..400).step_by(10).try_for_each(|k| insert(c, k)))
            .await
            .unwrap();
        let results =
            join_all((0..400i64).map(|k| w.write(move |c| insert(c, k).map(|()| k)))).await;
        for (k, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), k % 10 != 0, "request {k}: {r:?}");
        }
        let n: i64 = w
            .write(|c| {
                c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                    .map_err(super::super::error::sqlite_err)
            })
            .await
            .unwrap();
        assert_eq!(n, 400);
        assert_eq!(
            w.stats().isolated.load(Ordering::Relaxed),
            0,
            "no group had to be re-run"
        );
    }

    #[tokio::test]
    async fn a_panicking_request_fails_alone() {
        let w = writer();
        let bad = w.write(|_| -> Result<()> { panic!("boom") });
        assert!(matches!(bad.await, Err(Error::Internal(_))));
        w.write(|c| insert(c, 1))
            .await
            .expect("the writer lives on");
    }

    fn rows(w: &Writer) -> i64 {
        let conn = w.conn.lock().unwrap();
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    type Pending = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    /// A write polled once with a waker that does nothing: queued, not awaited.
    fn queued(w: &'static Writer, k: i64) -> Pending {
        let mut f: Pending = Box::pin(w.write(move |c| insert(c, k)));
        let poll = f.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(
            poll.is_pending(),
            "write {k} was answered before anyone committed"
        );
        f
    }

    #[test]
    fn a_caller_that_stops_waiting_with_the_baton_commits_the_writes_behind_it() {
        let w: &'static Writer = Box::leak(Box::new(writer()));
        let first = queued(w, 1);
        let mut second = queued(w, 2);
        // `first` found nobody committing, so it holds the baton (and yielded once).
        drop(first);
        assert_eq!(rows(w), 2, "both writes stand");
        let answer = second
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(answer, Poll::Ready(Ok(()))), "{answer:?}");
        assert_eq!(w.stats().groups.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_baton_skips_callers_that_stopped_waiting() {
        let w: &'static Writer = Box::leak(Box::new(writer()));
        // Writes queued while the first group commits: the next group's.
        let later = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&later);
        let mut first: Pending = Box::pin(w.write(move |c| {
            let mut later = l.lock().unwrap();
            if later.is_empty() {
                // The oldest of them stops waiting before this commit ends.
                drop(queued(w, 2));
                later.extend([queued(w, 3), queued(w, 4)]);
            }
            insert(c, 1)
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(first.as_mut().poll(&mut cx).is_pending(), "yields once");
        assert!(matches!(first.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
        let mut later = std::mem::take(&mut *later.lock().unwrap());
        assert_eq!(rows(w), 1, "the first group held the first write only");
        // The baton went to write 3, the oldest caller still waiting: write 4 waits for it.
        assert!(later[1].as_mut().poll(&mut cx).is_pending());
        assert_eq!(rows(w), 1);
        assert!(matches!(
            later[0].as_mut().poll(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(
            rows(w),
            4,
            "writes 2 (whose caller left), 3 and 4 in the second group"
        );
        assert!(matches!(
            later[1].as_mut().poll(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(w.stats().groups.load(Ordering::Relaxed), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writes_whose_callers_give_up_at_any_moment_all_stand_and_nothing_hangs() {
        let w: &'static Writer = Box::leak(Box::new(writer()));
        let tasks = (0..16i64).map(|t| {
            tokio::spawn(async move {
                let mut gave_up = 0;
                for i in 0..100 {
                    let k = t * 100 + i;
                    // Give up after 1-4 polls, yielding in between: queued, holding the baton
                    // before committing, handed it, or answered, while other tasks commit.
                    // (Counted in polls, not time: tokio's timers tick every millisecond, and on
                    // a fast machine every write was answered before one fired.)
                    let mut write = std::pin::pin!(w.write(move |c| insert(c, k)));
                    let mut answered = false;
                    for _ in 0..=k % 4 {
                        if let Poll::Ready(r) = futures::poll!(write.as_mut()) {
                            r.unwrap();
                            answered = true;
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                    if !answered {
                        gave_up += 1;
                    }
                }
                gave_up
            })
        });
        let gave_up: i32 = tokio::time::timeout(Duration::from_secs(60), join_all(tasks))
            .await
            .expect("every caller was answered or gave up")
            .into_iter()
            .map(|r| r.unwrap())
            .sum();
        // The last writes of callers that gave up may still be committing; a write stranded
        // behind a baton nobody holds would make this one wait forever.
        tokio::time::timeout(Duration::from_secs(10), w.write(|_| Ok(())))
            .await
            .expect("the queue was not stranded")
            .unwrap();
        assert_eq!(rows(w), 1600, "every write stands, given up on or not");
        assert!(gave_up > 0, "no caller gave up: the test did not test that");
    }
}
