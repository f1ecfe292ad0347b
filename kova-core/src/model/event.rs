//! Webhook deliveries (what arrived) and stored webhook events (what Kova did with them).

use crate::error::{Error, Result};
use crate::model::ids::EventId;
use crate::model::repo::RepoRef;
use crate::time::Timestamp;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A verified webhook request as it arrived: the headers Kova keeps and the raw body bytes.
///
/// The body is kept byte for byte (it is what the signature covers); the envelope fields are
/// read from it without building the full typed payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// `X-GitHub-Hook-ID`; together with `delivery_id` it identifies a delivery.
    pub hook_id: Option<i64>,
    /// `X-GitHub-Delivery` (a GUID; redeliveries reuse it).
    pub delivery_id: String,
    /// `X-GitHub-Event`, e.g. `pull_request`.
    pub event: String,
    /// The payload's `action`, e.g. `opened`.
    pub action: Option<String>,
    /// The payload's `repository.full_name`.
    pub repo: Option<RepoRef>,
    /// The payload's `installation.id`.
    pub installation_id: Option<i64>,
    /// The payload's `sender.login`.
    pub sender: Option<String>,
    /// `X-GitHub-Hook-Installation-Target-Type` (`repository`, `organization`, `integration`).
    pub target_type: Option<String>,
    /// `X-GitHub-Hook-Installation-Target-ID`.
    pub target_id: Option<i64>,
    /// `User-Agent` of the sender.
    pub user_agent: Option<String>,
    /// The raw request body, exactly as signed.
    pub body: Bytes,
    /// When Kova received it.
    pub received_at: Timestamp,
}

impl WebhookDelivery {
    /// A delivery with the required fields; the rest empty.
    pub fn new(
        delivery_id: impl Into<String>,
        event: impl Into<String>,
        body: Bytes,
        received_at: Timestamp,
    ) -> Self {
        WebhookDelivery {
            hook_id: None,
            delivery_id: delivery_id.into(),
            event: event.into(),
            action: None,
            repo: None,
            installation_id: None,
            sender: None,
            target_type: None,
            target_id: None,
            user_agent: None,
            body,
            received_at,
        }
    }

    /// Checks what every store relies on: a delivery id and an event name of sane size.
    pub fn validate(&self) -> Result<()> {
        if self.delivery_id.is_empty() || self.delivery_id.len() > 128 {
            return Err(Error::invalid("delivery_id", "must be 1..=128 characters"));
        }
        if self.event.is_empty() || self.event.len() > 64 {
            return Err(Error::invalid("event", "must be 1..=64 characters"));
        }
        Ok(())
    }
}

/// Where a stored event is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EventStatus {
    /// Stored; its job is queued or running.
    Received,
    /// Its job finished.
    Processed,
    /// Its job is dead (the error is on the job).
    Failed,
    /// No handler wanted it, or newer work superseded it.
    Ignored,
}

impl EventStatus {
    /// The lowercase name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Received => "received",
            EventStatus::Processed => "processed",
            EventStatus::Failed => "failed",
            EventStatus::Ignored => "ignored",
        }
    }
}

impl FromStr for EventStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "received" => EventStatus::Received,
            "processed" => EventStatus::Processed,
            "failed" => EventStatus::Failed,
            "ignored" => EventStatus::Ignored,
            _ => {
                return Err(Error::invalid(
                    "status",
                    "must be received|processed|failed|ignored",
                ))
            }
        })
    }
}

/// A delivery as stored, with its id and processing status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// Row id.
    pub id: EventId,
    /// What arrived.
    pub delivery: WebhookDelivery,
    /// Where processing stands.
    pub status: EventStatus,
}
