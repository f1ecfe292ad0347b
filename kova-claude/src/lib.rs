//! # kova-claude
//!
//! Anthropic Claude for Kova: a Messages API client implementing `LlmProvider`. Built in the
//! Claude issue; until then this crate only names its place in the workspace.
