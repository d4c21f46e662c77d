//! The starter kit's routing rules, as a pure function from an event type (and
//! its data) to a [`Route`].
//!
//! | event type (any `com.adobe.commerce[.<prefix>].` / `[<app>.]` prefix) | route |
//! |---|---|
//! | `observer.catalog_product_save_commit_after` | `product-commerce/created` when `data.value.created_at == data.value.updated_at`, else `product-commerce/updated` |
//! | `observer.catalog_product_delete_commit_after` | `product-commerce/deleted` |
//! | `observer.customer_save_commit_after` | `customer-commerce/created` / `customer-commerce/updated` (same rule) |
//! | `observer.customer_delete_commit_after` | `customer-commerce/deleted` |
//! | `observer.customer_group_save_commit_after` | `customer-commerce/group-updated` |
//! | `observer.customer_group_delete_commit_after` | `customer-commerce/group-deleted` (requires `data.value.customer_group_code`) |
//! | `observer.sales_order_save_commit_after` | `order-commerce/created` / `order-commerce/updated` (same rule) |
//! | `observer.cataloginventory_stock_item_save_commit_after` | `stock-commerce/updated` |
//! | `be-observer.catalog_product_{create,update,delete}` | `product-backoffice/{created,updated,deleted}` |
//! | `be-observer.customer_{create,update,delete}` | `customer-backoffice/{created,updated,deleted}` |
//! | `be-observer.customer_group_{create,update,delete}` | `customer-backoffice/group-{created,updated,deleted}` |
//! | `be-observer.sales_order_status_update` | `order-backoffice/updated` |
//! | `be-observer.sales_order_shipment_{create,update}` | `order-backoffice/shipment-{created,updated}` |
//! | `be-observer.catalog_stock_update` | `stock-backoffice/updated` |
//!
//! Commerce events are `com.adobe.commerce.observer.<event>` or, with an event
//! prefix (the old kit's `EVENT_PREFIX`, or App Management's namespace),
//! `com.adobe.commerce.<prefix>.observer.<event>`. Back-office events are
//! `be-observer.<event>` or `<app namespace>.be-observer.<event>`. Timestamps are
//! Commerce's `YYYY-MM-DD HH:MM:SS` (a `T` separator is accepted too); they are
//! parsed, not compared as text.
//!
//! Every error is a 400 (Adobe I/O Events does not retry it):
//!
//! ```
//! use commerce_kit_model::routing::route;
//! use serde_json::json;
//!
//! let r = route(
//!     "com.adobe.commerce.acme.observer.catalog_product_save_commit_after",
//!     &json!({"value": {"created_at": "2025-06-20 15:32:20", "updated_at": "2025-06-20 15:32:20"}}),
//! ).unwrap();
//! assert_eq!(r.name, "product-commerce/created");
//! assert_eq!(r.code, "com.adobe.commerce.observer.catalog_product_save_commit_after");
//! assert_eq!(r.prefix.as_deref(), Some("acme"));
//!
//! let err = route("com.adobe.commerce.observer.customer_save_commit_after", &json!({"value": {}})).unwrap_err();
//! assert_eq!(err.to_string(), "missing parameter(s) 'data.value.created_at,data.value.updated_at'");
//! ```

use commerce_kit_core::params::{MissingParameters, lookup, missing};
use http::StatusCode;
use serde_json::Value;
use time::PrimitiveDateTime;
use time::macros::format_description;

/// The Commerce provider's event code prefix.
pub const COMMERCE_PREFIX: &str = "com.adobe.commerce.";
/// The back-office provider's event code prefix.
pub const BACKOFFICE_PREFIX: &str = "be-observer.";

/// Which provider an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Adobe Commerce (`com.adobe.commerce[.<prefix>].observer.*`); payload in `data.value`.
    Commerce,
    /// A back office through the ingestion webhook (`be-observer.*`); payload in `data`.
    BackOffice,
}

/// Where the starter kit sends an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The kit's handler name, e.g. `product-commerce/created`.
    pub name: &'static str,
    /// The event code without any prefix: `com.adobe.commerce.observer.<event>`
    /// or `be-observer.<event>`.
    pub code: String,
    /// The prefix found in the event type (`acme` in
    /// `com.adobe.commerce.acme.observer.…` or in `acme.be-observer.…`).
    pub prefix: Option<String>,
    /// The provider.
    pub origin: Origin,
}

/// An event cannot be routed. `Display` is the client-facing message; every
/// variant answers 400 (not retried by Adobe).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No built-in rule for this event type.
    #[error("unsupported event type '{0}'")]
    Unknown(String),
    /// A field the rule needs is absent or empty.
    #[error(transparent)]
    Missing(#[from] MissingParameters),
    /// A timestamp is not `YYYY-MM-DD HH:MM:SS`.
    #[error("invalid parameter '{path}': expected a date-time 'YYYY-MM-DD HH:MM:SS', got {got}")]
    BadTimestamp {
        /// Full path of the field, e.g. `data.value.created_at`.
        path: &'static str,
        /// The value found, as JSON.
        got: String,
    },
}

impl RouteError {
    /// Always 400: a routing failure is final.
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// What a rule does with the event.
#[derive(Clone, Copy)]
enum Rule {
    /// Always the same route.
    Fixed(&'static str),
    /// `created` when `created_at == updated_at`, else `updated`.
    CreatedOrUpdated(&'static str, &'static str),
    /// Fixed route after a required-field check (paths under `data.`).
    Requires(&'static str, &'static [&'static str]),
}

const COMMERCE_RULES: &[(&str, Rule)] = &[
    (
        "catalog_product_save_commit_after",
        Rule::CreatedOrUpdated("product-commerce/created", "product-commerce/updated"),
    ),
    (
        "catalog_product_delete_commit_after",
        Rule::Fixed("product-commerce/deleted"),
    ),
    (
        "customer_save_commit_after",
        Rule::CreatedOrUpdated("customer-commerce/created", "customer-commerce/updated"),
    ),
    ("customer_delete_commit_after", Rule::Fixed("customer-commerce/deleted")),
    (
        "customer_group_save_commit_after",
        Rule::Fixed("customer-commerce/group-updated"),
    ),
    (
        "customer_group_delete_commit_after",
        Rule::Requires("customer-commerce/group-deleted", &["value.customer_group_code"]),
    ),
    (
        "sales_order_save_commit_after",
        Rule::CreatedOrUpdated("order-commerce/created", "order-commerce/updated"),
    ),
    (
        "cataloginventory_stock_item_save_commit_after",
        Rule::Fixed("stock-commerce/updated"),
    ),
];

const BACKOFFICE_RULES: &[(&str, &str)] = &[
    ("catalog_product_create", "product-backoffice/created"),
    ("catalog_product_update", "product-backoffice/updated"),
    ("catalog_product_delete", "product-backoffice/deleted"),
    ("customer_create", "customer-backoffice/created"),
    ("customer_update", "customer-backoffice/updated"),
    ("customer_delete", "customer-backoffice/deleted"),
    ("customer_group_create", "customer-backoffice/group-created"),
    ("customer_group_update", "customer-backoffice/group-updated"),
    ("customer_group_delete", "customer-backoffice/group-deleted"),
    ("sales_order_status_update", "order-backoffice/updated"),
    ("sales_order_shipment_create", "order-backoffice/shipment-created"),
    ("sales_order_shipment_update", "order-backoffice/shipment-updated"),
    ("catalog_stock_update", "stock-backoffice/updated"),
];

/// Every route name the built-in rules can produce, for registries and docs.
pub fn route_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for (_, rule) in COMMERCE_RULES {
        match *rule {
            Rule::Fixed(n) | Rule::Requires(n, _) => names.push(n),
            Rule::CreatedOrUpdated(c, u) => names.extend([c, u]),
        }
    }
    names.extend(BACKOFFICE_RULES.iter().map(|(_, n)| *n));
    names
}

/// Every event code the built-in rules route, unprefixed
/// (`com.adobe.commerce.observer.<event>`, then `be-observer.<event>`), for
/// registries and docs; a delivered type matches its code with any prefix.
///
/// ```
/// let codes = commerce_kit_model::routing::event_codes();
/// assert!(codes.contains(&"com.adobe.commerce.observer.catalog_product_save_commit_after".to_owned()));
/// assert!(codes.contains(&"be-observer.catalog_stock_update".to_owned()));
/// ```
pub fn event_codes() -> Vec<String> {
    let commerce = COMMERCE_RULES
        .iter()
        .map(|(event, _)| format!("{COMMERCE_PREFIX}observer.{event}"));
    let back_office = BACKOFFICE_RULES
        .iter()
        .map(|(event, _)| format!("{BACKOFFICE_PREFIX}{event}"));
    commerce.chain(back_office).collect()
}

/// An event type split into origin, prefix and bare event name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCode<'a> {
    /// The provider.
    pub origin: Origin,
    /// The prefix, if any.
    pub prefix: Option<&'a str>,
    /// The bare event name, e.g. `catalog_product_save_commit_after`.
    pub event: &'a str,
}

impl EventCode<'_> {
    /// The code without any prefix (`com.adobe.commerce.observer.<event>` or `be-observer.<event>`).
    pub fn canonical(&self) -> String {
        match self.origin {
            Origin::Commerce => format!("{COMMERCE_PREFIX}observer.{}", self.event),
            Origin::BackOffice => format!("{BACKOFFICE_PREFIX}{}", self.event),
        }
    }
}

/// Splits a Commerce or back-office event type; `None` for any other shape.
///
/// ```
/// use commerce_kit_model::routing::{parse_event_code, Origin};
/// let c = parse_event_code("com.adobe.commerce.p1.observer.customer_save_commit_after").unwrap();
/// assert_eq!((c.origin, c.prefix, c.event), (Origin::Commerce, Some("p1"), "customer_save_commit_after"));
/// let b = parse_event_code("my_app.be-observer.customer_create").unwrap();
/// assert_eq!((b.origin, b.prefix, b.event), (Origin::BackOffice, Some("my_app"), "customer_create"));
/// assert!(parse_event_code("com.example.thing").is_none());
/// ```
pub fn parse_event_code(event_type: &str) -> Option<EventCode<'_>> {
    let simple_name = |s: &str| !s.is_empty() && !s.contains('.');
    if let Some(rest) = event_type.strip_prefix(COMMERCE_PREFIX) {
        let (prefix, rest) = match rest.strip_prefix("observer.") {
            Some(event) => (None, event),
            None => {
                let (prefix, after) = rest.split_once('.')?;
                (Some(prefix), after.strip_prefix("observer.")?)
            }
        };
        let ok = simple_name(rest) && prefix.is_none_or(simple_name);
        return ok.then_some(EventCode {
            origin: Origin::Commerce,
            prefix,
            event: rest,
        });
    }
    let (prefix, event) = match event_type.strip_prefix(BACKOFFICE_PREFIX) {
        Some(event) => (None, event),
        None => {
            let (prefix, after) = event_type.split_once('.')?;
            (Some(prefix), after.strip_prefix(BACKOFFICE_PREFIX)?)
        }
    };
    let ok = simple_name(event) && prefix.is_none_or(simple_name);
    ok.then_some(EventCode {
        origin: Origin::BackOffice,
        prefix,
        event,
    })
}

/// Routes one event by the starter kit's rules. `data` is the CloudEvent's `data`.
pub fn route(event_type: &str, data: &Value) -> Result<Route, RouteError> {
    let unknown = || RouteError::Unknown(event_type.to_owned());
    let code = parse_event_code(event_type).ok_or_else(unknown)?;
    let name = match code.origin {
        Origin::Commerce => {
            let rule = COMMERCE_RULES
                .iter()
                .find(|(event, _)| *event == code.event)
                .map(|(_, rule)| *rule)
                .ok_or_else(unknown)?;
            apply(rule, data)?
        }
        Origin::BackOffice => BACKOFFICE_RULES
            .iter()
            .find(|(event, _)| *event == code.event)
            .map(|(_, name)| *name)
            .ok_or_else(unknown)?,
    };
    Ok(Route {
        name,
        code: code.canonical(),
        prefix: code.prefix.map(str::to_owned),
        origin: code.origin,
    })
}

fn apply(rule: Rule, data: &Value) -> Result<&'static str, RouteError> {
    match rule {
        Rule::Fixed(name) => Ok(name),
        Rule::Requires(name, paths) => {
            require_under_data(data, paths)?;
            Ok(name)
        }
        Rule::CreatedOrUpdated(created, updated) => {
            require_under_data(data, &["value.created_at", "value.updated_at"])?;
            let created_at = timestamp(data, "value.created_at", "data.value.created_at")?;
            let updated_at = timestamp(data, "value.updated_at", "data.value.updated_at")?;
            Ok(if created_at == updated_at { created } else { updated })
        }
    }
}

fn require_under_data(data: &Value, paths: &[&str]) -> Result<(), MissingParameters> {
    let absent = missing(data, paths);
    if absent.is_empty() {
        Ok(())
    } else {
        Err(MissingParameters(
            absent.into_iter().map(|p| format!("data.{p}")).collect(),
        ))
    }
}

fn timestamp(data: &Value, path: &str, full: &'static str) -> Result<PrimitiveDateTime, RouteError> {
    let value = lookup(data, path).unwrap_or(&Value::Null);
    let bad = || RouteError::BadTimestamp {
        path: full,
        got: value.to_string(),
    };
    let text = value.as_str().ok_or_else(bad)?;
    let space = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let t = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, space)
        .or_else(|_| PrimitiveDateTime::parse(text, t))
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAME: &str = "2025-06-20 15:32:20";
    const LATER: &str = "2025-06-20 15:40:01";

    fn ts(created: &str, updated: &str) -> Value {
        json!({"key": "k", "value": {"created_at": created, "updated_at": updated}})
    }

    #[test]
    fn commerce_rules_table() {
        let cases: &[(&str, Value, &str)] = &[
            (
                "catalog_product_save_commit_after",
                ts(SAME, SAME),
                "product-commerce/created",
            ),
            (
                "catalog_product_save_commit_after",
                ts(SAME, LATER),
                "product-commerce/updated",
            ),
            (
                "catalog_product_delete_commit_after",
                json!({}),
                "product-commerce/deleted",
            ),
            (
                "customer_save_commit_after",
                ts(SAME, SAME),
                "customer-commerce/created",
            ),
            (
                "customer_save_commit_after",
                ts(SAME, LATER),
                "customer-commerce/updated",
            ),
            ("customer_delete_commit_after", json!({}), "customer-commerce/deleted"),
            (
                "customer_group_save_commit_after",
                json!({}),
                "customer-commerce/group-updated",
            ),
            (
                "customer_group_delete_commit_after",
                json!({"value": {"customer_group_code": "VIP"}}),
                "customer-commerce/group-deleted",
            ),
            (
                "sales_order_save_commit_after",
                ts(SAME, SAME),
                "order-commerce/created",
            ),
            (
                "sales_order_save_commit_after",
                ts(SAME, LATER),
                "order-commerce/updated",
            ),
            (
                "cataloginventory_stock_item_save_commit_after",
                json!({}),
                "stock-commerce/updated",
            ),
        ];
        for (event, data, expected) in cases {
            for (prefix, ty) in [
                (None, format!("com.adobe.commerce.observer.{event}")),
                (Some("acme_1"), format!("com.adobe.commerce.acme_1.observer.{event}")),
            ] {
                let r = route(&ty, data).unwrap_or_else(|e| panic!("{ty}: {e}"));
                assert_eq!(r.name, *expected, "{ty}");
                assert_eq!(r.code, format!("com.adobe.commerce.observer.{event}"));
                assert_eq!(r.prefix.as_deref(), prefix);
                assert_eq!(r.origin, Origin::Commerce);
            }
        }
    }

    #[test]
    fn backoffice_rules_are_one_to_one() {
        for (event, expected) in BACKOFFICE_RULES {
            for ty in [
                format!("be-observer.{event}"),
                format!("commerce_integration_starter_kit.be-observer.{event}"),
            ] {
                let r = route(&ty, &json!({"sku": "A"})).unwrap_or_else(|e| panic!("{ty}: {e}"));
                assert_eq!(r.name, *expected);
                assert_eq!(r.code, format!("be-observer.{event}"));
                assert_eq!(r.origin, Origin::BackOffice);
            }
        }
        assert_eq!(route_names().len(), 11 + 13);
    }

    #[test]
    fn every_listed_event_code_is_routed() {
        let codes = event_codes();
        assert_eq!(codes.len(), COMMERCE_RULES.len() + BACKOFFICE_RULES.len());
        for code in &codes {
            // only a missing field may stop the rule: the code itself is known
            match route(code, &Value::Null) {
                Ok(r) => assert_eq!(&r.code, code),
                Err(e) => assert!(!matches!(e, RouteError::Unknown(_)), "{code}: {e}"),
            }
        }
    }

    #[test]
    fn timestamps_are_parsed_not_compared_as_text() {
        let r = route(
            "com.adobe.commerce.observer.customer_save_commit_after",
            &ts("2025-06-20 15:32:20", "2025-06-20T15:32:20"),
        )
        .expect("routed");
        assert_eq!(r.name, "customer-commerce/created");
    }

    #[test]
    fn errors_are_400_with_exact_messages() {
        let product = "com.adobe.commerce.observer.catalog_product_save_commit_after";
        let cases: &[(&str, Value, &str)] = &[
            (
                "be-observer.nope",
                json!({}),
                "unsupported event type 'be-observer.nope'",
            ),
            (
                "com.adobe.commerce.observer.checkout_cart_product_add_before",
                json!({}),
                "unsupported event type 'com.adobe.commerce.observer.checkout_cart_product_add_before'",
            ),
            (
                "com.example.other",
                json!({}),
                "unsupported event type 'com.example.other'",
            ),
            ("", json!({}), "unsupported event type ''"),
            (
                "com.adobe.commerce.a.b.observer.customer_save_commit_after",
                json!({}),
                "unsupported event type 'com.adobe.commerce.a.b.observer.customer_save_commit_after'",
            ),
            ("be-observer.", json!({}), "unsupported event type 'be-observer.'"),
            (
                product,
                json!({"value": {}}),
                "missing parameter(s) 'data.value.created_at,data.value.updated_at'",
            ),
            (
                product,
                json!(null),
                "missing parameter(s) 'data.value.created_at,data.value.updated_at'",
            ),
            (
                product,
                json!({"value": {"created_at": SAME, "updated_at": ""}}),
                "missing parameter(s) 'data.value.updated_at'",
            ),
            (
                product,
                json!({"value": {"created_at": "yesterday", "updated_at": SAME}}),
                "invalid parameter 'data.value.created_at': expected a date-time 'YYYY-MM-DD HH:MM:SS', got \"yesterday\"",
            ),
            (
                product,
                json!({"value": {"created_at": SAME, "updated_at": 1718897540}}),
                "invalid parameter 'data.value.updated_at': expected a date-time 'YYYY-MM-DD HH:MM:SS', got 1718897540",
            ),
            (
                product,
                json!({"value": {"created_at": null, "updated_at": SAME}}),
                "invalid parameter 'data.value.created_at': expected a date-time 'YYYY-MM-DD HH:MM:SS', got null",
            ),
            (
                product,
                json!({"value": {"created_at": "2025-02-30 10:00:00", "updated_at": SAME}}),
                "invalid parameter 'data.value.created_at': expected a date-time 'YYYY-MM-DD HH:MM:SS', got \"2025-02-30 10:00:00\"",
            ),
            (
                "com.adobe.commerce.observer.customer_group_delete_commit_after",
                json!({"value": {"customer_group_id": 4}}),
                "missing parameter(s) 'data.value.customer_group_code'",
            ),
        ];
        for (ty, data, expected) in cases {
            let err = route(ty, data).expect_err(ty);
            assert_eq!(err.to_string(), *expected, "{ty} {data}");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
    }
}
