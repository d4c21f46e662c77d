//! The OpenAPI 3.1 document of the routes a binary serves, built from the
//! same schemas the validators use (schemars types of the webhook crate and
//! the core error body, the ingestion schema generated from the catalog, the
//! CloudEvent type): there is no second, hand-written copy of a payload.
//!
//! Every binary serves its own at `GET /openapi.json` (with `GET /metrics`,
//! `GET /health` and `GET /ready`); `docs/openapi.json`
//! is `commerce-kit serve`'s, with the built-in catalog (a test fails when it
//! is stale; `commerce-kit openapi > docs/openapi.json` rewrites it).
//!
//! The schemas' own `$defs` are moved into `components/schemas` (prefixed by
//! the schema's name) and their references rewritten, so every `$ref` of the
//! document resolves from its root, whatever the tool.

use axum::Router;
use axum::routing::get;
use commerce_kit_model::catalog::Catalog;
use serde_json::{Map, Value, json};

/// A flow whose routes a binary serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `POST /webhook/check-stock`.
    CheckStock,
    /// `POST /ingestion/webhook`.
    Ingestion,
    /// `GET|POST /events`.
    Events,
}

/// `GET /openapi.json` serving `document`.
pub fn router(document: Value) -> Router {
    let body = std::sync::Arc::new(serde_json::to_vec_pretty(&document).unwrap_or_default());
    Router::new().route(
        "/openapi.json",
        get(move || {
            let body = body.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], (*body).clone()) }
        }),
    )
}

/// The document of `flows` (plus `/health`, `/ready`, `/metrics` and `/openapi.json`), with
/// the event schemas of `catalog`.
pub fn document(flows: &[Flow], catalog: &Catalog) -> Value {
    let mut components = Map::new();
    let mut add = |name: &str, schema: Value| -> Value {
        let mut schema = schema;
        hoist(&mut schema, name, &mut components);
        components.insert(name.to_owned(), schema);
        json!({"$ref": format!("#/components/schemas/{name}")})
    };
    let error = add(
        "Error",
        serde_json::to_value(schemars::schema_for!(commerce_kit_core::http::ErrorBody)).unwrap_or_default(),
    );
    let error_response = |description: &str| json!({"description": description, "content": {"application/json": {"schema": error.clone()}}});

    let mut paths = Map::new();
    paths.insert(
        "/health".into(),
        json!({"get": {
            "summary": "Liveness: the process serves.",
            "operationId": "health",
            "responses": {"200": {"description": "Alive.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}
            }}}}}
        }}),
    );
    let check = json!({"type": "object", "required": ["status"], "properties": {
        "status": {"enum": ["ok", "failing"]}, "reason": {"type": "string"}
    }});
    let ready = json!({"type": "object", "required": ["status", "checks"], "properties": {
        "status": {"enum": ["ready", "not ready"]},
        "checks": {"type": "object", "additionalProperties": check}
    }});
    paths.insert(
        "/ready".into(),
        json!({"get": {
            "summary": "Readiness: every check (the journal, when the local bus is used) passes.",
            "operationId": "ready",
            "responses": {
                "200": {"description": "Ready.", "content": {"application/json": {"schema": ready}}},
                "503": {"description": "A check fails; its reason says why.", "content": {"application/json": {"schema": ready}}}
            }
        }}),
    );
    paths.insert(
        "/metrics".into(),
        json!({"get": {
            "summary": "The kit's metrics in the Prometheus text format.",
            "operationId": "metrics",
            "responses": {"200": {"description": "Every series recorded so far.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {
            "summary": "This document.",
            "operationId": "openapi",
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}}
        }}),
    );

    if flows.contains(&Flow::CheckStock) {
        let kit = add("CheckStockKitBody", commerce_kit_webhook::request::kit_body_schema());
        let native = add(
            "CheckStockNativeBody",
            commerce_kit_webhook::request::native_body_schema(),
        );
        let operation = add(
            "Operation",
            json!({
                "description": "Commerce's webhook operation: success, or an exception whose message is shown to the shopper.",
                "oneOf": [
                    {"type": "object", "required": ["op"], "properties": {"op": {"const": "success"}}},
                    {"type": "object", "required": ["op", "message"], "properties": {
                        "op": {"const": "exception"}, "message": {"type": "string", "maxLength": 1024},
                        "type": {"type": "string"}
                    }}
                ]
            }),
        );
        paths.insert(
            "/webhook/check-stock".into(),
            json!({"post": {
                "summary": "Commerce's add-to-cart stock check (a `before` hook on observer.checkout_cart_product_add_before).",
                "description": "Always answers 200 with an operation when the call is authentic: invalid input is an exception whose message names the parameter. With a public key configured, the body must carry a valid x-adobe-commerce-webhook-signature; with IMS authentication configured, an IMS access token from the configured client and org.",
                "operationId": "checkStock",
                "parameters": [
                    {"name": "x-adobe-commerce-webhook-signature", "in": "header", "required": false,
                     "description": "Base64 RSA-SHA256 signature over base64(raw body); required when a key is configured.",
                     "schema": {"type": "string"}},
                    {"name": "Authorization", "in": "header", "required": false,
                     "description": "`Bearer <IMS access token>` from a hook with developerConsoleOauth; required when IMS authentication is configured (either credential is accepted when both are).",
                     "schema": {"type": "string"}},
                    {"name": "x-gw-ims-org-id", "in": "header", "required": false,
                     "description": "The IMS organization of the token; must be the configured one.",
                     "schema": {"type": "string"}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"anyOf": [kit, native]}}}},
                "responses": {
                    "200": {"description": "The verdict.", "content": {"application/json": {"schema": operation}}},
                    "401": error_response("Missing or invalid signature or IMS token.")
                }
            }}),
        );
    }

    if flows.contains(&Flow::Ingestion) {
        let request = add(
            "IngestionRequest",
            commerce_kit_ingestion::payload::json_schema(catalog),
        );
        let accepted = add(
            "IngestionAccepted",
            json!({"type": "object", "required": ["type", "response"], "properties": {
                "type": {"type": "string"},
                "response": {"type": "object", "required": ["success", "message"], "properties": {
                    "success": {"const": true}, "message": {"type": "string"}
                }}
            }}),
        );
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "Stored durably (local bus) or published (I/O Events); also for a repeated uid.",
                   "content": {"application/json": {"schema": accepted}}}),
        );
        for (status, description) in [
            (
                "400",
                "Invalid JSON, a missing or invalid parameter, an unknown event, or a value its schema refuses.",
            ),
            ("401", "Missing or invalid credentials."),
            ("408", "The body was not received in time."),
            ("413", "The body is larger than the limit."),
            ("500", "An internal error."),
            ("502", "Adobe I/O Events refused or failed the publication."),
            (
                "503",
                "Not stored now (journal not writable, I/O Events unreachable, the same uid in flight): retry later.",
            ),
        ] {
            responses.insert(status.into(), error_response(description));
        }
        paths.insert(
            "/ingestion/webhook".into(),
            json!({"post": {
                "summary": "A back-office event, validated against the event catalog and published as a CloudEvent.",
                "operationId": "ingest",
                "requestBody": {"required": true, "content": {"application/json": {"schema": request}}},
                "responses": responses
            }}),
        );
    }

    if flows.contains(&Flow::Events) {
        let cloud_event = add(
            "CloudEvent",
            serde_json::to_value(schemars::schema_for!(commerce_kit_model::cloudevent::CloudEvent)).unwrap_or_default(),
        );
        let answer = add(
            "HandlerAnswer",
            json!({"type": "object", "description": "The handler's answer for one event (its status is the HTTP status).",
                   "required": ["type", "response"], "properties": {"type": {"type": "string"}, "response": {"type": "object"}}}),
        );
        let batch = add(
            "BatchAnswer",
            json!({"type": "object", "required": ["results"], "properties": {"results": {"type": "array", "items": {
                "type": "object", "required": ["index", "status"], "properties": {
                    "index": {"type": "integer", "minimum": 0}, "id": {"type": ["string", "null"]},
                    "type": {"type": ["string", "null"]}, "status": {"type": "integer"}, "body": {}
                }
            }}}}),
        );
        let structured = json!({"oneOf": [
            cloud_event,
            {"type": "array", "items": cloud_event, "minItems": 1},
            {"type": "object", "required": ["validationUrl"], "properties": {"validationUrl": {"type": "string"}}}
        ]});
        paths.insert(
            "/events".into(),
            json!({
                "get": {
                    "summary": "Adobe I/O Events registration challenge: the challenge echoed.",
                    "operationId": "eventsChallenge",
                    "parameters": [{"name": "challenge", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 1024}}],
                    "responses": {
                        "200": {"description": "The challenge, as text or JSON (per Accept).", "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"type": "object", "required": ["challenge"], "properties": {"challenge": {"type": "string"}}}}
                        }},
                        "400": error_response("No or an invalid challenge.")
                    }
                },
                "post": {
                    "summary": "Adobe I/O Events deliveries: one CloudEvent, a batch, or a validationUrl request.",
                    "description": "Structured content mode (the event as the JSON body) or the CloudEvents HTTP binding's binary mode (the attributes as percent-encoded ce-* headers, the JSON data as the body). Each event's handler status is the answer; a batch answers the worst. With verification on, the x-adobe-digital-signature-1/2 headers must verify over the raw body.",
                    "operationId": "eventsDeliver",
                    "requestBody": {"required": true, "content": {
                        "application/json": {"schema": structured},
                        "application/cloudevents+json": {"schema": cloud_event},
                        "application/cloudevents-batch+json": {"schema": {"type": "array", "items": cloud_event}}
                    }},
                    "responses": {
                        "200": {"description": "Handled (or a duplicate, or discarded by the loop guard), every event of a batch included.", "content": {
                            "application/json": {"schema": {"anyOf": [answer, batch, {"type": "object", "required": ["success"], "properties": {"success": {"type": "boolean"}, "message": {"type": "string"}}}]}}
                        }},
                        "401": error_response("Missing or invalid signatures, or a recipientclientid for another client."),
                        "413": error_response("The body or the batch is larger than the limit."),
                        "default": {"description": "A handler's status with its body, or an error.", "content": {
                            "application/json": {"schema": {"type": "object"}}
                        }}
                    }
                }
            }),
        );
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "commerce-kit",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Adobe Commerce integration endpoints: the check-stock webhook, the back-office ingestion webhook and the Adobe I/O Events consumer."
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {"NotFound": error_response("No such route.")}
        }
    })
}

/// Moves the `$defs` of `schema` (and of schemas nested in it with their own
/// `$id`) into `out` under `<prefix><name>`, rewrites their references, and
/// drops `$schema` and `$id`.
fn hoist(schema: &mut Value, prefix: &str, out: &mut Map<String, Value>) {
    nested_resources(schema, &mut |resource| {
        let id = resource
            .get("$id")
            .and_then(Value::as_str)
            .unwrap_or("nested")
            .to_owned();
        let name: String = id
            .rsplit(':')
            .next()
            .unwrap_or("nested")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        hoist(resource, &format!("{prefix}_{name}_"), out);
    });
    let defs = schema.as_object_mut().and_then(|o| o.remove("$defs"));
    if let Some(Value::Object(defs)) = defs {
        for (name, mut def) in defs {
            rewrite_refs(&mut def, prefix);
            out.insert(format!("{prefix}{name}"), def);
        }
    }
    rewrite_refs(schema, prefix);
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("$id");
    }
}

/// Calls `f` on every object below `node` that has its own `$id` (not below one).
fn nested_resources(node: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    let children: Vec<&mut Value> = match node {
        Value::Object(object) => object.values_mut().collect(),
        Value::Array(items) => items.iter_mut().collect(),
        _ => return,
    };
    for child in children {
        if child.get("$id").is_some() {
            f(child);
        } else {
            nested_resources(child, f);
        }
    }
}

/// Points `#/$defs/X` references at `#/components/schemas/<prefix>X`.
fn rewrite_refs(node: &mut Value, prefix: &str) {
    match node {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                if key == "$ref"
                    && let Some(target) = value.as_str().and_then(|r| r.strip_prefix("#/$defs/"))
                {
                    *value = Value::String(format!("#/components/schemas/{prefix}{target}"));
                } else {
                    rewrite_refs(value, prefix);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, prefix)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` of the document, for resolution checks.
    fn refs<'v>(node: &'v Value, out: &mut Vec<&'v str>) {
        match node {
            Value::Object(object) => {
                for (key, value) in object {
                    match (key.as_str(), value.as_str()) {
                        ("$ref", Some(target)) => out.push(target),
                        _ => refs(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_from_the_root() {
        let doc = document(&[Flow::CheckStock, Flow::Ingestion, Flow::Events], &Catalog::builtin());
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 20, "{}", found.len());
        for target in found {
            let pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external ref {target}"));
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
        assert!(!doc.to_string().contains("$defs"), "no $defs left behind");
    }

    #[test]
    fn a_binary_documents_only_its_routes() {
        let doc = document(&[Flow::CheckStock], &Catalog::builtin());
        let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
        assert_eq!(
            paths,
            ["/health", "/metrics", "/openapi.json", "/ready", "/webhook/check-stock"]
        );
    }
}
