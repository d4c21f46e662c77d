//! `GET /metrics`: the kit's metrics (the names the README lists) in the
//! Prometheus text format: counters and gauges through
//! metrics-exporter-prometheus, then the latency histograms of
//! [`commerce_kit_core::telemetry`] (fixed atomic buckets; see there why).
//!
//! [`install`] must run before the services are built (a counter handle
//! taken before a recorder exists records nothing).

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::config::ConfigError;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls return
/// the same handle).
pub fn install() -> Result<PrometheusHandle, ConfigError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| ConfigError(format!("metrics: {e}")))?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// `GET /metrics` rendering `handle`, then the histograms.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    handle.render() + &commerce_kit_core::telemetry::render_histograms(),
                )
            }
        }),
    )
}
