//! The whole Store conformance suite on the in-memory backend.

use kova_store::MemoryStore;
use std::sync::Arc;

kova_core::conformance_suite!(async { Arc::new(MemoryStore::new()) });
