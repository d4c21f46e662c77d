//! Parsing a `POST /events` body without building more than the batch limit
//! allows: an object is built whole (one event, or a `validationUrl`
//! request); an array is built element by element, and once it holds more
//! than the limit the rest is only counted (nothing allocated for it).

use commerce_kit_core::body::{BodyError, json_error};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A parsed delivery body.
#[derive(Debug, PartialEq)]
pub(super) enum Parsed {
    /// A JSON object: one event, or a `validationUrl` request.
    Object(Value),
    /// An array of at most the limit's elements.
    Batch(Vec<Value>),
    /// An array of `count` elements, more than the limit: none were kept.
    TooMany {
        /// How many elements the array has.
        count: usize,
    },
    /// Any other JSON value.
    Other,
}

/// Parses `bytes` with the messages of [`parse_json`](commerce_kit_core::body::parse_json).
pub(super) fn parse(bytes: &[u8], batch_limit: usize) -> Result<Parsed, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError::Empty);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Seed(batch_limit).deserialize(&mut de).map_err(|e| json_error(&e))?;
    de.end().map_err(|e| json_error(&e))?;
    Ok(parsed)
}

struct Seed(usize);

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parsed, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Parsed;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CloudEvent object or an array of CloudEvents")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Parsed, A::Error> {
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Parsed::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let limit = self.0;
        let mut items = Vec::with_capacity(limit.min(64));
        while items.len() < limit {
            match seq.next_element::<Value>()? {
                Some(item) => items.push(item),
                None => return Ok(Parsed::Batch(items)),
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_none() {
            return Ok(Parsed::Batch(items));
        }
        let mut count = limit + 1;
        drop(items);
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(Parsed::TooMany { count })
    }

    fn visit_bool<E>(self, _: bool) -> Result<Parsed, E> {
        Ok(Parsed::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Parsed, E> {
        Ok(Parsed::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Parsed, E> {
        Ok(Parsed::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Parsed, E> {
        Ok(Parsed::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Parsed, E> {
        Ok(Parsed::Other)
    }
    fn visit_unit<E>(self) -> Result<Parsed, E> {
        Ok(Parsed::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_batches_and_oversized_batches() {
        assert_eq!(parse(br#"{"a":1}"#, 2).expect("ok"), Parsed::Object(json!({"a": 1})));
        assert_eq!(parse(b"[]", 2).expect("ok"), Parsed::Batch(vec![]));
        assert_eq!(
            parse(b"[1, {}]", 2).expect("ok"),
            Parsed::Batch(vec![json!(1), json!({})])
        );
        assert_eq!(parse(b"[1, {}, []]", 2).expect("ok"), Parsed::TooMany { count: 3 });
        assert_eq!(parse(b"[1,2,3,4,5]", 0).expect("ok"), Parsed::TooMany { count: 5 });
        for other in ["\"s\"", "1", "-1", "1.5", "true", "null"] {
            assert_eq!(parse(other.as_bytes(), 2).expect("ok"), Parsed::Other, "{other}");
        }
    }

    #[test]
    fn errors_are_those_of_parse_json() {
        for bad in [
            &b""[..],
            b"  ",
            b"{\"a\": }",
            b"[1,]",
            b"[1] x",
            b"{} x",
            b"[1, 2, 3, }",
            b"\"\\ud800\"",
            b"{\"a\":\"\\ud800\"}",
            b"[{\"a\":1e400}]",
        ] {
            let expected = commerce_kit_core::body::parse_json(bad)
                .expect_err("invalid")
                .to_string();
            assert_eq!(
                parse(bad, 5).expect_err("invalid").to_string(),
                expected,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
