//! `ping`: sent when a webhook is created.

use super::common::{InstallationRef, Repository, User};
use serde::Deserialize;

/// A `ping` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PingEvent {
    /// A random line of GitHub zen.
    pub zen: String,
    /// The new hook's id.
    pub hook_id: Option<u64>,
    /// The hook.
    pub hook: Option<Hook>,
    /// The repository, for a repository hook.
    pub repository: Option<Repository>,
    /// Who created the hook.
    pub sender: Option<User>,
    /// GitHub App installation.
    pub installation: Option<InstallationRef>,
}

/// A webhook's configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Hook {
    /// Id.
    pub id: u64,
    /// `Repository`, `Organization`, `App`…
    #[serde(rename = "type")]
    pub kind: String,
    /// Active.
    pub active: bool,
    /// Events it is subscribed to.
    pub events: Vec<String>,
    /// For an app hook, the app's id.
    pub app_id: Option<u64>,
    /// Delivery settings.
    pub config: HookConfig,
}

/// Where and how a hook delivers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct HookConfig {
    /// Target address.
    pub url: Option<String>,
    /// `json` or `form`.
    pub content_type: Option<String>,
    /// `"0"` verifies TLS, `"1"` does not (GitHub sends a string, sometimes a number).
    #[serde(deserialize_with = "string_or_number")]
    pub insecure_ssl: Option<String>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}
