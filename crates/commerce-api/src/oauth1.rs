//! OAuth 1.0a request signing for Commerce integrations (RFC 5849, HMAC-SHA256).
//!
//! A Commerce integration (Admin > System > Integrations) has four credentials:
//! consumer key and secret, access token and secret. Every request carries an
//! `Authorization: OAuth …` header whose `oauth_signature` is
//! `base64(HMAC-SHA256(key = enc(consumer_secret) "&" enc(token_secret), base string))`.
//!
//! The signature base string is RFC 5849 §3.4.1: the upper-case method, the
//! base string URI (§3.4.1.2: lower-case scheme and host, no default port, the
//! path as sent, no query) and the normalized parameters (§3.4.1.3: the query
//! parameters, any `application/x-www-form-urlencoded` body parameters and the
//! `oauth_*` protocol parameters, each name and value percent-encoded as §3.6
//! says, sorted by name then value, joined with `=` and `&`), each part
//! percent-encoded again and joined with `&`. Query keys such as
//! `searchCriteria[filter_groups][0][filters][0][field]` are ordinary
//! parameter names: their brackets are encoded as `%5B`/`%5D`. A JSON body is
//! never signed.
//!
//! Nonce and clock are injectable ([`OAuth1Signer::with_nonce`],
//! [`OAuth1Signer::with_clock`]), and the pieces are public so tests can build
//! or check a signature themselves:
//!
//! ```
//! use commerce_kit_commerce_api::oauth1::{percent_encode, signature_base_string};
//! use reqwest::Url;
//!
//! assert_eq!(percent_encode("a b&c~[0]"), "a%20b%26c~%5B0%5D");
//! let url = Url::parse("https://Shop.Example.com:443/rest/all/V1/products?searchCriteria[pageSize]=5").unwrap();
//! let base = signature_base_string("GET", &url, &[("oauth_nonce".into(), "n".into())]);
//! assert_eq!(
//!     base,
//!     "GET&https%3A%2F%2Fshop.example.com%2Frest%2Fall%2FV1%2Fproducts&\
//!      oauth_nonce%3Dn%26searchCriteria%255BpageSize%255D%3D5"
//! );
//! ```
//!
//! **Interoperability note.** Commerce checks signatures with laminas-oauth,
//! which sorts parameter names in PHP's *natural* order (`strnatcmp`) rather
//! than RFC 5849's byte order. The two orders agree unless two names differ in
//! a run of digits of different lengths at the same place, e.g. filter index
//! `[2]` against `[10]`: a search with more than ten filters in one group (or
//! more than ten groups or sort orders) signed per the RFC may be refused by
//! Commerce. Keep searches under that size.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderValue, Method};
use rand::Rng as _;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The signature method Commerce integrations use.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA256";

/// The four credentials of a Commerce integration. `Debug` shows the consumer
/// key only.
#[derive(Clone)]
pub struct OAuth1Credentials {
    /// `COMMERCE_CONSUMER_KEY` (sent in clear as `oauth_consumer_key`).
    pub consumer_key: String,
    /// `COMMERCE_CONSUMER_SECRET`.
    pub consumer_secret: SecretString,
    /// `COMMERCE_ACCESS_TOKEN` (sent as `oauth_token`; kept secret because
    /// Commerce can be configured to accept it alone as a bearer token).
    pub access_token: SecretString,
    /// `COMMERCE_ACCESS_TOKEN_SECRET`.
    pub access_token_secret: SecretString,
}

impl OAuth1Credentials {
    /// Wraps the four credentials.
    pub fn new(
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
        access_token: impl Into<String>,
        access_token_secret: impl Into<String>,
    ) -> Self {
        Self {
            consumer_key: consumer_key.into(),
            consumer_secret: SecretString::from(consumer_secret.into()),
            access_token: SecretString::from(access_token.into()),
            access_token_secret: SecretString::from(access_token_secret.into()),
        }
    }
}

impl fmt::Debug for OAuth1Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth1Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<hidden>")
            .field("access_token", &"<hidden>")
            .field("access_token_secret", &"<hidden>")
            .finish()
    }
}

type NonceFn = Arc<dyn Fn() -> String + Send + Sync>;
type ClockFn = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Signs requests with an integration's credentials. Cheap to clone.
///
/// ```
/// use commerce_kit_commerce_api::oauth1::{OAuth1Credentials, OAuth1Signer};
/// use http::Method;
/// use reqwest::Url;
///
/// let signer = OAuth1Signer::new(OAuth1Credentials::new("ck", "cs", "at", "ats"))
///     .with_nonce(|| "fixed-nonce".to_owned())
///     .with_clock(|| 1_700_000_000);
/// let url = Url::parse("https://shop.example.com/rest/all/V1/products/24-MB01").unwrap();
/// let header = signer.authorization(&Method::GET, &url);
/// assert!(header.starts_with("OAuth oauth_consumer_key=\"ck\", oauth_nonce=\"fixed-nonce\", oauth_signature=\""));
/// assert!(header.ends_with("oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1700000000\", oauth_token=\"at\", oauth_version=\"1.0\""));
/// // the same inputs give the same header
/// assert_eq!(header, signer.authorization(&Method::GET, &url));
/// ```
#[derive(Clone)]
pub struct OAuth1Signer {
    credentials: OAuth1Credentials,
    nonce: NonceFn,
    clock: ClockFn,
}

impl fmt::Debug for OAuth1Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth1Signer")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl OAuth1Signer {
    /// A signer with a random 32-character alphanumeric nonce and the system clock.
    pub fn new(credentials: OAuth1Credentials) -> Self {
        Self {
            credentials,
            nonce: Arc::new(random_nonce),
            clock: Arc::new(unix_now),
        }
    }

    /// Replaces the nonce source (tests).
    pub fn with_nonce(mut self, nonce: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.nonce = Arc::new(nonce);
        self
    }

    /// Replaces the clock: seconds since the Unix epoch (tests).
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &OAuth1Credentials {
        &self.credentials
    }

    /// The `Authorization` header value for `method` on `url` (its query is
    /// signed; a JSON body is not), with a fresh nonce and the current time.
    pub fn authorization(&self, method: &Method, url: &Url) -> String {
        authorization_with(&self.credentials, method.as_str(), url, &(self.nonce)(), (self.clock)())
    }

    /// [`authorization`](Self::authorization) as a header value marked
    /// sensitive (never printed by `http`'s `Debug`).
    pub fn authorization_header(&self, method: &Method, url: &Url) -> Option<HeaderValue> {
        let mut value = HeaderValue::try_from(self.authorization(method, url)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// The `Authorization` header for one request with a given nonce and
/// timestamp: deterministic, for tests that sign requests themselves (e.g. to
/// call a handler that checks signatures, or to compare with a recorded call).
pub fn authorization_with(
    credentials: &OAuth1Credentials,
    method: &str,
    url: &Url,
    nonce: &str,
    timestamp: u64,
) -> String {
    let timestamp = timestamp.to_string();
    let protocol: [(&str, &str); 6] = [
        ("oauth_consumer_key", credentials.consumer_key.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_token", credentials.access_token.expose_secret()),
        ("oauth_version", "1.0"),
    ];
    let params: Vec<(String, String)> = protocol
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let base = signature_base_string(method, url, &params);
    let signature = sign_hmac_sha256(
        &base,
        credentials.consumer_secret.expose_secret(),
        credentials.access_token_secret.expose_secret(),
    );
    // §3.5.1: parameters in the header, values percent-encoded and quoted,
    // separated by a comma and a space; alphabetical, signature included.
    let mut header = String::with_capacity(320);
    header.push_str("OAuth ");
    let mut first = true;
    let mut push = |name: &str, value: &str| {
        if !first {
            header.push_str(", ");
        }
        first = false;
        header.push_str(name);
        header.push_str("=\"");
        encode_into(value, &mut header);
        header.push('"');
    };
    push("oauth_consumer_key", &credentials.consumer_key);
    push("oauth_nonce", nonce);
    push("oauth_signature", &signature);
    for (name, value) in &protocol[2..] {
        push(name, value);
    }
    header
}

/// `base64(HMAC-SHA256(key, base))` with key = `enc(consumer_secret)&enc(token_secret)` (RFC 5849 §3.4.2, with SHA-256).
pub fn sign_hmac_sha256(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let mut key = String::with_capacity(consumer_secret.len() + token_secret.len() + 1);
    encode_into(consumer_secret, &mut key);
    key.push('&');
    encode_into(token_secret, &mut key);
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The signature base string (RFC 5849 §3.4.1.1) of a request to `url`:
/// its query parameters are parsed from `url` and signed together with
/// `params` (the `oauth_*` protocol parameters and any form-encoded body
/// parameters, unencoded). A `realm` or `oauth_signature` in `params` is left out.
pub fn signature_base_string(method: &str, url: &Url, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = Vec::with_capacity(params.len() + 8);
    if let Some(query) = url.query() {
        for (name, value) in parse_form(query) {
            encoded.push((percent_encode(&name), percent_encode(&value)));
        }
    }
    for (name, value) in params {
        if name == "realm" || name == "oauth_signature" {
            continue;
        }
        encoded.push((percent_encode(name), percent_encode(value)));
    }
    encoded.sort_unstable();
    let mut normalized = String::with_capacity(encoded.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
    for (i, (name, value)) in encoded.iter().enumerate() {
        if i > 0 {
            normalized.push('&');
        }
        normalized.push_str(name);
        normalized.push('=');
        normalized.push_str(value);
    }
    let mut base = String::with_capacity(method.len() + normalized.len() * 3 / 2 + 64);
    base.push_str(&method.to_ascii_uppercase());
    base.push('&');
    encode_into(&base_string_uri(url), &mut base);
    base.push('&');
    encode_into(&normalized, &mut base);
    base
}

/// The base string URI (RFC 5849 §3.4.1.2): scheme and host in lower case,
/// the port only when it is not the scheme's default, the path as sent; no
/// query, no fragment.
pub fn base_string_uri(url: &Url) -> String {
    let scheme = url.scheme().to_ascii_lowercase();
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    // `Url::port` is already `None` for the scheme's default port.
    match url.port() {
        Some(port) => format!("{scheme}://{host}:{port}{}", url.path()),
        None => format!("{scheme}://{host}{}", url.path()),
    }
}

/// Percent-encodes `value` as RFC 5849 §3.6 says: every byte of its UTF-8 form
/// except the unreserved `A-Z a-z 0-9 - . _ ~` becomes `%XX` (upper-case hex).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 2);
    encode_into(value, &mut out);
    out
}

pub(crate) fn encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space; a
/// malformed escape is kept as it is; invalid UTF-8 is replaced).
pub(crate) fn parse_form(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (form_decode(name), form_decode(value)),
            None => (form_decode(pair), String::new()),
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn random_nonce() -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 §3.4.1.1's example request: query `b5=%3D%253D&a3=a&c%40=&a2=r%20b`,
    /// form body `c2&a3=2+q`, the protocol parameters of its Authorization header.
    #[test]
    fn the_rfc_5849_example_base_string_byte_for_byte() {
        let url = Url::parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b").expect("url");
        let mut params = parse_form("c2&a3=2+q");
        params.extend(
            [
                ("realm", "Example"),
                ("oauth_consumer_key", "9djdj82h48djs9d2"),
                ("oauth_token", "kkk9d7dh3k39sjv7"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_timestamp", "137131201"),
                ("oauth_nonce", "7d8f3e4a"),
                ("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let expected = concat!(
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q",
            "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_",
            "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m",
            "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk",
            "9d7dh3k39sjv7",
        );
        assert_eq!(signature_base_string("post", &url, &params), expected);
    }

    #[test]
    fn the_base_string_uri_normalizes_scheme_host_and_default_ports() {
        let cases = [
            ("HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),
            ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
            (
                "https://Shop.example.com:443/rest/all/V1/products",
                "https://shop.example.com/rest/all/V1/products",
            ),
            (
                "http://127.0.0.1:4321/rest/V1/x#frag",
                "http://127.0.0.1:4321/rest/V1/x",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(base_string_uri(&Url::parse(url).expect("url")), expected, "{url}");
        }
    }

    #[test]
    fn percent_encoding_keeps_only_the_unreserved_set() {
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(
            percent_encode(" !*'()+,/:;=?@[]&%"),
            "%20%21%2A%27%28%29%2B%2C%2F%3A%3B%3D%3F%40%5B%5D%26%25"
        );
        assert_eq!(percent_encode("é☃"), "%C3%A9%E2%98%83");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn bracketed_query_keys_are_signed_as_plain_names() {
        let url = Url::parse(
            "https://shop.example.com/rest/all/V1/products?searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=sku&searchCriteria%5BpageSize%5D=10",
        )
        .expect("url");
        let base = signature_base_string("GET", &url, &[]);
        assert_eq!(
            base,
            "GET&https%3A%2F%2Fshop.example.com%2Frest%2Fall%2FV1%2Fproducts&\
             searchCriteria%255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B0%255D%255Bfield%255D%3Dsku\
             %26searchCriteria%255BpageSize%255D%3D10"
        );
        // the same keys with raw brackets in the URL sign the same way
        let raw = Url::parse(
            "https://shop.example.com/rest/all/V1/products?searchCriteria[filter_groups][0][filters][0][field]=sku&searchCriteria[pageSize]=10",
        )
        .expect("url");
        assert_eq!(signature_base_string("GET", &raw, &[]), base);
    }

    #[test]
    fn the_signing_key_encodes_both_secrets() {
        // HMAC-SHA256 of "base" under "a%26b&c%20d", computed independently.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"a%26b&c%20d").expect("key");
        mac.update(b"base");
        let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(sign_hmac_sha256("base", "a&b", "c d"), expected);
    }

    #[test]
    fn the_header_encodes_its_values_and_the_nonce_changes() {
        let creds = OAuth1Credentials::new("key with space", "cs", "tok/en", "ts");
        let url = Url::parse("https://shop.example.com/rest/all/V1/products").expect("url");
        let header = authorization_with(&creds, "POST", &url, "n+1", 42);
        assert!(header.starts_with("OAuth oauth_consumer_key=\"key%20with%20space\", oauth_nonce=\"n%2B1\", "));
        assert!(header.contains(", oauth_timestamp=\"42\", oauth_token=\"tok%2Fen\", oauth_version=\"1.0\""));
        let signer = OAuth1Signer::new(creds);
        assert_ne!(
            signer.authorization(&Method::POST, &url),
            signer.authorization(&Method::POST, &url),
            "a fresh nonce per request"
        );
    }

    #[test]
    fn form_decoding_handles_plus_escapes_and_malformed_escapes() {
        assert_eq!(
            parse_form("a=1+2&b=%41%2b&c&d=%zz&e=%4"),
            vec![
                ("a".to_owned(), "1 2".to_owned()),
                ("b".to_owned(), "A+".to_owned()),
                ("c".to_owned(), String::new()),
                ("d".to_owned(), "%zz".to_owned()),
                ("e".to_owned(), "%4".to_owned()),
            ]
        );
    }

    #[test]
    fn debug_hides_the_secrets() {
        let creds = OAuth1Credentials::new("ck-visible", "cs-SECRET", "at-SECRET", "ats-SECRET");
        let text = format!("{:?}", OAuth1Signer::new(creds));
        assert!(text.contains("ck-visible"));
        assert!(!text.contains("SECRET"), "{text}");
    }
}
