//! Streaming JSON helpers: read the few members a handler needs without
//! building the whole document, while rejecting exactly what parsing it into
//! a `serde_json::Value` rejects.

use serde::de::{DeserializeSeed, Deserializer, Error, Visitor};

/// Any JSON value, checked as strictly as parsing it into a `Value` (string
/// escapes, number range) but not stored: nothing is allocated for it.
pub(crate) struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> serde::de::Visitor<'de> for Any {
            type Value = Skip;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_unit<E>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
                while map.next_entry::<Skip, Skip>()?.is_some() {}
                Ok(Skip)
            }
        }
        deserializer.deserialize_any(Any)
    }
}

/// Deserializes an object key to its index in a list of names (`None` for
/// any other key), comparing escaped keys decoded and allocating nothing.
pub(crate) struct KeyIn<'n>(pub(crate) &'n [&'static str]);

impl<'de> DeserializeSeed<'de> for KeyIn<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        struct Key<'n>(&'n [&'static str]);
        impl Visitor<'_> for Key<'_> {
            type Value = Option<usize>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: Error>(self, key: &str) -> Result<Option<usize>, E> {
                Ok(self.0.iter().position(|name| *name == key))
            }
        }
        deserializer.deserialize_str(Key(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn skip_rejects_what_a_value_parse_rejects() {
        let cases: &[&str] = &[
            r#"{"a":[1,-0,2.5e3,true,false,null,{"b":"\u00e9\n"}]}"#,
            r#""\ud800""#,
            r#"{"k\ud800":1}"#,
            r#"1e400"#,
            r#"18446744073709551616"#,
            r#"[1,]"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"[1] x"#,
            "",
            "nul",
        ];
        for case in cases {
            assert_eq!(
                serde_json::from_str::<Skip>(case).is_ok(),
                serde_json::from_str::<Value>(case).is_ok(),
                "{case}"
            );
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(serde_json::from_str::<Value>(&deep).is_err(), "recursion limit");
        assert!(serde_json::from_str::<Skip>(&deep).is_err(), "the same recursion limit");
    }

    #[test]
    fn keys_are_matched_decoded() {
        let mut de = serde_json::Deserializer::from_str(r#""d\u0061ta""#);
        assert_eq!(KeyIn(&["uid", "data"]).deserialize(&mut de).expect("key"), Some(1));
        let mut de = serde_json::Deserializer::from_str(r#""other""#);
        assert_eq!(KeyIn(&["uid", "data"]).deserialize(&mut de).expect("key"), None);
    }
}
