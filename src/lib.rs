#![doc = include_str!("../README.md")]

pub use kova_core as core;
pub use kova_core::*;
pub use kova_store as store;

/// The GitHub webhook receiver and REST client (feature `github`).
#[cfg(feature = "github")]
pub use kova_github as github;

/// The Anthropic Claude provider (feature `claude`).
#[cfg(feature = "claude")]
pub use kova_claude as claude;

/// The axum HTTP adapter (feature `http`).
#[cfg(feature = "http")]
pub use kova_http as http;
