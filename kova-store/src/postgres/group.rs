//! Group commit on PostgreSQL: many concurrent calls, one statement.
//!
//! A round trip and a WAL flush per call cap a pool at a few thousand writes a second on a
//! small machine. Callers instead queue their item to a collector task that takes everything
//! waiting (up to a maximum), hands it to a flush function that writes it in one transaction,
//! and answers each caller with its own result once that transaction is over. A few groups
//! flush at once, so while some commit the next one fills up: the group size follows the load,
//! and a lone caller waits for nothing but its own statement.

use super::{timed_out, within};
use kova_core::{Error, Result};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// An item waiting for its group, with the caller's answer channel.
type Pending<T, R> = (T, oneshot::Sender<Result<R>>);

/// The handle callers send items through; the collector stops when the last one is dropped.
pub(super) struct Group<T, R> {
    tx: mpsc::UnboundedSender<Pending<T, R>>,
    name: &'static str,
}

impl<T, R> Clone for Group<T, R> {
    fn clone(&self) -> Self {
        Group {
            tx: self.tx.clone(),
            name: self.name,
        }
    }
}

impl<T, R> std::fmt::Debug for Group<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("name", &self.name).finish()
    }
}

impl<T: Send + 'static, R: Send + 'static> Group<T, R> {
    /// Starts the collector on the current tokio runtime. `flush` gets up to `max` items and
    /// returns one result per item, in order; `in_flight` flushes may run at once. A flush
    /// that takes longer than `limit` (`Duration::ZERO`: no limit) is dropped and fails every
    /// item in it, so a stuck connection cannot hold a slot, and with it every later group.
    pub(super) fn start<F, Fut>(
        name: &'static str,
        in_flight: usize,
        max: usize,
        limit: Duration,
        flush: F,
    ) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<R>>> + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let (in_flight, max) = (in_flight.max(1), max.max(1));
        tokio::spawn(collect(rx, name, in_flight, max, limit, flush));
        Group { tx, name }
    }

    /// Queues `item` for the next group and waits for its result.
    pub(super) async fn submit(&self, item: T) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        self.tx.send((item, tx)).map_err(|_| self.stopped())?;
        rx.await.map_err(|_| self.stopped())?
    }

    fn stopped(&self) -> Error {
        Error::backend(
            "postgres",
            format!("the {} group commit has stopped", self.name),
        )
    }
}

async fn collect<T, R, F, Fut>(
    mut rx: mpsc::UnboundedReceiver<Pending<T, R>>,
    name: &'static str,
    in_flight: usize,
    max: usize,
    limit: Duration,
    flush: F,
) where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<Result<R>>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(in_flight));
    loop {
        // Wait for a free slot before taking work, so items pile up while every slot is
        // committing and the next group carries them all.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut group = vec![first];
        while group.len() < max {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let (items, answers): (Vec<T>, Vec<_>) = group.into_iter().unzip();
        let work = flush(items);
        tokio::spawn(async move {
            let results = within(limit, work).await.unwrap_or_else(|| {
                let call = format!("{name} group commit");
                answers
                    .iter()
                    .map(|_| Err(timed_out(&call, limit)))
                    .collect()
            });
            let mut results = results.into_iter();
            for answer in answers {
                // A missing result would be a flush bug; the caller hears about it rather
                // than waiting forever.
                let out = results.next().unwrap_or_else(|| {
                    Err(Error::Internal(
                        "group commit returned too few results".into(),
                    ))
                });
                // The caller may have stopped waiting (its future was dropped); the write stands.
                let _ = answer.send(out);
            }
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flush_that_never_ends_fails_its_items_and_frees_its_slot() {
        // One slot: while the stuck flush held it, no later group could run.
        let group = Group::start(
            "test",
            1,
            8,
            Duration::from_millis(50),
            |items: Vec<u32>| async move {
                if items.contains(&0) {
                    std::future::pending::<()>().await;
                }
                items.into_iter().map(Ok).collect()
            },
        );
        let stuck = tokio::time::timeout(Duration::from_secs(10), group.submit(0))
            .await
            .expect("the stuck flush must fail in time")
            .unwrap_err();
        assert!(stuck.is_retryable(), "{stuck}");
        assert!(
            stuck
                .to_string()
                .contains("test group commit: no answer within 50ms"),
            "{stuck}"
        );
        let next = tokio::time::timeout(Duration::from_secs(10), group.submit(1)).await;
        assert_eq!(next.expect("the slot was freed").unwrap(), 1);
    }
}
