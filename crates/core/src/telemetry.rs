//! The metrics the kit records, through the [`metrics`] facade: nothing is
//! recorded until a binary installs a recorder (the binaries install a
//! Prometheus one and serve it at `GET /metrics`), so libraries pay only a
//! no-op call without one.
//!
//! Every name starts with `commerce_kit_`; label values come from bounded
//! sets (route patterns, status codes, outcome names), never from client
//! input. The README lists them all.

use std::time::Duration;

/// `commerce_kit_http_requests_total{route,status}` and
/// `commerce_kit_http_request_duration_seconds{route}`.
pub fn http_request(route: &str, status: http::StatusCode, elapsed: Duration) {
    let route = route.to_owned();
    metrics::counter!(
        "commerce_kit_http_requests_total",
        "route" => route.clone(),
        "status" => status_label(status)
    )
    .increment(1);
    metrics::histogram!("commerce_kit_http_request_duration_seconds", "route" => route).record(elapsed.as_secs_f64());
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
