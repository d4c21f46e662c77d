//! Handler keys: which route names and event codes a
//! [`ConsumerBuilder`](crate::consumer::ConsumerBuilder) accepts, and the
//! error naming the keys that match nothing.
//!
//! A key is a route name of the starter kit's rules
//! ([`route_names`](crate::routing::route_names)), or an event code the
//! rules know ([`event_codes`](crate::routing::event_codes)) with or without a
//! prefix, or an event code declared as known (custom events). Anything else
//! would never match a delivered event: every such event would be answered 400,
//! which Adobe never retries.

use std::collections::BTreeSet;

use crate::routing::{event_codes, parse_event_code, route_names};

/// An event code key is stored unprefixed so any delivered prefix matches it.
pub(crate) fn handler_key(key: &str) -> String {
    parse_event_code(key)
        .map(|c| c.canonical())
        .unwrap_or_else(|| key.to_owned())
}

/// A registered key that matches no route name or known event code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The key as registered.
    pub key: String,
    /// The closest valid key, when one is a few edits away (a likely typo).
    pub suggestion: Option<String>,
}

/// [`ConsumerBuilder::build`](crate::consumer::ConsumerBuilder::build) refused the configuration.
///
/// ```
/// use commerce_kit_events::{handler_fn, Consumer, ConsumerBuildError, HandlerResult, MemoryStore};
/// use std::sync::Arc;
///
/// let err = Consumer::builder(Arc::new(MemoryStore::new()))
///     .on("product-comerce/created", handler_fn(|_e, _c| async { Ok(HandlerResult::success("ok")) }))
///     .build()
///     .unwrap_err();
/// let ConsumerBuildError::UnknownKeys { keys, .. } = &err else { unreachable!() };
/// assert_eq!(keys[0].key, "product-comerce/created");
/// assert_eq!(keys[0].suggestion.as_deref(), Some("product-commerce/created"));
/// assert!(err.to_string().starts_with(
///     "unknown handler key 'product-comerce/created' (did you mean 'product-commerce/created'?): \
///      a handler key is a route name ("
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerBuildError {
    /// Handler keys that match no route name and no known event code.
    #[error("{}", unknown_keys_message(keys, route_names, event_codes))]
    UnknownKeys {
        /// The keys, in registration order.
        keys: Vec<UnknownKey>,
        /// The valid route names, sorted.
        route_names: Vec<&'static str>,
        /// The valid event codes (the rules' and those declared known), unprefixed and sorted.
        event_codes: Vec<String>,
    },
}

fn unknown_keys_message(keys: &[UnknownKey], route_names: &[&str], event_codes: &[String]) -> String {
    let listed: Vec<String> = keys
        .iter()
        .map(|k| match &k.suggestion {
            Some(s) => format!("'{}' (did you mean '{s}'?)", k.key),
            None => format!("'{}'", k.key),
        })
        .collect();
    let plural = if keys.len() == 1 { "" } else { "s" };
    format!(
        "unknown handler key{plural} {}: a handler key is a route name ({}) or an event code, with any prefix ({}); \
         register other event types with ConsumerBuilder::on_custom or ConsumerBuilder::known_event_codes",
        listed.join(", "),
        route_names.join(", "),
        event_codes.join(", "),
    )
}

/// The keys a builder accepts: the rules' route names and event codes, plus
/// the event codes declared known.
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownCodes {
    custom: BTreeSet<String>,
}

impl KnownCodes {
    /// Declares `code` (any prefix) known.
    pub(crate) fn add(&mut self, code: &str) {
        self.custom.insert(handler_key(code));
    }

    /// Checks `keys` (as registered); the error names every unknown one.
    pub(crate) fn check<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Result<(), ConsumerBuildError> {
        let mut names = route_names();
        names.sort_unstable();
        let mut codes: BTreeSet<String> = event_codes().into_iter().collect();
        codes.extend(self.custom.iter().cloned());
        let unknown: Vec<UnknownKey> = keys
            .into_iter()
            .filter(|key| !names.contains(key) && !codes.contains(&handler_key(key)))
            .map(|key| UnknownKey {
                key: key.to_owned(),
                suggestion: closest(
                    &handler_key(key),
                    names.iter().copied().chain(codes.iter().map(String::as_str)),
                ),
            })
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(ConsumerBuildError::UnknownKeys {
            keys: unknown,
            route_names: names,
            event_codes: codes.into_iter().collect(),
        })
    }
}

/// The candidate closest to `key` when it is a likely typo of it (at most 3
/// edits, and fewer than a third of the key).
fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = 3.min(key.chars().count() / 3);
    candidates
        .map(|c| (edit_distance(key, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_names_and_known_codes_with_any_prefix_are_valid() {
        let known = KnownCodes::default();
        known
            .check([
                "product-commerce/created",
                "stock-backoffice/updated",
                "be-observer.catalog_stock_update",
                "acme.be-observer.catalog_stock_update",
                "com.adobe.commerce.observer.catalog_product_save_commit_after",
                "com.adobe.commerce.p1.observer.catalog_product_save_commit_after",
            ])
            .expect("valid");
        let err = known.check(["com.acme.erp.invoice_paid"]).expect_err("unknown");
        let ConsumerBuildError::UnknownKeys { keys, .. } = err;
        assert_eq!(
            keys,
            vec![UnknownKey {
                key: "com.acme.erp.invoice_paid".into(),
                suggestion: None
            }]
        );
        let mut custom = KnownCodes::default();
        custom.add("com.acme.erp.invoice_paid");
        custom.add("acme.be-observer.warehouse_moved");
        custom
            .check([
                "com.acme.erp.invoice_paid",
                "be-observer.warehouse_moved",
                "other.be-observer.warehouse_moved",
            ])
            .expect("declared");
    }

    #[test]
    fn typos_get_a_suggestion() {
        let err = KnownCodes::default()
            .check([
                "product-comerce/created",
                "com.adobe.commerce.acme.observer.catalog_prodcut_save_commit_after",
                "zzz",
            ])
            .expect_err("unknown");
        let ConsumerBuildError::UnknownKeys { keys, .. } = err;
        let suggestions: Vec<Option<&str>> = keys.iter().map(|k| k.suggestion.as_deref()).collect();
        assert_eq!(
            suggestions,
            vec![
                Some("product-commerce/created"),
                Some("com.adobe.commerce.observer.catalog_product_save_commit_after"),
                None
            ]
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
