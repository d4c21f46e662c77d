//! `GET /metrics`: the kit's metrics ([`commerce_kit_core::telemetry`] and
//! the names the README lists) in the Prometheus text format, through
//! metrics-exporter-prometheus.
//!
//! [`install`] must run before the services are built (a metric handle taken
//! before a recorder exists records nothing). Histograms are bucketed
//! ([`BUCKETS`], seconds); a task drains the recorder's histogram buffers
//! every [`UPKEEP`], so their memory stays bounded however rarely it is
//! scraped.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::config::ConfigError;

/// Histogram buckets, in seconds: from 0.1 ms (a check-stock answer) to 10 s
/// (Adobe's delivery deadline).
pub const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// How often the histogram buffers are drained.
pub const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls return
/// the same handle) and, inside a Tokio runtime, its upkeep task.
pub fn install() -> Result<PrometheusHandle, ConfigError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map_err(|e| ConfigError(format!("metrics: {e}")))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| ConfigError(format!("metrics: {e}")))?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    if tokio::runtime::Handle::try_current().is_ok() {
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP);
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
    }
    Ok(handle)
}

/// `GET /metrics` rendering `handle`.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    handle.render(),
                )
            }
        }),
    )
}
