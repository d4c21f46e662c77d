//! A request body that fails once it has stalled for too long.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error of a [`DeadlineBody`] whose client stopped sending.
/// [`read_limited`](crate::body::read_limited) turns it into
/// [`BodyError::TimedOut`](crate::body::BodyError::TimedOut) (408).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request body not received within {} s", .after.as_secs())]
pub struct BodyTimeout {
    /// The time the body was given.
    pub after: Duration,
}

pin_project! {
    /// Wraps a request body: the first time the body has nothing ready, a
    /// clock starts, and if the whole body has not arrived `timeout` later the
    /// body fails with [`BodyTimeout`]. A body that arrives with its headers
    /// (the common case) never starts the clock, so costs no timer.
    ///
    /// [`serve_with`](super::serve_with) wraps every request's body in one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use commerce_kit_core::body::{read_limited, BodyError};
    /// use commerce_kit_core::server::DeadlineBody;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// // A body that never sends anything.
    /// let stalled = http_body_util::StreamBody::new(
    ///     futures_util::stream::pending::<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>(),
    /// );
    /// let body = DeadlineBody::new(stalled, Duration::from_millis(20));
    /// let err = read_limited(body, 1024).await.unwrap_err();
    /// assert!(matches!(err, BodyError::TimedOut { .. }));
    /// assert_eq!(err.status(), 408);
    /// # });
    /// ```
    #[derive(Debug)]
    pub struct DeadlineBody<B> {
        #[pin]
        inner: B,
        timeout: Duration,
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<B> DeadlineBody<B> {
    /// `inner`, allowed `timeout` from the moment it first stalls.
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: None,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body,
    B::Data: Buf,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        if this.deadline.is_none() {
            this.deadline.set(Some(tokio::time::sleep(*this.timeout)));
        }
        if let Some(deadline) = this.deadline.as_pin_mut()
            && deadline.poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout { after: *this.timeout }))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
