//! A handler that logs each event and succeeds.

use commerce_kit_core::redact::redact_json;
use serde_json::Value;

use crate::cloudevent::CloudEvent;
use crate::error::HandlerError;
use crate::handler::{DeliverySource, EventContext, EventHandler, HandlerResult};

/// Logs each event and answers 200 `{"success":true,"message":"event '<type>' logged"}`.
///
/// At `info`: event type, id, route, source and a summary of the payload (its
/// top-level field names, and the entity's `sku` or `id` when present; never
/// values of other fields). At `debug`: the whole payload with secrets hidden
/// ([`redact_json`]). Handy as the fallback while developing, and as the
/// embedded default when no forwarding URL is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoggingHandler;

/// Top-level field names of an object payload, sorted, or the JSON kind otherwise.
fn shape(payload: &Value) -> String {
    match payload {
        Value::Object(map) => {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
            keys.sort_unstable();
            keys.join(",")
        }
        Value::Array(items) => format!("array of {}", items.len()),
        Value::Null => "null".to_owned(),
        _ => "scalar".to_owned(),
    }
}

fn entity(payload: &Value) -> String {
    ["sku", "id", "increment_id", "customer_group_code"]
        .iter()
        .find_map(|k| match payload.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(format!("{k}={s}")),
            Some(Value::Number(n)) => Some(format!("{k}={n}")),
            _ => None,
        })
        .unwrap_or_else(|| "-".to_owned())
}

#[async_trait::async_trait]
impl EventHandler for LoggingHandler {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        let payload = ctx.payload(&event);
        let source = match ctx.source {
            DeliverySource::Http => "http".to_owned(),
            DeliverySource::LocalBus { offset } => format!("local-bus@{offset}"),
            DeliverySource::Direct => "direct".to_owned(),
        };
        tracing::info!(
            event_type = %event.event_type,
            event_id = %ctx.event_id,
            route = ctx.route.as_ref().map(|r| r.name).unwrap_or("-"),
            source = %source,
            entity = %entity(payload),
            fields = %shape(payload),
            "event received"
        );
        tracing::debug!(event_id = %ctx.event_id, data = %redact_json(&event.data), "event data");
        Ok(HandlerResult::success(format!("event '{}' logged", event.event_type)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_shows_names_and_the_entity_only() {
        let p = json!({"sku": "A-1", "name": "Bag", "api_token": "t"});
        assert_eq!(shape(&p), "api_token,name,sku");
        assert_eq!(entity(&p), "sku=A-1");
        assert_eq!(entity(&json!({"id": 7})), "id=7");
        assert_eq!(entity(&json!({"email": "a@b.c"})), "-");
        assert_eq!(shape(&json!([1, 2])), "array of 2");
    }

    #[tokio::test]
    async fn it_succeeds_with_the_kit_shape() {
        let e = CloudEvent::new("1", "s", "be-observer.catalog_product_create", json!({"sku": "A"}));
        let r = LoggingHandler.handle(e, EventContext::new("1")).await;
        assert_eq!(
            r,
            Ok(HandlerResult::success(
                "event 'be-observer.catalog_product_create' logged"
            ))
        );
    }
}
