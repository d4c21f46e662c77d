//! [`PayloadError`]: a payload this crate cannot map, and why.

use commerce_kit_events::HandlerError;
use commerce_kit_model::routing::RouteError;

/// A payload cannot be turned into a Commerce call or a back-office request.
/// `Display` is the client-facing message, worded like the consumer's other
/// 400s (fields named by their path in the event: `data.…` for back-office
/// events, `data.value.…` for Commerce events). Every variant is final: the
/// handlers answer it 400, so the event is dropped (the local bus parks it as
/// a dead letter) rather than retried.
///
/// ```
/// use commerce_kit_sync::PayloadError;
///
/// let e = PayloadError::missing(["data.sku"]);
/// assert_eq!(e.to_string(), "missing parameter(s) 'data.sku'");
/// let e = PayloadError::invalid("data.id", "expected a positive whole number, got 15.5");
/// assert_eq!(e.to_string(), "invalid parameter 'data.id': expected a positive whole number, got 15.5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Required fields are absent (or empty strings), by full path, in order.
    #[error("missing parameter(s) '{}'", .0.join(","))]
    Missing(Vec<String>),
    /// A field is present but its value cannot be used.
    #[error("invalid parameter '{path}': {reason}")]
    Invalid {
        /// Full path of the field, e.g. `data.items[0].qty`.
        path: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// The event is not one this mapping handles.
    #[error("unsupported event type '{0}'")]
    Unsupported(String),
    /// The starter kit's routing rule refused the event (a missing or
    /// malformed timestamp, an unknown type).
    #[error(transparent)]
    Route(#[from] RouteError),
}

impl PayloadError {
    /// Fields missing at `paths`.
    pub fn missing<I, S>(paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::Missing(paths.into_iter().map(Into::into).collect())
    }

    /// The field at `path` is unusable for `reason`.
    pub fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// A deserialization failure of the payload found at `prefix` (`data` or
    /// `data.value`), naming the field by its full path.
    pub(crate) fn from_serde(prefix: &str, err: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let tail = err.path().to_string();
        let tail = if tail == "." { String::new() } else { tail };
        let message = err.inner().to_string();
        // serde's wording for an absent field: "missing field `sku`" (the path is its parent's)
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field)
        {
            let parent = join(prefix, &tail);
            return Self::missing([join(&parent, field)]);
        }
        // serde appends " at line … column …" for text input only; values carry none
        Self::invalid(join(prefix, &tail), message)
    }
}

/// `data` + `items[0].qty` → `data.items[0].qty`; `data` + `[1]` → `data[1]`; `data` + `` → `data`.
pub(crate) fn join(prefix: &str, tail: &str) -> String {
    if tail.is_empty() {
        prefix.to_owned()
    } else if prefix.is_empty() {
        tail.to_owned()
    } else if tail.starts_with('[') {
        format!("{prefix}{tail}")
    } else {
        format!("{prefix}.{tail}")
    }
}

impl From<PayloadError> for HandlerError {
    /// Always 400: the same payload would fail again.
    fn from(err: PayloadError) -> Self {
        HandlerError::rejected(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        qty: f64,
    }

    fn err_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(v: serde_json::Value) -> PayloadError {
        let e = serde_path_to_error::deserialize::<_, T>(&v).expect_err("mismatch");
        PayloadError::from_serde("data", &e)
    }

    #[test]
    fn serde_failures_name_the_full_path() {
        assert_eq!(
            err_of::<Vec<Line>>(json!([{"sku": "A", "qty": 1}, {"qty": 2}])).to_string(),
            "missing parameter(s) 'data[1].sku'"
        );
        assert_eq!(
            err_of::<Line>(json!({"sku": "A", "qty": "two"})).to_string(),
            "invalid parameter 'data.qty': invalid type: string \"two\", expected f64"
        );
        assert_eq!(
            err_of::<Line>(json!("x")).to_string(),
            "invalid parameter 'data': invalid type: string \"x\", expected struct Line"
        );
        let e = err_of::<Line>(json!({"qty": 1}));
        assert_eq!(e, PayloadError::Missing(vec!["data.sku".into()]));
        assert_eq!(HandlerError::from(e).status(), http::StatusCode::BAD_REQUEST);
    }
}
