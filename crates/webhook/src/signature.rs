//! Commerce webhook signatures.
//!
//! When "Digital Signature" is enabled in the Commerce Admin, every webhook
//! call carries `x-adobe-commerce-webhook-signature`: a base64 RSA-SHA256
//! (PKCS#1 v1.5) signature over the **base64 encoding of the raw body bytes**,
//! made with a key pair whose public half the Admin shows as PEM. The body is
//! verified exactly as received, never re-serialized.
//!
//! ```
//! use commerce_kit_webhook::signature::{CommerceSignatureVerifier, SIGNATURE_HEADER, sign_body};
//! use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A};
//!
//! let body = br#"{"data":{"cart_id":1,"items":[]}}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert(SIGNATURE_HEADER, sign_body(&RsaSigner::test_key_a(), body).parse().unwrap());
//!
//! let verifier = CommerceSignatureVerifier::from_pem(TEST_PUBLIC_KEY_A).unwrap();
//! assert!(verifier.verify(&headers, body).is_ok());
//! assert!(verifier.verify(&headers, b"{}").is_err());
//! ```
//! (The test keys need the `test-util` feature.)

use base64::Engine as _;
use commerce_kit_core::signature::{KeyError, RsaPublicKey, SignatureError};
use http::HeaderMap;

/// The header Commerce puts the signature in.
pub const SIGNATURE_HEADER: &str = "x-adobe-commerce-webhook-signature";

/// Why a signed call was refused. Carries no key or signature material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFailure {
    /// A key is configured but the header is absent.
    #[error("missing x-adobe-commerce-webhook-signature header")]
    Missing,
    /// The header is present but does not verify.
    #[error("invalid x-adobe-commerce-webhook-signature: {0}")]
    Invalid(SignatureError),
}

/// Verifies Commerce's signature over `base64(raw body)` with the Admin's public key.
#[derive(Debug, Clone)]
pub struct CommerceSignatureVerifier {
    key: RsaPublicKey,
}

impl CommerceSignatureVerifier {
    /// Parses the public key shown in the Commerce Admin (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Ok(Self {
            key: RsaPublicKey::from_pem(pem)?,
        })
    }

    /// Checks the signature header against the raw body bytes.
    pub fn verify(&self, headers: &HeaderMap, raw_body: &[u8]) -> Result<(), SignatureFailure> {
        let header = headers.get(SIGNATURE_HEADER).ok_or(SignatureFailure::Missing)?;
        let signature = header
            .to_str()
            .map_err(|_| SignatureFailure::Invalid(SignatureError::NotBase64))?;
        let signed = base64::engine::general_purpose::STANDARD.encode(raw_body);
        self.key
            .verify_base64(signed.as_bytes(), signature)
            .map_err(SignatureFailure::Invalid)
    }
}

/// Signs `raw_body` as Commerce does and returns the value of
/// [`SIGNATURE_HEADER`]: for integrators' tests and `commerce-kit simulate`.
pub fn sign_body(signer: &commerce_kit_core::signature::RsaSigner, raw_body: &[u8]) -> String {
    let signed = base64::engine::general_purpose::STANDARD.encode(raw_body);
    signer.sign_base64(signed.as_bytes())
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A};

    fn headers(sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, sig.parse().expect("header"));
        h
    }

    #[test]
    fn signature_is_over_the_base64_of_the_raw_bytes() {
        let verifier = CommerceSignatureVerifier::from_pem(TEST_PUBLIC_KEY_A).expect("key");
        let body = br#"{"a":"\/x"}"#;
        // Made independently of sign_body: RSA-SHA256 over base64(body).
        let b64 = base64::engine::general_purpose::STANDARD.encode(body);
        let direct = RsaSigner::test_key_a().sign_base64(b64.as_bytes());
        assert_eq!(sign_body(&RsaSigner::test_key_a(), body), direct);
        assert_eq!(verifier.verify(&headers(&direct), body), Ok(()));
        // A signature over the raw bytes (not their base64) is refused.
        let raw = RsaSigner::test_key_a().sign_base64(body);
        assert_eq!(
            verifier.verify(&headers(&raw), body),
            Err(SignatureFailure::Invalid(SignatureError::Mismatch))
        );
        // Re-serialized JSON (`/` unescaped) is different bytes: refused.
        assert!(verifier.verify(&headers(&direct), br#"{"a":"/x"}"#).is_err());
    }

    #[test]
    fn failures_are_told_apart() {
        let verifier = CommerceSignatureVerifier::from_pem(TEST_PUBLIC_KEY_A).expect("key");
        assert_eq!(
            verifier
                .verify(&HeaderMap::new(), b"x")
                .expect_err("must fail")
                .to_string(),
            "missing x-adobe-commerce-webhook-signature header"
        );
        assert_eq!(
            verifier
                .verify(&headers("%%%"), b"x")
                .expect_err("must fail")
                .to_string(),
            "invalid x-adobe-commerce-webhook-signature: signature is not valid base64"
        );
        let other = sign_body(&RsaSigner::test_key_b(), b"x");
        assert_eq!(
            verifier
                .verify(&headers(&other), b"x")
                .expect_err("must fail")
                .to_string(),
            "invalid x-adobe-commerce-webhook-signature: signature does not match"
        );
    }
}
