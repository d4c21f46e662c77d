//! Ordering keys: which events of the local bus must be handled one after the
//! other, in journal order, and which may run side by side.
//!
//! Each event gets one or more keys. The local-bus loop handles two events at
//! the same time only when they share no key; events sharing a key are handled
//! strictly in journal order, one at a time. A key is
//! `<entity>:<field>=<value>`, e.g. `product:sku=24-MB01`.
//!
//! - **The default keys are the entity's identity**, read where the starter
//!   kit's handlers read their payload (`data.value` for Commerce events,
//!   `data` for back-office events): product `sku`; customer `id` and `email`;
//!   customer group `id` and `name` (Commerce's `customer_group_code`); order
//!   `id` (a shipment's `orderId`: a shipment follows its order); stock `sku`.
//! - **Every identity field present gives a key.** A customer created by the
//!   back office has only an email and its later update both an id and the
//!   email: the update waits for the creation through the email key, and a
//!   delete (id only) waits for the update through the id key.
//! - **An array payload (the stock update) gets a key per element.** One
//!   update of 50 skus waits only for earlier events of those 50 skus, and
//!   updates of other skus run beside it; one key for the whole event type
//!   would make every stock update wait for every other.
//! - **An event with no key** (an unknown type, or none of its identity
//!   fields present) is ordered with its event type: `type:<event type>`.
//! - **Custom events** get rules from [`OrderingKeys::with_rules`], e.g. from
//!   `EVENTS_ORDER_KEYS` parsed by [`parse_rules`].
//!
//! ```
//! use commerce_kit_events::ordering::OrderingKeys;
//! use commerce_kit_events::CloudEvent;
//! use serde_json::json;
//!
//! let keys = OrderingKeys::starter_kit();
//! let update = CloudEvent::new("1", "s", "be-observer.customer_update",
//!     json!({"id": 15, "name": "Jane", "lastname": "Doe", "email": "jane@example.com"}));
//! assert_eq!(keys.keys(&update), ["customer:email=jane@example.com", "customer:id=15"]);
//! let stock = CloudEvent::new("2", "s", "be-observer.catalog_stock_update",
//!     json!([{"sku": "A", "source": "default", "quantity": 1}, {"sku": "B", "source": "default", "quantity": 2}]));
//! assert_eq!(keys.keys(&stock), ["stock:sku=A", "stock:sku=B"]);
//! let custom = CloudEvent::new("3", "s", "com.acme.invoice_paid", json!({"number": "INV-7"}));
//! assert_eq!(keys.keys(&custom), ["type:com.acme.invoice_paid"]);
//! ```

use std::collections::HashMap;

use serde_json::Value;

use crate::cloudevent::CloudEvent;
use crate::routing::{Origin, parse_event_code};

/// One identity field of an entity: its name in the key and where to read it
/// (the first path present wins; a path is dot-separated: `customer.email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyField {
    /// The field's name in the key (`<entity>:<name>=<value>`).
    pub name: String,
    /// Where the value is read in the payload, first present wins.
    pub paths: Vec<String>,
}

impl KeyField {
    /// A field read from `paths`, named `name`.
    pub fn new(name: impl Into<String>, paths: &[&str]) -> Self {
        Self {
            name: name.into(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

/// The keys of some event types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderingRule {
    /// The entity, the first part of the keys.
    pub entity: String,
    /// Event types the rule applies to, matched without provider prefixes
    /// (`com.adobe.commerce.<prefix>.observer.…`, `<app>.be-observer.…`).
    pub event_types: Vec<String>,
    /// The identity fields; each one present gives a key.
    pub fields: Vec<KeyField>,
}

/// The rules that give each event its ordering keys; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderingKeys {
    rules: Vec<OrderingRule>,
    /// Each rule's event types without prefix → the first rule naming it,
    /// computed once (not for every event).
    index: HashMap<String, usize>,
}

impl Default for OrderingKeys {
    fn default() -> Self {
        Self::starter_kit()
    }
}

/// A rule of `EVENTS_ORDER_KEYS` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid ordering rule '{rule}': {reason} (expected <event type>=<entity>:<field>[|<field>…], rules separated by ';')"
)]
pub struct OrderingRuleError {
    /// The rule as written.
    pub rule: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Rules written as `<event type>=<entity>:<field>[|<field>…]`, separated by
/// `;` (the `EVENTS_ORDER_KEYS` format). Each field is a dot-separated path
/// and names its key: `com.acme.invoice_paid=invoice:number|customer.id`
/// keys an invoice event by `invoice:number=…` and `invoice:customer.id=…`.
///
/// ```
/// use commerce_kit_events::ordering::parse_rules;
///
/// let rules = parse_rules("com.acme.invoice_paid=invoice:number; com.acme.refund=invoice:invoice.number").unwrap();
/// assert_eq!(rules.len(), 2);
/// assert_eq!(rules[1].fields[0].paths, ["invoice.number"]);
/// assert!(parse_rules("com.acme.x=invoice").is_err());
/// ```
pub fn parse_rules(spec: &str) -> Result<Vec<OrderingRule>, OrderingRuleError> {
    let mut rules = Vec::new();
    for raw in spec.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        let error = |reason| OrderingRuleError {
            rule: raw.to_owned(),
            reason,
        };
        let (event_type, keys) = raw.split_once('=').ok_or_else(|| error("no '='"))?;
        let (entity, fields) = keys.split_once(':').ok_or_else(|| error("no ':' after the entity"))?;
        let (event_type, entity) = (event_type.trim(), entity.trim());
        if event_type.is_empty() {
            return Err(error("empty event type"));
        }
        if entity.is_empty()
            || !entity
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(error("the entity must be letters, digits, '_' or '-'"));
        }
        let fields: Vec<KeyField> = fields
            .split('|')
            .map(str::trim)
            .map(|f| {
                if f.is_empty() || f.split('.').any(str::is_empty) {
                    Err(error("empty field path"))
                } else {
                    Ok(KeyField::new(f, &[f]))
                }
            })
            .collect::<Result<_, _>>()?;
        rules.push(OrderingRule {
            entity: entity.to_owned(),
            event_types: vec![event_type.to_owned()],
            fields,
        });
    }
    Ok(rules)
}

impl OrderingKeys {
    /// The starter kit's entities (see the [module docs](self)).
    pub fn starter_kit() -> Self {
        let rule = |entity: &str, types: &[&str], fields: Vec<KeyField>| OrderingRule {
            entity: entity.to_owned(),
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            fields,
        };
        Self::from_rules(vec![
            rule(
                "product",
                &[
                    "com.adobe.commerce.observer.catalog_product_save_commit_after",
                    "com.adobe.commerce.observer.catalog_product_delete_commit_after",
                    "be-observer.catalog_product_create",
                    "be-observer.catalog_product_update",
                    "be-observer.catalog_product_delete",
                ],
                vec![KeyField::new("sku", &["sku"])],
            ),
            rule(
                "customer",
                &[
                    "com.adobe.commerce.observer.customer_save_commit_after",
                    "com.adobe.commerce.observer.customer_delete_commit_after",
                    "be-observer.customer_create",
                    "be-observer.customer_update",
                    "be-observer.customer_delete",
                ],
                vec![
                    KeyField::new("id", &["id", "entity_id"]),
                    KeyField::new("email", &["email"]),
                ],
            ),
            rule(
                "customer_group",
                &[
                    "com.adobe.commerce.observer.customer_group_save_commit_after",
                    "com.adobe.commerce.observer.customer_group_delete_commit_after",
                    "be-observer.customer_group_create",
                    "be-observer.customer_group_update",
                    "be-observer.customer_group_delete",
                ],
                vec![
                    KeyField::new("id", &["id", "customer_group_id"]),
                    KeyField::new("name", &["name", "customer_group_code", "code"]),
                ],
            ),
            rule(
                "order",
                &[
                    "com.adobe.commerce.observer.sales_order_save_commit_after",
                    "be-observer.sales_order_status_update",
                ],
                vec![KeyField::new("id", &["id", "entity_id"])],
            ),
            rule(
                "order",
                &[
                    "be-observer.sales_order_shipment_create",
                    "be-observer.sales_order_shipment_update",
                ],
                vec![KeyField::new("id", &["orderId"])],
            ),
            rule(
                "stock",
                &[
                    "com.adobe.commerce.observer.cataloginventory_stock_item_save_commit_after",
                    "be-observer.catalog_stock_update",
                ],
                vec![
                    KeyField::new("sku", &["sku"]),
                    KeyField::new("product_id", &["product_id"]),
                ],
            ),
        ])
    }

    /// No rule: every event is ordered with its event type.
    pub fn by_event_type() -> Self {
        Self::from_rules(Vec::new())
    }

    fn from_rules(rules: Vec<OrderingRule>) -> Self {
        let mut index = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            for t in &rule.event_types {
                index.entry(normalize(t)).or_insert(i);
            }
        }
        Self { rules, index }
    }

    /// Adds `rules`, which take precedence over the ones already here for
    /// their event types.
    pub fn with_rules(mut self, rules: impl IntoIterator<Item = OrderingRule>) -> Self {
        let mut added: Vec<OrderingRule> = rules.into_iter().collect();
        added.append(&mut self.rules);
        Self::from_rules(added)
    }

    /// The rules, first match wins.
    pub fn rules(&self) -> &[OrderingRule] {
        &self.rules
    }

    /// The event's keys, sorted and without repeats; never empty.
    pub fn keys(&self, event: &CloudEvent) -> Vec<String> {
        let code = parse_event_code(&event.event_type);
        let wanted = code.as_ref().map(|c| c.canonical());
        let wanted = wanted.as_deref().unwrap_or(&event.event_type);
        let rule = self.index.get(wanted).map(|&i| &self.rules[i]);
        let mut keys = Vec::new();
        if let Some(rule) = rule {
            let payload = match (code.map(|c| c.origin), event.data.get("value")) {
                (Some(Origin::Commerce), Some(value)) => value,
                _ => &event.data,
            };
            match payload {
                Value::Array(items) => items.iter().for_each(|item| rule_keys(rule, item, &mut keys)),
                item => rule_keys(rule, item, &mut keys),
            }
        }
        if keys.is_empty() {
            keys.push(format!("type:{}", event.event_type));
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// An event type without any provider prefix.
fn normalize(event_type: &str) -> String {
    parse_event_code(event_type)
        .map(|c| c.canonical())
        .unwrap_or_else(|| event_type.to_owned())
}

fn rule_keys(rule: &OrderingRule, item: &Value, keys: &mut Vec<String>) {
    for field in &rule.fields {
        let value = field.paths.iter().find_map(|p| identity(lookup(item, p)?));
        if let Some(value) = value {
            keys.push(format!("{}:{}={value}", rule.entity, field.name));
        }
    }
}

fn lookup<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(item, |v, part| v.get(part))
}

/// A string or a number as key text; anything else is no identity.
fn identity(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(event_type: &str, data: Value) -> Vec<String> {
        OrderingKeys::starter_kit().keys(&CloudEvent::new("1", "s", event_type, data))
    }

    #[test]
    fn each_starter_kit_entity_is_keyed_by_its_identity_on_both_sides() {
        assert_eq!(
            keys(
                "com.adobe.commerce.acme.observer.catalog_product_save_commit_after",
                json!({"value": {"sku": "A", "name": "n"}})
            ),
            ["product:sku=A"]
        );
        assert_eq!(
            keys("acme.be-observer.catalog_product_delete", json!({"sku": "A"})),
            ["product:sku=A"]
        );
        assert_eq!(
            keys("be-observer.customer_create", json!({"name": "J", "email": "j@x"})),
            ["customer:email=j@x"]
        );
        assert_eq!(
            keys("be-observer.customer_delete", json!({"id": 15})),
            ["customer:id=15"]
        );
        assert_eq!(
            keys(
                "com.adobe.commerce.observer.customer_save_commit_after",
                json!({"value": {"entity_id": "15", "email": "j@x"}})
            ),
            ["customer:email=j@x", "customer:id=15"]
        );
        assert_eq!(
            keys(
                "com.adobe.commerce.observer.customer_group_save_commit_after",
                json!({"value": {"customer_group_id": 19, "customer_group_code": "B"}})
            ),
            ["customer_group:id=19", "customer_group:name=B"]
        );
        assert_eq!(
            keys(
                "be-observer.sales_order_shipment_update",
                json!({"id": 33, "orderId": 8})
            ),
            ["order:id=8"]
        );
        assert_eq!(
            keys("be-observer.sales_order_status_update", json!({"id": 8})),
            ["order:id=8"]
        );
        assert_eq!(
            keys(
                "com.adobe.commerce.observer.sales_order_save_commit_after",
                json!({"value": {"entity_id": 8, "increment_id": "000000008"}})
            ),
            ["order:id=8"]
        );
    }

    #[test]
    fn arrays_get_a_key_per_element_and_repeats_are_removed() {
        assert_eq!(
            keys(
                "be-observer.catalog_stock_update",
                json!([{"sku": "B"}, {"sku": "A"}, {"sku": "B"}, {"quantity": 1}])
            ),
            ["stock:sku=A", "stock:sku=B"]
        );
    }

    #[test]
    fn events_without_identity_are_ordered_with_their_type() {
        assert_eq!(
            keys("be-observer.catalog_product_update", json!({"name": "x"})),
            ["type:be-observer.catalog_product_update"]
        );
        assert_eq!(
            keys("be-observer.customer_delete", json!({"id": null})),
            ["type:be-observer.customer_delete"]
        );
        assert_eq!(keys("com.acme.other", json!({"sku": "A"})), ["type:com.acme.other"]);
        assert_eq!(
            OrderingKeys::by_event_type().keys(&CloudEvent::new(
                "1",
                "s",
                "be-observer.customer_delete",
                json!({"id": 1})
            )),
            ["type:be-observer.customer_delete"]
        );
    }

    #[test]
    fn custom_rules_come_first_and_read_nested_paths() {
        let rules = parse_rules("com.acme.invoice_paid=invoice:number|customer.id;be-observer.customer_delete=c:id")
            .expect("rules");
        let keys = OrderingKeys::starter_kit().with_rules(rules);
        let e = CloudEvent::new(
            "1",
            "s",
            "com.acme.invoice_paid",
            json!({"number": "I-1", "customer": {"id": 4}}),
        );
        assert_eq!(keys.keys(&e), ["invoice:customer.id=4", "invoice:number=I-1"]);
        let d = CloudEvent::new("1", "s", "be-observer.customer_delete", json!({"id": 4}));
        assert_eq!(keys.keys(&d), ["c:id=4"]);
    }

    #[test]
    fn malformed_rules_are_refused_with_the_rule_named() {
        for (spec, reason) in [
            ("com.acme.x", "no '='"),
            ("com.acme.x=invoice", "no ':' after the entity"),
            ("=invoice:number", "empty event type"),
            (
                "com.acme.x=in voice:number",
                "the entity must be letters, digits, '_' or '-'",
            ),
            ("com.acme.x=invoice:number|", "empty field path"),
            ("com.acme.x=invoice:a..b", "empty field path"),
        ] {
            let err = parse_rules(spec).expect_err(spec);
            assert_eq!(err.reason, reason, "{spec}");
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid ordering rule '{spec}': {reason}"))
            );
        }
        assert_eq!(parse_rules(" ; ").expect("empty"), vec![]);
    }
}
