//! API key / bearer token authentication.

use commerce_kit_core::signature::constant_time_eq;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};

use super::{AuthError, Authenticator};

/// Accepts `Authorization: Bearer <key>` or `x-api-key: <key>` when the key is
/// one of the configured keys. Every configured key is compared, in constant
/// time, whatever the outcome.
pub struct ApiKeyAuth {
    keys: Vec<SecretString>,
}

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeyAuth({} key(s))", self.keys.len())
    }
}

impl ApiKeyAuth {
    /// An authenticator accepting any of `keys` (empty keys are ignored).
    pub fn new(keys: impl IntoIterator<Item = SecretString>) -> Self {
        Self {
            keys: keys.into_iter().filter(|k| !k.expose_secret().is_empty()).collect(),
        }
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is configured (every request is then refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The presented key: from `Authorization: Bearer`, else `x-api-key`.
    fn presented(headers: &HeaderMap) -> Result<&[u8], AuthError> {
        if let Some(value) = headers.get(AUTHORIZATION) {
            let bytes = value.as_bytes();
            let (scheme, rest) = match bytes.iter().position(|b| *b == b' ') {
                Some(at) => (&bytes[..at], &bytes[at + 1..]),
                None => return Err(AuthError::MalformedAuthorization),
            };
            let token = rest.trim_ascii();
            if !scheme.eq_ignore_ascii_case(b"bearer") || token.is_empty() {
                return Err(AuthError::MalformedAuthorization);
            }
            return Ok(token);
        }
        match headers.get("x-api-key") {
            Some(value) if !value.as_bytes().trim_ascii().is_empty() => Ok(value.as_bytes().trim_ascii()),
            _ => Err(AuthError::MissingApiKey),
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for ApiKeyAuth {
    async fn authenticate(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), AuthError> {
        let presented = Self::presented(headers)?;
        let matched = self.keys.iter().fold(false, |any, key| {
            any | constant_time_eq(key.expose_secret().as_bytes(), presented)
        });
        if matched { Ok(()) } else { Err(AuthError::InvalidApiKey) }
    }

    fn name(&self) -> &'static str {
        "api-key"
    }
}
