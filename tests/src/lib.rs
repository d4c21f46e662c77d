//! Runs commerce-kit's server binaries as child processes, for the binaries'
//! own tests (each binary's `tests/`, end-to-end ones included: Cargo gives a
//! binary's path only to its own package's tests).
//!
//! The child runs in a temporary directory (so no `.env` is picked up and the
//! local bus's `./data` is private to the test), with every flow setting removed
//! from its environment, and its stdout (the logs) collected line by line.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Environment variables that would change what the child does.
pub const SCRUBBED: &[&str] = &[
    "LISTEN",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "RUST_LOG",
    "BODY_LIMIT_BYTES",
    "SHUTDOWN_GRACE_SECS",
    "READ_TIMEOUT_SECS",
    "INVENTORY_FILE",
    "STOCK_CHECKER_URL",
    "STOCK_CHECKER_TOKEN",
    "STOCK_CHECK_TIMEOUT_MS",
    "COMMERCE_WEBHOOK_PUBLIC_KEY",
    "COMMERCE_WEBHOOK_PUBLIC_KEY_FILE",
    "COMMERCE_WEBHOOKS_PUBLIC_KEY",
    "COMMERCE_WEBHOOK_IMS_CLIENT_ID",
    "COMMERCE_WEBHOOK_IMS_ORG_ID",
    "STOCK_CHECKER_CONNECT_TIMEOUT_MS",
    "STOCK_CHECKER_REQUEST_TIMEOUT_MS",
    "OAUTH_CLIENT_ID",
    "OAUTH_CLIENT_SECRET",
    "OAUTH_ORG_ID",
    "OAUTH_SCOPES",
    "IO_EVENTS_PROVIDER_ID",
    "IMS_BASE_URL",
    "IO_EVENTS_INGRESS_URL",
    "IO_EVENTS_RETRY_BUDGET_SECS",
    "INGESTION_AUTH",
    "INGESTION_API_KEYS",
    "INGESTION_HMAC_SECRET",
    "INGESTION_HMAC_PREVIOUS_SECRET",
    "INGESTION_HMAC_WINDOW_SECS",
    "INGESTION_IDEMPOTENCY_TTL_SECS",
    "DATA_DIR",
    "EVENTS_CATALOG_FILE",
    "EVENTS_CATALOG_MODE",
    "REDIS_URL",
    "EVENTS_VERIFY_SIGNATURES",
    "IO_EVENTS_KEY_BASE_URL",
    "IO_EVENTS_KEY_CACHE_SECS",
    "EVENTS_DEDUPE_TTL_SECS",
    "LOOP_GUARD_TTL_SECS",
    "LOOP_GUARD_RULES_FILE",
    "EVENTS_HANDLER_TIMEOUT_MS",
    "EVENTS_FORWARD_URL",
    "EVENTS_FORWARD_TOKEN",
    "EVENTS_FORWARD_TIMEOUT_MS",
    "EVENTS_BODY_LIMIT_BYTES",
    "EVENTS_VALIDATION_ALLOW_LOOPBACK",
    "EVENTS_CONSUMER_NAME",
    "EVENTS_LOCAL_MAX_ATTEMPTS",
    "EVENTS_LOCAL_RETRY_INITIAL_MS",
    "EVENTS_LOCAL_RETRY_MAX_MS",
    "BUS_RETENTION_HOURS",
    "EVENTS_CONCURRENCY",
    "EVENTS_WINDOW",
    "EVENTS_ORDER_KEYS",
    "ADMIN_TOKEN",
    "ADMIN_URL",
    "IO_EVENTS_JOURNAL_URL",
    "IO_EVENTS_JOURNAL_LIMIT",
    "IO_EVENTS_JOURNAL_IDLE_SECS",
    "COMMERCE_BASE_URL",
    "COMMERCE_STORE_CODE",
    "COMMERCE_CONSUMER_KEY",
    "COMMERCE_CONSUMER_SECRET",
    "COMMERCE_ACCESS_TOKEN",
    "COMMERCE_ACCESS_TOKEN_SECRET",
    "COMMERCE_IMS_CLIENT_ID",
    "COMMERCE_IMS_CLIENT_SECRET",
    "COMMERCE_IMS_SCOPES",
    "COMMERCE_CONNECT_TIMEOUT_MS",
    "COMMERCE_TIMEOUT_MS",
    "BACKOFFICE_BASE_URL",
    "BACKOFFICE_TOKEN",
    "BACKOFFICE_CONNECT_TIMEOUT_MS",
    "BACKOFFICE_TIMEOUT_MS",
];

/// A running server binary.
pub struct Server {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Where it listens, from its `listening on http://IP:PORT` line.
    pub addr: SocketAddr,
    _cwd: Option<tempfile::TempDir>,
}

fn command(exe: &str, args: &[&str], env: &[(&str, &str)], cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(args).current_dir(cwd);
    for name in SCRUBBED {
        cmd.env_remove(name);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

impl Server {
    /// Starts `exe` in a fresh temporary directory and waits (up to 20 s) for its listening line.
    pub fn start(exe: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let cwd = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_in(exe, args, env, cwd.path());
        server._cwd = Some(cwd);
        server
    }

    /// Starts `exe` in `dir` (kept by the caller, e.g. to restart on the same
    /// data) and waits (up to 20 s) for its listening line.
    pub fn start_in(exe: &str, args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Self {
        let mut child = command(exe, args, env, dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn server binary");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        let mut server = Server {
            child,
            lines,
            addr: "0.0.0.0:0".parse().expect("addr"),
            _cwd: None,
        };
        let line = server.wait_for("listening on http://");
        let at = line.find("listening on http://").expect("marker") + "listening on http://".len();
        server.addr = line[at..].trim().parse().expect("IP:PORT after 'listening on http://'");
        server
    }

    /// URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every log line so far.
    pub fn logs(&self) -> String {
        self.lines.lock().expect("lock").join("\n")
    }

    /// Waits (up to 20 s) for a log line containing `needle`, and returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        self.wait_for_nth(needle, 1)
    }

    /// Waits (up to 20 s) for the `n`-th log line containing `needle`, and returns it.
    pub fn wait_for_nth(&mut self, needle: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .expect("lock")
                .iter()
                .filter(|l| l.contains(needle))
                .nth(n - 1)
            {
                return line.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited ({status}) before logging {needle:?}:\n{}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "no log line {needle:?} within 20 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`TERM`, `HUP`, …) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Kills the process with SIGKILL (a crash: nothing is flushed) and waits for it.
    pub fn kill9(mut self) -> String {
        self.signal("KILL");
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.logs()
    }

    /// Sends SIGTERM and waits (up to 20 s) for the exit.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the reader thread drain the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.logs());
            }
            assert!(Instant::now() < deadline, "no exit within 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `exe` to completion (it is expected to exit on its own) and returns
/// its status, stdout and stderr.
pub fn run_to_exit(exe: &str, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = command(exe, args, env, cwd.path()).output().expect("run binary");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// POSTs `body` to the server's `/events` twice, unsigned and then signed
/// with the test keys as Adobe I/O Events signs it; returns both responses.
pub async fn post_unsigned_then_signed(server: &Server, body: &[u8]) -> (reqwest::Response, reqwest::Response) {
    use commerce_kit_events::test_util::AdobeSigner;
    let http = reqwest::Client::new();
    let unsigned = http
        .post(server.url("/events"))
        .body(body.to_vec())
        .send()
        .await
        .expect("post unsigned");
    let signed = http
        .post(server.url("/events"))
        .headers(AdobeSigner::test_keys().headers(body))
        .body(body.to_vec())
        .send()
        .await
        .expect("post signed");
    (unsigned, signed)
}

/// The README's Rust snippets, compiled by `cargo test --workspace` (doctests).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
