//! JSON Schemas of the request bodies, for the OpenAPI document.

use serde_json::{json, Value};

fn artifact_props() -> Value {
    json!({
        "title": {"type": "string", "description": "what to generate"},
        "description": {"type": "string"},
        "language": {"type": "string", "description": "code: the language (see /artifacts/types)"},
        "format": {"type": "string", "description": "config: json|yaml|toml|ini|xml; data: json"},
        "context": {"type": "string", "description": "extra context for the model"},
        "repository": {"type": "string", "description": "owner/name: adds the repository's context"},
        "idempotency_key": {"type": "string", "description": "same key → same artifact, no second LLM call"},
        "model": {"type": "string"},
        "max_tokens": {"type": "integer"},
        "temperature": {"type": "number"},
        "repair": {"type": "boolean", "description": "one repair round when validation fails (default true)"}
    })
}

/// A generation request whose kind comes from the route.
pub fn artifact() -> Value {
    json!({"type": "object", "required": ["title"], "properties": artifact_props()})
}

/// A generation request naming its kind.
pub fn artifact_any() -> Value {
    let mut props = artifact_props();
    props["kind"] =
        json!({"type": "string", "enum": ["code", "document", "diagram", "config", "data"]});
    json!({"type": "object", "required": ["kind", "title"], "properties": props})
}

/// A code analysis request.
pub fn analyze() -> Value {
    json!({"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string"},
        "language": {"type": "string"},
        "analysis_type": {"type": "string", "description": "e.g. review, security, performance, documentation, tests"},
        "title": {"type": "string"},
        "file_path": {"type": "string"},
        "context": {"type": "string"},
        "repository": {"type": "string"},
        "idempotency_key": {"type": "string"}
    }})
}

/// An AI command.
pub fn command() -> Value {
    json!({"type": "object", "required": ["command"], "properties": {
        "command": {"type": "string"},
        "action": {"type": "string", "enum": ["analyze", "sync", "process", "ask"], "description": "anything else: a free-form answer"},
        "repository": {"type": "string"},
        "file_path": {"type": "string"},
        "context": {"type": "string"}
    }})
}

/// A scan request.
pub fn scan() -> Value {
    json!({"type": "object", "properties": {
        "repository": {"type": "string", "description": "owner/name"},
        "path": {"type": "string", "description": "a local directory under KOVA_SCAN_ROOTS"},
        "git_ref": {"type": "string"}
    }, "oneOf": [{"required": ["repository"]}, {"required": ["path"]}]})
}

/// A sync request.
pub fn sync() -> Value {
    json!({"type": "object", "properties": {
        "repos": {"type": "array", "items": {"type": "string"}, "description": "owner/name; omitted: every enabled repository"},
        "include_analysis": {"type": "boolean"},
        "force": {"type": "boolean", "description": "fetch content even if the default branch has not moved"}
    }})
}

/// A repository to add.
pub fn add() -> Value {
    json!({"type": "object", "required": ["repository"], "properties": {
        "repository": {"type": "string", "description": "owner/name"},
        "type": {"type": "string", "enum": ["core", "service", "frontend", "experimental"]},
        "sync_priority": {"type": "integer", "minimum": 1, "maximum": 5},
        "features": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string"},
        "enabled": {"type": "boolean"}
    }})
}
