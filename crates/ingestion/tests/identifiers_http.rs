//! Hostile `uid`s over real HTTP: a 200 KB uid with control characters, a
//! control character in a short uid, and the 256-byte limit itself. Refused
//! uids are answered 400 naming the parameter and the limit, and nothing is
//! stored (the uid would be the CloudEvent id and a journal key).

mod common;

use common::*;

const EVENT: &str = "be-observer.catalog_product_create";

fn body_with_raw_uid(uid_json: &str) -> String {
    format!(
        r#"{{"data":{{"uid":{uid_json},"event":"{EVENT}","value":{{"sku":"S","name":"N","description":"D","price":1}}}}}}"#
    )
}

#[tokio::test]
async fn a_200_kb_uid_with_control_characters_is_refused_with_the_limit_named() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    // 200,000 bytes with a control character (sent as a JSON escape) every 10,000.
    let uid: String = format!("{}\u{1}", "a".repeat(9_999)).repeat(20);
    assert_eq!(uid.len(), 200_000);
    let wire = serde_json::to_string(&uid).expect("json");
    assert!(wire.contains("\\u0001"));
    let (status, body) = server.post_raw(body_with_raw_uid(&wire), &[]).await;
    assert_eq!(
        (status, body),
        (
            400,
            error("invalid parameter 'data.uid': longer than the limit of 256 bytes (200000 bytes)")
        )
    );
    assert!(setup.bus.read(0, 10).await.expect("read").is_empty(), "nothing stored");
}

#[tokio::test]
async fn control_characters_in_a_uid_are_refused_wherever_they_are() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let cases = [
        (
            r#""erp-1\u0000""#,
            "control characters are not allowed (U+0000 at byte 5)",
        ),
        (r#""\nerp""#, "control characters are not allowed (U+000A at byte 0)"),
        (
            r#""erp\u007f""#,
            "control characters are not allowed (U+007F at byte 3)",
        ),
        (r#""é\u0085""#, "control characters are not allowed (U+0085 at byte 2)"),
        // raw (unescaped) control bytes are not valid JSON in the first place
    ];
    for (uid, problem) in cases {
        let (status, body) = server.post_raw(body_with_raw_uid(uid), &[]).await;
        assert_eq!(
            (status, body),
            (400, error(&format!("invalid parameter 'data.uid': {problem}"))),
            "{uid}"
        );
    }
    assert!(setup.bus.read(0, 10).await.expect("read").is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_uid_of_exactly_256_bytes_is_published_and_257_is_refused() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let at_limit = "é".repeat(128); // 256 bytes, 128 characters
    let (status, body) = server.post(&product(&at_limit), &[]).await;
    assert_eq!((status, body), (200, success(EVENT)));
    let over = format!("{at_limit}x");
    let (status, body) = server.post(&product(&over), &[]).await;
    assert_eq!(
        (status, body),
        (
            400,
            error("invalid parameter 'data.uid': longer than the limit of 256 bytes (257 bytes)")
        )
    );
    let stored = setup.bus.read(0, 10).await.expect("read");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event.id, at_limit);
}
