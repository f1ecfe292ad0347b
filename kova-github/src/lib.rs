//! # kova-github
//!
//! GitHub for Kova: webhook verification and envelope parsing (a `WebhookReceiver`) and a REST
//! client that respects GitHub's limits (a `SourceHost`). Built in the GitHub issue; until
//! then this crate only names its place in the workspace.
