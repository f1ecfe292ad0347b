//! How a host answered: requests answered "not modified" from the host's cache.
//!
//! `SourceHost` methods return data, not HTTP details, and one client serves many concurrent
//! syncs, so a counter on the client cannot say which repository's pass a 304 belonged to.
//! Instead the sync engine runs each host call inside [`Tallied`], which makes a counter
//! current on the thread while the call's future is polled; a host that revalidated a cached
//! answer calls [`report_not_modified`] from inside the call, and the count lands on the pass
//! that made it. Pure std (a thread-local set around each poll, as tracing's `Instrument`
//! does), so core needs no runtime for it. A host that does its requests on other tasks, or
//! never reports, leaves the count at 0.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

thread_local! {
    static CURRENT: RefCell<Option<Arc<AtomicU32>>> = const { RefCell::new(None) };
}

/// Tells the sync pass being served (if any) that the host answered this request from the
/// cache: for `SourceHost` implementations, on each 304 Not Modified. Cheap; does nothing
/// outside a tallied call.
pub fn report_not_modified() {
    CURRENT.with(|c| {
        if let Some(count) = &*c.borrow() {
            count.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// A future whose polls count the host's not-modified answers into `count`. `F` is `Unpin`
/// (box it if it is not) so this needs no unsafe pin projection; it is `Send` when `F` is.
pub(crate) struct Tallied<F> {
    inner: F,
    count: Arc<AtomicU32>,
}

impl<F: Future + Unpin> Tallied<F> {
    pub(crate) fn new(inner: F, count: Arc<AtomicU32>) -> Self {
        Tallied { inner, count }
    }
}

/// Puts the previous counter back when the poll ends, even by a panic.
struct Restore(Option<Arc<AtomicU32>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        // The thread-local is gone only while the thread exits; nothing to restore then.
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

impl<F: Future + Unpin> Future for Tallied<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let count = Some(self.count.clone());
        let _restore = Restore(CURRENT.with(|c| c.replace(count)));
        Pin::new(&mut self.inner).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    /// Pending once (waking itself), as an HTTP call waiting for its answer would be, so
    /// concurrent calls interleave.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    async fn answer(not_modified: bool) {
        YieldOnce(false).await;
        if not_modified {
            report_not_modified();
        }
    }

    #[test]
    fn counts_land_on_the_call_that_made_them() {
        let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        block_on(async {
            futures::join!(
                Tallied::new(
                    Box::pin(async {
                        answer(true).await;
                        answer(true).await
                    }),
                    a.clone()
                ),
                Tallied::new(Box::pin(answer(false)), b.clone()),
            );
            // Outside any tallied call, a report goes nowhere.
            answer(true).await;
        });
        assert_eq!(
            (a.load(Ordering::Relaxed), b.load(Ordering::Relaxed)),
            (2, 0)
        );
        assert!(CURRENT.with(|c| c.borrow().is_none()));
    }

    #[test]
    fn nested_calls_count_into_the_innermost_and_restore_the_outer() {
        let (outer, inner) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        block_on(Tallied::new(
            Box::pin(async {
                Tallied::new(Box::pin(answer(true)), inner.clone()).await;
                answer(true).await;
            }),
            outer.clone(),
        ));
        assert_eq!(inner.load(Ordering::Relaxed), 1);
        assert_eq!(outer.load(Ordering::Relaxed), 1);
    }
}
