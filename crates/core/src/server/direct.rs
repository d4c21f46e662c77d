//! [`DirectRoute`]: one hot route served without the router's per-request work.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use futures_util::FutureExt;
use futures_util::future::Map;
use http::Method;
use pin_project_lite::pin_project;
use tower::Service;

/// Sends requests whose method and path match exactly to the `direct`
/// service, and every other request to `rest` (usually a Router with its
/// layers).
///
/// A synchronous webhook that Commerce calls on every add-to-cart is worth
/// sparing the router's work (path matching, boxed route services, extractors):
/// matching one method and one path is a couple of comparisons. `rest` should
/// still hold the same route, so that other methods on that path get its 405
/// answer. [`app_direct`](super::app_direct) builds the usual stack.
///
/// ```
/// use axum::{Router, extract::Request, response::{IntoResponse, Response}, routing::post};
/// use commerce_kit_core::server::{DirectRoute, HandlerService};
/// use http::Method;
///
/// async fn hello(_: Request) -> Response {
///     "hi".into_response()
/// }
/// let router: Router = Router::new().route("/hello", post(hello));
/// let service = DirectRoute::new(Method::POST, "/hello", HandlerService::new(hello), router);
/// ```
#[derive(Debug, Clone)]
pub struct DirectRoute<D, R> {
    method: Method,
    path: &'static str,
    direct: D,
    rest: R,
}

impl<D, R> DirectRoute<D, R> {
    /// `method` `path` served by `direct`, the rest by `rest`.
    pub fn new(method: Method, path: &'static str, direct: D, rest: R) -> Self {
        Self {
            method,
            path,
            direct,
            rest,
        }
    }
}

impl<D, R> Service<Request> for DirectRoute<D, R>
where
    D: Service<Request, Response = Response, Error = Infallible>,
    R: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DirectFuture<D::Future, R::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both are always ready in practice (handlers, Router); ask both anyway.
        if self.direct.poll_ready(cx)?.is_pending() {
            return Poll::Pending;
        }
        self.rest.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() == self.method && request.uri().path() == self.path {
            DirectFuture::Direct {
                inner: self.direct.call(request),
            }
        } else {
            DirectFuture::Routed {
                inner: self.rest.call(request),
            }
        }
    }
}

pin_project! {
    /// The response future of [`DirectRoute`].
    #[allow(missing_docs)] // fields of pin-project-lite enums cannot carry docs
    #[project = DirectFutureProj]
    pub enum DirectFuture<D, R> {
        /// The direct service's.
        Direct {
            #[pin]
            inner: D,
        },
        /// The other routes'.
        Routed {
            #[pin]
            inner: R,
        },
    }
}

impl<D, R> Future for DirectFuture<D, R>
where
    D: Future<Output = Result<Response, Infallible>>,
    R: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            DirectFutureProj::Direct { inner } => inner.poll(cx),
            DirectFutureProj::Routed { inner } => inner.poll(cx),
        }
    }
}

/// An async function from request to response as a tower service (never fails).
#[derive(Debug, Clone)]
pub struct HandlerService<H> {
    handler: H,
}

impl<H> HandlerService<H> {
    /// Wraps `handler`.
    pub fn new(handler: H) -> Self {
        Self { handler }
    }
}

impl<H, Fut> Service<Request> for HandlerService<H>
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Map<Fut, fn(Response) -> Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        (self.handler)(request).map(Ok)
    }
}
