//! The converge engine over real HTTP on loopback: a fake IMS (ingestion's
//! `FakeAdobe`), a fake I/O Management API and a fake Commerce, each checking
//! what it receives with its own code.

use std::sync::Arc;

use base64::Engine as _;
use commerce_kit_commerce_api::{CommerceAuth, CommerceClient, CommerceConfig, ImsCredentials, ImsTokenProvider};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use commerce_kit_model::catalog::Catalog;
use commerce_kit_onboard::testing::{FakeCommerceEventing, FakeIoManagement, Recorded};
use commerce_kit_onboard::{
    Action, Desired, HookRegistration, IoManagement, Mode, OnboardFile, Report, Targets, Workspace, converge,
};
use serde_json::{Value, json};

const CONSUMER: &str = "4566206";
const PROJECT: &str = "4566206088344794932";
const WORKSPACE: &str = "4566206088344853970";
const WORKSPACE_SECRET: &str = "p8e-WORKSPACE-FILE-SECRET";

struct World {
    ims: FakeAdobe,
    io: FakeIoManagement,
    commerce: FakeCommerceEventing,
    io_client: IoManagement,
    commerce_client: CommerceClient,
    dir: tempfile::TempDir,
}

fn issued(token: &str) -> bool {
    token.starts_with("fake-ims-token-")
}

async fn world() -> World {
    let ims = FakeAdobe::start().await.expect("ims");
    let io = FakeIoManagement::start(CONSUMER, PROJECT, WORKSPACE, FAKE_CLIENT_ID, issued)
        .await
        .expect("io");
    let commerce = FakeCommerceEventing::start(FAKE_CLIENT_ID, issued)
        .await
        .expect("commerce");
    // Providers of other teams and of Adobe: the org-wide list spans two pages.
    io.seed_provider("Adobe Analytics", json!({}));
    io.seed_provider("Another team's provider", json!({"description": "not ours"}));
    io.seed_provider("Adobe Experience Platform", json!({}));
    let http = reqwest::Client::new();
    let provider = Arc::new(ImsTokenProvider::new(
        http.clone(),
        &ims.url(),
        ImsCredentials {
            client_id: FAKE_CLIENT_ID.to_owned(),
            client_secret: FAKE_CLIENT_SECRET.to_owned().into(),
            scopes: "adobeio_api".to_owned(),
        },
    ));
    let io_client = IoManagement::new(
        http,
        &io.base_url(),
        Workspace {
            consumer_id: CONSUMER.to_owned(),
            project_id: PROJECT.to_owned(),
            workspace_id: WORKSPACE.to_owned(),
        },
        provider.clone(),
        Some("ORG@AdobeOrg"),
    )
    .expect("io client");
    let commerce_client = CommerceClient::new(
        CommerceConfig::from_parts(&commerce.base_url(), None, CommerceAuth::ims(provider)).expect("config"),
    )
    .expect("commerce client");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("workspace.json"),
        json!({"project": {"id": PROJECT, "org": {"id": CONSUMER}, "workspace": {"id": WORKSPACE,
            "details": {"credentials": [{"oauth_server_to_server": {"client_secrets": [WORKSPACE_SECRET]}}]}}}})
        .to_string(),
    )
    .expect("workspace file");
    World {
        ims,
        io,
        commerce,
        io_client,
        commerce_client,
        dir,
    }
}

fn file() -> Value {
    json!({
        "providers": [
            {"key": "backoffice", "label": "Backoffice Provider", "description": "Back-office events"},
            {"key": "commerce", "label": "Commerce Provider", "description": "Commerce events", "instance_id": "acme-prod"}
        ],
        "registrations": [
            {"name": "Commerce to ERP", "delivery_type": "webhook",
             "webhook_url": "https://integration.example.com/events", "events": [{"provider": "commerce"}]},
            {"name": "Back office to Commerce", "delivery_type": "journal", "events": [{"provider": "backoffice"}]}
        ],
        "commerce": {
            "provider": "commerce",
            "merchant_id": "acme",
            "environment_id": "production",
            "workspace_configuration_file": "workspace.json",
            "subscriptions": [
                {"name": "observer.catalog_product_save_commit_after", "fields": ["id", "sku", "name"]},
                {"name": "observer.sales_order_save_commit_after", "fields": ["id", {"name": "increment_id", "source": "data.increment_id"}]}
            ],
            "check_stock_hook": {"url": "https://integration.example.com/webhook/check-stock", "register": "rest"}
        }
    })
}

fn desired(world: &World, file: &Value) -> Desired {
    let file: OnboardFile = serde_json::from_value(file.clone()).expect("file");
    file.resolve(&Catalog::builtin(), Some(world.dir.path()))
        .expect("valid file")
}

fn hook() -> HookRegistration {
    HookRegistration {
        xml: "<method name=\"observer.checkout_cart_product_add_before\" type=\"before\"/>\n".to_owned(),
        subscribe_body: json!({"webhook": {
            "webhook_method": "observer.checkout_cart_product_add_before",
            "webhook_type": "before",
            "batch_name": "validate_stock",
            "hook_name": "check_stock",
            "url": "https://integration.example.com/webhook/check-stock",
            "method": "POST",
            "required": true,
            "timeout": 5000,
            "soft_timeout": 1000,
            "fallback_error_message": "The product stock validation failed",
            "fields": [{"name": "product.sku", "source": "data.product.sku"}, {"name": "info.qty", "source": "data.info.qty"}]
        }}),
        secret: None,
    }
}

async fn run(world: &World, desired: &Desired, mode: Mode) -> Report {
    let hook = hook();
    converge(
        desired,
        Targets {
            io: &world.io_client,
            commerce: Some(&world.commerce_client),
            hook: Some(&hook),
        },
        mode,
    )
    .await
}

fn calls(requests: &[Recorded]) -> Vec<String> {
    requests.iter().map(Recorded::call).collect()
}

fn scoped(rest: &str) -> String {
    format!("/events/{CONSUMER}/{PROJECT}/{WORKSPACE}/{rest}")
}

fn provider_id(world: &World, label: &str) -> String {
    world
        .io
        .providers()
        .iter()
        .find(|p| p["label"] == label)
        .and_then(|p| p["id"].as_str())
        .expect("provider exists")
        .to_owned()
}

#[tokio::test]
async fn the_first_run_creates_everything_with_exactly_the_expected_requests() {
    let world = world().await;
    let desired = desired(&world, &file());
    let report = run(&world, &desired, Mode::Apply).await;
    assert!(report.failure.is_none(), "{}", report.render_text());

    let backoffice = provider_id(&world, "Backoffice Provider");
    let commerce = provider_id(&world, "Commerce Provider");
    let catalog = Catalog::builtin();
    let mut expected = vec![format!("POST {}", scoped("providers"))];
    expected.extend(
        catalog
            .events()
            .iter()
            .map(|_| format!("POST {}", scoped(&format!("providers/{backoffice}/eventmetadata")))),
    );
    expected.push(format!("POST {}", scoped("providers")));
    expected.push(format!("POST {}", scoped("registrations")));
    expected.push(format!("POST {}", scoped("registrations")));
    assert_eq!(calls(&world.io.writes()), expected);

    // Every page of the org's providers was read, by its _links.next.href.
    let provider_pages: Vec<Option<String>> = world
        .io
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == format!("/events/{CONSUMER}/providers"))
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(provider_pages, vec![None, Some("page=1".to_owned())]);
    // Adobe's headers on every call; the fake answered each one 200.
    for request in world.io.requests() {
        assert_eq!(request.status, 200, "{}", request.call());
        assert_eq!(request.headers["accept"], "application/hal+json");
        assert_eq!(request.headers["x-ims-org-id"], "ORG@AdobeOrg");
    }
    assert_eq!(world.ims.token_request_count(), 1, "one IMS token for the whole run");

    // The providers' bodies: the Commerce one is a dx_commerce_events provider.
    let writes = world.io.writes();
    assert_eq!(
        writes[0].body,
        json!({"label": "Backoffice Provider", "description": "Back-office events"})
    );
    assert_eq!(
        writes[14].body,
        json!({"label": "Commerce Provider", "description": "Commerce events",
               "provider_metadata": "dx_commerce_events", "instance_id": "acme-prod"})
    );
    // Each metadata's sample template is the catalog's sample, base64.
    for (write, event) in writes[1..14].iter().zip(catalog.events()) {
        assert_eq!(write.body["event_code"], event.code());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(write.body["sample_event_template"].as_str().expect("template"))
            .expect("base64");
        assert_eq!(
            serde_json::from_slice::<Value>(&decoded).expect("json"),
            *event.sample()
        );
    }
    // The registrations reference the providers' new ids.
    assert_eq!(writes[15].body["client_id"], FAKE_CLIENT_ID);
    assert_eq!(writes[15].body["delivery_type"], "webhook");
    assert_eq!(
        writes[15].body["events_of_interest"],
        json!([
            {"provider_id": commerce, "event_code": "com.adobe.commerce.observer.catalog_product_save_commit_after"},
            {"provider_id": commerce, "event_code": "com.adobe.commerce.observer.sales_order_save_commit_after"}
        ])
    );
    assert_eq!(writes[16].body["delivery_type"], "journal");
    assert!(writes[16].body.get("webhook_url").is_none());
    assert_eq!(writes[16].body["events_of_interest"].as_array().map(Vec::len), Some(13));

    // Commerce: configuration, provider, two subscriptions, the hook.
    assert_eq!(
        calls(&world.commerce.writes()),
        [
            "PUT /rest/all/V1/eventing/updateConfiguration",
            "POST /rest/all/V1/eventing/eventProvider",
            "POST /rest/all/V1/eventing/eventSubscribe",
            "POST /rest/all/V1/eventing/eventSubscribe",
            "POST /rest/all/V1/webhooks/subscribe",
        ]
    );
    let config = world.commerce.config().expect("configured");
    assert_eq!(
        (config["merchant_id"].as_str(), config["environment_id"].as_str()),
        (Some("acme"), Some("production"))
    );
    assert!(
        config["workspace_configuration"]
            .as_str()
            .is_some_and(|w| w.contains(WORKSPACE_SECRET))
    );
    let commerce_writes = world.commerce.writes();
    assert_eq!(
        commerce_writes[1].body["eventProvider"]["provider_id"],
        commerce.as_str()
    );
    assert_eq!(commerce_writes[1].body["eventProvider"]["instance_id"], "acme-prod");
    assert_eq!(
        commerce_writes[3].body,
        json!({"event": {"name": "observer.sales_order_save_commit_after", "provider_id": commerce,
               "fields": [{"name": "id"}, {"name": "increment_id", "source": "data.increment_id"}]}})
    );
    assert_eq!(commerce_writes[4].body, hook().subscribe_body);

    let summary = report.summary();
    assert_eq!(
        (summary.create, summary.update, summary.keep, summary.done),
        (22, 0, 0, 22)
    );
    assert!(report.steps.iter().all(|s| s.done && s.action == Action::Create));
    let text = report.render_text();
    assert!(text.ends_with("done: 22 created, 0 updated, 0 unchanged\n"), "{text}");
    assert!(!text.contains(WORKSPACE_SECRET) && !report.to_json().to_string().contains(WORKSPACE_SECRET));
}

#[tokio::test]
async fn a_second_run_sends_no_write_and_reports_nothing_to_do() {
    let world = world().await;
    let desired = desired(&world, &file());
    assert!(run(&world, &desired, Mode::Apply).await.failure.is_none());
    world.io.clear_requests();
    world.commerce.clear_requests();

    let report = run(&world, &desired, Mode::Apply).await;
    assert!(report.failure.is_none(), "{}", report.render_text());
    assert_eq!(calls(&world.io.writes()), Vec::<String>::new());
    assert_eq!(calls(&world.commerce.writes()), Vec::<String>::new());
    assert!(report.nothing_to_do());
    assert_eq!(report.summary().keep, 22);
    assert_eq!(
        report.render_text().lines().last(),
        Some("nothing to do: 22 object(s) already match the file")
    );
    // 13 events at 2 a page: all 7 pages of metadata were read to find them.
    let backoffice = provider_id(&world, "Backoffice Provider");
    let metadata_pages = world
        .io
        .requests()
        .iter()
        .filter(|r| r.path == format!("/events/providers/{backoffice}/eventmetadata"))
        .count();
    assert_eq!(metadata_pages, 7);
    // Nothing was duplicated by the second run.
    assert_eq!(world.io.providers().len(), 5);
    assert_eq!(world.io.metadata(&backoffice).len(), 13);
    assert_eq!(world.io.registrations().len(), 2);
    assert_eq!(world.commerce.subscriptions().len(), 2);
    assert_eq!(world.commerce.webhooks().len(), 1);
}

#[tokio::test]
async fn a_changed_sample_template_label_or_registration_is_updated_in_place() {
    let world = world().await;
    let desired_first = desired(&world, &file());
    assert!(run(&world, &desired_first, Mode::Apply).await.failure.is_none());
    let backoffice = provider_id(&world, "Backoffice Provider");
    // Someone edited a sample in the console.
    world
        .io
        .set_sample(&backoffice, "be-observer.customer_create", &json!({"edited": true}));
    // And the file now sends the ERP registration elsewhere.
    let mut changed = file();
    changed["registrations"][0]["webhook_url"] = json!("https://erp-gateway.example.com/events");
    let desired = desired(&world, &changed);
    world.io.clear_requests();
    world.commerce.clear_requests();

    let report = run(&world, &desired, Mode::Apply).await;
    assert!(report.failure.is_none(), "{}", report.render_text());
    let writes = world.io.writes();
    let registration_id = world.io.registrations()[0]["registration_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        calls(&writes),
        [
            format!(
                "PUT {}",
                scoped(&format!(
                    "providers/{backoffice}/eventmetadata/be-observer.customer_create"
                ))
            ),
            format!("PUT {}", scoped(&format!("registrations/{registration_id}"))),
        ]
    );
    let sample = Catalog::builtin()
        .get("be-observer.customer_create")
        .expect("catalog event")
        .sample()
        .clone();
    let sent = base64::engine::general_purpose::STANDARD
        .decode(writes[0].body["sample_event_template"].as_str().expect("template"))
        .expect("base64");
    assert_eq!(serde_json::from_slice::<Value>(&sent).expect("json"), sample);
    assert_eq!(writes[1].body["webhook_url"], "https://erp-gateway.example.com/events");
    assert!(world.commerce.writes().is_empty());
    let updates: Vec<(&str, &[String])> = report
        .steps
        .iter()
        .filter(|s| s.action == Action::Update)
        .map(|s| (s.object.as_str(), s.changes.as_slice()))
        .collect();
    assert_eq!(
        updates,
        [
            (
                "event be-observer.customer_create of provider \"Backoffice Provider\"",
                &["sample_event_template".to_owned()][..]
            ),
            ("registration \"Commerce to ERP\"", &["webhook_url".to_owned()][..]),
        ]
    );
    // Converged: a third run has nothing to do.
    assert!(run(&world, &desired, Mode::Apply).await.nothing_to_do());
}

#[tokio::test]
async fn a_failure_in_the_middle_names_the_object_call_and_message_and_a_rerun_completes() {
    let world = world().await;
    let desired = desired(&world, &file());
    world.commerce.fail_once(
        "POST",
        "/eventing/eventSubscribe",
        400,
        json!({"message": "The \"%1\" event is not defined in the %2 module.", "parameters": ["observer.catalog_product_save_commit_after", "Magento_Catalog"]}),
    );

    let report = run(&world, &desired, Mode::Apply).await;
    let failure = report.failure.clone().expect("stopped");
    assert_eq!(
        failure.object,
        "Commerce subscription observer.catalog_product_save_commit_after"
    );
    assert_eq!(failure.call, "POST /V1/eventing/eventSubscribe");
    assert!(
        failure.message.contains(
            "The \"observer.catalog_product_save_commit_after\" event is not defined in the Magento_Catalog module."
        ),
        "{}",
        failure.message
    );
    // What came before it is done; nothing after it was tried.
    assert_eq!(report.summary().done, 17);
    assert_eq!(world.io.registrations().len(), 0);
    assert!(world.commerce.webhooks().is_empty());
    let text = report.render_text();
    assert!(
        text.contains("FAILED: Commerce subscription observer.catalog_product_save_commit_after: POST /V1/eventing/eventSubscribe failed: "),
        "{text}"
    );
    assert!(
        text.contains("17 change(s) made before it stay done; run again to continue from there"),
        "{text}"
    );

    // An I/O Management API refusal, in Adobe's body shape, on the rerun.
    world.io.fail_once(
        "POST",
        "/registrations",
        400,
        json!({"reason": "Invalid data", "message": "webhook_url is not reachable: the challenge failed"}),
    );
    world.io.clear_requests();
    world.commerce.clear_requests();
    let report = run(&world, &desired, Mode::Apply).await;
    let failure = report.failure.clone().expect("stopped again");
    assert_eq!(failure.object, "registration \"Commerce to ERP\"");
    assert_eq!(failure.call, format!("POST {}", scoped("registrations")));
    assert_eq!(
        failure.message,
        format!(
            "Adobe I/O answered POST {} with HTTP 400: Invalid data: webhook_url is not reachable: the challenge failed",
            scoped("registrations")
        )
    );
    // The rerun did not repeat what was done: only the missing subscriptions and the hook were written.
    assert_eq!(
        calls(&world.commerce.writes()),
        [
            "POST /rest/all/V1/eventing/eventSubscribe",
            "POST /rest/all/V1/eventing/eventSubscribe",
            "POST /rest/all/V1/webhooks/subscribe",
        ]
    );

    world.io.clear_requests();
    world.commerce.clear_requests();
    let report = run(&world, &desired, Mode::Apply).await;
    assert!(report.failure.is_none(), "{}", report.render_text());
    assert_eq!(
        calls(&world.io.writes()),
        [
            format!("POST {}", scoped("registrations")),
            format!("POST {}", scoped("registrations"))
        ]
    );
    assert!(world.commerce.writes().is_empty());
    assert_eq!(world.io.providers().len(), 5, "no provider was created twice");
    assert!(run(&world, &desired, Mode::Apply).await.nothing_to_do());
}

#[tokio::test]
async fn a_dry_run_sends_reads_only_and_shows_the_plan() {
    let world = world().await;
    let desired = desired(&world, &file());
    let report = run(&world, &desired, Mode::DryRun).await;
    assert!(report.failure.is_none(), "{}", report.render_text());
    assert!(world.io.writes().is_empty(), "{:?}", calls(&world.io.writes()));
    assert!(world.commerce.writes().is_empty());
    assert_eq!(report.summary().create, 22);
    assert!(report.steps.iter().all(|s| !s.done));
    let text = report.render_text();
    assert!(
        text.contains(&format!(
            "  create  event be-observer.catalog_stock_update of provider \"Backoffice Provider\"  [POST {}]",
            scoped("providers/<new>/eventmetadata")
        )),
        "{text}"
    );
    assert!(
        text.ends_with("dry run: 22 to create, 0 to update, 0 unchanged; nothing was changed\n"),
        "{text}"
    );

    // After a real run, a dry run with a changed file plans the update and still writes nothing.
    assert!(run(&world, &desired, Mode::Apply).await.failure.is_none());
    let mut changed = file();
    changed["providers"][0]["description"] = json!("Events from the ERP");
    let changed = self::desired(&world, &changed);
    world.io.clear_requests();
    world.commerce.clear_requests();
    let report = run(&world, &changed, Mode::DryRun).await;
    assert!(world.io.writes().is_empty() && world.commerce.writes().is_empty());
    let planned: Vec<(&str, Action)> = report
        .steps
        .iter()
        .filter(|s| s.action != Action::Keep)
        .map(|s| (s.object.as_str(), s.action))
        .collect();
    assert_eq!(planned, [("provider \"Backoffice Provider\"", Action::Update)]);
    assert_eq!(world.io.providers()[3]["description"], "Back-office events");
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_run_goes_on() {
    let world = world().await;
    let desired = desired(&world, &file());
    world.io.fail_once(
        "GET",
        &format!("/events/{CONSUMER}/providers"),
        401,
        json!({"error_code": "401013", "message": "Oauth token is not valid"}),
    );
    let report = run(&world, &desired, Mode::Apply).await;
    assert!(report.failure.is_none(), "{}", report.render_text());
    assert_eq!(world.ims.token_request_count(), 2);
    let first_two: Vec<u16> = world.io.requests().iter().take(2).map(|r| r.status).collect();
    assert_eq!(first_two, [401, 200]);

    // A second refusal in a row is Adobe's answer, shown as Adobe gave it.
    for _ in 0..2 {
        world.io.fail_once(
            "GET",
            "/registrations",
            403,
            json!({"error_code": "403003", "message": "Api Key is invalid"}),
        );
    }
    let report = run(&world, &desired, Mode::Apply).await;
    let failure = report.failure.expect("refused");
    assert_eq!(failure.object, "registrations");
    assert!(
        failure.message.ends_with("HTTP 403: 403003: Api Key is invalid"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn the_hook_on_paas_is_a_snippet_to_paste_and_nothing_is_sent_for_it() {
    let world = world().await;
    let mut auto = file();
    auto["commerce"]["check_stock_hook"]["register"] = json!("auto");
    let desired = desired(&world, &auto);
    let report = run(&world, &desired, Mode::Apply).await;
    assert!(report.failure.is_none(), "{}", report.render_text());
    assert!(
        world.commerce.requests().iter().all(|r| !r.path.contains("/webhooks/")),
        "the loopback Commerce is PaaS: no webhook call"
    );
    assert_eq!(report.manual.len(), 1);
    assert_eq!(report.manual[0].snippet, hook().xml);
    assert!(
        report
            .render_text()
            .contains("By hand: check-stock hook: PaaS: add this to app/etc/webhooks.xml")
    );
}
