//! `commerce-kit onboard` end to end: the binary against a fake IMS, a fake
//! I/O Management API and a fake Commerce on loopback, configured only
//! through the environment the other binaries use.

use std::path::Path;

use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use commerce_kit_onboard::testing::{FakeCommerceEventing, FakeIoManagement};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");
const WORKSPACE_SECRET: &str = "p8e-secret-inside-the-workspace-file";

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

async fn onboard(
    dir: &Path,
    ims: &FakeAdobe,
    io: &FakeIoManagement,
    commerce: &FakeCommerceEventing,
    args: &[&str],
) -> Run {
    let output = tokio::process::Command::new(EXE)
        .arg("onboard")
        .args(args)
        .env_clear()
        .current_dir(dir)
        .env("ONBOARD_FILE", dir.join("onboard.json"))
        .env("OAUTH_CLIENT_ID", FAKE_CLIENT_ID)
        .env("OAUTH_CLIENT_SECRET", FAKE_CLIENT_SECRET)
        .env("OAUTH_ORG_ID", "ORG@AdobeOrg")
        .env("IMS_BASE_URL", ims.url().as_str())
        .env("IO_MANAGEMENT_BASE_URL", io.base_url())
        .env("IO_CONSUMER_ID", "111")
        .env("IO_PROJECT_ID", "222")
        .env("IO_WORKSPACE_ID", "333")
        .env("COMMERCE_BASE_URL", commerce.base_url())
        .output()
        .await
        .expect("run commerce-kit onboard");
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn assert_no_secret(run: &Run) {
    for secret in [FAKE_CLIENT_SECRET, WORKSPACE_SECRET, "fake-ims-token-"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} shown:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboard_plans_converges_then_has_nothing_to_do_and_never_prints_a_secret() {
    let issued = |t: &str| t.starts_with("fake-ims-token-");
    let ims = FakeAdobe::start().await.expect("ims");
    let io = FakeIoManagement::start("111", "222", "333", FAKE_CLIENT_ID, issued)
        .await
        .expect("io");
    let commerce = FakeCommerceEventing::start(FAKE_CLIENT_ID, issued)
        .await
        .expect("commerce");
    io.seed_provider("Someone else's provider", json!({}));
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("workspace.json"),
        json!({"project": {"id": "222", "workspace": {"details": {"credentials": [{"oauth_server_to_server": {"client_secrets": [WORKSPACE_SECRET]}}]}}}}).to_string(),
    )
    .expect("workspace");
    std::fs::write(
        dir.path().join("onboard.json"),
        json!({
            "providers": [
                {"key": "backoffice", "label": "Backoffice Provider"},
                {"key": "commerce", "label": "Commerce Provider", "instance_id": "acme-prod"}
            ],
            "registrations": [
                {"name": "Commerce events", "delivery_type": "journal", "events": [{"provider": "commerce"}]},
                {"name": "Back-office events", "delivery_type": "webhook_batch",
                 "webhook_url": "https://integration.example.com/events", "events": [{"provider": "backoffice"}]}
            ],
            "commerce": {
                "provider": "commerce", "merchant_id": "acme", "environment_id": "prod",
                "workspace_configuration_file": "workspace.json",
                "check_stock_hook": {"url": "https://integration.example.com/webhook/check-stock", "register": "rest", "timeout_ms": 4000}
            }
        })
        .to_string(),
    )
    .expect("onboard file");

    // 2 providers + 13 events + configuration + Commerce provider + 8 default
    // subscriptions + the hook + 2 registrations.
    let dry = onboard(dir.path(), &ims, &io, &commerce, &["--dry-run"]).await;
    assert_eq!(dry.status, 0, "{}{}", dry.stdout, dry.stderr);
    assert!(
        dry.stdout
            .ends_with("dry run: 28 to create, 0 to update, 0 unchanged; nothing was changed\n"),
        "{}",
        dry.stdout
    );
    assert!(io.writes().is_empty() && commerce.writes().is_empty());
    assert_no_secret(&dry);

    let real = onboard(dir.path(), &ims, &io, &commerce, &["--output", "json"]).await;
    assert_eq!(real.status, 0, "{}{}", real.stdout, real.stderr);
    let report: Value = serde_json::from_str(&real.stdout).expect("one JSON document");
    assert_eq!(
        report["summary"],
        json!({"create": 28, "update": 0, "keep": 0, "done": 28})
    );
    assert_eq!(report["nothing_to_do"], false);
    assert_no_secret(&real);
    // What the binary sent is what the generator makes for the file's hook options.
    let hook = commerce.webhooks();
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0]["timeout"], 4000);
    assert_eq!(
        hook[0]["fields"][0],
        json!({"name": "product.sku", "source": "data.product.sku"})
    );
    assert_eq!(commerce.subscriptions().len(), 8);
    assert_eq!(io.writes().len(), 17);

    io.clear_requests();
    commerce.clear_requests();
    let again = onboard(dir.path(), &ims, &io, &commerce, &[]).await;
    assert_eq!(again.status, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again
            .stdout
            .ends_with("nothing to do: 28 object(s) already match the file\n"),
        "{}",
        again.stdout
    );
    assert!(io.writes().is_empty() && commerce.writes().is_empty());

    // A refusal: exit 1, the object, the call and Adobe's message; no secret.
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("onboard.json")).expect("read")).expect("json");
    file["registrations"][1]["webhook_url"] = json!("https://moved.example.com/events");
    std::fs::write(dir.path().join("onboard.json"), file.to_string()).expect("write");
    io.fail_once(
        "PUT",
        "/registrations/",
        400,
        json!({"reason": "Invalid data", "message": "the webhook did not answer the challenge"}),
    );
    let failed = onboard(dir.path(), &ims, &io, &commerce, &[]).await;
    assert_eq!(failed.status, 1, "{}{}", failed.stdout, failed.stderr);
    assert!(
        failed
            .stdout
            .contains("FAILED: registration \"Back-office events\": PUT /events/111/222/333/registrations/")
            && failed
                .stdout
                .contains("HTTP 400: Invalid data: the webhook did not answer the challenge"),
        "{}",
        failed.stdout
    );
    assert_no_secret(&failed);

    // A bad setting: exit 2, one line naming it.
    let missing = tokio::process::Command::new(EXE)
        .args(["onboard", "--file"])
        .arg(dir.path().join("onboard.json"))
        .env_clear()
        .current_dir(dir.path())
        .env("OAUTH_CLIENT_ID", FAKE_CLIENT_ID)
        .env("OAUTH_CLIENT_SECRET", FAKE_CLIENT_SECRET)
        .output()
        .await
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "error: invalid configuration: --io-consumer-id (IO_CONSUMER_ID): required by onboard\n"
    );
}
