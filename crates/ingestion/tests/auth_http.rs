//! Authentication over real HTTP: API keys (bearer and x-api-key, rotation),
//! HMAC signatures (window, tampering, malformed headers), custom
//! authenticators; every refusal 401 with an exact message, before validation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_ingestion::auth::{ApiKeyAuth, AuthError, HmacAuth, auth_fn, sign_request};
use common::*;
use secrecy::SecretString;
use serde_json::json;

const EVENT: &str = "be-observer.catalog_product_create";

#[tokio::test]
async fn api_keys_via_bearer_or_x_api_key_with_rotation() {
    let setup = LocalSetup::new();
    let auth = ApiKeyAuth::new(["key-old-123".into(), "key-new-456".into()]);
    let server = Server::start(setup.builder().authenticator(Arc::new(auth)).build()).await;
    let ok = [
        vec![("authorization", "Bearer key-old-123")],
        vec![("authorization", "bearer key-new-456")],
        vec![("x-api-key", "key-new-456")],
    ];
    for (i, headers) in ok.iter().enumerate() {
        assert_eq!(
            server.post(&product(&format!("u{i}")), headers).await,
            (200, success(EVENT)),
            "{headers:?}"
        );
    }
    let refused: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![],
            "missing credentials: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
        ),
        (
            vec![("x-api-key", "")],
            "missing credentials: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
        ),
        (vec![("x-api-key", "key-old-12")], "invalid API key"),
        (vec![("authorization", "Bearer key-old-1234")], "invalid API key"),
        (
            vec![("authorization", "Basic a2V5LW9sZC0xMjM=")],
            "malformed Authorization header: expected 'Bearer <key>'",
        ),
        (
            vec![("authorization", "Bearer ")],
            "malformed Authorization header: expected 'Bearer <key>'",
        ),
        (
            vec![("authorization", "key-old-123")],
            "malformed Authorization header: expected 'Bearer <key>'",
        ),
        // Authorization wins over x-api-key when both are sent.
        (
            vec![("authorization", "Bearer nope"), ("x-api-key", "key-old-123")],
            "invalid API key",
        ),
    ];
    for (headers, message) in refused {
        let (status, body) = server.post(&product("refused"), &headers).await;
        assert_eq!((status, &body), (401, &error(message)), "{headers:?}");
        assert!(!body.to_string().contains("key-old-123") && !body.to_string().contains("key-new"));
    }
    // Authentication comes before validation: garbage without credentials is a 401.
    assert_eq!(
        server.post_raw("not json", &[]).await,
        (
            401,
            error("missing credentials: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'")
        )
    );
    assert_eq!(setup.bus.head(), 3);
}

const NOW: i64 = 1_767_225_600;

fn fixed_clock() -> i64 {
    NOW
}

type Headers = Vec<(&'static str, String)>;

fn signed(secret: &[u8], ts: i64, body: &[u8]) -> Headers {
    sign_request(secret, ts, body).into_iter().collect()
}

#[tokio::test]
async fn hmac_signatures_with_a_replay_window() {
    let setup = LocalSetup::new();
    let auth = HmacAuth::new(SecretString::from("shared-secret-789")).with_clock(fixed_clock);
    let server = Server::start(setup.builder().authenticator(Arc::new(auth)).build()).await;
    let body = serde_json::to_vec(&product("h1")).expect("json");
    let send = |headers: Headers, body: Vec<u8>| {
        let server = &server;
        async move {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.post_raw(body, &refs).await
        }
    };
    assert_eq!(
        send(signed(b"shared-secret-789", NOW, &body), body.clone()).await,
        (200, success(EVENT))
    );
    // Edges of the window are accepted; upper-case hex too.
    let b2 = serde_json::to_vec(&product("h2")).expect("json");
    assert_eq!(
        send(signed(b"shared-secret-789", NOW - 300, &b2), b2.clone()).await.0,
        200
    );
    let b3 = serde_json::to_vec(&product("h3")).expect("json");
    let mut upper = signed(b"shared-secret-789", NOW + 300, &b3);
    upper[1].1 = format!("sha256={}", upper[1].1.trim_start_matches("sha256=").to_uppercase());
    assert_eq!(send(upper, b3).await.0, 200);

    let good = signed(b"shared-secret-789", NOW, &body);
    let ts = ("x-commerce-kit-timestamp", NOW.to_string());
    let sig = good[1].clone();
    let cases: Vec<(Headers, Vec<u8>, &str)> = vec![
        (
            vec![sig.clone()],
            body.clone(),
            "missing header 'x-commerce-kit-timestamp'",
        ),
        (
            vec![ts.clone()],
            body.clone(),
            "missing header 'x-commerce-kit-signature'",
        ),
        (
            vec![("x-commerce-kit-timestamp", "yesterday".into()), sig.clone()],
            body.clone(),
            "invalid header 'x-commerce-kit-timestamp': expected unix seconds",
        ),
        (
            vec![("x-commerce-kit-timestamp", "-5".into()), sig.clone()],
            body.clone(),
            "invalid header 'x-commerce-kit-timestamp': expected unix seconds",
        ),
        (
            vec![
                ts.clone(),
                (
                    "x-commerce-kit-signature",
                    sig.1.trim_start_matches("sha256=").to_owned(),
                ),
            ],
            body.clone(),
            "invalid header 'x-commerce-kit-signature': expected 'sha256=<hex HMAC-SHA256>'",
        ),
        (
            vec![ts.clone(), ("x-commerce-kit-signature", "sha256=zz".into())],
            body.clone(),
            "invalid header 'x-commerce-kit-signature': expected 'sha256=<hex HMAC-SHA256>'",
        ),
        (
            vec![ts.clone(), ("x-commerce-kit-signature", "sha256=abcd".into())],
            body.clone(),
            "invalid header 'x-commerce-kit-signature': expected 'sha256=<hex HMAC-SHA256>'",
        ),
        (
            signed(b"shared-secret-789", NOW - 301, &body),
            body.clone(),
            "stale timestamp: 301 s away from server time, outside the ±300 s window",
        ),
        (
            signed(b"shared-secret-789", NOW + 3600, &body),
            body.clone(),
            "stale timestamp: 3600 s away from server time, outside the ±300 s window",
        ),
        (
            signed(b"other-secret", NOW, &body),
            body.clone(),
            "bad signature: it does not match the timestamp and body",
        ),
        (
            good.clone(),
            serde_json::to_vec(&product("h1-tampered")).expect("json"),
            "bad signature: it does not match the timestamp and body",
        ),
        (
            // The timestamp is part of the signed message.
            vec![("x-commerce-kit-timestamp", (NOW - 1).to_string()), sig.clone()],
            body.clone(),
            "bad signature: it does not match the timestamp and body",
        ),
    ];
    for (headers, body, message) in cases {
        let (status, resp) = send(headers.clone(), body).await;
        assert_eq!((status, &resp), (401, &error(message)), "{headers:?}");
        assert!(!resp.to_string().contains("shared-secret"));
    }
    assert_eq!(setup.bus.head(), 3);
}

#[tokio::test]
async fn hmac_rotation_accepts_the_current_and_the_previous_secret_only() {
    let setup = LocalSetup::new();
    let auth = HmacAuth::new(SecretString::from("new-secret-2"))
        .with_previous_secret(SecretString::from("old-secret-1"))
        .with_clock(fixed_clock);
    let server = Server::start(setup.builder().authenticator(Arc::new(auth)).build()).await;
    let send = |secret: &'static [u8], uid: &'static str| {
        let server = &server;
        async move {
            let body = serde_json::to_vec(&product(uid)).expect("json");
            let headers = signed(secret, NOW, &body);
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.post_raw(body, &refs).await
        }
    };
    assert_eq!(send(b"new-secret-2", "r1").await, (200, success(EVENT)));
    assert_eq!(send(b"old-secret-1", "r2").await, (200, success(EVENT)));
    for other in [&b"older-secret-0"[..], b"", b"new-secret-2 "] {
        let (status, body) = send(other, "r3").await;
        assert_eq!(
            (status, &body),
            (401, &error("bad signature: it does not match the timestamp and body"))
        );
        assert!(!body.to_string().contains("secret-"), "{body}");
    }
    assert_eq!(setup.bus.head(), 2);
}

#[tokio::test]
async fn hmac_window_is_configurable() {
    let setup = LocalSetup::new();
    let auth = HmacAuth::new(SecretString::from("s"))
        .with_window(Duration::from_secs(10))
        .with_clock(fixed_clock);
    let server = Server::start(setup.builder().authenticator(Arc::new(auth)).build()).await;
    let body = serde_json::to_vec(&product("w")).expect("json");
    let headers = signed(b"s", NOW - 11, &body);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        server.post_raw(body, &refs).await,
        (
            401,
            error("stale timestamp: 11 s away from server time, outside the ±10 s window")
        )
    );
}

#[tokio::test]
async fn custom_authenticators_plug_in() {
    let setup = LocalSetup::new();
    let auth = auth_fn(|headers, _body| match headers.get("x-gateway") {
        Some(v) if v == "erp" => Ok(()),
        _ => Err(AuthError::Refused("requests must come through the ERP gateway".into())),
    });
    let server = Server::start(setup.builder().authenticator(auth).build()).await;
    assert_eq!(server.post(&product("c1"), &[("x-gateway", "erp")]).await.0, 200);
    assert_eq!(
        server.post(&product("c2"), &[]).await,
        (401, error("requests must come through the ERP gateway"))
    );
    let v = json!({"x": 1});
    assert_eq!(
        server.post(&v, &[("x-gateway", "erp")]).await.0,
        400,
        "then validation runs"
    );
}
