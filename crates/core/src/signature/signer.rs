//! Signing side, for tests and for integrators' own test suites (feature `test-util`).

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

/// Public half (SPKI PEM) of [`RsaSigner::test_key_a`]. Test material only.
pub const TEST_PUBLIC_KEY_A: &str = include_str!("test_key_a.pub.pem");
/// Public half (SPKI PEM) of [`RsaSigner::test_key_b`]. Test material only.
pub const TEST_PUBLIC_KEY_B: &str = include_str!("test_key_b.pub.pem");
const TEST_PRIVATE_KEY_A: &str = include_str!("test_key_a.pem");
const TEST_PRIVATE_KEY_B: &str = include_str!("test_key_b.pem");

/// Produces RSA-SHA256 (PKCS#1 v1.5) signatures, as Commerce and Adobe I/O Events do.
///
/// ```
/// use commerce_kit_core::signature::{RsaPublicKey, RsaSigner, TEST_PUBLIC_KEY_A};
///
/// let sig = RsaSigner::test_key_a().sign_base64(b"hello");
/// let key = RsaPublicKey::from_pem(TEST_PUBLIC_KEY_A).unwrap();
/// assert!(key.verify_base64(b"hello", &sig).is_ok());
/// ```
#[derive(Clone)]
pub struct RsaSigner {
    key: SigningKey<Sha256>,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigner(..)")
    }
}

impl RsaSigner {
    /// Loads a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem.trim())
            .or_else(|e| rsa::RsaPrivateKey::from_pkcs1_pem(pem.trim()).map_err(|_| e.to_string()))?;
        Ok(Self {
            key: SigningKey::new(key),
        })
    }

    /// A fixed 2048-bit test key whose public half is [`TEST_PUBLIC_KEY_A`].
    pub fn test_key_a() -> Self {
        Self::from_pem(TEST_PRIVATE_KEY_A).expect("bundled test key parses")
    }

    /// A second fixed test key whose public half is [`TEST_PUBLIC_KEY_B`].
    pub fn test_key_b() -> Self {
        Self::from_pem(TEST_PRIVATE_KEY_B).expect("bundled test key parses")
    }

    /// Raw signature bytes over `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).to_vec()
    }

    /// Standard base64 signature over `message`.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.sign(message))
    }
}
