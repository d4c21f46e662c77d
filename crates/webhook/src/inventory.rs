//! The embedded default checker: available quantities from a JSON file.
//!
//! The file is one JSON object mapping SKU to the available quantity (a number
//! ≥ 0): `{"24-MB01": 10, "SKU-2": 0}`. A cart is checked as a whole:
//!
//! - quantities of the same SKU across items are summed;
//! - an unknown SKU has nothing available;
//! - when something is short, the message names every short SKU, in the order
//!   of first appearance, with the requested and available amounts:
//!   `Not enough stock: 24-MB01 (requested 3, available 2), X-1 (requested 1, available 0)`.
//!
//! [`InventoryChecker::reload`](crate::checker::StockChecker::reload) re-reads the file
//! (the binaries call it on SIGHUP); a failed reload keeps the previous inventory.
//! Requests read a cheap snapshot (`Arc` clone), never holding a lock while checking.
//!
//! ```
//! use commerce_kit_webhook::inventory::Inventory;
//! use commerce_kit_webhook::{CartItem, CheckStockRequest, Quantity, StockVerdict};
//!
//! let inventory = Inventory::from_json(br#"{"A": 2, "B": 0}"#).unwrap();
//! let qty = |q| Quantity::new(q).unwrap();
//! let cart = CheckStockRequest::new(1, vec![
//!     CartItem::new("A", qty(1.0)), CartItem::new("B", qty(1.0)), CartItem::new("A", qty(2.0)),
//! ]);
//! assert_eq!(
//!     inventory.verdict(&cart),
//!     StockVerdict::unavailable("Not enough stock: A (requested 3, available 2), B (requested 1, available 0)")
//! );
//! ```

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use commerce_kit_core::async_trait;
use commerce_kit_core::body::BodyError;
use serde_json::Value;

use crate::checker::{CheckerError, StockChecker, StockVerdict};
use crate::request::{CheckStockRequest, fmt_amount};

/// The built-in demo inventory used when no file is configured (Luma sample SKUs).
pub const DEMO_INVENTORY: &str = r#"{"24-MB01": 100, "24-MB04": 25, "24-WB02": 5, "24-UG06": 0}"#;

/// What an inventory must look like, for error messages.
const EXPECTED: &str = "expected a JSON object mapping SKU to available quantity, e.g. {\"24-MB01\": 10}";

/// Tolerance when comparing summed decimal quantities (`0.1 + 0.2` vs `0.3`).
const EPSILON: f64 = 1e-9;

/// Carts up to this many lines are summed with a linear scan (no hashing).
const LINEAR_SCAN_MAX: usize = 16;

/// An inventory could not be loaded. `Display` names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("inventory file {}: cannot read it: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The content is not a JSON object of SKU → quantity ≥ 0.
    #[error("{origin}: {problem}")]
    Invalid {
        /// `inventory file <path>` or `inventory`.
        origin: String,
        /// What is wrong, e.g. `SKU "A": expected a number >= 0, found "ten"`.
        problem: String,
    },
}

/// Available quantities by SKU.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    stock: HashMap<String, f64>,
}

impl Inventory {
    /// Parses `{"SKU": quantity, …}`; quantities must be numbers ≥ 0.
    pub fn from_json(bytes: &[u8]) -> Result<Self, InventoryError> {
        Self::parse(bytes, "inventory")
    }

    fn parse(bytes: &[u8], origin: &str) -> Result<Self, InventoryError> {
        let invalid = |problem: String| InventoryError::Invalid {
            origin: origin.to_owned(),
            problem,
        };
        let value = match commerce_kit_core::body::parse_json(bytes) {
            Ok(value) => value,
            Err(BodyError::Empty) => return Err(invalid(format!("empty; {EXPECTED}"))),
            Err(err) => return Err(invalid(err.to_string())),
        };
        let Value::Object(map) = value else {
            return Err(invalid(EXPECTED.to_owned()));
        };
        let mut stock = HashMap::with_capacity(map.len());
        for (sku, qty) in map {
            match qty.as_f64() {
                Some(q) if q.is_finite() && q >= 0.0 => {
                    stock.insert(sku, q);
                }
                _ => return Err(invalid(format!("SKU {sku:?}: expected a number >= 0, found {qty}"))),
            }
        }
        Ok(Self { stock })
    }

    /// Reads and parses a file.
    pub fn from_file(path: &Path) -> Result<Self, InventoryError> {
        let bytes = std::fs::read(path).map_err(|source| InventoryError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&bytes, &format!("inventory file {}", path.display()))
    }

    /// The built-in demo inventory ([`DEMO_INVENTORY`]).
    pub fn demo() -> Self {
        Self::from_json(DEMO_INVENTORY.as_bytes()).unwrap_or_default()
    }

    /// Builds an inventory from `(sku, quantity)` pairs.
    pub fn from_pairs<S: Into<String>>(pairs: impl IntoIterator<Item = (S, f64)>) -> Self {
        Self {
            stock: pairs.into_iter().map(|(sku, q)| (sku.into(), q)).collect(),
        }
    }

    /// Available quantity of `sku`; `None` when the SKU is unknown.
    pub fn available(&self, sku: &str) -> Option<f64> {
        self.stock.get(sku).copied()
    }

    /// Number of SKUs.
    pub fn len(&self) -> usize {
        self.stock.len()
    }

    /// True when there are no SKUs.
    pub fn is_empty(&self) -> bool {
        self.stock.is_empty()
    }

    /// Decides a whole cart (see the module docs for the rules and the message).
    pub fn verdict(&self, request: &CheckStockRequest) -> StockVerdict {
        let totals = requested_totals(request);
        let mut message = String::new();
        for (sku, requested) in totals {
            let available = self.available(sku).unwrap_or(0.0);
            if requested > available + EPSILON {
                message.push_str(if message.is_empty() { "Not enough stock: " } else { ", " });
                let _ = write!(
                    message,
                    "{sku} (requested {}, available {})",
                    Amount(requested),
                    Amount(available)
                );
            }
        }
        if message.is_empty() {
            StockVerdict::Available
        } else {
            StockVerdict::Unavailable { message }
        }
    }
}

/// Requested quantity per SKU, summed, in the order of first appearance.
fn requested_totals(request: &CheckStockRequest) -> Vec<(&str, f64)> {
    let mut totals: Vec<(&str, f64)> = Vec::with_capacity(request.items.len());
    if request.items.len() <= LINEAR_SCAN_MAX {
        for item in &request.items {
            match totals.iter_mut().find(|(sku, _)| *sku == item.sku) {
                Some((_, total)) => *total += item.qty.get(),
                None => totals.push((&item.sku, item.qty.get())),
            }
        }
    } else {
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(request.items.len());
        for item in &request.items {
            match index.get(item.sku.as_str()) {
                Some(&at) => totals[at].1 += item.qty.get(),
                None => {
                    index.insert(&item.sku, totals.len());
                    totals.push((&item.sku, item.qty.get()));
                }
            }
        }
    }
    totals
}

struct Amount(f64);

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_amount(self.0, f)
    }
}

/// A [`StockChecker`] over an [`Inventory`], optionally backed by a file that
/// [`reload`](StockChecker::reload) re-reads.
#[derive(Debug)]
pub struct InventoryChecker {
    current: RwLock<Arc<Inventory>>,
    path: Option<PathBuf>,
}

impl InventoryChecker {
    /// A checker over a fixed inventory (reload does nothing).
    pub fn new(inventory: Inventory) -> Self {
        Self {
            current: RwLock::new(Arc::new(inventory)),
            path: None,
        }
    }

    /// A checker over the built-in demo inventory.
    pub fn demo() -> Self {
        Self::new(Inventory::demo())
    }

    /// Loads `path` now; [`reload`](StockChecker::reload) re-reads it later.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<Self, InventoryError> {
        let path = path.into();
        let inventory = Inventory::from_file(&path)?;
        Ok(Self {
            current: RwLock::new(Arc::new(inventory)),
            path: Some(path),
        })
    }

    /// The file behind this checker, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The current inventory (a cheap `Arc` clone; the lock is released on return).
    pub fn snapshot(&self) -> Arc<Inventory> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Re-reads the file and swaps the inventory in; on error the previous one stays.
    /// Returns the new number of SKUs, or `None` when there is no file.
    pub fn reload_file(&self) -> Result<Option<usize>, InventoryError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let fresh = Arc::new(Inventory::from_file(path)?);
        let skus = fresh.len();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(Some(skus))
    }
}

#[async_trait]
impl StockChecker for InventoryChecker {
    async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        Ok(self.snapshot().verdict(request))
    }

    /// Always answers: the inventory is in memory.
    fn check_now(&self, request: &CheckStockRequest) -> Option<Result<StockVerdict, CheckerError>> {
        Some(Ok(self.snapshot().verdict(request)))
    }

    fn name(&self) -> &str {
        "inventory"
    }

    fn reload(&self) -> Result<Option<String>, CheckerError> {
        match self.reload_file() {
            Ok(Some(skus)) => Ok(Some(format!(
                "inventory reloaded from {}: {skus} SKUs",
                self.path
                    .as_deref()
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ))),
            Ok(None) => Ok(None),
            Err(err) => Err(CheckerError::new(format!("{err}; keeping the previous inventory"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{CartItem, Quantity};

    fn cart(lines: &[(&str, f64)]) -> CheckStockRequest {
        CheckStockRequest::new(
            1,
            lines
                .iter()
                .map(|(sku, q)| CartItem::new(*sku, Quantity::new(*q).expect("positive")))
                .collect(),
        )
    }

    #[test]
    fn verdict_table() {
        let inv = Inventory::from_json(br#"{"A": 2, "B": 0, "C": 1.5, "D": 10}"#).expect("inventory");
        type Case = (Vec<(&'static str, f64)>, Option<&'static str>);
        let cases: Vec<Case> = vec![
            (vec![], None),
            (vec![("A", 2.0)], None),
            (vec![("A", 1.0), ("A", 1.0)], None),
            (vec![("C", 0.5), ("C", 1.0)], None),
            (vec![("A", 3.0)], Some("Not enough stock: A (requested 3, available 2)")),
            (
                vec![("A", 1.0), ("D", 1.0), ("A", 2.0)],
                Some("Not enough stock: A (requested 3, available 2)"),
            ),
            (vec![("B", 1.0)], Some("Not enough stock: B (requested 1, available 0)")),
            (
                vec![("ZZ", 1.0)],
                Some("Not enough stock: ZZ (requested 1, available 0)"),
            ),
            (
                vec![("C", 2.0)],
                Some("Not enough stock: C (requested 2, available 1.5)"),
            ),
            (
                vec![("ZZ", 0.5), ("A", 5.0), ("D", 1.0), ("B", 2.25)],
                Some(
                    "Not enough stock: ZZ (requested 0.5, available 0), A (requested 5, available 2), \
                     B (requested 2.25, available 0)",
                ),
            ),
        ];
        for (lines, expected) in cases {
            let want = match expected {
                None => StockVerdict::Available,
                Some(m) => StockVerdict::unavailable(m),
            };
            assert_eq!(inv.verdict(&cart(&lines)), want, "{lines:?}");
        }
    }

    #[test]
    fn decimal_sums_do_not_trip_on_rounding() {
        let inv = Inventory::from_pairs([("A", 0.3)]);
        assert_eq!(inv.verdict(&cart(&[("A", 0.1), ("A", 0.2)])), StockVerdict::Available);
    }

    #[test]
    fn large_carts_sum_through_the_hash_index_in_first_appearance_order() {
        let inv = Inventory::from_pairs([("S0", 100.0), ("S1", 1.0)]);
        let mut lines = Vec::new();
        for i in 0..40 {
            lines.push((if i % 2 == 0 { "S1" } else { "S0" }, 1.0));
        }
        lines.push(("S9", 1.0));
        assert_eq!(
            inv.verdict(&cart(&lines)),
            StockVerdict::unavailable(
                "Not enough stock: S1 (requested 20, available 1), S9 (requested 1, available 0)"
            )
        );
    }

    #[test]
    fn bad_inventories_are_explained() {
        let msg = |json: &str| Inventory::from_json(json.as_bytes()).expect_err("invalid").to_string();
        assert_eq!(
            msg("[1]"),
            "inventory: expected a JSON object mapping SKU to available quantity, e.g. {\"24-MB01\": 10}"
        );
        assert_eq!(
            msg(r#"{"A": -1}"#),
            r#"inventory: SKU "A": expected a number >= 0, found -1"#
        );
        assert_eq!(
            msg(r#"{"A": "ten"}"#),
            r#"inventory: SKU "A": expected a number >= 0, found "ten""#
        );
        assert_eq!(
            msg("{"),
            "inventory: invalid JSON at line 1 column 1: EOF while parsing an object"
        );
        assert_eq!(
            msg(" \n"),
            "inventory: empty; expected a JSON object mapping SKU to available quantity, e.g. {\"24-MB01\": 10}"
        );
    }

    #[test]
    fn demo_inventory_has_the_documented_skus() {
        let inv = Inventory::demo();
        assert_eq!(inv.available("24-MB01"), Some(100.0));
        assert_eq!(inv.available("24-UG06"), Some(0.0));
        assert_eq!(inv.len(), 4);
    }

    #[test]
    fn file_reload_swaps_and_failures_keep_the_previous_inventory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.json");
        std::fs::write(&path, r#"{"A": 1}"#).expect("write");
        let checker = InventoryChecker::from_file(&path).expect("load");
        assert_eq!(checker.snapshot().available("A"), Some(1.0));

        std::fs::write(&path, r#"{"A": 5, "B": 1}"#).expect("write");
        assert_eq!(
            checker.reload().expect("reload"),
            Some(format!("inventory reloaded from {}: 2 SKUs", path.display()))
        );
        assert_eq!(checker.snapshot().available("A"), Some(5.0));

        std::fs::write(&path, r#"{"A": "x"}"#).expect("write");
        let err = checker.reload().expect_err("bad file");
        assert_eq!(
            err.to_string(),
            format!(
                r#"inventory file {}: SKU "A": expected a number >= 0, found "x"; keeping the previous inventory"#,
                path.display()
            )
        );
        assert_eq!(checker.snapshot().available("A"), Some(5.0));

        std::fs::remove_file(&path).expect("remove");
        let err = checker.reload_file().expect_err("gone");
        assert!(
            err.to_string()
                .starts_with(&format!("inventory file {}: cannot read it: ", path.display())),
            "{err}"
        );
        assert_eq!(InventoryChecker::demo().reload().expect("no file"), None);
    }
}
