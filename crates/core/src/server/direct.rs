//! [`DirectRoute`]: one hot route served without the router's per-request work.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use http::Method;
use pin_project_lite::pin_project;
use tower::Service;

/// Serves requests whose method and path match exactly with `handler`, and
/// every other request with `router`.
///
/// A synchronous webhook that Commerce calls on every add-to-cart is worth
/// sparing the router's work (path matching, boxed route services, extractors):
/// matching one method and one path is a couple of comparisons. The router
/// should still hold the same route, so that other methods on that path get
/// its 405 answer. Wrap it with [`app_service`](super::app_service) for
/// `/health`, fallbacks, request ids and the panic guard.
///
/// ```
/// use axum::{Router, extract::Request, response::IntoResponse, routing::post};
/// use commerce_kit_core::server::DirectRoute;
/// use http::Method;
///
/// async fn hello(_: Request) -> axum::response::Response {
///     "hi".into_response()
/// }
/// let router = Router::new().route("/hello", post(hello));
/// let service = DirectRoute::new(Method::POST, "/hello", hello, router);
/// ```
#[derive(Clone)]
pub struct DirectRoute<H> {
    method: Method,
    path: &'static str,
    handler: H,
    router: Router,
}

impl<H> std::fmt::Debug for DirectRoute<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectRoute")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<H> DirectRoute<H> {
    /// `method` `path` served by `handler`, the rest by `router`.
    pub fn new(method: Method, path: &'static str, handler: H, router: Router) -> Self {
        Self {
            method,
            path,
            handler,
            router,
        }
    }
}

impl<H, Fut> Service<Request> for DirectRoute<H>
where
    H: Fn(Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DirectFuture<Fut, <Router as Service<Request>>::Future>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() == self.method && request.uri().path() == self.path {
            DirectFuture::Direct {
                inner: (self.handler)(request),
            }
        } else {
            DirectFuture::Routed {
                inner: self.router.call(request),
            }
        }
    }
}

pin_project! {
    /// The response future of [`DirectRoute`].
    #[allow(missing_docs)] // fields of pin-project-lite enums cannot carry docs
    #[project = DirectFutureProj]
    pub enum DirectFuture<D, R> {
        /// The direct handler's.
        Direct {
            #[pin]
            inner: D,
        },
        /// The router's.
        Routed {
            #[pin]
            inner: R,
        },
    }
}

impl<D, R> Future for DirectFuture<D, R>
where
    D: Future<Output = Response>,
    R: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            DirectFutureProj::Direct { inner } => inner.poll(cx).map(Ok),
            DirectFutureProj::Routed { inner } => inner.poll(cx),
        }
    }
}
