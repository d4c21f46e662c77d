//! Log forging: `commerce-kit serve` as a child process gets client strings
//! holding a newline and a fake log line: the three of the hardening issue (an
//! ingestion `uid`, a check-stock `sku`, a CloudEvent `id` on `/events`; the
//! first and the last are now refused at the door, and their refusal is
//! logged) and others that are accepted and logged (a product `sku` in an
//! ingested value, seen again by the consumer; a `sku` in a CloudEvent's
//! data; an unknown event name). Whatever the log format, no line of the log
//! may start with the forged timestamp: the text format writes the newline as
//! `\n`, the JSON format as JSON escapes it (every line parses).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commerce_kit_tests::{SCRUBBED, Server};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");

/// The fake line a client tries to add to the log.
const FORGED_LINE: &str = "2026-12-01T00:00:00.000000Z ERROR FORGED";

/// What is sent, what is answered, and what the text log must then hold.
struct Forgery {
    path: &'static str,
    body: String,
    status: u16,
    answer: Value,
    /// Text the text-format log must hold (the forged newline escaped as `\n`).
    logged: String,
    /// Whether the forged text itself reaches the log (else only the refusal does).
    forged_logged: bool,
}

fn forged(prefix: &str) -> String {
    format!("{prefix}\n{FORGED_LINE}")
}

/// The forged text as the text format writes it: a backslash and an `n`.
fn escaped(prefix: &str) -> String {
    format!("{prefix}\\n{FORGED_LINE}")
}

fn forgeries() -> Vec<Forgery> {
    vec![
        Forgery {
            path: "/ingestion/webhook",
            body: json!({"data": {"uid": forged("u1"), "event": "be-observer.catalog_product_delete", "value": {"sku": "S"}}})
                .to_string(),
            status: 400,
            answer: json!({"error": "invalid parameter 'data.uid': control characters are not allowed (U+000A at byte 2)"}),
            logged: "error=\"invalid parameter 'data.uid': control characters are not allowed (U+000A at byte 2)\"".into(),
            forged_logged: false,
        },
        Forgery {
            path: "/webhook/check-stock",
            body: json!({"data": {"cart_id": "42", "items": [{"sku": forged("S"), "qty": 1}]}}).to_string(),
            status: 200,
            answer: json!({"op": "exception",
                "message": format!("Not enough stock: {} (requested 1, available 0)", forged("S"))}),
            logged: format!("detail=Not enough stock: {} (requested 1, available 0)", escaped("S")),
            forged_logged: true,
        },
        Forgery {
            path: "/events",
            body: json!({"specversion": "1.0", "id": forged("e1"), "source": "urn:uuid:be",
                "type": "be-observer.catalog_product_update", "data": {"sku": "24-MB01", "name": "J"}})
            .to_string(),
            status: 400,
            answer: json!({"error": "invalid CloudEvent: attribute 'id': control characters are not allowed (U+000A at byte 2)"}),
            logged: format!("event_id=\"{}\"", escaped("e1")),
            forged_logged: true,
        },
        Forgery {
            path: "/ingestion/webhook",
            body: json!({"data": {"uid": "u2", "event": "be-observer.catalog_product_delete", "value": {"sku": forged("S")}}})
                .to_string(),
            status: 200,
            answer: json!({"type": "be-observer.catalog_product_delete",
                "response": {"success": true, "message": "Event published successfully"}}),
            // The consumer's line for the event, read back from the local bus.
            logged: format!("event_id=u2 route=\"product-backoffice/deleted\" source=local-bus@0 entity={}", escaped("sku=S")),
            forged_logged: true,
        },
        Forgery {
            path: "/events",
            body: json!({"specversion": "1.0", "id": "e2", "source": "urn:uuid:be",
                "type": "be-observer.catalog_product_update", "data": {"sku": forged("24-MB01"), "name": "J"}})
            .to_string(),
            status: 200,
            answer: json!({"type": "be-observer.catalog_product_update",
                "response": {"success": true, "message": "event 'be-observer.catalog_product_update' logged"}}),
            logged: format!("event_id=e2 route=\"product-backoffice/updated\" source=http entity={}", escaped("sku=24-MB01")),
            forged_logged: true,
        },
        Forgery {
            path: "/ingestion/webhook",
            body: json!({"data": {"uid": "u3", "event": forged("be-observer.nope"), "value": {}}}).to_string(),
            status: 400,
            answer: json!({"error": format!("unknown event '{}'", forged("be-observer.nope"))}),
            logged: format!("error=\"unknown event '{}'\"", escaped("be-observer.nope")),
            forged_logged: true,
        },
    ]
}

async fn send(addr: SocketAddr, forgery: &Forgery) {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}{}", forgery.path))
        .header("content-type", "application/json")
        .body(forgery.body.clone())
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.expect("JSON body");
    assert_eq!(
        (status, answer),
        (forgery.status, forgery.answer.clone()),
        "{}",
        forgery.path
    );
}

fn send_all(addr: SocketAddr, forgeries: &[Forgery]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for forgery in forgeries {
            send(addr, forgery).await;
        }
    });
}

fn assert_nothing_forged(logs: &str) {
    for line in logs.lines() {
        assert!(!line.starts_with("2026-12-01T"), "forged line {line:?} in:\n{logs}");
        assert!(!line.contains("\u{1b}"), "raw ESC in {line:?}");
    }
}

#[test]
fn text_logs_escape_client_strings() {
    let mut server = Server::start(EXE, &["serve", "--listen", "127.0.0.1:0"], &[]);
    let forgeries = forgeries();
    send_all(server.addr, &forgeries);
    for forgery in &forgeries {
        server.wait_for(&forgery.logged);
    }
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert_nothing_forged(&logs);
    // Every line naming the forged text holds it escaped, after a `\n`.
    let escaped = escaped("");
    let naming: Vec<&str> = logs.lines().filter(|l| l.contains("FORGED")).collect();
    let expected = forgeries.iter().filter(|f| f.forged_logged).count();
    assert!(naming.len() >= expected, "{logs}");
    for line in naming {
        assert!(line.contains(&escaped), "{line}");
    }
}

/// `commerce-kit serve` with `LOG_FORMAT=json`, its stdout lines collected.
struct JsonServer {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
    _cwd: tempfile::TempDir,
}

impl JsonServer {
    fn start() -> Self {
        let cwd = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(EXE);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]).current_dir(cwd.path());
        for name in SCRUBBED {
            cmd.env_remove(name);
        }
        cmd.env("LOG_FORMAT", "json");
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        let mut server = JsonServer {
            child,
            lines,
            addr: "0.0.0.0:0".parse().expect("addr"),
            _cwd: cwd,
        };
        let line = server.wait_for(|v| message(v).starts_with("listening on http://"));
        let message = message(&line).to_owned();
        server.addr = message["listening on http://".len()..].parse().expect("IP:PORT");
        server
    }

    /// Waits (up to 20 s) for `count` lines whose JSON matches `want`.
    fn wait_for_count(&mut self, want: impl Fn(&Value) -> bool, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self
                .lines
                .lock()
                .expect("lock")
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| want(v))
                .count();
            if found >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{found} of {count} lines within 20 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (up to 20 s) for a line whose JSON matches `want`.
    fn wait_for(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self
                .lines
                .lock()
                .expect("lock")
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| want(v));
            if let Some(found) = found {
                return found;
            }
            assert!(Instant::now() < deadline, "no such line within 20 s:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn logs(&self) -> String {
        self.lines.lock().expect("lock").join("\n")
    }

    fn terminate(mut self) -> String {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                std::thread::sleep(Duration::from_millis(100));
                assert_eq!(status.code(), Some(0), "{}", self.logs());
                return self.logs();
            }
            assert!(Instant::now() < deadline, "no exit within 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or("")
}

/// Whether any string in `value` (keys aside) contains `needle`.
fn holds(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|v| holds(v, needle)),
        Value::Object(map) => map.values().any(|v| holds(v, needle)),
        _ => false,
    }
}

#[test]
fn json_logs_stay_one_object_per_line() {
    let mut server = JsonServer::start();
    let forgeries = forgeries();
    send_all(server.addr, &forgeries);
    // The forged text reaches the log intact inside JSON strings, once per
    // forgery that is logged (the check-stock line among them).
    let expected = forgeries.iter().filter(|f| f.forged_logged).count();
    let raw = forged("");
    server.wait_for_count(|v| holds(v, &raw), expected);
    server.wait_for(|v| holds(v, &forged("Not enough stock: S")));
    let logs = server.terminate();
    assert_nothing_forged(&logs);
    let mut lines = 0;
    for line in logs.lines() {
        let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}\n{logs}"));
        assert!(parsed.is_object(), "{line}");
        lines += 1;
    }
    assert!(lines > 10, "{logs}");
}
