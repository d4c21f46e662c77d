//! [`PanicGuardLayer`]: a panicking handler answers 500 JSON and the server keeps serving.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::fallback::panic_response;

/// Catches a panic in the inner service (while it is called or while its
/// future is polled), logs it at error level without sending its text (it may
/// be internal), and answers 500 `{"error":"internal error"}`.
///
/// Unlike tower-http's `CatchPanicLayer`, the response body is left as it is
/// (no boxing per request).
///
/// ```
/// use axum::{Router, routing::get};
/// use commerce_kit_core::server::PanicGuardLayer;
///
/// async fn boom() -> &'static str {
///     panic!("a bug")
/// }
/// let app: Router = Router::new().route("/boom", get(boom)).layer(PanicGuardLayer);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PanicGuardLayer;

impl<S> Layer<S> for PanicGuardLayer {
    type Service = PanicGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PanicGuard { inner }
    }
}

/// The service of [`PanicGuardLayer`].
#[derive(Debug, Clone)]
pub struct PanicGuard<S> {
    inner: S,
}

impl<S> Service<Request> for PanicGuard<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = PanicGuardFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(inner) => PanicGuardFuture::Running { inner },
            Err(payload) => PanicGuardFuture::Panicked {
                response: Some(panic_response(payload)),
            },
        }
    }
}

pin_project! {
    /// The response future of [`PanicGuard`].
    #[allow(missing_docs)] // fields of pin-project-lite enums cannot carry docs
    #[project = PanicGuardProj]
    pub enum PanicGuardFuture<F> {
        /// The inner service's future.
        Running {
            #[pin]
            inner: F,
        },
        /// The inner service panicked; its 500 answer, until taken.
        Panicked {
            response: Option<Response>,
        },
    }
}

impl<F, E> Future for PanicGuardFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self;
        let outcome = match this.as_mut().project() {
            PanicGuardProj::Running { inner } => match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(poll) => return poll,
                Err(payload) => panic_response(payload),
            },
            PanicGuardProj::Panicked { response } => match response.take() {
                Some(response) => response,
                None => panic!("PanicGuardFuture polled after completion"),
            },
        };
        // A panicked future must not be polled again.
        this.set(PanicGuardFuture::Panicked { response: None });
        Poll::Ready(Ok(outcome))
    }
}
