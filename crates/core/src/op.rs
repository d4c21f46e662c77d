//! Operations a synchronous Commerce webhook may answer with.
//!
//! Commerce expects HTTP 200 and a JSON body that is either one operation or an
//! array of operations. The exception class goes in `type` (not `class`, which
//! Commerce ignores).
//!
//! ```
//! use commerce_kit_core::op::{Operation, WebhookResponse};
//!
//! let ok = serde_json::to_string(&Operation::success()).unwrap();
//! assert_eq!(ok, r#"{"op":"success"}"#);
//!
//! let no = serde_json::to_string(&Operation::exception("Out of stock")).unwrap();
//! assert_eq!(no, r#"{"op":"exception","message":"Out of stock"}"#);
//!
//! let many = WebhookResponse::Many(vec![
//!     Operation::remove("result/key2"),
//!     Operation::add("result", serde_json::json!({"a": 1})),
//! ]);
//! assert_eq!(
//!     serde_json::to_string(&many).unwrap(),
//!     r#"[{"op":"remove","path":"result/key2"},{"op":"add","path":"result","value":{"a":1}}]"#
//! );
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One webhook operation, serialized exactly as Commerce reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Operation {
    /// `{"op":"success"}`: the Commerce process continues unchanged.
    Success,
    /// `{"op":"exception","message":…,"type":…}`: Commerce aborts the process.
    Exception {
        /// Message shown to the shopper; without it Commerce uses the hook's fallback message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// PHP exception class; Commerce defaults to `\Magento\Framework\Exception\LocalizedException`.
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        exception_type: Option<String>,
    },
    /// `{"op":"add","path":…,"value":…}`: add a value under a `/`-separated path.
    Add {
        /// `/`-separated path into the event arguments.
        path: String,
        /// The value to add.
        value: Value,
        /// Optional `DataObject` class to instantiate the value as.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
    },
    /// `{"op":"replace","path":…,"value":…}`: replace the value at a path.
    Replace {
        /// `/`-separated path into the event arguments.
        path: String,
        /// The new value.
        value: Value,
        /// Optional `DataObject` class to instantiate the value as.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
    },
    /// `{"op":"remove","path":…}`: remove the value at a path.
    Remove {
        /// `/`-separated path into the event arguments.
        path: String,
    },
}

impl Operation {
    /// `{"op":"success"}`.
    pub fn success() -> Self {
        Operation::Success
    }

    /// `{"op":"exception","message":…}` with Commerce's default exception class.
    pub fn exception(message: impl Into<String>) -> Self {
        Operation::Exception {
            message: Some(message.into()),
            exception_type: None,
        }
    }

    /// `{"op":"exception","message":…,"type":…}` with an explicit PHP exception class.
    pub fn exception_with_type(message: impl Into<String>, exception_type: impl Into<String>) -> Self {
        Operation::Exception {
            message: Some(message.into()),
            exception_type: Some(exception_type.into()),
        }
    }

    /// `{"op":"add","path":…,"value":…}`.
    pub fn add(path: impl Into<String>, value: Value) -> Self {
        Operation::Add {
            path: path.into(),
            value,
            instance: None,
        }
    }

    /// `{"op":"replace","path":…,"value":…}`.
    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        Operation::Replace {
            path: path.into(),
            value,
            instance: None,
        }
    }

    /// `{"op":"remove","path":…}`.
    pub fn remove(path: impl Into<String>) -> Self {
        Operation::Remove { path: path.into() }
    }

    /// Sets `instance` on an `add` or `replace`; other operations are returned unchanged.
    pub fn with_instance(mut self, class: impl Into<String>) -> Self {
        if let Operation::Add { instance, .. } | Operation::Replace { instance, .. } = &mut self {
            *instance = Some(class.into());
        }
        self
    }

    /// True for `exception`: the only operation that makes Commerce abort.
    pub fn is_exception(&self) -> bool {
        matches!(self, Operation::Exception { .. })
    }
}

/// A whole webhook response body: one operation or an array of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum WebhookResponse {
    /// A single operation object.
    One(Operation),
    /// An array of operations, applied in order.
    Many(Vec<Operation>),
}

impl WebhookResponse {
    /// True when no operation is an `exception`, i.e. Commerce carries on.
    pub fn is_success(&self) -> bool {
        match self {
            WebhookResponse::One(op) => !op.is_exception(),
            WebhookResponse::Many(ops) => !ops.iter().any(Operation::is_exception),
        }
    }
}

impl From<Operation> for WebhookResponse {
    fn from(op: Operation) -> Self {
        WebhookResponse::One(op)
    }
}

impl From<Vec<Operation>> for WebhookResponse {
    fn from(ops: Vec<Operation>) -> Self {
        WebhookResponse::Many(ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ser<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).expect("serializable")
    }

    #[test]
    fn every_operation_serializes_as_commerce_reads_it() {
        let cases: Vec<(Operation, &str)> = vec![
            (Operation::success(), r#"{"op":"success"}"#),
            (Operation::exception("Nope"), r#"{"op":"exception","message":"Nope"}"#),
            (
                Operation::exception_with_type("Nope", "Magento\\Framework\\Exception\\LocalizedException"),
                r#"{"op":"exception","message":"Nope","type":"Magento\\Framework\\Exception\\LocalizedException"}"#,
            ),
            (
                Operation::Exception {
                    message: None,
                    exception_type: None,
                },
                r#"{"op":"exception"}"#,
            ),
            (
                Operation::add("result", json!({"k": 1})),
                r#"{"op":"add","path":"result","value":{"k":1}}"#,
            ),
            (
                Operation::add("result", json!(1)).with_instance("Magento\\Quote\\Api\\Data\\ShippingMethodInterface"),
                r#"{"op":"add","path":"result","value":1,"instance":"Magento\\Quote\\Api\\Data\\ShippingMethodInterface"}"#,
            ),
            (
                Operation::replace("result/shipping_methods/one/amount", json!(6)),
                r#"{"op":"replace","path":"result/shipping_methods/one/amount","value":6}"#,
            ),
            (
                Operation::replace("a", json!(null)).with_instance("X"),
                r#"{"op":"replace","path":"a","value":null,"instance":"X"}"#,
            ),
            (
                Operation::remove("result/key2"),
                r#"{"op":"remove","path":"result/key2"}"#,
            ),
        ];
        for (op, expected) in cases {
            assert_eq!(ser(&op), expected, "{op:?}");
            let back: Operation = serde_json::from_str(expected).expect("round trip");
            assert_eq!(back, op);
        }
    }

    #[test]
    fn exception_class_is_never_serialized_as_class() {
        let s = ser(&Operation::exception_with_type("m", "T"));
        assert!(!s.contains("\"class\""), "{s}");
        assert!(s.contains("\"type\":\"T\""), "{s}");
    }

    #[test]
    fn with_instance_leaves_other_operations_alone() {
        assert_eq!(Operation::remove("p").with_instance("X"), Operation::remove("p"));
        assert_eq!(Operation::success().with_instance("X"), Operation::success());
    }

    #[test]
    fn response_is_one_object_or_an_array() {
        assert_eq!(ser(&WebhookResponse::from(Operation::success())), r#"{"op":"success"}"#);
        let many = WebhookResponse::from(vec![Operation::success(), Operation::exception("x")]);
        assert_eq!(ser(&many), r#"[{"op":"success"},{"op":"exception","message":"x"}]"#);
        assert!(!many.is_success());
        assert!(WebhookResponse::Many(vec![]).is_success());
        assert!(WebhookResponse::from(Operation::remove("a")).is_success());
        let parsed: WebhookResponse = serde_json::from_str(r#"[{"op":"success"}]"#).expect("array");
        assert_eq!(parsed, WebhookResponse::Many(vec![Operation::success()]));
    }
}
