//! The developer tooling subcommands, run as the real binary against a real
//! `commerce-kit serve` on loopback: `webhooks` (the registration, whose
//! fields project Commerce's event into a payload check-stock parses),
//! `simulate check-stock`, `send` and `schemas`, with their exit codes.

use std::io::Write as _;
use std::process::{Command, Stdio};

use commerce_kit_tests::{Server, run_to_exit};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");

fn serve(env: &[(&str, &str)]) -> Server {
    Server::start(EXE, &["serve", "--listen", "127.0.0.1:0"], env)
}

/// Commerce's default payload for a shopper adding `qty` of `sku` (the
/// observer's arguments under `data`), as the test's own fixture.
fn commerce_event(sku: &str, qty: &str) -> Value {
    json!({
        "subject": [],
        "eventName": "checkout_cart_product_add_before",
        "data": {
            "info": {"uenc": "aHR0cA", "product": "7", "item": "7", "form_key": "f0", "qty": qty},
            "product": {"entity_id": "7", "type_id": "simple", "sku": sku, "name": "Duffle", "price": "45.00"}
        }
    })
}

/// What Commerce sends for a hook with `fields`: each `source` path of the
/// event, placed at the field's `name` path.
fn project(event: &Value, fields: &[(String, String)]) -> Value {
    let mut out = json!({});
    for (name, source) in fields {
        let value = source.split('.').try_fold(event, |at, key| at.get(key));
        let Some(value) = value else { continue };
        let keys: Vec<&str> = name.split('.').collect();
        let mut at = &mut out;
        for key in &keys[..keys.len() - 1] {
            at = at
                .as_object_mut()
                .expect("object")
                .entry(key.to_string())
                .or_insert_with(|| json!({}));
        }
        at[keys[keys.len() - 1]] = value.clone();
    }
    out
}

/// The `(name, source)` pairs of the XML's `<field name=".." source=".."/>` elements.
fn xml_fields(xml: &str) -> Vec<(String, String)> {
    let attr = |element: &str, name: &str| -> String {
        let start = element.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        let end = element[start..].find('"').expect("closing quote") + start;
        element[start..end].to_owned()
    };
    xml.split("<field ")
        .skip(1)
        .map(|element| (attr(element, "name"), attr(element, "source")))
        .collect()
}

async fn post_check_stock(server: &Server, body: &Value) -> Value {
    reqwest::Client::new()
        .post(server.url("/webhook/check-stock"))
        .json(body)
        .send()
        .await
        .expect("check-stock")
        .json()
        .await
        .expect("JSON op")
}

#[tokio::test]
async fn the_registrations_fields_project_commerces_event_into_a_payload_check_stock_parses() {
    let server = serve(&[]);
    let url = server.url("/webhook/check-stock");
    let (status, json_out, stderr) = run_to_exit(EXE, &["webhooks", "--url", &url, "--format", "json"], &[]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let body: Value = serde_json::from_str(&json_out).expect("the JSON format is JSON");
    let hook = &body["webhook"];
    assert_eq!(
        (&hook["webhook_method"], &hook["webhook_type"], &hook["url"]),
        (
            &json!("observer.checkout_cart_product_add_before"),
            &json!("before"),
            &json!(url)
        )
    );
    assert_eq!((&hook["timeout"], &hook["required"]), (&json!(5000), &json!(true)));
    let fields: Vec<(String, String)> = hook["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().expect("name").to_owned(),
                f["source"].as_str().expect("every field has a source").to_owned(),
            )
        })
        .collect();

    let (status, xml, _) = run_to_exit(EXE, &["webhooks", "--url", &url, "--format", "xml"], &[]);
    assert_eq!(status.code(), Some(0));
    assert!(
        xml.starts_with("<method name=\"observer.checkout_cart_product_add_before\" type=\"before\">"),
        "{xml}"
    );
    assert_eq!(xml_fields(&xml), fields, "the XML and the JSON select the same fields");

    // Commerce applies the fields to its event; check-stock must answer a verdict, not a validation error.
    assert_eq!(
        post_check_stock(&server, &project(&commerce_event("24-MB01", "2.0000"), &fields)).await,
        json!({"op": "success"})
    );
    assert_eq!(
        post_check_stock(&server, &project(&commerce_event("24-WB02", "6"), &fields)).await,
        json!({"op": "exception", "message": "Not enough stock: 24-WB02 (requested 6, available 5)"})
    );
    // Without fields Commerce sends its whole default payload: parsed too.
    assert_eq!(
        post_check_stock(&server, &commerce_event("24-MB04", "1")).await,
        json!({"op": "success"})
    );
}

#[tokio::test]
async fn webhooks_with_ims_names_the_secret_by_variable_and_refuses_bad_arguments() {
    let (status, out, _) = run_to_exit(
        EXE,
        &[
            "webhooks",
            "--url",
            "https://shop.example/webhook/check-stock",
            "--auth",
            "ims",
            "--ims-client-id",
            "cid-1",
            "--ims-org-id",
            "ORG1@AdobeOrg",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(status.code(), Some(0));
    let body: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        body["webhook"]["developer_console_oauth"],
        json!({"client_id": "cid-1", "client_secret": "$COMMERCE_WEBHOOK_IMS_CLIENT_SECRET", "org_id": "ORG1@AdobeOrg"})
    );
    let (status, _, stderr) = run_to_exit(EXE, &["webhooks", "--url", "https://x/y", "--auth", "ims"], &[]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr.trim(),
        "error: invalid configuration: --ims-client-id (COMMERCE_WEBHOOK_IMS_CLIENT_ID): required with --auth ims"
    );
}

/// The PEM public key printed after "its public key".
fn printed_public_key(report: &str) -> String {
    let start = report
        .find("-----BEGIN PUBLIC KEY-----")
        .expect("a public key is printed");
    let end = report.find("-----END PUBLIC KEY-----").expect("end of key") + "-----END PUBLIC KEY-----".len();
    report[start..end].to_owned()
}

/// Runs `commerce-kit simulate check-stock --url <url> --sku <sku> <more…>`:
/// the exit status, the report and stderr.
fn simulate(url: &str, sku: &str, more: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["simulate", "check-stock", "--url", url, "--sku", sku];
    args.extend_from_slice(more);
    let (status, report, stderr) = run_to_exit(EXE, &args, &[]);
    (status.code(), report, stderr)
}

#[tokio::test]
async fn simulate_check_stock_signs_like_commerce_and_says_what_commerce_would_do() {
    let dir = tempfile::tempdir().expect("dir");
    let key_file = dir.path().join("commerce.pem");
    let key = key_file.display().to_string();

    // First run: the key pair is created, its public key printed.
    let open = serve(&[]);
    let url = open.url("/webhook/check-stock");
    let (status, report, stderr) = simulate(&url, "24-MB01", &["--qty", "2", "--private-key", &key]);
    assert_eq!(status, Some(0), "{report}{stderr}");
    assert!(report.contains(&format!("Created the key pair {key}")), "{report}");
    assert!(
        report.contains("{\"info\":{\"qty\":\"2\"},\"product\":{\"sku\":\"24-MB01\"}}"),
        "{report}"
    );
    assert!(
        report.ends_with("HTTP 200\n{\"op\":\"success\"}\nCommerce would add the product to the cart.\n"),
        "{report}"
    );
    let public = printed_public_key(&report);

    // A server that verifies with that key accepts the next signed calls.
    let verifying = serve(&[("COMMERCE_WEBHOOK_PUBLIC_KEY", public.as_str())]);
    let url = verifying.url("/webhook/check-stock");
    let (status, report, _) = simulate(
        &url,
        "24-WB02",
        &["--qty", "6", "--private-key", &key, "--payload", "default"],
    );
    assert_eq!(status, Some(1), "{report}");
    assert!(
        !report.contains("Created the key pair"),
        "the existing key is reused: {report}"
    );
    assert!(
        report.contains("\"eventName\":\"checkout_cart_product_add_before\""),
        "{report}"
    );
    assert!(
        report.ends_with(
            "Commerce would refuse the add-to-cart and show the shopper: Not enough stock: 24-WB02 (requested 6, available 5)\n"
        ),
        "{report}"
    );
    let (status, report, _) = simulate(&url, "24-MB01", &["--unsigned"]);
    assert_eq!(status, Some(1), "{report}");
    assert!(
        report.contains("HTTP 401\n{\"error\":\"missing x-adobe-commerce-webhook-signature header\"}\n"),
        "{report}"
    );
    assert!(
        report.ends_with(
            "The hook failed (HTTP 401; Commerce expects 200): with required=true Commerce refuses the add-to-cart and \
             shows the fallback message; with required=false it adds the product and logs the failure.\n"
        ),
        "{report}"
    );

    // Usage errors exit 2.
    let (status, _, stderr) = simulate("nope", "A", &["--unsigned"]);
    assert_eq!(status, Some(2));
    assert!(
        stderr.starts_with("error: invalid configuration: --url: invalid URL"),
        "{stderr}"
    );
}

#[tokio::test]
async fn send_posts_a_back_office_event_with_the_configured_authentication() {
    let keyed = serve(&[("INGESTION_AUTH", "api-key"), ("INGESTION_API_KEYS", "k-one,k-two")]);
    let url = keyed.url("/ingestion/webhook");
    let (status, report, stderr) = run_to_exit(
        EXE,
        &[
            "send",
            "be-observer.catalog_product_update",
            "--url",
            &url,
            "--uid",
            "send-1",
        ],
        &[("INGESTION_AUTH", "api-key"), ("INGESTION_API_KEYS", "k-one")],
    );
    assert_eq!(status.code(), Some(0), "{report}{stderr}");
    assert!(report.contains("\"uid\":\"send-1\""), "{report}");
    assert!(
        report.ends_with(
            "HTTP 200\n{\"type\":\"be-observer.catalog_product_update\",\"response\":{\"success\":true,\"message\":\"Event published successfully\"}}\n"
        ),
        "{report}"
    );
    assert!(!report.contains("k-one"), "the key is not printed: {report}");
    let (status, report, _) = run_to_exit(
        EXE,
        &["send", "be-observer.customer_delete", "--url", &url],
        &[("INGESTION_AUTH", "api-key"), ("INGESTION_API_KEYS", "wrong")],
    );
    assert_eq!(status.code(), Some(1), "{report}");
    assert!(report.contains("HTTP 401\n"), "{report}");

    let signed = serve(&[("INGESTION_AUTH", "hmac"), ("INGESTION_HMAC_SECRET", "hmac-s3cret")]);
    let url = signed.url("/ingestion/webhook");
    // The value from stdin.
    let mut child = Command::new(EXE)
        .args([
            "send",
            "be-observer.customer_group_delete",
            "--url",
            &url,
            "--value",
            "-",
        ])
        .env("INGESTION_AUTH", "hmac")
        .env("INGESTION_HMAC_SECRET", "hmac-s3cret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"id": 42}"#)
        .expect("write value");
    let out = child.wait_with_output().expect("send");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("\"value\":{\"id\":42}"), "{report}");
    assert!(!report.contains("hmac-s3cret"), "{report}");

    let (status, _, stderr) = run_to_exit(EXE, &["send", "be-observer.nope", "--url", &url], &[]);
    assert_eq!(status.code(), Some(2));
    assert!(
        stderr.starts_with("error: invalid configuration: unknown event code \"be-observer.nope\": not in the catalog (known: be-observer.catalog_product_create, "),
        "{stderr}"
    );
}

#[tokio::test]
async fn schemas_describe_the_payloads_the_servers_accept() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("schemas");
    let out_arg = out.display().to_string();
    let (status, listing, stderr) = run_to_exit(EXE, &["schemas", "--out", &out_arg], &[]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(listing.lines().count(), 4 + 13, "{listing}");
    let load = |name: &str| -> jsonschema::Validator {
        let text = std::fs::read_to_string(out.join(format!("{name}.schema.json"))).expect(name);
        jsonschema::validator_for(&serde_json::from_str(&text).expect("JSON")).expect("a valid schema")
    };
    let native = load("check-stock.native");
    assert!(native.is_valid(&commerce_event("24-MB01", "1")));
    assert!(native.is_valid(&json!({"product": {"sku": "A"}, "info": {"qty": 2}})));
    assert!(
        !native.is_valid(&json!({"product": {"sku": "A"}})),
        "the buy request is required"
    );
    let kit = load("check-stock.kit");
    assert!(kit.is_valid(&json!({"data": {"cart_id": "1", "items": [{"sku": "A", "qty": "2.0000"}]}})));
    assert!(!kit.is_valid(&json!({"data": {"items": []}})), "cart_id is required");
    let ingestion = load("ingestion.request");
    let accepted = json!({"data": {"uid": "u1", "event": "be-observer.customer_group_delete", "value": {"id": 3}}});
    assert!(ingestion.is_valid(&accepted));
    assert!(!ingestion.is_valid(&json!({"data": {"uid": "u1", "event": "be-observer.nope", "value": {}}})));

    // What the schema accepts, the server accepts.
    let server = serve(&[]);
    let resp = reqwest::Client::new()
        .post(server.url("/ingestion/webhook"))
        .json(&accepted)
        .send()
        .await
        .expect("ingest");
    assert_eq!(resp.status(), 200);
}

/// The block the README shows after the line `$ <command>`, up to its closing fence.
fn readme_block_after(readme: &str, command: &str) -> String {
    let line = format!("$ {command}\n");
    let start = readme.find(&line).unwrap_or_else(|| panic!("README has no `{line}`")) + line.len();
    let end = readme[start..].find("\n```").expect("closing fence") + start;
    readme[start..end].to_owned()
}

#[test]
fn the_readmes_registration_is_the_generators_output() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    let url = "https://integration.example.com/webhook/check-stock";
    let ims = [
        "--auth",
        "ims",
        "--ims-client-id",
        "4f8a1c2e0b",
        "--ims-org-id",
        "1234ABCD@AdobeOrg",
    ];
    let cases: [(&[&str], &str); 3] = [(&[], "xml"), (&[], "json"), (&ims, "xml")];
    for (auth, format) in cases {
        let mut args = vec!["webhooks", "--url", url];
        args.extend_from_slice(auth);
        args.extend(["--format", format]);
        let (status, out, _) = run_to_exit(EXE, &args, &[]);
        assert_eq!(status.code(), Some(0));
        let shown = readme_block_after(&readme, &format!("commerce-kit {}", args.join(" ")));
        assert_eq!(shown, out.trim_end(), "README block for {args:?}");
    }
}

#[tokio::test]
async fn the_committed_openapi_document_is_what_serve_serves() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json"))
        .expect("docs/openapi.json");
    let (status, printed, _) = run_to_exit(EXE, &["openapi"], &[]);
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        printed, committed,
        "docs/openapi.json is stale: run `cargo run -p commerce-kit -- openapi > docs/openapi.json`"
    );
    let server = serve(&[]);
    let served: Value = reqwest::get(server.url("/openapi.json"))
        .await
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("JSON");
    assert_eq!(served, serde_json::from_str::<Value>(&committed).expect("JSON"));
    assert_eq!(served["openapi"], "3.1.0");
    let paths: Vec<&String> = served["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(
        paths,
        [
            "/events",
            "/health",
            "/ingestion/webhook",
            "/metrics",
            "/openapi.json",
            "/ready",
            "/webhook/check-stock"
        ]
    );
}
