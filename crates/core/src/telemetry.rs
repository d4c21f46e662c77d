//! The metrics the kit records.
//!
//! Counters and gauges go through the [`metrics`] facade: nothing is recorded
//! until a binary installs a recorder (the binaries install a Prometheus one
//! and serve it at `GET /metrics`), so libraries pay only a no-op call
//! without one.
//!
//! Latency histograms are this module's own [`Histogram`]: fixed buckets of
//! atomic counters, recorded in a few nanoseconds without allocating, and
//! rendered in the Prometheus text format by [`render_histograms`] (the
//! binaries append it to the exporter's output). The exporter's histograms
//! keep every sample until an upkeep pass folds them into buckets; on
//! check-stock that cost 5–7 % of the requests per second and doubled the
//! peak RSS (16.8 → 35.8 MiB) in `bench/check-stock.sh` (pinned, same run
//! against the build without metrics); with these histograms the same run
//! measured 1.00 (per-round 0.98–1.04) and 17.5 against 16.6 MiB. This
//! replacement stays only while that benchmark shows it pays.
//!
//! Every name starts with `commerce_kit_`; label values come from bounded
//! sets (route patterns, status codes, outcome and handler names), never
//! from client input. The README lists them all.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// Histogram bucket bounds, in seconds: from 0.1 ms (a check-stock answer)
/// to 10 s (Adobe's delivery deadline); above the last is `+Inf`.
pub const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// A latency histogram with the [`BUCKETS`] bounds: atomic counters, no
/// allocation per sample.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last one is above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Records one duration.
    pub fn record(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.partition_point(|bound| *bound < seconds);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Samples recorded (the buckets' total: one atomic less per sample).
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }
}

/// One registered histogram: its name, its label (if any) and its counters.
struct Entry {
    name: &'static str,
    label: Option<(&'static str, String)>,
    histogram: Arc<Histogram>,
}

static REGISTRY: RwLock<Vec<Entry>> = RwLock::new(Vec::new());

/// The histogram `name{label_name="label_value"}` (created on first use).
/// Take the handle once on hot paths; each call looks it up.
pub fn histogram(name: &'static str, label: Option<(&'static str, &str)>) -> Arc<Histogram> {
    let matches = |entry: &Entry| {
        entry.name == name
            && match (&entry.label, label) {
                (None, None) => true,
                (Some((k, v)), Some((key, value))) => *k == key && v == value,
                _ => false,
            }
    };
    if let Some(entry) = REGISTRY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|e| matches(e))
    {
        return entry.histogram.clone();
    }
    let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(entry) = registry.iter().find(|e| matches(e)) {
        return entry.histogram.clone();
    }
    let histogram = Arc::new(Histogram::default());
    registry.push(Entry {
        name,
        label: label.map(|(key, value)| (key, value.to_owned())),
        histogram: histogram.clone(),
    });
    histogram
}

/// Every registered histogram in the Prometheus text format (cumulative
/// `_bucket{le=…}` series, `_sum` in seconds, `_count`).
pub fn render_histograms() -> String {
    let registry = REGISTRY.read().unwrap_or_else(PoisonError::into_inner);
    let mut names: Vec<&'static str> = registry.iter().map(|e| e.name).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = String::new();
    for name in names {
        let _ = writeln!(out, "# TYPE {name} histogram");
        for entry in registry.iter().filter(|e| e.name == name) {
            let label = entry
                .label
                .as_ref()
                .map(|(key, value)| format!("{key}=\"{}\",", escape(value)))
                .unwrap_or_default();
            let plain = label.trim_end_matches(',');
            let h = &entry.histogram;
            let mut cumulative = 0u64;
            for (bound, bucket) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}_bucket{{{label}le=\"{bound}\"}} {cumulative}");
            }
            cumulative += h.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{label}le=\"+Inf\"}} {cumulative}");
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let braces = |s: &str| {
                if s.is_empty() {
                    String::new()
                } else {
                    format!("{{{s}}}")
                }
            };
            let _ = writeln!(out, "{name}_sum{} {sum}", braces(plain));
            let _ = writeln!(out, "{name}_count{} {}", braces(plain), h.count());
        }
        out.push('\n');
    }
    out
}

/// Escapes a label value as the text format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `commerce_kit_http_requests_total{route,status}` and
/// `commerce_kit_http_request_duration_seconds{route}`.
pub fn http_request(route: &str, status: http::StatusCode, elapsed: Duration) {
    metrics::counter!(
        "commerce_kit_http_requests_total",
        "route" => route.to_owned(),
        "status" => status_label(status)
    )
    .increment(1);
    histogram("commerce_kit_http_request_duration_seconds", Some(("route", route))).record(elapsed);
}

/// A status code as a label value without allocating for the usual ones.
pub fn status_label(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "200",
        202 => "202",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        431 => "431",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        code if code < 200 => "1xx",
        code if code < 300 => "2xx",
        code if code < 400 => "3xx",
        code if code < 500 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_sum_is_in_seconds() {
        let h = histogram("commerce_kit_test_seconds", Some(("route", "/a\"b")));
        h.record(Duration::from_micros(50)); // ≤ 0.0001
        h.record(Duration::from_micros(100)); // = 0.0001: in that bucket
        h.record(Duration::from_millis(3)); // ≤ 0.005
        h.record(Duration::from_secs(20)); // +Inf
        assert!(Arc::ptr_eq(
            &h,
            &histogram("commerce_kit_test_seconds", Some(("route", "/a\"b")))
        ));
        let text = render_histograms();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("commerce_kit_test_seconds"))
            .collect();
        assert_eq!(lines[0], "# TYPE commerce_kit_test_seconds histogram");
        assert_eq!(
            lines[1],
            r#"commerce_kit_test_seconds_bucket{route="/a\"b",le="0.0001"} 2"#
        );
        assert_eq!(
            lines[5],
            r#"commerce_kit_test_seconds_bucket{route="/a\"b",le="0.0025"} 2"#
        );
        assert_eq!(
            lines[6],
            r#"commerce_kit_test_seconds_bucket{route="/a\"b",le="0.005"} 3"#
        );
        assert_eq!(
            lines[14],
            r#"commerce_kit_test_seconds_bucket{route="/a\"b",le="10"} 3"#
        );
        assert_eq!(
            lines[15],
            r#"commerce_kit_test_seconds_bucket{route="/a\"b",le="+Inf"} 4"#
        );
        assert_eq!(lines[16], r#"commerce_kit_test_seconds_sum{route="/a\"b"} 20.00315"#);
        assert_eq!(lines[17], r#"commerce_kit_test_seconds_count{route="/a\"b"} 4"#);
    }
}
