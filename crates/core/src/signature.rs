//! Signature primitives: RSA-SHA256 (PKCS#1 v1.5) verification, HMAC-SHA256 and
//! constant-time comparison.
//!
//! Commerce signs `base64(raw body)` with RSA-SHA256; Adobe I/O Events signs the
//! raw body with RSA-SHA256; the ingestion webhook's back offices sign with
//! HMAC-SHA256. Always verify the bytes exactly as received.
//!
//! ```
//! use commerce_kit_core::signature::{hmac_sha256_hex, verify_hmac_sha256_hex};
//!
//! let sig = hmac_sha256_hex(b"key", b"message");
//! assert!(verify_hmac_sha256_hex(b"key", b"message", &sig));
//! assert!(!verify_hmac_sha256_hex(b"key", b"message!", &sig));
//! ```

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha2::Sha256;
use subtle::ConstantTimeEq;

mod signer;
pub use signer::RsaSigner;
#[cfg(feature = "test-util")]
pub use signer::{TEST_PUBLIC_KEY_A, TEST_PUBLIC_KEY_B};

/// Standard base64 that accepts input with or without `=` padding.
pub const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A public key could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is neither an SPKI (`BEGIN PUBLIC KEY`) nor a PKCS#1 (`BEGIN RSA PUBLIC KEY`) RSA key.
    #[error("not an RSA public key in PEM format (expected '-----BEGIN PUBLIC KEY-----'): {0}")]
    Pem(String),
}

/// A signature did not verify. Carries no key or signature material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature header is not valid base64.
    #[error("signature is not valid base64")]
    NotBase64,
    /// The signature does not match the message and key.
    #[error("signature does not match")]
    Mismatch,
}

/// An RSA public key that verifies RSA-SHA256 (PKCS#1 v1.5) signatures.
///
/// Keys of 2048 to 8192 bits (what Commerce and Adobe use) are verified with
/// aws-lc-rs (tens of microseconds, versus about a millisecond with the pure
/// Rust `rsa` crate); other sizes fall back to the `rsa` crate.
#[derive(Clone)]
pub struct RsaPublicKey {
    key: VerifyingKey<Sha256>,
    fast: Option<aws_lc_rs::signature::ParsedPublicKey>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPublicKey(..)")
    }
}

impl RsaPublicKey {
    /// Parses a PEM public key: SPKI (`BEGIN PUBLIC KEY`, what Commerce and Adobe
    /// publish) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = rsa::RsaPublicKey::from_public_key_pem(pem)
            .or_else(|spki| rsa::RsaPublicKey::from_pkcs1_pem(pem).map_err(|_| KeyError::Pem(spki.to_string())))?;
        let fast = key.to_pkcs1_der().ok().and_then(|der| {
            aws_lc_rs::signature::ParsedPublicKey::new(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                der.as_bytes(),
            )
            .ok()
        });
        Ok(Self {
            key: VerifyingKey::new(key),
            fast,
        })
    }

    /// Verifies a base64 RSA-SHA256 signature over `message`.
    pub fn verify_base64(&self, message: &[u8], signature_b64: &str) -> Result<(), SignatureError> {
        let raw = BASE64_LENIENT
            .decode(signature_b64.trim())
            .map_err(|_| SignatureError::NotBase64)?;
        self.verify(message, &raw)
    }

    /// Verifies a raw RSA-SHA256 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        if let Some(fast) = &self.fast {
            return fast
                .verify_sig(message, signature)
                .map_err(|_| SignatureError::Mismatch);
        }
        let sig = Signature::try_from(signature).map_err(|_| SignatureError::Mismatch)?;
        self.key.verify(message, &sig).map_err(|_| SignatureError::Mismatch)
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    hex::encode(hmac_sha256(key, message))
}

/// Verifies a hex HMAC-SHA256 (either case) in constant time.
pub fn verify_hmac_sha256_hex(key: &[u8], message: &[u8], signature_hex: &str) -> bool {
    match hex::decode(signature_hex.trim()) {
        Ok(given) => constant_time_eq(&hmac_sha256(key, message), &given),
        Err(_) => false,
    }
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB_A: &str = include_str!("signature/test_key_a.pub.pem");
    const PUB_B: &str = include_str!("signature/test_key_b.pub.pem");

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_hmac_sha256_hex(
            b"Jefe",
            b"what do ya want for nothing?",
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        ));
        assert!(!verify_hmac_sha256_hex(b"Jefe", b"x", "zz"));
        assert!(!verify_hmac_sha256_hex(b"Jefe", b"x", ""));
    }

    #[test]
    fn constant_time_eq_needs_equal_length_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn public_keys_parse_and_garbage_is_rejected() {
        assert!(RsaPublicKey::from_pem(PUB_A).is_ok());
        assert!(RsaPublicKey::from_pem(&format!("\n  {PUB_B}\n")).is_ok());
        let err = RsaPublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").unwrap_err();
        assert!(
            err.to_string().starts_with("not an RSA public key in PEM format"),
            "{err}"
        );
        assert!(RsaPublicKey::from_pem("hello").is_err());
    }

    #[test]
    fn bad_signatures_are_told_apart() {
        let key = RsaPublicKey::from_pem(PUB_A).expect("key");
        assert_eq!(key.verify_base64(b"m", "***"), Err(SignatureError::NotBase64));
        assert_eq!(key.verify_base64(b"m", "AAAA"), Err(SignatureError::Mismatch));
        assert_eq!(key.verify(b"m", &[0u8; 256]), Err(SignatureError::Mismatch));
    }

    #[cfg(feature = "test-util")]
    #[test]
    fn fast_and_fallback_verification_agree() {
        let fast = RsaPublicKey::from_pem(TEST_PUBLIC_KEY_A).expect("key");
        assert!(fast.fast.is_some(), "2048-bit keys take the aws-lc path");
        let slow = RsaPublicKey {
            fast: None,
            ..fast.clone()
        };
        let good = RsaSigner::test_key_a().sign(b"body");
        let other = RsaSigner::test_key_b().sign(b"body");
        let cases: [(&[u8], &[u8], bool); 5] = [
            (b"body", &good, true),
            (b"body!", &good, false),
            (b"body", &other, false),
            (b"body", &good[..255], false),
            (b"body", &[], false),
        ];
        for (message, signature, valid) in cases {
            assert_eq!(fast.verify(message, signature).is_ok(), valid, "fast {valid}");
            assert_eq!(slow.verify(message, signature).is_ok(), valid, "fallback {valid}");
        }
    }

    #[cfg(feature = "test-util")]
    #[test]
    fn signer_and_verifier_agree_and_keys_are_distinct() {
        let a = RsaSigner::test_key_a();
        let b = RsaSigner::test_key_b();
        let key_a = RsaPublicKey::from_pem(TEST_PUBLIC_KEY_A).expect("key a");
        let sig = a.sign_base64(b"payload");
        assert_eq!(key_a.verify_base64(b"payload", &sig), Ok(()));
        assert_eq!(key_a.verify_base64(b"payload.", &sig), Err(SignatureError::Mismatch));
        assert_eq!(
            key_a.verify_base64(b"payload", &b.sign_base64(b"payload")),
            Err(SignatureError::Mismatch)
        );
    }
}
