//! What the check-stock test binaries share: serving on loopback in both
//! forms, and capturing the log output of a test binary.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use commerce_kit_webhook::{CheckStockService, direct_app, router, server};

/// Serves `app` on 127.0.0.1:0 until the test ends.
pub async fn serve_app(app: impl server::HttpApp) -> SocketAddr {
    server::spawn_loopback(app).await.expect("serve on loopback")
}

/// Serves `service` as the binaries do (`direct_app`, no span on the
/// check-stock route) or in the router form (`server::app`, request spans).
pub async fn serve(service: CheckStockService, direct: bool) -> SocketAddr {
    if direct {
        serve_app(direct_app(service, axum::Router::new())).await
    } else {
        serve_app(server::app(router(service))).await
    }
}

/// A `tracing` writer keeping everything written, for assertions on logs.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary; the first filter wins) a `tracing`
/// subscriber writing every log line at `filter` into the returned capture.
pub fn captured_logs(filter: &str) -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}
