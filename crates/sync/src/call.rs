//! [`CommerceCall`]: one Commerce REST call, as data.
//!
//! A transformer produces a call; a [`CommerceApi`](crate::CommerceApi)
//! executes it. Keeping the call as data makes every mapping testable without
//! a Commerce, and lets an integrator inspect, rewrite or log a call before
//! it is sent.
//!
//! The path is relative to the store's REST root (PaaS
//! `https://shop.example/rest/<store>`, SaaS
//! `https://<region>.api.commerce.adobe.com/<tenant>`) and starts with `/V1/`.
//! Its dynamic segments (a SKU, an id) are already percent-encoded, so an
//! executor appends it as it is and must not encode it again.
//!
//! ```
//! use commerce_kit_sync::CommerceCall;
//! use http::Method;
//! use serde_json::json;
//!
//! let call = CommerceCall::new(Method::PUT, &["products", "24-MB01/blue bag"])
//!     .with_body(json!({"product": {"sku": "24-MB01/blue bag"}}));
//! assert_eq!(call.path, "/V1/products/24-MB01%2Fblue%20bag");
//! assert_eq!(call.to_string(), "PUT /V1/products/24-MB01%2Fblue%20bag");
//! assert!(call.has_body());
//!
//! let search = CommerceCall::new(Method::GET, &["customerGroups", "search"])
//!     .with_query("searchCriteria[pageSize]", "20");
//! assert_eq!(search.path_and_query(), "/V1/customerGroups/search?searchCriteria%5BpageSize%5D=20");
//! ```

use std::fmt;

use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Characters encoded in a path segment or a query component: everything
/// except RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Every character but letters and digits: used for the segments `.` and
/// `..`, which a URL parser would otherwise resolve as "this" and "parent".
const DOTS: &AsciiSet = NON_ALPHANUMERIC;

/// One Commerce REST call: method, path under `/V1`, query and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct CommerceCall {
    /// The HTTP method.
    pub method: Method,
    /// `/V1/…`, each segment percent-encoded (see the [module docs](self)).
    pub path: String,
    /// Query parameters, unencoded, in order (e.g. `searchCriteria[pageSize]`).
    pub query: Vec<(String, String)>,
    /// The JSON body; [`Value::Null`] means the request has no body (`DELETE`, `GET`).
    pub body: Value,
}

impl CommerceCall {
    /// A call to `/V1/<segments…>`, each segment percent-encoded, with no
    /// query and no body.
    pub fn new(method: Method, segments: &[&str]) -> Self {
        let mut path = String::from("/V1");
        for segment in segments {
            path.push('/');
            path.push_str(&encode_segment(segment));
        }
        Self {
            method,
            path,
            query: Vec::new(),
            body: Value::Null,
        }
    }

    /// The same call with `body`.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = body;
        self
    }

    /// The same call with one more query parameter.
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// True when the call sends a JSON body (its body is not `null`).
    pub fn has_body(&self) -> bool {
        !self.body.is_null()
    }

    /// The path followed by the encoded query (`?a=1&b=2`), if any.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, COMPONENT),
                    utf8_percent_encode(v, COMPONENT)
                )
            })
            .collect();
        format!("{}?{}", self.path, query.join("&"))
    }
}

impl fmt::Display for CommerceCall {
    /// `METHOD /V1/path` (no query, no body: fit for messages and logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One path segment, percent-encoded: every byte but `A-Z a-z 0-9 - . _ ~`
/// is encoded (so `/`, `?`, `#`, `%` and spaces in a SKU stay inside their
/// segment), and a segment of only `.` or `..` has its dots encoded too.
///
/// ```
/// use commerce_kit_sync::call::encode_segment;
/// assert_eq!(encode_segment("SKU-EXT-0001"), "SKU-EXT-0001");
/// assert_eq!(encode_segment("a/b?c#d%e f"), "a%2Fb%3Fc%23d%25e%20f");
/// assert_eq!(encode_segment(".."), "%2E%2E");
/// assert_eq!(encode_segment("café"), "caf%C3%A9");
/// ```
pub fn encode_segment(segment: &str) -> String {
    let set = if segment == "." || segment == ".." {
        DOTS
    } else {
        COMPONENT
    };
    utf8_percent_encode(segment, set).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn segments_are_encoded_one_by_one() {
        let call = CommerceCall::new(Method::DELETE, &["products", "a b/c", "."]);
        assert_eq!(call.path, "/V1/products/a%20b%2Fc/%2E");
        assert!(!call.has_body());
        assert_eq!(call.to_string(), "DELETE /V1/products/a%20b%2Fc/%2E");
    }

    #[test]
    fn query_is_encoded_in_order() {
        let call = CommerceCall::new(Method::GET, &["products"])
            .with_query("searchCriteria[filter_groups][0][filters][0][field]", "sku")
            .with_query("q", "a&b=c");
        assert_eq!(
            call.path_and_query(),
            "/V1/products?searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=sku&q=a%26b%3Dc"
        );
        let with_body = call.with_body(json!({"a": 1}));
        assert!(with_body.has_body());
    }
}
