//! # kova-py
//!
//! Python bindings for Kova (`import kova`), built with maturin. Built in the Python issue;
//! until then this crate only names its place in the workspace.
