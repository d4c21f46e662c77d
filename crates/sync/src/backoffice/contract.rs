//! The back-office contract: which request each Commerce event becomes.

use commerce_kit_events::{CloudEvent, EventContext, routing};
use commerce_kit_model::routing::{Origin, Route};
use serde_json::{Value, json};

use crate::error::PayloadError;

/// The 11 routes of the 8 Commerce events (the save events split into created
/// and updated by the starter kit's rule, [`routing::route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommerceRoute {
    /// `product-commerce/created` (`catalog_product_save_commit_after`, `created_at == updated_at`)
    ProductCreated,
    /// `product-commerce/updated` (`catalog_product_save_commit_after`, otherwise)
    ProductUpdated,
    /// `product-commerce/deleted` (`catalog_product_delete_commit_after`)
    ProductDeleted,
    /// `customer-commerce/created` (`customer_save_commit_after`, `created_at == updated_at`)
    CustomerCreated,
    /// `customer-commerce/updated` (`customer_save_commit_after`, otherwise)
    CustomerUpdated,
    /// `customer-commerce/deleted` (`customer_delete_commit_after`)
    CustomerDeleted,
    /// `customer-commerce/group-updated` (`customer_group_save_commit_after`: the kit has no "created")
    CustomerGroupUpdated,
    /// `customer-commerce/group-deleted` (`customer_group_delete_commit_after`)
    CustomerGroupDeleted,
    /// `order-commerce/created` (`sales_order_save_commit_after`, `created_at == updated_at`)
    OrderCreated,
    /// `order-commerce/updated` (`sales_order_save_commit_after`, otherwise)
    OrderUpdated,
    /// `stock-commerce/updated` (`cataloginventory_stock_item_save_commit_after`)
    StockUpdated,
}

use CommerceRoute as R;

/// (route, route name, entity, action)
const TABLE: [(CommerceRoute, &str, &str, &str); 11] = [
    (R::ProductCreated, "product-commerce/created", "product", "created"),
    (R::ProductUpdated, "product-commerce/updated", "product", "updated"),
    (R::ProductDeleted, "product-commerce/deleted", "product", "deleted"),
    (R::CustomerCreated, "customer-commerce/created", "customer", "created"),
    (R::CustomerUpdated, "customer-commerce/updated", "customer", "updated"),
    (R::CustomerDeleted, "customer-commerce/deleted", "customer", "deleted"),
    (
        R::CustomerGroupUpdated,
        "customer-commerce/group-updated",
        "customer-group",
        "updated",
    ),
    (
        R::CustomerGroupDeleted,
        "customer-commerce/group-deleted",
        "customer-group",
        "deleted",
    ),
    (R::OrderCreated, "order-commerce/created", "order", "created"),
    (R::OrderUpdated, "order-commerce/updated", "order", "updated"),
    (R::StockUpdated, "stock-commerce/updated", "stock", "updated"),
];

impl CommerceRoute {
    /// All 11, in the routing table's order.
    pub const ALL: [CommerceRoute; 11] = [
        R::ProductCreated,
        R::ProductUpdated,
        R::ProductDeleted,
        R::CustomerCreated,
        R::CustomerUpdated,
        R::CustomerDeleted,
        R::CustomerGroupUpdated,
        R::CustomerGroupDeleted,
        R::OrderCreated,
        R::OrderUpdated,
        R::StockUpdated,
    ];

    fn row(self) -> &'static (CommerceRoute, &'static str, &'static str, &'static str) {
        // TABLE lists the 11 in ALL's order (tested)
        &TABLE[self as usize]
    }

    /// The starter kit's route name, e.g. `product-commerce/created` (a
    /// handler key of the consumer).
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The entity in the body and the path: `product`, `customer`,
    /// `customer-group`, `order` or `stock`.
    pub fn entity(self) -> &'static str {
        self.row().2
    }

    /// `created`, `updated` or `deleted`.
    pub fn action(self) -> &'static str {
        self.row().3
    }

    /// The request path under the back office's base URL: `<entity>/<action>`.
    pub fn path(self) -> String {
        format!("{}/{}", self.entity(), self.action())
    }

    /// The route of a route name.
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|row| row.1 == name).map(|row| row.0)
    }

    /// Fields of `data.value` the kit's handler requires beyond the routing
    /// rule's (its `validator.js`): `customer_group_code` for both group routes.
    fn required(self) -> &'static [&'static str] {
        match self {
            R::CustomerGroupUpdated | R::CustomerGroupDeleted => &["customer_group_code"],
            _ => &[],
        }
    }
}

/// One request to the back office: `POST <base URL>/<path>` with `body` as
/// JSON and `idempotency-key: <idempotency_key>`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackOfficeRequest {
    /// The route it came from.
    pub route: CommerceRoute,
    /// Relative to the back office's base URL, e.g. `product/created`.
    pub path: String,
    /// The JSON body (see the crate docs for its fields).
    pub body: Value,
    /// The event id: stable across redeliveries, so the back office can dedupe.
    pub idempotency_key: String,
    /// The event type as delivered (`x-event-type`), prefix included.
    pub event_type: String,
}

/// The back-office request for a Commerce event: routed by the kit's rules
/// (created vs updated by the timestamps) unless `ctx.route` is already set,
/// with `data.value` carried unchanged (the kit's Commerce-side transformers
/// pass it through as it is). Every error is final (400).
///
/// ```
/// use commerce_kit_sync::backoffice::{back_office_request, CommerceRoute};
/// use commerce_kit_events::{CloudEvent, EventContext};
/// use serde_json::json;
///
/// let value = json!({"id": "12", "increment_id": "000000012", "created_at": "2024-08-05 14:34:19", "updated_at": "2024-08-05 14:34:19"});
/// let event = CloudEvent::new("evt-1", "commerce", "com.adobe.commerce.observer.sales_order_save_commit_after", json!({"value": value}));
/// let request = back_office_request(&event, &EventContext::new("evt-1"))?;
/// assert_eq!((request.route, request.path.as_str()), (CommerceRoute::OrderCreated, "order/created"));
/// assert_eq!(request.body["data"], value);
/// assert_eq!(request.body["eventId"], "evt-1");
///
/// let group = CloudEvent::new("evt-2", "commerce", "com.adobe.commerce.observer.customer_group_save_commit_after", json!({"value": {"customer_group_id": "18"}}));
/// assert_eq!(
///     back_office_request(&group, &EventContext::new("evt-2")).unwrap_err().to_string(),
///     "missing parameter(s) 'data.value.customer_group_code'"
/// );
/// # Ok::<(), commerce_kit_sync::PayloadError>(())
/// ```
pub fn back_office_request(event: &CloudEvent, ctx: &EventContext) -> Result<BackOfficeRequest, PayloadError> {
    let routed;
    let route: &Route = match &ctx.route {
        Some(route) => route,
        None => {
            routed = routing::route(&event.event_type, &event.data)?;
            &routed
        }
    };
    let commerce_route = match route.origin {
        Origin::Commerce => CommerceRoute::from_name(route.name),
        Origin::BackOffice => None,
    }
    .ok_or_else(|| PayloadError::Unsupported(event.event_type.clone()))?;
    let value = match event.data.get("value") {
        Some(v @ Value::Object(_)) => v,
        Some(other) => {
            return Err(PayloadError::invalid(
                "data.value",
                format!("expected an object, got {}", kind(other)),
            ));
        }
        None => return Err(PayloadError::missing(["data.value"])),
    };
    let missing: Vec<String> = commerce_route
        .required()
        .iter()
        .filter(|field| matches!(value.get(**field), None | Some(Value::Null)) || value[**field] == "")
        .map(|field| format!("data.value.{field}"))
        .collect();
    if !missing.is_empty() {
        return Err(PayloadError::Missing(missing));
    }
    let body = json!({
        "entity": commerce_route.entity(),
        "action": commerce_route.action(),
        "eventId": ctx.event_id,
        "eventType": route.code,
        "occurredAt": event.time,
        "data": value,
    });
    Ok(BackOfficeRequest {
        route: commerce_route,
        path: commerce_route.path(),
        body,
        idempotency_key: ctx.event_id.clone(),
        event_type: event.event_type.clone(),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_all_order_and_covers_every_commerce_route() {
        for (i, r) in CommerceRoute::ALL.iter().enumerate() {
            assert_eq!(TABLE[i].0, *r);
            assert_eq!(*r as usize, i);
            assert_eq!(CommerceRoute::from_name(r.name()), Some(*r));
        }
        let commerce_routes: Vec<&str> = routing::route_names()
            .into_iter()
            .filter(|n| n.contains("-commerce/"))
            .collect();
        let ours: Vec<&str> = CommerceRoute::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(commerce_routes, ours);
    }

    #[test]
    fn payload_errors_are_named() {
        let ctx = EventContext::new("e");
        let ty = "com.adobe.commerce.observer.catalog_product_delete_commit_after";
        let cases = [
            (ty, json!({}), "missing parameter(s) 'data.value'"),
            (
                ty,
                json!({"value": [1]}),
                "invalid parameter 'data.value': expected an object, got an array",
            ),
            (
                "com.adobe.commerce.observer.customer_group_delete_commit_after",
                json!({"value": {"customer_group_code": ""}}),
                "missing parameter(s) 'data.value.customer_group_code'",
            ),
            (
                "com.adobe.commerce.observer.customer_save_commit_after",
                json!({"value": {"created_at": "soon", "updated_at": "2024-01-01 00:00:00"}}),
                "invalid parameter 'data.value.created_at': expected a date-time 'YYYY-MM-DD HH:MM:SS', got \"soon\"",
            ),
            (
                "be-observer.customer_create",
                json!({"name": "x"}),
                "unsupported event type 'be-observer.customer_create'",
            ),
            ("com.example.x", json!({}), "unsupported event type 'com.example.x'"),
        ];
        for (ty, data, message) in cases {
            let event = CloudEvent::new("1", "s", ty, data);
            let err = back_office_request(&event, &ctx).expect_err(ty);
            assert_eq!(err.to_string(), message, "{ty}");
        }
    }
}
