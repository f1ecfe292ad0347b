//! GitHub webhooks: signature verification and envelope reading, as a
//! [`WebhookReceiver`].
//!
//! ```
//! use kova_github::webhook::{sign, GitHubWebhooks};
//! use kova_github::Secret;
//! use kova_core::WebhookReceiver;
//!
//! let secret = Secret::new("It's a Secret to Everybody");
//! let receiver = GitHubWebhooks::new(vec![secret.clone()]);
//! let body = bytes::Bytes::from_static(br#"{"zen":"Design for failure.","hook_id":1}"#);
//! let signature = sign(&secret, &body);
//! let headers: Vec<(String, String)> = vec![
//!     ("X-GitHub-Event".into(), "ping".into()),
//!     ("X-GitHub-Delivery".into(), "72d3162e-cc78-11e3-81ab-4c9367dc0958".into()),
//!     ("X-Hub-Signature-256".into(), signature),
//! ];
//! let delivery = receiver.receive(&headers, body, chrono::Utc::now()).unwrap();
//! assert_eq!(delivery.event, "ping");
//! ```

mod envelope;
mod verify;

pub use envelope::{Envelope, InstallationField, RepositoryField, SenderField};
pub use verify::{parse_signature, sign};

use crate::secret::Secret;
use bytes::Bytes;
use kova_core::{
    Error, HeaderSource, Result, SignatureError, Timestamp, WebhookDelivery, WebhookReceiver,
};

/// Header names GitHub sends with every delivery.
pub mod headers {
    /// The event name, e.g. `pull_request`.
    pub const EVENT: &str = "X-GitHub-Event";
    /// The delivery GUID (a redelivery keeps it).
    pub const DELIVERY: &str = "X-GitHub-Delivery";
    /// The hook's id.
    pub const HOOK_ID: &str = "X-GitHub-Hook-ID";
    /// `repository`, `organization`, `integration`…
    pub const TARGET_TYPE: &str = "X-GitHub-Hook-Installation-Target-Type";
    /// The id of the hook's target.
    pub const TARGET_ID: &str = "X-GitHub-Hook-Installation-Target-ID";
    /// HMAC-SHA256 of the body: `sha256=<hex>`.
    pub const SIGNATURE_256: &str = "X-Hub-Signature-256";
    /// The legacy HMAC-SHA1 signature, which Kova does not accept.
    pub const SIGNATURE_SHA1: &str = "X-Hub-Signature";
    /// `GitHub-Hookshot/<version>`.
    pub const USER_AGENT: &str = "User-Agent";
    /// The body's media type.
    pub const CONTENT_TYPE: &str = "Content-Type";
}

/// GitHub's [`WebhookReceiver`]: verifies `X-Hub-Signature-256` against one or more secrets and
/// reads the delivery headers and the payload envelope.
#[derive(Debug, Clone)]
pub struct GitHubWebhooks {
    secrets: Vec<Secret>,
    allow_unsigned: bool,
}

impl GitHubWebhooks {
    /// A receiver that accepts a delivery signed with any of `secrets` (more than one while a
    /// secret is being rotated). Empty secrets are ignored; with none left, every delivery is
    /// refused unless [`allow_unsigned`](Self::allow_unsigned) is set.
    pub fn new(secrets: Vec<Secret>) -> Self {
        GitHubWebhooks {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
            allow_unsigned: false,
        }
    }

    /// A receiver with the secret in `KOVA_GITHUB_WEBHOOK_SECRET` (or `GITHUB_WEBHOOK_SECRET`)
    /// and, while rotating, the old one in `KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET`. With neither
    /// set it refuses every delivery (fail closed).
    pub fn from_env() -> Self {
        Self::with_env_lookup(|k| std::env::var(k).ok())
    }

    fn with_env_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let current = get("KOVA_GITHUB_WEBHOOK_SECRET").or_else(|| get("GITHUB_WEBHOOK_SECRET"));
        let previous = get("KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET");
        GitHubWebhooks::new(
            current
                .into_iter()
                .chain(previous)
                .map(Secret::new)
                .collect(),
        )
    }

    /// With `true` and no secret configured, accepts unsigned deliveries. For local
    /// development only: anyone who can reach the endpoint can then inject events.
    pub fn allow_unsigned(mut self, allow: bool) -> Self {
        self.allow_unsigned = allow;
        self
    }

    /// How many secrets are configured.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Checks the signature of `body` as the headers present it.
    pub fn verify(&self, headers: &dyn HeaderSource, body: &[u8]) -> Result<()> {
        if self.secrets.is_empty() {
            return if self.allow_unsigned {
                Ok(())
            } else {
                Err(SignatureError::NoSecretConfigured.into())
            };
        }
        let Some(value) = headers.header(headers::SIGNATURE_256) else {
            return Err(if headers.header(headers::SIGNATURE_SHA1).is_some() {
                SignatureError::UnsupportedAlgorithm
            } else {
                SignatureError::Missing
            }
            .into());
        };
        let expected = parse_signature(value)?;
        if verify::verify(&self.secrets, body, &expected) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch.into())
        }
    }
}

fn required<'h>(headers: &'h dyn HeaderSource, name: &str) -> Result<&'h str> {
    match headers.header(name).map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::invalid(name, "required header is missing")),
    }
}

fn optional_id(headers: &dyn HeaderSource, name: &str) -> Result<Option<i64>> {
    match headers.header(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid(name, format!("'{v}' is not a numeric id"))),
    }
}

impl WebhookReceiver for GitHubWebhooks {
    fn name(&self) -> &str {
        "github"
    }

    fn receive(
        &self,
        headers: &dyn HeaderSource,
        body: Bytes,
        received_at: Timestamp,
    ) -> Result<WebhookDelivery> {
        // Verify first: nothing from an unauthenticated request is read or echoed back.
        self.verify(headers, &body)?;
        let event = required(headers, headers::EVENT)?;
        let delivery_id = required(headers, headers::DELIVERY)?;
        if let Some(ct) = headers.header(headers::CONTENT_TYPE) {
            if ct
                .trim_start()
                .starts_with("application/x-www-form-urlencoded")
            {
                return Err(Error::invalid(
                    headers::CONTENT_TYPE,
                    "form-encoded payloads are not supported; set the webhook's content type to application/json",
                ));
            }
        }
        let hook_id = optional_id(headers, headers::HOOK_ID)?;
        let target_id = optional_id(headers, headers::TARGET_ID)?;
        let envelope = Envelope::parse(&body)?;
        let delivery = WebhookDelivery {
            hook_id,
            delivery_id: delivery_id.to_string(),
            event: event.to_string(),
            action: envelope.action.as_deref().map(str::to_string),
            repo: envelope.repo()?,
            installation_id: envelope.installation_id(),
            sender: envelope.sender_login().map(str::to_string),
            target_type: headers
                .header(headers::TARGET_TYPE)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            target_id,
            user_agent: headers.header(headers::USER_AGENT).map(str::to_string),
            body: Bytes::new(),
            received_at,
        };
        let delivery = WebhookDelivery { body, ..delivery };
        delivery.validate()?;
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests;
