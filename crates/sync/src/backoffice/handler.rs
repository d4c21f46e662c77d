//! [`BackOfficeHandler`]: the reference handler of the Commerce routes.

use commerce_kit_events::{CloudEvent, EventContext, EventHandler, HandlerError, HandlerResult};

use super::client::BackOfficeClient;
use super::contract::{CommerceRoute, back_office_request};

/// The reference handler of the 11 Commerce routes: the event becomes a
/// [`BackOfficeRequest`](super::BackOfficeRequest) ([`back_office_request`])
/// POSTed with a [`BackOfficeClient`].
///
/// | outcome | answered | what happens to the event |
/// |---|---|---|
/// | the back office answered 2xx | 200 `{"success":true,"message":"<route> sent to <url>: <status>"}` | done |
/// | the event cannot be mapped (routing, `data.value`, a required field) | 400 naming the field | dropped (dead letter) |
/// | the back office answered 4xx other than 429 | the same status, with its `error` or `message` | dropped (dead letter) |
/// | the back office answered 429 or 5xx | the same status | retried (505: dropped) |
/// | it answered another status (3xx) | 502 | retried |
/// | no answer in time, no connection | 503 | retried |
///
/// Register it on each of [`BackOfficeHandler::routes`]; wrap it in a handler
/// of your own to add behaviour, or use [`back_office_request`] and
/// [`BackOfficeClient::send`] directly.
#[derive(Debug, Clone)]
pub struct BackOfficeHandler {
    client: BackOfficeClient,
}

impl BackOfficeHandler {
    /// A handler posting with `client`.
    pub fn new(client: BackOfficeClient) -> Self {
        Self { client }
    }

    /// The client it posts with.
    pub fn client(&self) -> &BackOfficeClient {
        &self.client
    }

    /// The 11 route names it handles (`product-commerce/created`, …).
    pub fn routes() -> impl Iterator<Item = &'static str> {
        CommerceRoute::ALL.into_iter().map(CommerceRoute::name)
    }
}

#[async_trait::async_trait]
impl EventHandler for BackOfficeHandler {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        let request = back_office_request(&event, &ctx)?;
        let answer = self.client.send(&request).await?;
        Ok(HandlerResult::success(format!(
            "{} sent to {}: {}",
            request.route.name(),
            super::client::shown(&self.client.url_for(&request.path)),
            answer.status.as_u16()
        )))
    }
}
