//! The endpoint table: every route with its method, access rule, summary and body schema. The
//! router and the OpenAPI document are both built from it, so they cannot disagree.

use crate::auth::Role;
use crate::state::AppState;
use axum::routing::MethodRouter;
use serde_json::Value;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// GitHub, proven by the webhook signature.
    Signature,
    /// A credential with at least this role.
    Role(Role),
    /// Public or read, as configured (`/metrics`).
    Metrics,
}

/// A query parameter, for the documentation.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Its JSON type (`string`, `integer`, `boolean`).
    pub kind: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// One endpoint.
pub struct Endpoint {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its group in the documentation.
    pub tag: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Query parameters.
    pub query: &'static [Param],
    /// JSON Schema of the request body, if it takes one.
    pub body: Option<fn() -> Value>,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Shorthand for a query parameter.
pub const fn param(name: &'static str, kind: &'static str, doc: &'static str) -> Param {
    Param { name, kind, doc }
}

/// The paging parameters every list takes.
pub const PAGING: [Param; 2] = [
    param("limit", "integer", "page size (default 50, at most 1000)"),
    param("cursor", "string", "next_cursor of the previous page"),
];
