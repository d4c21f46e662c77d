//! Fast path of the validator: a strict, typed, allocation-light parse of a
//! body that is already exactly right (objects are visited in place, strings
//! borrowed where possible), skipping the `serde_json::Value` tree.
//!
//! It returns `None` as soon as anything is unusual (wrong type, empty
//! required string, duplicate key, bad quantity, invalid JSON…); the precise
//! path ([`super::validate`]) then runs and explains the problem. So the fast
//! path only ever accepts what the precise path accepts, with the same result;
//! a property test holds it to that.
//!
//! Fields it does not use are read as [`Skipped`] values, which serde_json
//! parses exactly as it parses a `Value` (numbers in f64's range, strings
//! valid UTF-8 without lone surrogates, at most 128 levels of nesting), not as
//! `IgnoredAny`, which serde_json skips without those checks: invalid JSON in
//! an ignored field would otherwise be accepted here and refused by the
//! precise path.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::request::{CartItem, CheckStockRequest, Id, MAX_SKU_BYTES, Quantity};

/// Parses and validates `bytes` when they are a well-formed check-stock body.
pub(crate) fn parse(bytes: &[u8]) -> Option<CheckStockRequest> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let request = de.deserialize_map(EnvelopeVisitor).ok()?;
    de.end().ok()?;
    Some(request)
}

/// Any failure: the precise path will say what it is.
fn reject<T, E: de::Error>() -> Result<T, E> {
    Err(E::custom("not on the fast path"))
}

enum Key {
    Data,
    CartId,
    Items,
    ItemId,
    Sku,
    Qty,
    /// A key of Commerce's native payload (`product`, `info`): left to the precise path.
    Native,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "data" => Key::Data,
                    "cart_id" => Key::CartId,
                    "items" => Key::Items,
                    "item_id" => Key::ItemId,
                    "sku" => Key::Sku,
                    "qty" => Key::Qty,
                    "product" | "info" => Key::Native,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// `{"data": {...}, ...}`: exactly one `data`, other keys ignored.
struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = CheckStockRequest;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Data if data.is_none() => data = Some(map.next_value_seed(DataSeed)?),
                Key::Data | Key::Native => return reject(),
                _ => {
                    map.next_value::<Skipped>()?;
                }
            }
        }
        data.map_or_else(reject, Ok)
    }
}

struct DataSeed;

impl<'de> de::DeserializeSeed<'de> for DataSeed {
    type Value = CheckStockRequest;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed {
    type Value = CheckStockRequest;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cart_id = None;
        let mut items = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::CartId if cart_id.is_none() => cart_id = Some(map.next_value::<RequiredId>()?.0),
                Key::Items if items.is_none() => items = Some(map.next_value::<Items>()?.0),
                Key::CartId | Key::Items | Key::Native => return reject(),
                _ => {
                    map.next_value::<Skipped>()?;
                }
            }
        }
        match (cart_id, items) {
            (Some(cart_id), Some(items)) => Ok(CheckStockRequest::new(cart_id, items)),
            _ => reject(),
        }
    }
}

/// A non-empty string or a number.
struct RequiredId(Id);

impl<'de> de::Deserialize<'de> for RequiredId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(IdVisitor)? {
            Some(id) => Ok(RequiredId(id)),
            None => reject(),
        }
    }
}

/// A string or a number (`Some`), or `null`/`""` (`None`).
struct OptionalId(Option<Id>);

impl<'de> de::Deserialize<'de> for OptionalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdVisitor).map(OptionalId)
    }
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<Id>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok((!s.is_empty()).then(|| Id::Text(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok((!s.is_empty()).then_some(Id::Text(s)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(Id::Number(n.into())))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(Id::Number(n.into())))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        serde_json::Number::from_f64(n).map_or_else(reject, |n| Ok(Some(Id::Number(n))))
    }
}

struct Items(Vec<CartItem>);

impl<'de> de::Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemsVisitor;
        impl<'de> Visitor<'de> for ItemsVisitor {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(1024));
                while let Some(item) = seq.next_element_seed(ItemSeed)? {
                    items.push(item);
                }
                Ok(Items(items))
            }
        }
        d.deserialize_seq(ItemsVisitor)
    }
}

struct ItemSeed;

impl<'de> de::DeserializeSeed<'de> for ItemSeed {
    type Value = CartItem;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed {
    type Value = CartItem;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut item_id: Option<Option<Id>> = None;
        let mut sku: Option<String> = None;
        let mut qty: Option<Quantity> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::ItemId if item_id.is_none() => item_id = Some(map.next_value::<OptionalId>()?.0),
                Key::Sku if sku.is_none() => {
                    let text: Cow<'de, str> = map.next_value::<BorrowedText<'de>>()?.0;
                    if text.is_empty() || text.len() > MAX_SKU_BYTES {
                        return reject();
                    }
                    sku = Some(text.into_owned());
                }
                Key::Qty if qty.is_none() => qty = Some(map.next_value::<PositiveQty>()?.0),
                Key::ItemId | Key::Sku | Key::Qty => return reject(),
                _ => {
                    map.next_value::<Skipped>()?;
                }
            }
        }
        match (sku, qty) {
            (Some(sku), Some(qty)) => Ok(CartItem {
                item_id: item_id.flatten(),
                sku,
                qty,
            }),
            _ => reject(),
        }
    }
}

/// A JSON string, borrowed from the input when it has no escapes.
struct BorrowedText<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for BorrowedText<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = BorrowedText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedText(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(BorrowedText(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// A positive finite number or numeric string.
struct PositiveQty(Quantity);

impl<'de> de::Deserialize<'de> for PositiveQty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct QtyVisitor;
        impl Visitor<'_> for QtyVisitor {
            type Value = Option<Quantity>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a positive number")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Quantity::new(n as f64))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Quantity::new(n as f64))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(Quantity::new(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Quantity::parse(s))
            }
        }
        d.deserialize_any(QtyVisitor)?
            .map_or_else(reject, |q| Ok(PositiveQty(q)))
    }
}

/// A value the fast path does not use, read (and dropped) the way serde_json
/// reads a `Value`: through `deserialize_any`, which checks numbers (`1e400`
/// is out of range), strings (UTF-8, surrogate pairs) and the recursion limit,
/// where `deserialize_ignored_any` checks none of them. Nothing is allocated
/// but the strings with escapes serde_json unescapes into its scratch buffer.
struct Skipped;

impl<'de> de::Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkippedVisitor)
    }
}

struct SkippedVisitor;

impl<'de> Visitor<'de> for SkippedVisitor {
    type Value = Skipped;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        while map.next_key::<Skipped>()?.is_some() {
            map.next_value::<Skipped>()?;
        }
        Ok(Skipped)
    }
}
