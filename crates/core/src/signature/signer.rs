//! Signing side: what `commerce-kit simulate` signs Commerce-style calls
//! with, and, with the fixed test keys (feature `test-util`), what tests and
//! integrators' own test suites sign with.

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

/// Public half (SPKI PEM) of [`RsaSigner::test_key_a`]. Test material only.
#[cfg(feature = "test-util")]
pub const TEST_PUBLIC_KEY_A: &str = include_str!("test_key_a.pub.pem");
/// Public half (SPKI PEM) of [`RsaSigner::test_key_b`]. Test material only.
#[cfg(feature = "test-util")]
pub const TEST_PUBLIC_KEY_B: &str = include_str!("test_key_b.pub.pem");
#[cfg(feature = "test-util")]
const TEST_PRIVATE_KEY_A: &str = include_str!("test_key_a.pem");
#[cfg(feature = "test-util")]
const TEST_PRIVATE_KEY_B: &str = include_str!("test_key_b.pem");

/// Produces RSA-SHA256 (PKCS#1 v1.5) signatures, as Commerce and Adobe I/O Events do.
///
/// (The example uses the fixed test keys of feature `test-util`.)
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use commerce_kit_core::signature::{RsaPublicKey, RsaSigner, TEST_PUBLIC_KEY_A};
///
/// let sig = RsaSigner::test_key_a().sign_base64(b"hello");
/// let key = RsaPublicKey::from_pem(TEST_PUBLIC_KEY_A).unwrap();
/// assert!(key.verify_base64(b"hello", &sig).is_ok());
/// # }
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

    /// A fresh 2048-bit key pair: the signer, and its public half as SPKI
    /// PEM (what Commerce's Admin shows, and check-stock is configured with).
    pub fn generate() -> Result<(Self, String), String> {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| e.to_string())?;
        let public = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?;
        Ok((
            Self {
                key: SigningKey::new(key),
            },
            public,
        ))
    }

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), to store it.
    pub fn to_pem(&self) -> Result<secrecy::SecretString, String> {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key: &rsa::RsaPrivateKey = self.key.as_ref();
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| secrecy::SecretString::from(pem.as_str().to_owned()))
            .map_err(|e| e.to_string())
    }

    /// A fixed 2048-bit test key whose public half is [`TEST_PUBLIC_KEY_A`].
    #[cfg(feature = "test-util")]
    pub fn test_key_a() -> Self {
        Self::from_pem(TEST_PRIVATE_KEY_A).expect("bundled test key parses")
    }

    /// A second fixed test key whose public half is [`TEST_PUBLIC_KEY_B`].
    #[cfg(feature = "test-util")]
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
