//! The OpenAPI 3.1 document, generated from the endpoint table.

use crate::spec::{Access, Endpoint};
use serde_json::{json, Map, Value};

/// Builds the OpenAPI document for `endpoints`.
pub fn document(endpoints: &[Endpoint], metrics_public: bool) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for ep in endpoints {
        let mut op = Map::new();
        op.insert("summary".into(), json!(ep.summary));
        op.insert("tags".into(), json!([ep.tag]));
        op.insert("operationId".into(), json!(operation_id(ep)));
        let mut params: Vec<Value> = ep
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(ep.query.iter().map(|p| {
            json!({"name": p.name, "in": "query", "required": false, "description": p.doc, "schema": {"type": p.kind}})
        }));
        if ep.access == Access::Signature {
            for (name, doc) in [
                (
                    "X-Hub-Signature-256",
                    "sha256=<HMAC-SHA256 of the raw body with the webhook secret>",
                ),
                ("X-GitHub-Event", "event name"),
                ("X-GitHub-Delivery", "delivery GUID"),
            ] {
                params.push(json!({"name": name, "in": "header", "required": true, "description": doc, "schema": {"type": "string"}}));
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(schema) = ep.body {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": schema()}}}),
            );
        }
        let protected = match ep.access {
            Access::Public | Access::Signature => false,
            Access::Role(_) => true,
            Access::Metrics => !metrics_public,
        };
        if protected {
            op.insert("security".into(), json!([{"bearer": []}]));
            let role = match ep.access {
                Access::Role(r) => r,
                _ => crate::auth::Role::Read,
            };
            op.insert("x-kova-role".into(), json!(role.as_str()));
        }
        let mut responses = Map::new();
        let ok = match (ep.method, ep.path) {
            ("POST", "/webhooks/github") => "202",
            _ => "200",
        };
        responses.insert(ok.into(), json!({"description": "success"}));
        if protected {
            responses.insert(
                "401".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
            responses.insert(
                "403".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
            responses.insert(
                "429".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
        }
        if ep.access == Access::Signature {
            responses.insert(
                "401".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
            responses.insert(
                "413".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
        }
        if ep.body.is_some() || !ep.query.is_empty() || ep.access == Access::Signature {
            responses.insert(
                "400".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
            responses.insert(
                "422".into(),
                json!({"$ref": "#/components/responses/Error"}),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths
            .entry(ep.path.to_string())
            .or_insert_with(|| json!({}));
        entry[ep.method.to_ascii_lowercase()] = Value::Object(op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Kova",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "AI-assisted GitHub automation: webhooks, durable records, Claude analysis, multi-repository sync."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API key or HS256 JWT with a roles claim"}},
            "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
            }}}}}
        }
    })
}

fn operation_id(ep: &Endpoint) -> String {
    let mut id = ep.method.to_ascii_lowercase();
    for seg in ep.path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.push_str(&seg.replace(['{', '}'], "").replace('-', "_"));
    }
    id
}
