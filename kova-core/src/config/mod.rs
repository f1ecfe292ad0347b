//! Configuration files Kova reads and writes.

pub mod glob;
mod redact;
pub mod repos;

pub use glob::NamePattern;
pub use redact::redact_url;
pub use repos::{DiscoverySettings, IntegrationSettings, RepoEntry, ReposConfig, SyncSettings};
