//! Configuration files Kova reads and writes.

pub mod glob;
pub mod repos;

pub use glob::NamePattern;
pub use repos::{DiscoverySettings, IntegrationSettings, RepoEntry, ReposConfig, SyncSettings};
