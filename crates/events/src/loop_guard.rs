//! The infinite-loop guard: discards the echo of a change this integration just
//! made itself.
//!
//! A product edited in Commerce reaches the back office through our handler;
//! the back office then emits `be-observer.catalog_product_update` with the
//! same data, whose handler would write it back to Commerce, which emits its
//! save event again, and so on. After a successful handling the guard stores a
//! fingerprint of the entity's fields; an event of the other side carrying the
//! same fingerprint within the TTL (`LOOP_GUARD_TTL_SECS`, 60 s by default) is
//! acknowledged 200 with `event discarded to prevent an infinite loop (…)`
//! without calling its handler.
//!
//! Each [`LoopGuardRule`] names the event types it applies to, the entity, the
//! identity fields (the first one present is the key) and the fingerprinted
//! fields. Compared with the starter kit's breaker, this one:
//! - matches event types with any prefix (`com.adobe.commerce.<prefix>.observer.…`,
//!   `<app>.be-observer.…`): rules are written without prefix;
//! - reads fields from `data.value` (Commerce events and the kit's tests) or from
//!   `data` itself (what the ingestion webhook publishes), whichever holds the
//!   identity field;
//! - fingerprints canonical JSON (keys sorted at every depth), so key order does
//!   not matter; the fingerprint is the SHA-256 hex of
//!   `{"<field>": <value or null>, …}`;
//! - by default ([`LoopGuardRule::cross_origin_only`]) only discards an event
//!   whose fingerprint was stored by the *other* side (Commerce vs back office),
//!   so two genuine updates from the same side within the TTL are both handled.
//!
//! The fingerprint store key is `loop:<entity>:<identity field>=<value>`.
//!
//! ```
//! use commerce_kit_events::cloudevent::CloudEvent;
//! use commerce_kit_events::loop_guard::{LoopGuardRule, fingerprint};
//! use serde_json::json;
//!
//! let rules = LoopGuardRule::starter_kit();
//! let from_commerce = CloudEvent::new("1", "s",
//!     "com.adobe.commerce.acme.observer.catalog_product_save_commit_after",
//!     json!({"value": {"sku": "24-MB01", "name": "Bag", "description": "d", "id": 1}}));
//! let from_back_office = CloudEvent::new("2", "s", "be-observer.catalog_product_update",
//!     json!({"description": "d", "name": "Bag", "sku": "24-MB01", "price": 5}));
//! let a = fingerprint(&rules, &from_commerce).unwrap();
//! let b = fingerprint(&rules, &from_back_office).unwrap();
//! assert_eq!(a.key, "loop:product:sku=24-MB01");
//! assert_eq!((a.key, a.hash), (b.key, b.hash));
//! ```

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::state::{StateError, StateStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cloudevent::CloudEvent;
use crate::routing::{Origin, parse_event_code};

/// Default fingerprint lifetime: 60 s, as in the starter kit.
pub const DEFAULT_LOOP_GUARD_TTL: Duration = Duration::from_secs(60);

fn default_true() -> bool {
    true
}

/// Which events the guard watches and how it fingerprints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopGuardRule {
    /// The entity name shared by both sides, used in the key (`product`).
    pub entity: String,
    /// Event types the rule applies to, without prefix
    /// (`com.adobe.commerce.observer.catalog_product_save_commit_after`,
    /// `be-observer.catalog_product_update`); prefixed deliveries match too.
    pub event_types: Vec<String>,
    /// Identity fields tried in order; the first present (non-empty string or
    /// number) identifies the entity. No identity → the guard skips the event.
    pub identity: Vec<String>,
    /// Fields whose values make the fingerprint (absent fields count as `null`).
    pub fields: Vec<String>,
    /// Only discard an event when the stored fingerprint came from the other
    /// side (Commerce vs back office). Default true.
    #[serde(default = "default_true")]
    pub cross_origin_only: bool,
}

impl LoopGuardRule {
    /// The default rules: products (by `sku`, then `id`; fields `sku`, `name`,
    /// `description`, present in both Commerce's subscribed fields and the
    /// back office's payload) and customers (by `email`, then `id`; fields
    /// `email`, `firstname`, `lastname`), on save/create/update events.
    pub fn starter_kit() -> Vec<LoopGuardRule> {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        vec![
            LoopGuardRule {
                entity: "product".into(),
                event_types: strings(&[
                    "com.adobe.commerce.observer.catalog_product_save_commit_after",
                    "be-observer.catalog_product_create",
                    "be-observer.catalog_product_update",
                ]),
                identity: strings(&["sku", "id"]),
                fields: strings(&["sku", "name", "description"]),
                cross_origin_only: true,
            },
            LoopGuardRule {
                entity: "customer".into(),
                event_types: strings(&[
                    "com.adobe.commerce.observer.customer_save_commit_after",
                    "be-observer.customer_create",
                    "be-observer.customer_update",
                ]),
                identity: strings(&["email", "id"]),
                fields: strings(&["email", "firstname", "lastname"]),
                cross_origin_only: true,
            },
        ]
    }

    fn applies_to(&self, normalized_type: &str) -> bool {
        self.event_types.iter().any(|t| normalize(t) == normalized_type)
    }
}

/// An event type without any prefix, for comparisons.
fn normalize(event_type: &str) -> String {
    parse_event_code(event_type)
        .map(|c| c.canonical())
        .unwrap_or_else(|| event_type.to_owned())
}

/// The fingerprint of one event under one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Store key, `loop:<entity>:<field>=<value>`.
    pub key: String,
    /// SHA-256 hex of the canonical JSON of the fingerprinted fields.
    pub hash: String,
    /// Side of the event; stored with the hash.
    pub origin: &'static str,
    /// Copied from the rule.
    pub cross_origin_only: bool,
}

fn origin_of(event_type: &str) -> &'static str {
    match parse_event_code(event_type).map(|c| c.origin) {
        Some(Origin::Commerce) => "commerce",
        Some(Origin::BackOffice) => "backoffice",
        None => "other",
    }
}

/// The fingerprint of `event` under the first rule that applies to its type,
/// or `None` (no rule, or no identity field found).
pub fn fingerprint(rules: &[LoopGuardRule], event: &CloudEvent) -> Option<Fingerprint> {
    let wanted = normalize(&event.event_type);
    let rule = rules.iter().find(|r| r.applies_to(&wanted))?;
    fingerprint_with(rule, event)
}

/// The fingerprint of `event` under `rule` (whose event types were already matched).
fn fingerprint_with(rule: &LoopGuardRule, event: &CloudEvent) -> Option<Fingerprint> {
    let commerce = parse_event_code(&event.event_type).is_some_and(|c| c.origin == Origin::Commerce);
    let value = event.data.get("value").filter(|v| v.is_object());
    let data = Some(&event.data).filter(|v| v.is_object());
    let candidates = if commerce { [value, data] } else { [data, value] };
    for payload in candidates.into_iter().flatten() {
        let Some((field, id)) = rule
            .identity
            .iter()
            .find_map(|f| identity_value(payload.get(f)?).map(|v| (f, v)))
        else {
            continue;
        };
        let mut picked = serde_json::Map::new();
        for f in &rule.fields {
            picked.insert(f.clone(), payload.get(f).cloned().unwrap_or(Value::Null));
        }
        let mut canonical = String::new();
        write_canonical(&Value::Object(picked), &mut canonical);
        return Some(Fingerprint {
            key: format!("loop:{}:{field}={id}", rule.entity),
            hash: hex::encode(Sha256::digest(canonical.as_bytes())),
            origin: origin_of(&event.event_type),
            cross_origin_only: rule.cross_origin_only,
        });
    }
    None
}

fn identity_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Serializes JSON with object keys sorted at every depth (and no spaces).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}", Value::String((*k).clone()));
                out.push(':');
                write_canonical(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// The guard: rules plus a fingerprint store.
#[derive(Clone)]
pub struct LoopGuard {
    /// Each rule with its event types normalized once (no per-event allocations).
    rules: Arc<Vec<(LoopGuardRule, std::collections::HashSet<String>)>>,
    store: Arc<dyn StateStore>,
    ttl: Duration,
}

impl std::fmt::Debug for LoopGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopGuard")
            .field("rules", &self.rules.iter().map(|(r, _)| r).collect::<Vec<_>>())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LoopGuard {
    /// A guard with `rules`, storing fingerprints for `ttl`.
    pub fn new(rules: Vec<LoopGuardRule>, store: Arc<dyn StateStore>, ttl: Duration) -> Self {
        Self {
            rules: Arc::new(
                rules
                    .into_iter()
                    .map(|r| {
                        let types = r.event_types.iter().map(|t| normalize(t)).collect();
                        (r, types)
                    })
                    .collect(),
            ),
            store,
            ttl,
        }
    }

    /// The fingerprint of `event`, if a rule applies.
    pub fn fingerprint(&self, event: &CloudEvent) -> Option<Fingerprint> {
        if self.rules.is_empty() {
            return None;
        }
        let wanted = normalize(&event.event_type);
        let (rule, _) = self.rules.iter().find(|(_, types)| types.contains(&wanted))?;
        fingerprint_with(rule, event)
    }

    /// True when a stored fingerprint matches: the event is an echo to discard.
    pub async fn is_echo(&self, fp: &Fingerprint) -> Result<bool, StateError> {
        let Some(stored) = self.store.get(&fp.key).await? else {
            return Ok(false);
        };
        let stored = String::from_utf8_lossy(&stored);
        let Some((origin, hash)) = stored.split_once(':') else {
            return Ok(false);
        };
        let other_side = origin != fp.origin;
        Ok(hash == fp.hash && (other_side || !fp.cross_origin_only))
    }

    /// Stores the fingerprint after a successful handling.
    pub async fn record(&self, fp: &Fingerprint) -> Result<(), StateError> {
        let value = format!("{}:{}", fp.origin, fp.hash);
        self.store.put(&fp.key, value.as_bytes(), self.ttl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commerce_kit_core::state::MemoryStore;
    use serde_json::json;

    fn ev(ty: &str, data: Value) -> CloudEvent {
        CloudEvent::new("id", "src", ty, data)
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a = json!({"b": 1, "a": {"d": [3, {"z": 1, "y": 2}], "c": "x\"y"}});
        assert_eq!(canonical_json(&a), r#"{"a":{"c":"x\"y","d":[3,{"y":2,"z":1}]},"b":1}"#);
        let b: Value = serde_json::from_str(r#"{"a":{"d":[3,{"y":2,"z":1}],"c":"x\"y"},"b":1}"#).expect("json");
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn fingerprints_ignore_prefix_shape_and_key_order() {
        let rules = LoopGuardRule::starter_kit();
        let commerce = ev(
            "com.adobe.commerce.p9.observer.catalog_product_save_commit_after",
            json!({"key": "k", "value": {"id": 7, "sku": "S1", "name": "N", "description": "D", "updated_at": "x"}}),
        );
        let unwrapped = ev(
            "be-observer.catalog_product_update",
            json!({"description": "D", "sku": "S1", "name": "N", "price": 3}),
        );
        let wrapped = ev(
            "acme.be-observer.catalog_product_update",
            json!({"value": {"name": "N", "sku": "S1", "description": "D"}}),
        );
        let a = fingerprint(&rules, &commerce).expect("rule applies");
        let b = fingerprint(&rules, &unwrapped).expect("rule applies");
        let c = fingerprint(&rules, &wrapped).expect("rule applies");
        assert_eq!(a.key, "loop:product:sku=S1");
        assert_eq!(a.origin, "commerce");
        assert_eq!(b.origin, "backoffice");
        assert_eq!(a.hash, b.hash);
        assert_eq!(b.hash, c.hash);
        assert_eq!(
            (b.key.as_str(), c.key.as_str()),
            ("loop:product:sku=S1", "loop:product:sku=S1")
        );
        let changed = ev(
            "be-observer.catalog_product_update",
            json!({"description": "D2", "sku": "S1", "name": "N"}),
        );
        assert_ne!(fingerprint(&rules, &changed).expect("rule").hash, a.hash);
    }

    #[test]
    fn no_rule_or_no_identity_means_no_fingerprint() {
        let rules = LoopGuardRule::starter_kit();
        assert!(fingerprint(&rules, &ev("be-observer.catalog_product_delete", json!({"sku": "A"}))).is_none());
        assert!(fingerprint(&rules, &ev("be-observer.catalog_product_update", json!({"name": "A"}))).is_none());
        assert!(fingerprint(&rules, &ev("be-observer.catalog_product_update", json!({"sku": ""}))).is_none());
        assert!(fingerprint(&rules, &ev("be-observer.catalog_product_update", json!([1]))).is_none());
        let by_id = fingerprint(&rules, &ev("be-observer.catalog_product_update", json!({"id": 12}))).expect("id");
        assert_eq!(by_id.key, "loop:product:id=12");
    }

    #[tokio::test]
    async fn echo_from_the_other_side_is_detected_same_side_is_not() {
        let guard = LoopGuard::new(
            LoopGuardRule::starter_kit(),
            Arc::new(MemoryStore::new()),
            DEFAULT_LOOP_GUARD_TTL,
        );
        let from_back = ev(
            "be-observer.customer_update",
            json!({"email": "a@b.c", "firstname": "A", "lastname": "B"}),
        );
        let echo = ev(
            "com.adobe.commerce.observer.customer_save_commit_after",
            json!({"value": {"email": "a@b.c", "firstname": "A", "lastname": "B", "id": 4}}),
        );
        let fp_back = guard.fingerprint(&from_back).expect("fp");
        let fp_echo = guard.fingerprint(&echo).expect("fp");
        assert!(!guard.is_echo(&fp_echo).await.expect("store"));
        guard.record(&fp_back).await.expect("store");
        assert!(
            guard.is_echo(&fp_echo).await.expect("store"),
            "commerce echo of a back-office change"
        );
        assert!(
            !guard.is_echo(&fp_back).await.expect("store"),
            "a second identical back-office update is genuine"
        );
        let mut any_side = fp_back.clone();
        any_side.cross_origin_only = false;
        assert!(guard.is_echo(&any_side).await.expect("store"));
    }

    #[test]
    fn rules_parse_from_json_with_defaults() {
        let rules: Vec<LoopGuardRule> = serde_json::from_value(json!([{
            "entity": "group", "event_types": ["be-observer.customer_group_update"],
            "identity": ["code"], "fields": ["code", "tax"]
        }]))
        .expect("parse");
        assert!(rules[0].cross_origin_only);
        let err = serde_json::from_value::<Vec<LoopGuardRule>>(json!([{"entity": "x"}])).expect_err("must fail");
        assert_eq!(err.to_string(), "missing field `event_types`");
    }
}
