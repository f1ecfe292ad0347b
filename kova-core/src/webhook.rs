//! The `WebhookReceiver` plugin trait: raw request in, verified delivery out.

use crate::error::Result;
use crate::model::WebhookDelivery;
use crate::time::Timestamp;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

/// Read access to request headers, whatever the web framework (or Python dict) holds them in.
/// Lookups are case-insensitive, as HTTP header names are.
pub trait HeaderSource {
    /// The first value of the header `name`, if present and valid text.
    fn header(&self, name: &str) -> Option<&str>;
}

impl HeaderSource for [(String, String)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl HeaderSource for Vec<(String, String)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl HeaderSource for [(&str, &str)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

impl<const N: usize> HeaderSource for [(&str, &str); N] {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl HeaderSource for Vec<(&str, &str)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl HeaderSource for HashMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str).or_else(|| {
            self.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    }
}

impl HeaderSource for BTreeMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str).or_else(|| {
            self.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    }
}

/// Turns a raw webhook request into a verified [`WebhookDelivery`].
///
/// The engine owns one receiver, so every face (HTTP, Python, Rust) hands it raw requests and
/// none can forget to verify.
///
/// # Contract
/// - Verification happens before anything else and covers the raw body bytes exactly.
/// - A missing, malformed or wrong signature is [`Error::Signature`](crate::Error::Signature)
///   with the reason; with no secret configured the receiver refuses
///   ([`SignatureError::NoSecretConfigured`](crate::SignatureError::NoSecretConfigured)) unless
///   it was explicitly built to allow unsigned requests.
/// - Missing required headers or an unreadable envelope are
///   [`Error::Invalid`](crate::Error::Invalid) naming the header or field.
/// - It stays cheap: only the envelope (event, action, repository, installation, sender) is
///   read, never the full typed payload.
pub trait WebhookReceiver: Send + Sync + Debug + 'static {
    /// The host whose webhooks this receives (`github`).
    fn name(&self) -> &str;

    /// Verifies and reads one request.
    fn receive(
        &self,
        headers: &dyn HeaderSource,
        body: Bytes,
        received_at: Timestamp,
    ) -> Result<WebhookDelivery>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_ignores_case() {
        let v = vec![("X-GitHub-Event".to_string(), "push".to_string())];
        assert_eq!(v.header("x-github-event"), Some("push"));
        let mut m = HashMap::new();
        m.insert("x-github-delivery".to_string(), "abc".to_string());
        assert_eq!(m.header("X-GitHub-Delivery"), Some("abc"));
        assert_eq!(m.header("missing"), None);
        let arr = [("X-Hub-Signature-256", "sha256=00")];
        let dynamic: &dyn HeaderSource = &arr;
        assert_eq!(dynamic.header("x-hub-signature-256"), Some("sha256=00"));
        let v: Vec<(&str, &str)> = vec![("a", "b")];
        assert_eq!(v.header("A"), Some("b"));
    }
}
