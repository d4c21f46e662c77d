//! The dedicated HTTP client of the I/O Events ingress POST.
//!
//! Every accepted event is one `POST` to the same URL, so this client does
//! the least per request: hyper-util's pooled HTTP/1.1 client over rustls
//! (the same TLS stack reqwest uses here: the aws-lc-rs provider, TLS 1.2 and
//! 1.3, the platform's certificate verifier), with the URI and the constant
//! headers prepared once by [`IoEventsPublisher`](super::IoEventsPublisher).
//! It skips what a general-purpose client does on every request and the
//! ingress never needs: redirect and proxy handling, URL re-parsing, header
//! map copies, boxed timeouts.
//!
//! Connections are kept alive and reused (idle ones are closed after
//! 60 s), with `TCP_NODELAY` and TCP keep-alive probes, as with
//! [`commerce_kit_core::http::client`].
//!
//! Why it is kept beside reqwest (which [`IoEventsPublisher::new`](super::IoEventsPublisher::new)
//! still takes): `bench/ingestion.sh` (b), 2026-12-04, with the same build
//! publishing through reqwest as `BASELINE_BIN`: (b)/baseline 1.17 (medians
//! 22.7k vs 19.4k req/s; per-round ratios 1.02-1.61, median 1.20). The
//! project keeps a second transport only while it wins by 5 % or more on that
//! benchmark: measure again before changing it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// How long an idle pooled connection is kept.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The ingress client could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngressClientError {
    /// The TLS configuration could not be built (no usable certificate verifier).
    #[error("TLS set-up of the I/O Events client failed: {0}")]
    Tls(String),
    /// The ingress URL is not a valid HTTP request target.
    #[error("invalid I/O Events ingress URL: {0}")]
    Url(String),
    /// A constant header (client id, org id) is not a valid HTTP header value.
    #[error("invalid value for the {0} header")]
    Header(&'static str),
}

/// A pooled HTTP/1.1 client (http and https) for the ingress. Cheap to clone:
/// clones share the connection pool.
#[derive(Clone)]
pub struct IngressClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for IngressClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressClient").finish_non_exhaustive()
    }
}

impl IngressClient {
    /// A client whose TCP + TLS connection set-up is limited to `connect_timeout`
    /// (the time limit of a whole attempt is set by the publisher).
    pub fn new(connect_timeout: Duration) -> Result<Self, IngressClientError> {
        use rustls_platform_verifier::BuilderVerifierExt;

        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| IngressClientError::Tls(e.to_string()))?
            .with_platform_verifier()
            .map_err(|e| IngressClientError::Tls(e.to_string()))?
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(15)));
        http.set_keepalive_interval(Some(Duration::from_secs(15)));
        http.set_keepalive_retries(Some(3));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Ok(Self { client })
    }

    /// Sends `request` on a pooled connection (or a new one).
    pub(crate) async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        self.client.request(request).await
    }
}

/// An error and its causes, `: `-separated (no URL: hyper's errors carry none).
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
