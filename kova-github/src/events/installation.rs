//! `installation` and `installation_repositories`: a GitHub App installed, changed or removed.

use super::common::User;
use serde::Deserialize;
use std::collections::BTreeMap;

/// An `installation` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct InstallationEvent {
    /// `created`, `deleted`, `suspend`, `unsuspend`, `new_permissions_accepted`.
    pub action: String,
    /// The installation.
    pub installation: Installation,
    /// Repositories it can access (for `created` with selected repositories).
    pub repositories: Vec<InstallationRepository>,
    /// Who asked for the installation.
    pub requester: Option<User>,
    /// Who triggered it.
    pub sender: Option<User>,
}

/// An `installation_repositories` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct InstallationRepositoriesEvent {
    /// `added` or `removed`.
    pub action: String,
    /// The installation.
    pub installation: Installation,
    /// `all` or `selected`.
    pub repository_selection: String,
    /// Repositories added.
    pub repositories_added: Vec<InstallationRepository>,
    /// Repositories removed.
    pub repositories_removed: Vec<InstallationRepository>,
    /// Who asked for the change.
    pub requester: Option<User>,
    /// Who triggered it.
    pub sender: Option<User>,
}

/// A GitHub App installation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Installation {
    /// Installation id.
    pub id: u64,
    /// The account it is installed on.
    pub account: Option<User>,
    /// The app.
    pub app_id: u64,
    /// The app's slug.
    pub app_slug: Option<String>,
    /// `User` or `Organization`.
    pub target_type: String,
    /// `all` or `selected`.
    pub repository_selection: String,
    /// Permission name → `read` / `write` / `admin`.
    pub permissions: BTreeMap<String, String>,
    /// Events the app subscribes to.
    pub events: Vec<String>,
}

/// A repository as installation payloads list it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InstallationRepository {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Private.
    pub private: bool,
}
