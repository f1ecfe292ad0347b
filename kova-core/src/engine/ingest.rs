//! The ingest path: verify, read the envelope, record the event and its job in one write.
//! Nothing else happens here, so a webhook is answered in milliseconds.

use super::Kova;
use crate::error::{Error, Result};
use crate::model::{EnqueueOutcome, EventId, WebhookDelivery};
use crate::store::DeliveryOutcome;
use crate::webhook::HeaderSource;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What ingesting a delivery did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// The stored event (the first one, for a duplicate).
    pub event_id: EventId,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// The same delivery was ingested before; nothing new was stored.
    pub duplicate: bool,
    /// The handler that will process it, if one accepted it.
    pub handler: Option<String>,
    /// The job queued for it (or the existing job doing the same work).
    pub job: Option<EnqueueOutcome>,
}

impl Kova {
    /// Verifies a raw webhook request with the configured receiver (signature first) and reads
    /// its envelope. Fails closed when no receiver is configured.
    pub fn receive(&self, headers: &dyn HeaderSource, body: Bytes) -> Result<WebhookDelivery> {
        let receiver = self
            .inner
            .receiver
            .as_ref()
            .ok_or_else(|| Error::NotConfigured {
                what: "webhook receiver",
                hint:
                    "set GITHUB_WEBHOOK_SECRET (or allow unsigned webhooks for local development)"
                        .into(),
            })?;
        receiver.receive(headers, body, self.inner.clock.now())
    }

    /// [`receive`](Kova::receive) then [`ingest`](Kova::ingest): the whole webhook hot path.
    /// Verification runs before the future is returned, so the future holds no borrowed
    /// headers and can be sent between threads.
    pub fn ingest_request(
        &self,
        headers: &dyn HeaderSource,
        body: Bytes,
    ) -> impl std::future::Future<Output = Result<IngestOutcome>> + Send + '_ {
        let delivery = self.receive(headers, body);
        async move { self.ingest(delivery?).await }
    }

    /// Records a verified delivery and the job of the first handler that accepts it, atomically
    /// (see [`Store::record_delivery`](crate::Store::record_delivery)). A redelivery is
    /// recognised and stores nothing. An event no handler wants is stored as `ignored`.
    pub async fn ingest(&self, delivery: WebhookDelivery) -> Result<IngestOutcome> {
        let handler = self
            .inner
            .handlers
            .iter()
            .find(|h| h.accepts(&delivery.event, delivery.action.as_deref()));
        let job = handler.map(|h| {
            let mut job = h.job_for(&delivery);
            job.max_attempts = self.inner.settings.max_attempts;
            job
        });
        let outcome = self
            .inner
            .store
            .record_delivery(&delivery, job.as_ref())
            .await?;
        let (duplicate, job) = match outcome {
            DeliveryOutcome::Duplicate { .. } => (true, None),
            // An event no handler wants was stored `ignored` by the same write.
            DeliveryOutcome::Inserted { job, .. } => (false, job),
        };
        tracing::debug!(
            delivery_id = %delivery.delivery_id,
            event = %delivery.event,
            duplicate,
            "webhook ingested"
        );
        Ok(IngestOutcome {
            event_id: outcome.event_id(),
            delivery_id: delivery.delivery_id,
            event: delivery.event,
            duplicate,
            handler: handler.map(|h| h.name().to_string()),
            job,
        })
    }
}
