//! The client against the loopback fake Commerce (and the fake IMS of the
//! ingestion crate), over real HTTP.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commerce_kit_commerce_api::model::{ShipComment, ShipItem, ShipOrder, ShipTrack, SourceItem, StatusHistory};
use commerce_kit_commerce_api::testing::{AuthVerdict, FakeAuth, FakeCommerce, FakeReply};
use commerce_kit_commerce_api::{
    ClientTimeouts, CommerceAuth, CommerceClient, CommerceConfig, CommerceError, Condition, Disposition, Endpoint,
    ImsCredentials, ImsTokenProvider, SearchCriteria,
};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use http::Method;
use reqwest::Url;
use secrecy::SecretString;
use serde_json::json;

const CK: &str = "ck-3f9a1c";
const CS: &str = "cs-SECRET-7b2e9d41";
const AT: &str = "at-SECRET-0c5d8e22";
const ATS: &str = "ats-SECRET-9a4f1b63";

async fn oauth_fake() -> FakeCommerce {
    FakeCommerce::start(FakeAuth::oauth1(CK, CS, AT, ATS))
        .await
        .expect("fake")
}

fn oauth_client(fake: &FakeCommerce) -> CommerceClient {
    oauth_client_with(fake, CS)
}

fn oauth_client_with(fake: &FakeCommerce, consumer_secret: &str) -> CommerceClient {
    let auth = CommerceAuth::oauth1_from_parts(CK, consumer_secret, AT, ATS).expect("auth");
    let config = CommerceConfig::from_parts(&fake.base_url(), None, auth)
        .expect("config")
        .with_timeouts(ClientTimeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_millis(800),
        });
    CommerceClient::new(config).expect("client")
}

fn ims_provider(ims: &FakeAdobe) -> Arc<ImsTokenProvider> {
    Arc::new(ImsTokenProvider::new(
        reqwest::Client::new(),
        &ims.url(),
        ImsCredentials {
            client_id: FAKE_CLIENT_ID.to_owned(),
            client_secret: SecretString::from(FAKE_CLIENT_SECRET),
            scopes: "openid,additional_info.projectedProductContext".to_owned(),
        },
    ))
}

fn ims_client(fake: &FakeCommerce, ims: &FakeAdobe) -> CommerceClient {
    let config =
        CommerceConfig::from_parts(&fake.base_url(), None, CommerceAuth::ims(ims_provider(ims))).expect("config");
    CommerceClient::new(config).expect("client")
}

#[tokio::test]
async fn every_typed_call_reaches_the_right_path_with_the_right_body_and_a_valid_signature() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);

    client
        .create_product(&json!({"sku": "MH01 XS/Black", "name": "Hoodie", "price": 52, "attribute_set_id": 4}))
        .await
        .expect("create");
    client
        .update_product("MH01 XS/Black", &json!({"sku": "MH01 XS/Black", "price": 48}))
        .await
        .expect("update");
    assert!(client.delete_product("MH01 XS/Black").await.expect("delete"));
    client
        .create_customer(&json!({"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}))
        .await
        .expect("customer");
    client
        .update_customer(17, &json!({"id": 17, "email": "ada@example.com"}))
        .await
        .expect("customer update");
    assert!(client.delete_customer(17).await.expect("customer delete"));
    client
        .create_customer_group(&json!({"code": "Wholesale", "tax_class_id": 3}))
        .await
        .expect("group");
    client
        .update_customer_group(4, &json!({"id": 4, "code": "Retail", "tax_class_id": 3}))
        .await
        .expect("group update");
    assert!(client.delete_customer_group(4).await.expect("group delete"));
    client
        .add_order_comment(
            31,
            &StatusHistory {
                comment: "Packed at the Leeds warehouse".into(),
                is_customer_notified: 0,
                is_visible_on_front: 1,
                status: None,
            },
        )
        .await
        .expect("comment");
    let ship = ShipOrder {
        items: vec![ShipItem {
            order_item_id: 58,
            qty: 2.0,
        }],
        comment: Some(ShipComment {
            comment: "Left with the neighbour".into(),
            is_visible_on_front: 1,
        }),
        tracks: vec![ShipTrack {
            track_number: "TRK-4411".into(),
            title: "Parcel Co".into(),
            carrier_code: "custom".into(),
        }],
        ..ShipOrder::default()
    }
    .with_source_code("leeds");
    client.ship_order(31, &ship).await.expect("ship");
    client
        .save_shipment(&json!({"entity_id": 9, "order_id": 31, "items": [], "tracks": [], "comments": []}))
        .await
        .expect("shipment");
    client
        .save_source_items(&[SourceItem {
            sku: "MH01 XS/Black".into(),
            source_code: "leeds".into(),
            quantity: 12.0,
            status: 1,
        }])
        .await
        .expect("stock");

    let calls = fake.calls();
    let seen: Vec<(&str, &str)> = calls.iter().map(|c| (c.method.as_str(), c.path.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            ("POST", "/rest/all/V1/products"),
            ("PUT", "/rest/all/V1/products/MH01%20XS%2FBlack"),
            ("DELETE", "/rest/all/V1/products/MH01%20XS%2FBlack"),
            ("POST", "/rest/all/V1/customers"),
            ("PUT", "/rest/all/V1/customers/17"),
            ("DELETE", "/rest/all/V1/customers/17"),
            ("POST", "/rest/all/V1/customerGroups"),
            ("PUT", "/rest/all/V1/customerGroups/4"),
            ("DELETE", "/rest/all/V1/customerGroups/4"),
            ("POST", "/rest/all/V1/orders/31/comments"),
            ("POST", "/rest/all/V1/order/31/ship"),
            ("POST", "/rest/all/V1/shipment"),
            ("POST", "/rest/all/V1/inventory/source-items"),
        ]
    );
    for call in &calls {
        assert_eq!(call.auth, AuthVerdict::Valid, "{} {}", call.method, call.path);
        assert_eq!(call.header("accept"), Some("application/json"));
    }
    assert_eq!(calls[1].decoded_path(), "/rest/all/V1/products/MH01 XS/Black");
    assert_eq!(calls[0].header("content-type"), Some("application/json"));
    assert_eq!(calls[2].body.len(), 0, "a DELETE has no body");
    assert_eq!(
        calls[0].json(),
        json!({"product": {"sku": "MH01 XS/Black", "name": "Hoodie", "price": 52, "attribute_set_id": 4}})
    );
    assert_eq!(
        calls[4].json(),
        json!({"customer": {"id": 17, "email": "ada@example.com"}})
    );
    assert_eq!(
        calls[6].json(),
        json!({"group": {"code": "Wholesale", "tax_class_id": 3}})
    );
    assert_eq!(
        calls[9].json(),
        json!({"statusHistory": {"comment": "Packed at the Leeds warehouse", "is_customer_notified": 0, "is_visible_on_front": 1}})
    );
    assert_eq!(
        calls[10].json(),
        json!({
            "items": [{"order_item_id": 58, "qty": 2.0}],
            "comment": {"comment": "Left with the neighbour", "is_visible_on_front": 1},
            "tracks": [{"track_number": "TRK-4411", "title": "Parcel Co", "carrier_code": "custom"}],
            "arguments": {"extension_attributes": {"source_code": "leeds"}}
        })
    );
    assert_eq!(
        calls[11].json(),
        json!({"entity": {"entity_id": 9, "order_id": 31, "items": [], "tracks": [], "comments": []}})
    );
    assert_eq!(
        calls[12].json(),
        json!({"sourceItems": [{"sku": "MH01 XS/Black", "source_code": "leeds", "quantity": 12.0, "status": 1}]})
    );
}

#[tokio::test]
async fn search_criteria_keys_are_sent_encoded_and_signed() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);
    fake.push_reply(FakeReply::json(
        200,
        json!({"items": [{"sku": "24-MB01"}], "total_count": 1}),
    ));
    let found = client
        .search_products(
            &SearchCriteria::new()
                .filter("sku", "24-MB%", Condition::Like)
                .or_filter("name", "Joust & Duffle", Condition::Eq)
                .filter("price", "10", Condition::Gteq)
                .sort("price", true)
                .page_size(20)
                .current_page(1),
        )
        .await
        .expect("search");
    assert_eq!(found["total_count"], 1);

    let call = &fake.calls()[0];
    assert_eq!(call.auth, AuthVerdict::Valid);
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("GET", "/rest/all/V1/products")
    );
    let raw = call.raw_query.as_deref().expect("query");
    assert!(
        raw.starts_with("searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=sku&"),
        "{raw}"
    );
    assert!(raw.contains("=24-MB%25&"), "{raw}");
    assert!(raw.contains("=Joust%20%26%20Duffle&"), "{raw}");
    assert!(!raw.contains('+') && !raw.contains('['), "{raw}");
    assert_eq!(
        call.query_value("searchCriteria[filter_groups][0][filters][1][value]"),
        Some("Joust & Duffle")
    );
    assert_eq!(
        call.query_value("searchCriteria[filter_groups][1][filters][0][condition_type]"),
        Some("gteq")
    );
    assert_eq!(
        call.query_value("searchCriteria[sortOrders][0][direction]"),
        Some("ASC")
    );
    assert_eq!(call.query_value("searchCriteria[pageSize]"), Some("20"));
    assert_eq!(call.query.len(), 13);
}

#[tokio::test]
async fn the_generic_request_takes_adobe_style_paths_query_and_body() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);
    let answer = client
        .request(
            Method::POST,
            "/V1/webhooks/subscribe",
            &[("dry run".to_owned(), "yes/no".to_owned())],
            Some(&json!({"webhook": {"hook_name": "check_stock"}})),
        )
        .await
        .expect("request");
    assert_eq!(
        answer,
        json!({"webhook": {"hook_name": "check_stock"}}),
        "the fake echoes"
    );
    let call = &fake.calls()[0];
    assert_eq!(call.path, "/rest/all/V1/webhooks/subscribe");
    assert_eq!(call.raw_query.as_deref(), Some("dry%20run=yes%2Fno"));
    assert_eq!(call.auth, AuthVerdict::Valid);

    let err = client
        .request(Method::GET, "../admin", &[], None)
        .await
        .expect_err("dot segment");
    assert!(matches!(err, CommerceError::InvalidRequest(_)), "{err}");
    assert_eq!(fake.call_count(), 1, "nothing sent");
}

#[tokio::test]
async fn the_fake_refuses_a_wrong_secret_and_a_reused_nonce() {
    let fake = oauth_fake().await;
    let wrong = oauth_client_with(&fake, "cs-not-the-one");
    let err = wrong.delete_product("24-MB01").await.expect_err("refused");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.disposition(), Disposition::Drop);
    assert_eq!(
        err.commerce_message().as_deref(),
        Some("The request is not authorized: signature mismatch")
    );
    assert_eq!(fake.calls()[0].auth, AuthVerdict::Invalid("signature mismatch".into()));

    let fixed = oauth_client(&fake).map_oauth1_signer(|s| s.with_nonce(|| "same-nonce".to_owned()));
    fixed.get_product("24-MB01").await.expect("first use of the nonce");
    let err = fixed.get_product("24-MB01").await.expect_err("replay");
    assert_eq!(err.status(), Some(401));
    assert_eq!(fake.calls()[2].auth, AuthVerdict::Invalid("nonce already used".into()));

    let stale = oauth_client(&fake).map_oauth1_signer(|s| s.with_clock(|| 1_000_000_000));
    stale.get_product("24-MB01").await.expect_err("stale timestamp");
    assert_eq!(
        fake.calls()[3].auth,
        AuthVerdict::Invalid("oauth_timestamp is more than 10 minutes off".into())
    );
}

#[tokio::test]
async fn a_400_is_not_retryable_and_keeps_commerce_s_message() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);
    fake.push_reply(FakeReply::json(
        400,
        json!({"message": "The value of attribute \"%1\" must be set", "parameters": ["price"]}),
    ));
    let err = client.create_product(&json!({"sku": "x"})).await.expect_err("400");
    assert!(!err.is_retryable());
    assert_eq!(err.disposition(), Disposition::Drop);
    assert_eq!(
        err.commerce_message().as_deref(),
        Some("The value of attribute \"price\" must be set")
    );
    assert_eq!(
        err.to_string(),
        "Commerce answered POST /V1/products with HTTP 400: The value of attribute \"price\" must be set"
    );
    let CommerceError::Status { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        message.message.as_deref(),
        Some("The value of attribute \"%1\" must be set")
    );

    for (reply, status) in [
        (
            FakeReply::json(
                404,
                json!({"message": "The product that was requested doesn't exist. Verify the product and try again."}),
            ),
            404,
        ),
        (FakeReply::json(409, json!({"message": "conflict"})), 409),
    ] {
        fake.push_reply(reply);
        let err = client.get_product("nope").await.expect_err("refused");
        assert_eq!((err.status(), err.is_retryable()), (Some(status), false));
    }
    assert_eq!(fake.call_count(), 3, "no retry inside the client");
}

#[tokio::test]
async fn server_errors_html_and_empty_bodies_are_retryable_and_described() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);

    fake.push_reply(FakeReply::json(500, json!({"message": "Internal Error. Details are available in Magento log file. Report ID: %1", "parameters": ["webapi-6a1"]})));
    let err = client.create_customer(&json!({})).await.expect_err("500");
    assert!(err.is_retryable());
    assert_eq!(
        err.commerce_message().as_deref(),
        Some("Internal Error. Details are available in Magento log file. Report ID: webapi-6a1")
    );

    fake.push_reply(FakeReply::html(
        502,
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
    ));
    let err = client.create_customer(&json!({})).await.expect_err("502");
    assert!(err.is_retryable());
    assert_eq!(err.commerce_message(), None);
    assert_eq!(
        err.to_string(),
        "Commerce answered POST /V1/customers with HTTP 502: non-JSON body (text/html): 502 Bad Gateway 502 Bad Gateway nginx"
    );

    fake.push_reply(FakeReply::empty(503));
    let err = client.create_customer(&json!({})).await.expect_err("503");
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Commerce answered POST /V1/customers with HTTP 503: empty body"
    );

    fake.push_reply(FakeReply::html(200, "<html>maintenance</html>"));
    let err = client.create_customer(&json!({})).await.expect_err("200 html");
    assert!(matches!(err, CommerceError::Decode { status: 200, .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_commerce_that_never_answers_is_a_retryable_timeout_within_the_request_timeout() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake); // 800 ms request timeout
    fake.push_reply(FakeReply::never());
    let started = Instant::now();
    let err = client.get_product("24-MB01").await.expect_err("timeout");
    let took = started.elapsed();
    assert!(matches!(err, CommerceError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(
        err.to_string(),
        "Commerce did not answer GET /V1/products/24-MB01 within 800ms"
    );

    fake.push_reply(FakeReply::json(200, json!({"sku": "slow"})).with_delay(Duration::from_millis(100)));
    assert_eq!(
        client.get_product("24-MB01").await.expect("slow but in time")["sku"],
        "slow"
    );
}

#[tokio::test]
async fn an_unreachable_commerce_is_a_retryable_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let auth = CommerceAuth::oauth1_from_parts(CK, CS, AT, ATS).expect("auth");
    let config = CommerceConfig::from_parts(&format!("http://127.0.0.1:{port}/"), None, auth).expect("config");
    let client = CommerceClient::new(config).expect("client");
    let err = client.get_product("x").await.expect_err("refused");
    assert!(matches!(err, CommerceError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("127.0.0.1"), "no URL: {err}");
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_waited_out_once() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);
    fake.push_reply(FakeReply::json(429, json!({"message": "Too many requests"})).with_header("retry-after", "1"));
    let started = Instant::now();
    client.get_product("24-MB01").await.expect("after the wait");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_ne!(
        calls[0].header("authorization"),
        calls[1].header("authorization"),
        "signed afresh"
    );
    assert!(calls.iter().all(|c| c.auth.is_valid()));

    // a second 429 is reported, with its wait
    fake.push_reply(FakeReply::empty(429).with_header("retry-after", "1"));
    fake.push_reply(FakeReply::empty(429).with_header("retry-after", "2"));
    let err = client.get_product("24-MB01").await.expect_err("twice");
    assert_eq!(
        err.disposition(),
        Disposition::Retry {
            after: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(fake.call_count(), 4);
}

#[tokio::test]
async fn a_429_with_a_long_retry_after_is_reported_not_waited() {
    let fake = oauth_fake().await;
    let client = oauth_client(&fake);
    fake.push_reply(FakeReply::json(429, json!({"message": "slow down"})).with_header("retry-after", "120"));
    let started = Instant::now();
    let err = client.save_source_items(&[]).await.expect_err("429");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(
        err.disposition(),
        Disposition::Retry {
            after: Some(Duration::from_secs(120))
        }
    );
    assert_eq!(fake.call_count(), 1);
}

#[tokio::test]
async fn ims_sends_bearer_and_api_key_and_a_401_costs_exactly_one_reauth() {
    let ims = FakeAdobe::start().await.expect("ims");
    let fake = FakeCommerce::start(FakeAuth::ims(FAKE_CLIENT_ID, |t| t.starts_with("fake-ims-token-")))
        .await
        .expect("fake");
    let client = ims_client(&fake, &ims);

    client.get_product("24-MB01").await.expect("first");
    client.get_product("24-MB01").await.expect("cached token");
    assert_eq!(ims.token_request_count(), 1);

    fake.revoke_bearer("fake-ims-token-1");
    client.get_product("24-MB01").await.expect("after one re-auth");
    assert_eq!(ims.token_request_count(), 2, "exactly one new token");

    let calls = fake.calls();
    let verdicts: Vec<bool> = calls.iter().map(|c| c.auth.is_valid()).collect();
    assert_eq!(verdicts, vec![true, true, false, true]);
    assert_eq!(calls[0].header("authorization"), Some("Bearer fake-ims-token-1"));
    assert_eq!(calls[3].header("authorization"), Some("Bearer fake-ims-token-2"));
    assert!(calls.iter().all(|c| c.header("x-api-key") == Some(FAKE_CLIENT_ID)));
    assert!(
        calls.iter().all(|c| c.header("store").is_none()),
        "PaaS: no Store header"
    );
    assert_eq!(
        ims.token_requests()[0].field("scope"),
        Some("openid,additional_info.projectedProductContext")
    );
}

#[tokio::test]
async fn a_second_401_with_ims_is_returned_after_one_refresh() {
    let ims = FakeAdobe::start().await.expect("ims");
    let fake = FakeCommerce::start(FakeAuth::ims(FAKE_CLIENT_ID, |_| false))
        .await
        .expect("fake");
    let client = ims_client(&fake, &ims);
    let err = client.delete_customer(5).await.expect_err("401");
    assert_eq!(err.status(), Some(401));
    assert!(!err.is_retryable());
    assert_eq!(fake.call_count(), 2, "one retry");
    assert_eq!(ims.token_request_count(), 2, "one refresh");
}

#[tokio::test]
async fn an_ims_failure_is_classified_as_ims_says() {
    let ims = FakeAdobe::start().await.expect("ims");
    ims.push_ims_response(commerce_kit_ingestion::testing::FakeResponse::status(503));
    let fake = FakeCommerce::start(FakeAuth::ims(FAKE_CLIENT_ID, |_| true))
        .await
        .expect("fake");
    let client = ims_client(&fake, &ims);
    let err = client.get_product("x").await.expect_err("ims down");
    assert!(matches!(err, CommerceError::Ims(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(fake.call_count(), 0);
}

#[tokio::test]
async fn saas_sends_the_store_header_under_the_tenant_path() {
    let ims = FakeAdobe::start().await.expect("ims");
    let fake = FakeCommerce::start(FakeAuth::ims(FAKE_CLIENT_ID, |t| !t.is_empty()))
        .await
        .expect("fake");
    // A SaaS endpoint pointed at loopback (a real one is chosen by its host; see config tests).
    let endpoint = Endpoint::Saas {
        api_base: Url::parse(&format!("{}t3nant/V1/", fake.base_url())).expect("url"),
        tenant: "t3nant".into(),
        store: "de_store".into(),
    };
    let config = CommerceConfig {
        endpoint,
        auth: CommerceAuth::ims(ims_provider(&ims)),
        timeouts: ClientTimeouts::default(),
        max_retry_after: Duration::from_secs(1),
    };
    let client = CommerceClient::new(config).expect("client");
    client
        .save_source_items(&[SourceItem {
            sku: "s".into(),
            source_code: "default".into(),
            quantity: 1.0,
            status: 1,
        }])
        .await
        .expect("saas call");
    let call = &fake.calls()[0];
    assert_eq!(call.path, "/t3nant/V1/inventory/source-items");
    assert_eq!(call.header("store"), Some("de_store"));
    assert!(call.auth.is_valid());
}

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_reach_debug_display_errors_or_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = oauth_fake().await;
    let client = oauth_client(&fake);
    let mut texts = vec![format!("{client:?}")];
    let auth = CommerceAuth::oauth1_from_parts(CK, CS, AT, ATS).expect("auth");
    texts.push(format!("{auth:?}"));
    texts.push(format!(
        "{:?}",
        CommerceConfig::from_parts(&fake.base_url(), None, auth).expect("config")
    ));

    client.get_product("ok").await.expect("ok");
    fake.push_reply(FakeReply::json(500, json!({"message": "boom"})));
    fake.push_reply(FakeReply::html(502, "<h1>bad</h1>"));
    fake.push_reply(FakeReply::never());
    for _ in 0..3 {
        let err = client.create_product(&json!({"sku": "s"})).await.expect_err("fails");
        texts.push(format!("{err}"));
        texts.push(format!("{err:?}"));
    }
    let wrong = oauth_client_with(&fake, "cs-SECRET-wrong-one");
    let err = wrong.get_product("x").await.expect_err("401");
    texts.push(format!("{err} {err:?} {wrong:?}"));
    for error in [
        CommerceAuth::oauth1_from_parts(CK, "", AT, ATS).expect_err("empty"),
        CommerceAuth::oauth1_from_parts(CK, CS, AT, "ats-SECRET\u{7}").expect_err("control"),
    ] {
        texts.push(format!("{error} {error:?}"));
    }

    let ims = FakeAdobe::start().await.expect("ims");
    let ims_fake = FakeCommerce::start(FakeAuth::ims(FAKE_CLIENT_ID, |t| t != "fake-ims-token-1"))
        .await
        .expect("fake");
    let ims_client = ims_client(&ims_fake, &ims);
    ims_client.get_product("x").await.expect("after re-auth");
    texts.push(format!("{ims_client:?}"));

    let logged = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        logged.contains("Commerce call failed"),
        "the failures were logged: {logged}"
    );
    assert!(logged.contains("fetching a new one"), "the re-auth was logged");
    texts.push(logged);
    for text in &texts {
        for secret in [
            CS,
            AT,
            ATS,
            "cs-SECRET-wrong-one",
            FAKE_CLIENT_SECRET,
            "fake-ims-token-1",
            "fake-ims-token-2",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
        // any of the test secrets, in any form (setting names such as
        // COMMERCE_CONSUMER_SECRET may appear: they are no secret)
        assert!(!text.contains("-SECRET"), "leak: {text}");
    }
}
