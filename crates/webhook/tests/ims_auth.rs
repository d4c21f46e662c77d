//! IMS-authenticated check-stock calls over real HTTP on 127.0.0.1:0.
//!
//! The IMS key host is faked on loopback by this file alone: a raw TCP server
//! with its own fixed key pair (below; test material only), its own JWK Set,
//! its own request parsing and its own token minting, so none of the code
//! under test (nor the crate's `test-util` helpers, except in the one test
//! that checks them) takes part in producing what it verifies; commerce-kit's
//! fixed test keys only play forgers and Commerce's signature. The fake
//! records every request it receives and the tests check each of them: a
//! plain `GET /ims/keys` carrying no token or credential.
//!
//! The check-stock server is driven by reqwest as Commerce would call it,
//! served as the binaries serve it (`direct_app`) and, where said, in the
//! router form too.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A};
use commerce_kit_webhook::ims_auth::{ImsTokenVerifier, TestImsToken, serve_test_key_set};
use commerce_kit_webhook::inventory::InventoryChecker;
use commerce_kit_webhook::signature::{CommerceSignatureVerifier, SIGNATURE_HEADER, sign_body};
use commerce_kit_webhook::{CHECK_STOCK_PATH, CheckStockService};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The fake IMS's private key (2048-bit RSA, PKCS#8). Test material only.
const FAKE_IMS_PRIVATE_KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCoPOpkVGf1AWK0\n\
2Guo3Xkiq4YJkGNTPJ29Lmoy3bBiBhvhTCurRO+f/+5wRFFe46+ROZvGcO2goL7k\n\
aI9Y2LmK8wkEdm6N8VVo9FlYyxLf38hRk/P0m/ssnZ/AJkaEke8dIWMv0xUFfVAY\n\
PO9J339XycM8VR9kgtnP8GwIXrWPv/YtALjnaWuOGLByXFtZIOYs3ReurZcNySIY\n\
j0h1lRvc5oQtNEavCL0w+N1ksnu6SN+kelSEX9q+1MWHGSHU+PbUb1PaOOTV5vsp\n\
7/UQQHes0+iayRF4UUaL1lC5HZOeXRLa7WqycWD2nCQcQuF5Nt4nlwBHZCQDG6Rp\n\
BZduhc8vAgMBAAECggEABIJRc+vxN1dYqmkshYOeFghL2ODGULpMrf/a988KRa5N\n\
O/4bI4V++KZW4SprleP7ViSZoLlxHP+B7kRBJ0vzuR4nbTexYduIgv4dkOwsbtSk\n\
HU+eV72Af2MgH3nHJRF2O60j5+m75ABGT8f+T9gOJS+yrGDJrRt2tASJGLZVHmun\n\
EHNRJ0Tlc/cDgQPfS8t4SD5/oIchs2gN8h355hgmcMZBjhq9BxcbVTDdbQ56I5jx\n\
X6PwLxvrl0qu5I7ErQ5PAXGH07zCaOW2TCTWjkj5WrLRsykjxXOyZt82Jt2LqoWQ\n\
DVWxy4lvTy3A6zia7pOW+DO4zp1HCjdimu/p7gNhLQKBgQDT5+3aEEMHdJf/N2qn\n\
lv9OA6GxJuWeUO8MXHPlmfLDKi2GBSzSe6Gn0SMxTZvq+v2NFzViPS9BmO3DqHbM\n\
kKd1Zky6QDtQAOb1GacnNamSAli9RULGncImVnAxANADe8fgzpbc6p0F9AaX/IAT\n\
GJdujevxeHB2IkgIb6equYlvPQKBgQDLPtLySOVt9STzZN0bW7UA64qO+HoJthxG\n\
Ph9RpluCdwL7oExfKmt3kAwXOUeBzC5ALQhXouu0cbjs2O02LRMLjyQXRFpmK8Xq\n\
ifYQqOLh7J+xa/4aq/+WwvkaiOhEHp1GB7YSAofvXH/RNekdWCqdd5vmK2oS8+4W\n\
f4WWJTye2wKBgQCpbqt2jUQbBPW3gebMY2Z1SWASlmhIgqvwdUfR0JsTw3iszRx+\n\
m42w8f6yoDxH0THEi0cK6qMLTyzlIaEDhbHvo8E7trn2CRKh7UYCityvuyKbC3MN\n\
/fvLzZddBypLbsBtlqF3uDufE/PluGXrXuFN6zo5U7SQMG7qF+S3FCy4fQKBgEUf\n\
k7zFIAp6kluZFT3lvbSXZyNizJaa8hjNrfcl/f9sHH6ZsP+4vJ4IRqRrXa9+UsiO\n\
yESN614OQ1eCG4MOZ2jKAPtMyvXuszwmOaLG3Yr64AEGeoB1uNJ8cx4cK+pnAxQ7\n\
MSgE5lh4/BuaGzNYtf2iHUp1v3i8r1/FdRhwh6J7AoGBAIPPxFM4Hrap6h6M7o4t\n\
aoaKsjShBGmwmNp0ld8F/N4NAHt4lddgaV+WRvKZweUh8vImzD8KiLcqww29L6dh\n\
Uzwx/ktGfKFG3JsjK6xQJPQ4sqFsOd4DLfBa7Sjv4Z6Kx9Gipn5YiZjMKRp69J0Z\n\
hxoqkYHrWDJI7u2hDPdyhE2w\n\
-----END PRIVATE KEY-----\n";
/// The `kid` the fake IMS publishes its key under.
const KID: &str = "fake_ims-key-at-1";
const CLIENT_ID: &str = "commerce-webhooks-client-7";
const ORG_ID: &str = "ABCDEF0123456789ABCDEF01@AdobeOrg";
const DAY_MS: u64 = 24 * 3600 * 1000;
/// One item in stock and one out of stock in the demo inventory.
const IN_STOCK: &str = r#"{"data":{"cart_id":"42","items":[{"item_id":1,"sku":"24-MB01","qty":1}]}}"#;
const OUT_OF_STOCK: &str = r#"{"data":{"cart_id":"42","items":[{"item_id":1,"sku":"24-UG06","qty":1}]}}"#;
const KEYS_UNAVAILABLE: &str = "cannot verify IMS token: IMS keys unavailable";

// ---------------------------------------------------------------- the fake IMS

/// What the fake key host does with a request.
#[derive(Clone)]
enum Behaviour {
    /// Answers 200 with this JWK Set.
    Serve(Value),
    /// Reads the request and never answers (the connection stays open).
    Stall,
    /// Answers like `Serve`, after a pause.
    Slow(Duration, Value),
}

/// A loopback IMS key host speaking HTTP/1.1 by hand.
struct FakeIms {
    base: String,
    behaviour: Arc<Mutex<Behaviour>>,
    /// Every request head received, in order.
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeIms {
    async fn start(behaviour: Behaviour) -> FakeIms {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (shared_behaviour, shared_requests) = (Arc::clone(&behaviour), Arc::clone(&requests));
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let behaviour = Arc::clone(&shared_behaviour);
                let requests = Arc::clone(&shared_requests);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let first_line = head.lines().next().unwrap_or_default().to_owned();
                    requests.lock().expect("lock").push(head);
                    let behaviour = behaviour.lock().expect("lock").clone();
                    let answer = match behaviour {
                        Behaviour::Stall => {
                            // Hold the connection open, answer nothing.
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                        Behaviour::Slow(pause, set) => {
                            tokio::time::sleep(pause).await;
                            let body = set.to_string();
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            )
                        }
                        Behaviour::Serve(_) if first_line != "GET /ims/keys HTTP/1.1" => {
                            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
                        }
                        Behaviour::Serve(set) => {
                            let body = set.to_string();
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            )
                        }
                    };
                    let _ = conn.write_all(answer.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        FakeIms {
            base,
            behaviour,
            requests,
        }
    }

    /// A fake serving the fake IMS key (and, like IMS, keys of other kinds beside it).
    async fn serving() -> FakeIms {
        FakeIms::start(Behaviour::Serve(key_set(&[KID]))).await
    }

    fn publish(&self, set: Value) {
        *self.behaviour.lock().expect("lock") = Behaviour::Serve(set);
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }

    /// Checks every request received so far, independently of the verifier:
    /// each is exactly `GET /ims/keys` to this host, asking for JSON, with no
    /// credential and nothing of any token sent to check-stock. Returns how
    /// many there were.
    fn checked_requests(&self, tokens: &[&str]) -> usize {
        let requests = self.requests();
        let host = self.base.trim_start_matches("http://");
        for head in &requests {
            let mut lines = head.split("\r\n");
            assert_eq!(lines.next(), Some("GET /ims/keys HTTP/1.1"), "{head}");
            let headers: Vec<(String, String)> = lines
                .take_while(|line| !line.is_empty())
                .map(|line| {
                    let (name, value) = line.split_once(':').expect("header line");
                    (name.trim().to_ascii_lowercase(), value.trim().to_owned())
                })
                .collect();
            let value = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            assert_eq!(value("host"), Some(host), "{head}");
            assert_eq!(value("accept"), Some("application/json"), "{head}");
            for forbidden in ["authorization", "x-gw-ims-org-id", "cookie", "x-api-key"] {
                assert_eq!(value(forbidden), None, "{forbidden} sent to the key host: {head}");
            }
            for token in tokens {
                for part in token.split('.') {
                    assert!(!head.contains(part), "token material sent to the key host: {head}");
                }
            }
        }
        requests.len()
    }
}

fn fake_private_key() -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_pem(FAKE_IMS_PRIVATE_KEY).expect("fake IMS key")
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The fake's JWK Set: its one RSA key under each of `kids`, after an EC key
/// and an encryption key that must be skipped.
fn key_set(kids: &[&str]) -> Value {
    let public = fake_private_key().to_public_key();
    let (n, e) = (b64(public.n().to_bytes_be()), b64(public.e().to_bytes_be()));
    let mut keys = vec![
        json!({"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        json!({"kty": "RSA", "kid": "enc-1", "use": "enc", "n": n, "e": e}),
    ];
    for kid in kids {
        keys.push(json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e}));
    }
    json!({ "keys": keys })
}

// ------------------------------------------------------- minting, on our own

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as u64
}

/// Claims shaped as IMS's: `type`, `client_id`, and the times in milliseconds
/// as strings, beside others the verifier must ignore.
fn claims(client_id: &str, created_at: u64, expires_in: u64) -> Value {
    json!({
        "id": "1700000000000_0a1b2c3d_ue1",
        "type": "access_token",
        "client_id": client_id,
        "user_id": "1234567890ABCDEF@techacct.adobe.com",
        "as": "ims-na1",
        "org": ORG_ID,
        "scope": "AdobeID,openid,commerce.accs",
        "created_at": created_at.to_string(),
        "expires_in": expires_in.to_string(),
    })
}

fn header(kid: &str) -> Value {
    json!({"alg": "RS256", "x5u": format!("{kid}.cer"), "kid": kid, "itt": "at"})
}

/// `header.claims.signature`, RS256 with the fake IMS's key.
fn mint(header: &Value, claims: &Value) -> String {
    let signed = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = SigningKey::<Sha256>::new(fake_private_key())
        .sign(signed.as_bytes())
        .to_vec();
    format!("{signed}.{}", b64(signature))
}

/// A token IMS would issue now to CLIENT_ID, valid for a day.
fn valid_token() -> String {
    mint(&header(KID), &claims(CLIENT_ID, now_ms() - 5_000, DAY_MS))
}

// ------------------------------------------------------------ the service side

/// A verifier of CLIENT_ID/ORG_ID tokens with the keys under `base`, a
/// 400 ms fetch timeout and the default refetch interval (30 s).
fn verifier(base: &str) -> ImsTokenVerifier {
    ImsTokenVerifier::builder(CLIENT_ID, ORG_ID)
        .base_url(base)
        .fetch_timeout(Duration::from_millis(400))
        .build()
        .expect("verifier")
}

fn ims_service(base: &str) -> CheckStockService {
    ims_service_with(verifier(base))
}

fn ims_service_with(verifier: ImsTokenVerifier) -> CheckStockService {
    CheckStockService::new(InventoryChecker::demo())
        .with_deadline(Duration::from_secs(2))
        .with_ims_verifier(verifier)
}

/// POSTs `body` with `headers`; the status, the JSON answer and how long it took.
async fn post(addr: SocketAddr, body: &str, headers: &[(&str, &str)]) -> (u16, Value, Duration) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}{CHECK_STOCK_PATH}"))
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let started = Instant::now();
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let answer: Value = response.json().await.expect("JSON answer");
    (status, answer, started.elapsed())
}

/// What Commerce sends on a hook with `developerConsoleOauth`.
async fn call(addr: SocketAddr, body: &str, token: &str) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let (status, answer, _) = post(addr, body, &[("authorization", &bearer), ("x-gw-ims-org-id", ORG_ID)]).await;
    (status, answer)
}

fn refused(message: &str) -> (u16, Value) {
    (401, json!({ "error": message }))
}

/// The log lines of this test binary.
fn logs() -> &'static common::Captured {
    common::captured_logs("debug")
}

// ------------------------------------------------------------------- the tests

#[tokio::test]
async fn a_valid_ims_token_gets_the_stock_verdict_in_both_serving_forms() {
    let ims = FakeIms::serving().await;
    let token = valid_token();
    for direct in [true, false] {
        let addr = common::serve(ims_service(&ims.base), direct).await;
        assert_eq!(call(addr, IN_STOCK, &token).await, (200, json!({"op": "success"})));
        assert_eq!(
            call(addr, OUT_OF_STOCK, &token).await,
            (
                200,
                json!({"op": "exception", "message": "Not enough stock: 24-UG06 (requested 1, available 0)"})
            )
        );
        // IMS's own casing of the scheme varies; any case is Bearer.
        let lower = format!("bearer {token}");
        let (status, answer, _) = post(
            addr,
            IN_STOCK,
            &[("authorization", &lower), ("x-gw-ims-org-id", ORG_ID)],
        )
        .await;
        assert_eq!((status, answer), (200, json!({"op": "success"})));
    }
    // One fetch per service (two services), the set cached for the other calls.
    assert_eq!(ims.checked_requests(&[&token]), 2);
}

#[tokio::test]
async fn calls_without_a_bearer_token_are_refused() {
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let (status, answer, _) = post(addr, IN_STOCK, &[("x-gw-ims-org-id", ORG_ID)]).await;
    assert_eq!((status, answer), refused("missing Authorization header"));
    let not_bearer = "invalid Authorization header: expected 'Bearer <IMS access token>'";
    for value in [
        "Basic Y2xpZW50OnNlY3JldA==",
        "Bearer",
        "Bearer a b",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    ] {
        let (status, body, _) = post(addr, IN_STOCK, &[("authorization", value), ("x-gw-ims-org-id", ORG_ID)]).await;
        assert_eq!((status, body), refused(not_bearer), "{value}");
    }
    // Nothing was worth fetching keys for.
    assert_eq!(ims.checked_requests(&[]), 0);
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_fetching_keys() {
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let cases = [
        (
            "not-a-jwt".to_owned(),
            "invalid IMS token: not a JWT (expected three dot-separated parts)",
        ),
        (
            "a.b.c.d".to_owned(),
            "invalid IMS token: not a JWT (expected three dot-separated parts)",
        ),
        (
            "%%%.e30.c2ln".to_owned(),
            "invalid IMS token: not a JWT (header is not base64url JSON)",
        ),
        (
            format!("{}.e30.%%%", b64(header(KID).to_string())),
            "invalid IMS token: not a JWT (signature is not base64url)",
        ),
        (
            // An HMAC token "signed" with the public key: never accepted.
            format!(
                "{}.{}.c2ln",
                b64(r#"{"alg":"HS256","kid":"fake_ims-key-at-1"}"#),
                b64(claims(CLIENT_ID, now_ms(), DAY_MS).to_string())
            ),
            "invalid IMS token: alg is not RS256",
        ),
        (
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none"}"#),
                b64(claims(CLIENT_ID, now_ms(), DAY_MS).to_string())
            ),
            "invalid IMS token: alg is not RS256",
        ),
        (
            mint(
                &json!({"alg": "RS256", "x5u": "fake_ims-key-at-1.cer"}),
                &claims(CLIENT_ID, now_ms(), DAY_MS),
            ),
            "invalid IMS token: header has no kid",
        ),
        (
            format!("{}.{}.c2ln", b64(header(KID).to_string()), "A".repeat(9000)),
            "invalid IMS token: not a JWT (longer than 8192 bytes)",
        ),
    ];
    for (token, message) in &cases {
        assert_eq!(call(addr, IN_STOCK, token).await, refused(message), "{message}");
    }
    assert_eq!(ims.checked_requests(&[]), 0);
}

#[tokio::test]
async fn a_token_not_signed_by_the_published_key_is_refused() {
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let mismatch = refused("invalid IMS token: signature does not match");

    // Signed by another key under the published kid (commerce-kit's own test key).
    let signed = format!(
        "{}.{}",
        b64(header(KID).to_string()),
        b64(claims(CLIENT_ID, now_ms(), DAY_MS).to_string())
    );
    let forged = format!("{signed}.{}", b64(RsaSigner::test_key_a().sign(signed.as_bytes())));
    assert_eq!(call(addr, IN_STOCK, &forged).await, mismatch);

    // A real token whose claims were swapped for another client's.
    let genuine = mint(&header(KID), &claims("someone-else", now_ms(), DAY_MS));
    let parts: Vec<&str> = genuine.split('.').collect();
    let swapped = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims(CLIENT_ID, now_ms(), DAY_MS).to_string()),
        parts[2]
    );
    assert_eq!(call(addr, IN_STOCK, &swapped).await, mismatch);

    // No signature at all.
    assert_eq!(call(addr, IN_STOCK, &format!("{signed}.")).await, mismatch);
    assert_eq!(ims.checked_requests(&[&forged, &swapped]), 1);
}

#[tokio::test]
async fn an_unknown_key_id_is_refused_and_refetched_at_most_once_per_interval() {
    let ims = FakeIms::serving().await;
    let verifier = ImsTokenVerifier::builder(CLIENT_ID, ORG_ID)
        .base_url(&ims.base)
        .refetch_interval(Duration::from_millis(1000))
        .build()
        .expect("verifier");
    let addr = common::serve(ims_service_with(verifier), true).await;
    let rotated = mint(&header("fake_ims-key-at-2"), &claims(CLIENT_ID, now_ms(), DAY_MS));
    let unknown = refused("invalid IMS token: unknown signing key");

    // First call: the set is fetched, and lacks the kid.
    assert_eq!(call(addr, IN_STOCK, &rotated).await, unknown);
    assert_eq!(ims.checked_requests(&[&rotated]), 1);
    // Within the refetch interval (1 s) unknown kids cause no fetch.
    for _ in 0..5 {
        assert_eq!(call(addr, IN_STOCK, &rotated).await, unknown);
    }
    assert_eq!(ims.checked_requests(&[&rotated]), 1);
    // Known kids are still served from the cache.
    assert_eq!(
        call(addr, IN_STOCK, &valid_token()).await,
        (200, json!({"op": "success"}))
    );
    assert_eq!(ims.checked_requests(&[&rotated]), 1);

    // IMS rotates: the new key is picked up by the first call after the interval.
    ims.publish(key_set(&[KID, "fake_ims-key-at-2"]));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(addr, IN_STOCK, &rotated).await, (200, json!({"op": "success"})));
    assert_eq!(ims.checked_requests(&[&rotated]), 2);
    assert_eq!(call(addr, IN_STOCK, &rotated).await, (200, json!({"op": "success"})));
    assert_eq!(ims.checked_requests(&[&rotated]), 2);
}

#[tokio::test]
async fn expired_tokens_and_tokens_from_the_future_are_refused() {
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let now = now_ms();
    // Issued two days ago for one day.
    let expired = mint(&header(KID), &claims(CLIENT_ID, now - 2 * DAY_MS, DAY_MS));
    assert_eq!(
        call(addr, IN_STOCK, &expired).await,
        refused("invalid IMS token: expired")
    );
    // Expired ten minutes ago: beyond the clock skew.
    let just_expired = mint(&header(KID), &claims(CLIENT_ID, now - DAY_MS - 600_000, DAY_MS));
    assert_eq!(
        call(addr, IN_STOCK, &just_expired).await,
        refused("invalid IMS token: expired")
    );
    // Issued an hour from now.
    let future = mint(&header(KID), &claims(CLIENT_ID, now + 3_600_000, DAY_MS));
    assert_eq!(
        call(addr, IN_STOCK, &future).await,
        refused("invalid IMS token: created_at is in the future")
    );
    // Not an access token (IMS also issues refresh tokens and authorization codes).
    let mut refresh = claims(CLIENT_ID, now, DAY_MS);
    refresh["type"] = json!("refresh_token");
    assert_eq!(
        call(addr, IN_STOCK, &mint(&header(KID), &refresh)).await,
        refused("invalid IMS token: type is not access_token")
    );
    let mut no_expiry = claims(CLIENT_ID, now, DAY_MS);
    no_expiry.as_object_mut().expect("object").remove("expires_in");
    assert_eq!(
        call(addr, IN_STOCK, &mint(&header(KID), &no_expiry)).await,
        refused("invalid IMS token: missing claim expires_in")
    );
    assert_eq!(ims.checked_requests(&[&expired, &future]), 1);
}

#[tokio::test]
async fn a_token_issued_to_another_client_is_refused() {
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let other = mint(&header(KID), &claims("another-project-client", now_ms(), DAY_MS));
    assert_eq!(
        call(addr, IN_STOCK, &other).await,
        refused("invalid IMS token: client_id does not match")
    );
    // A client id differing only in case is another client.
    let cased = mint(&header(KID), &claims(&CLIENT_ID.to_uppercase(), now_ms(), DAY_MS));
    assert_eq!(
        call(addr, IN_STOCK, &cased).await,
        refused("invalid IMS token: client_id does not match")
    );
}

#[tokio::test]
async fn the_org_header_must_name_the_configured_org() {
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let bearer = format!("Bearer {}", valid_token());
    let (status, answer, _) = post(addr, IN_STOCK, &[("authorization", &bearer)]).await;
    assert_eq!((status, answer), refused("missing x-gw-ims-org-id header"));
    for org in ["0000000000000000000000AA@AdobeOrg", "ABCDEF0123456789ABCDEF01", ""] {
        let (status, answer, _) = post(addr, IN_STOCK, &[("authorization", &bearer), ("x-gw-ims-org-id", org)]).await;
        assert_eq!((status, answer), refused("x-gw-ims-org-id does not match"), "{org:?}");
    }
    let (status, answer, _) = post(
        addr,
        IN_STOCK,
        &[("authorization", &bearer), ("x-gw-ims-org-id", ORG_ID)],
    )
    .await;
    assert_eq!((status, answer), (200, json!({"op": "success"})));
}

#[tokio::test]
async fn an_unreachable_key_host_refuses_promptly() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let addr = common::serve(ims_service(&format!("http://{closed}")), true).await;
    let bearer = format!("Bearer {}", valid_token());
    let headers = [("authorization", bearer.as_str()), ("x-gw-ims-org-id", ORG_ID)];
    let (status, answer, took) = post(addr, IN_STOCK, &headers).await;
    assert_eq!((status, answer), refused(KEYS_UNAVAILABLE));
    assert!(took < Duration::from_secs(2), "took {took:?}, past the 2 s deadline");
}

#[tokio::test]
async fn a_stalling_key_host_costs_a_call_at_most_the_fetch_timeout() {
    let ims = FakeIms::start(Behaviour::Stall).await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let token = valid_token();
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str()), ("x-gw-ims-org-id", ORG_ID)];

    let (status, answer, took) = post(addr, IN_STOCK, &headers).await;
    assert_eq!((status, answer), refused(KEYS_UNAVAILABLE));
    // It waited for the fetch (400 ms), and answered well within the 2 s deadline.
    assert!(
        took >= Duration::from_millis(380),
        "took {took:?}: did not wait for the key host"
    );
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(ims.checked_requests(&[&token]), 1);

    // Right after a failed fetch (within 5 s) the next call does not wait again.
    let (status, answer, took) = post(addr, IN_STOCK, &headers).await;
    assert_eq!((status, answer), refused(KEYS_UNAVAILABLE));
    assert!(took < Duration::from_millis(300), "took {took:?}");
    assert_eq!(ims.checked_requests(&[&token]), 1);
}

#[tokio::test]
async fn concurrent_first_calls_share_one_key_fetch() {
    let token = valid_token();
    let bearer = format!("Bearer {token}");
    let calls = |addr: SocketAddr| {
        let bearer = bearer.clone();
        async move {
            let calls = (0..10).map(|_| {
                let bearer = bearer.clone();
                tokio::spawn(async move {
                    let (status, answer, took) = post(
                        addr,
                        IN_STOCK,
                        &[("authorization", &bearer), ("x-gw-ims-org-id", ORG_ID)],
                    )
                    .await;
                    ((status, answer), took)
                })
            });
            let mut answers = Vec::new();
            for call in calls.collect::<Vec<_>>() {
                answers.push(call.await.expect("call"));
            }
            answers
        }
    };

    // A key host taking 200 ms: ten first calls, one fetch, ten verdicts.
    let slow = FakeIms::start(Behaviour::Slow(Duration::from_millis(200), key_set(&[KID]))).await;
    let addr = common::serve(ims_service(&slow.base), true).await;
    for (answer, _) in calls(addr).await {
        assert_eq!(answer, (200, json!({"op": "success"})));
    }
    assert_eq!(slow.checked_requests(&[&token]), 1);

    // A key host that never answers: ten first calls, one fetch, and none
    // waits for more than that one fetch (400 ms), let alone the 2 s deadline.
    let stalled = FakeIms::start(Behaviour::Stall).await;
    let addr = common::serve(ims_service(&stalled.base), true).await;
    for (answer, took) in calls(addr).await {
        assert_eq!(answer, refused(KEYS_UNAVAILABLE));
        assert!(took < Duration::from_millis(1200), "took {took:?}");
    }
    assert_eq!(stalled.checked_requests(&[&token]), 1);
}

#[tokio::test]
async fn the_deadline_bounds_the_ims_step_even_with_a_longer_fetch_timeout() {
    let ims = FakeIms::start(Behaviour::Stall).await;
    let verifier = ImsTokenVerifier::builder(CLIENT_ID, ORG_ID)
        .base_url(&ims.base)
        .fetch_timeout(Duration::from_secs(5))
        .build()
        .expect("verifier");
    let service = CheckStockService::new(InventoryChecker::demo())
        .with_deadline(Duration::from_millis(300))
        .with_ims_verifier(verifier);
    let addr = common::serve(service, true).await;
    let bearer = format!("Bearer {}", valid_token());
    let (status, answer, took) = post(
        addr,
        IN_STOCK,
        &[("authorization", &bearer), ("x-gw-ims-org-id", ORG_ID)],
    )
    .await;
    assert_eq!((status, answer), refused(KEYS_UNAVAILABLE));
    assert!(
        took >= Duration::from_millis(280) && took < Duration::from_millis(1500),
        "took {took:?}"
    );
}

#[tokio::test]
async fn with_both_credentials_configured_either_one_is_accepted() {
    let ims = FakeIms::serving().await;
    let both = |base: &str| {
        ims_service(base).with_signature_verifier(CommerceSignatureVerifier::from_pem(TEST_PUBLIC_KEY_A).expect("key"))
    };
    let addr = common::serve(both(&ims.base), true).await;
    let signature = sign_body(&RsaSigner::test_key_a(), IN_STOCK.as_bytes());
    let token = valid_token();
    let bearer = format!("Bearer {token}");
    let expired = format!(
        "Bearer {}",
        mint(&header(KID), &claims(CLIENT_ID, now_ms() - 2 * DAY_MS, DAY_MS))
    );
    let success = (200, json!({"op": "success"}));
    let answer = |headers: Vec<(&'static str, String)>| async move {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, answer, _) = post(addr, IN_STOCK, &headers).await;
        (status, answer)
    };

    // A signed call, as every hook sends once the Admin's signature is on.
    assert_eq!(answer(vec![(SIGNATURE_HEADER, signature.clone())]).await, success);
    // A hook with developerConsoleOauth, signed or not.
    let org = ("x-gw-ims-org-id", ORG_ID.to_owned());
    assert_eq!(
        answer(vec![("authorization", bearer.clone()), org.clone()]).await,
        success
    );
    assert_eq!(
        answer(vec![
            ("authorization", bearer.clone()),
            org.clone(),
            (SIGNATURE_HEADER, "AAAA".to_owned())
        ])
        .await,
        success
    );
    // A valid signature wins over a bad token.
    assert_eq!(
        answer(vec![
            (SIGNATURE_HEADER, signature.clone()),
            ("authorization", expired.clone()),
            org.clone()
        ])
        .await,
        success
    );
    // Neither: both reasons, the signature's first.
    assert_eq!(
        answer(vec![]).await,
        refused("missing x-adobe-commerce-webhook-signature header; missing Authorization header")
    );
    let other_body = sign_body(&RsaSigner::test_key_a(), b"{}");
    assert_eq!(
        answer(vec![
            (SIGNATURE_HEADER, other_body),
            ("authorization", expired),
            org.clone()
        ])
        .await,
        refused("invalid x-adobe-commerce-webhook-signature: signature does not match; invalid IMS token: expired")
    );
    assert_eq!(ims.checked_requests(&[&token]), 1);

    // The key host down: IMS-only calls are refused, signed calls still answered.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let down = common::serve(both(&format!("http://{closed}")), true).await;
    let (status, body, _) = post(down, IN_STOCK, &[(SIGNATURE_HEADER, &signature)]).await;
    assert_eq!((status, body), success);
    let (status, body, _) = post(
        down,
        IN_STOCK,
        &[("authorization", &bearer), ("x-gw-ims-org-id", ORG_ID)],
    )
    .await;
    assert_eq!(
        (status, body),
        refused(&format!(
            "missing x-adobe-commerce-webhook-signature header; {KEYS_UNAVAILABLE}"
        ))
    );
}

#[tokio::test]
async fn tokens_never_reach_answers_or_logs() {
    let logs = logs();
    let ims = FakeIms::serving().await;
    let addr = common::serve(ims_service(&ims.base), true).await;
    let now = now_ms();
    let tokens = [
        valid_token(),
        mint(&header(KID), &claims(CLIENT_ID, now - 2 * DAY_MS, DAY_MS)),
        mint(&header(KID), &claims("another-project-client", now, DAY_MS)),
        mint(&header("fake_ims-key-at-9"), &claims(CLIENT_ID, now, DAY_MS)),
        // Another key's signature under the published kid.
        {
            let signed = format!(
                "{}.{}",
                b64(header(KID).to_string()),
                b64(claims(CLIENT_ID, now, DAY_MS).to_string())
            );
            format!("{signed}.{}", b64(RsaSigner::test_key_b().sign(signed.as_bytes())))
        },
    ];
    let mut answers = Vec::new();
    for token in &tokens {
        let bearer = format!("Bearer {token}");
        for org in [ORG_ID, "someone-else@AdobeOrg"] {
            let (status, answer, _) = post(
                addr,
                IN_STOCK,
                &[
                    ("authorization", &bearer),
                    ("x-gw-ims-org-id", org),
                    ("x-request-id", "ims-log-test"),
                ],
            )
            .await;
            answers.push((status, answer.to_string()));
        }
    }
    assert_eq!(
        answers.iter().map(|(status, _)| *status).collect::<Vec<_>>(),
        [200, 401, 401, 401, 401, 401, 401, 401, 401, 401]
    );
    let text = logs.text();
    let ours: Vec<&str> = text.lines().filter(|line| line.contains("ims-log-test")).collect();
    // One outcome line per call, the refusals as warnings naming what failed.
    let rejected: Vec<&&str> = ours.iter().filter(|l| l.contains("outcome=\"rejected\"")).collect();
    assert_eq!(rejected.len(), 9, "{text}");
    assert!(
        rejected
            .iter()
            .all(|l| l.contains(" WARN ") && l.contains("status=401")),
        "{text}"
    );
    for (reason, message) in [
        ("ims_org_id_mismatch", "x-gw-ims-org-id does not match"),
        ("ims_token_invalid", "invalid IMS token: signature does not match"),
        ("ims_token_expired", "invalid IMS token: expired"),
        ("ims_client_id_mismatch", "invalid IMS token: client_id does not match"),
        ("ims_unknown_key", "invalid IMS token: unknown signing key"),
    ] {
        assert!(
            rejected
                .iter()
                .any(|l| l.contains(&format!("reason=\"{reason}\"")) && l.contains(message)),
            "no warning for {reason}: {text}"
        );
    }
    // Nothing of any token, in any answer or any log line of the binary.
    for token in &tokens {
        for part in token.split('.') {
            assert!(!text.contains(part), "token material in the logs: {text}");
            for (_, answer) in &answers {
                assert!(!answer.contains(part), "token material in an answer: {answer}");
            }
        }
    }
    assert!(
        !text.contains(CLIENT_ID),
        "the client id compared with is not logged either: {text}"
    );
}

#[tokio::test]
async fn the_test_util_helpers_mint_tokens_the_verifier_accepts() {
    let base = serve_test_key_set().await.expect("key host");
    let addr = common::serve(ims_service(&base), true).await;
    let token = TestImsToken::new(CLIENT_ID).sign(&RsaSigner::test_key_a());
    assert_eq!(call(addr, IN_STOCK, &token).await, (200, json!({"op": "success"})));
    let expired = TestImsToken {
        created_at_ms: now_ms() - 2 * DAY_MS,
        ..TestImsToken::new(CLIENT_ID)
    };
    assert_eq!(
        call(addr, IN_STOCK, &expired.sign(&RsaSigner::test_key_a())).await,
        refused("invalid IMS token: expired")
    );
    // Signed by the other test key: not the published one.
    assert_eq!(
        call(
            addr,
            IN_STOCK,
            &TestImsToken::new(CLIENT_ID).sign(&RsaSigner::test_key_b())
        )
        .await,
        refused("invalid IMS token: signature does not match")
    );
    // The helper's token has IMS's shape, checked here by our own decoding.
    let parts: Vec<&str> = token.split('.').collect();
    let decode =
        |part: &str| -> Value { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json") };
    let header = decode(parts[0]);
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("RS256"), Some("commerce-kit-test-key-a"))
    );
    let claims = decode(parts[1]);
    assert_eq!(claims["type"], "access_token");
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["expires_in"], "86400000");
    assert!(claims["created_at"].as_str().expect("string").parse::<u64>().is_ok());
}
