//! Consuming Adobe I/O Events through the Journaling API: the same events as
//! webhook deliveries, pulled with a cursor, for networks that allow only
//! outbound calls (no public endpoint for Adobe to reach).
//!
//! [`spawn_journal`] starts a task that pulls the registration's journal and
//! stores each event in the local bus; the local-bus loop ([`crate::local`])
//! then handles them with the same routing, dedupe, loop guard, handlers and
//! concurrent ordered dispatch as any event:
//!
//! - `GET <journal url>?since=<position>&limit=N` (the stored position; the
//!   journal's oldest event the first time), `Authorization: Bearer <IMS
//!   token>`, `x-api-key`, `x-ims-org-id`;
//! - 200 `{"events":[{"position","event"}],"_page":{"last","count"}}`: every
//!   event is appended to the local bus (idempotent on its id: a page fetched
//!   again after a crash stores nothing twice), **then** the page's last
//!   position is stored durably in the bus (`LocalBus::set_cursor`); the next
//!   request follows `Link: rel="next"`;
//! - 204: the end of the journal for now: wait as `retry-after` says (else
//!   [`JournalOptions::idle_wait`]), then ask again from the same position;
//! - 429 and 5xx, timeouts, transport errors: back off (doubling from
//!   [`JournalOptions::min_backoff`] to [`JournalOptions::max_backoff`], or
//!   `retry-after`) and ask again;
//! - 401: the token is dropped and fetched again, once; a second 401 backs off;
//! - any other answer, or a page that is not what the API sends (not JSON, an
//!   event that is not a CloudEvent, no position): logged at error with what is
//!   wrong, the position is not moved, and the request is retried after a
//!   backoff: the journal is never skipped past an event that was not stored.
//!
//! Metrics: `commerce_kit_journal_requests_total{outcome="events"|"end"|"failed"}`
//! (pages stored, 204s, failed requests) and `commerce_kit_journal_events_total`
//! (events stored in the local bus).
//!
//! Why store before handling: the journal's position moves only past events
//! that are in the local journal, durably; from there they are handled, retried
//! and dead-lettered by the local-bus loop, whose acknowledgement survives a
//! crash. After a `kill -9`, the puller resumes from the stored position: a
//! page fetched but not yet recorded is fetched again and its events are
//! recognised by their ids (nothing stored twice); the local-bus loop hands
//! over again at most its window (see [`crate::local`]).

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::ims::ImsTokenProvider;
use reqwest::Url;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bus::LocalBus;
use crate::cloudevent::CloudEvent;
use crate::local::{doubling, sleep_or_stop, stop_requested};

/// The default name of the journal's position in the local bus.
pub const DEFAULT_CURSOR_NAME: &str = "io-events-journal";

/// How the puller reads the journal.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// The registration's journal endpoint (I/O Console: the registration's
    /// "Journaling" URL, `https://events-va6.adobe.io/events/organizations/…`).
    pub url: Url,
    /// `x-ims-org-id`, the IMS organization.
    pub org_id: Option<String>,
    /// `limit` per request (the API's own default when `None`).
    pub limit: Option<u32>,
    /// The wait after a 204 without `retry-after`.
    pub idle_wait: Duration,
    /// The first wait after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// The name the position is stored under in the local bus.
    pub cursor_name: String,
}

impl JournalOptions {
    /// Defaults for `url`: no org id, the API's page size, 10 s idle wait,
    /// backoff from 500 ms to 60 s, 30 s requests.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            org_id: None,
            limit: None,
            idle_wait: Duration::from_secs(10),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            cursor_name: DEFAULT_CURSOR_NAME.to_owned(),
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        doubling(self.min_backoff, self.max_backoff, failures)
    }
}

/// One page of the Journaling API.
#[derive(Deserialize)]
struct Page {
    events: Vec<Entry>,
    #[serde(rename = "_page")]
    page: Option<PageInfo>,
}

#[derive(Deserialize)]
struct Entry {
    position: String,
    event: serde_json::Value,
}

#[derive(Deserialize)]
struct PageInfo {
    last: Option<String>,
}

/// The running puller. Dropping the handle does not stop it; call [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct JournalHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl JournalHandle {
    /// Asks the puller to stop and waits until it has (a request in flight is dropped).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            tracing::error!(error = %err, "journal puller task failed");
        }
    }
}

/// Starts pulling the journal into `bus`; see the [module docs](self).
pub fn spawn_journal(
    client: reqwest::Client,
    ims: Arc<ImsTokenProvider>,
    bus: LocalBus,
    options: JournalOptions,
) -> JournalHandle {
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(pull(client, ims, bus, options, stop_rx));
    JournalHandle { stop, task }
}

/// What one request came to.
enum Step {
    /// Events stored (maybe none), position recorded; go on at `next`.
    Stored { count: usize, next: Url },
    /// The end of the journal for now: ask again after `wait`.
    Idle { wait: Duration, next: Url },
    /// A failure: ask `again` after a backoff (or `wait` when the server said).
    Failed { reason: String, wait: Option<Duration> },
}

async fn pull(
    client: reqwest::Client,
    ims: Arc<ImsTokenProvider>,
    bus: LocalBus,
    options: JournalOptions,
    mut stop: watch::Receiver<bool>,
) {
    let name = options.cursor_name.clone();
    let mut failures = 0u32;
    let mut next = loop {
        match bus.cursor(&name).await {
            Ok(position) => break start_url(&options, position.as_deref()),
            Err(err) => {
                failures += 1;
                tracing::error!(error = %err, failures, "journal puller: cannot read its stored position; retrying");
                if sleep_or_stop(&mut stop, options.backoff(failures)).await {
                    return;
                }
            }
        }
    };
    failures = 0;
    tracing::info!(
        journal = %without_query(&options.url),
        from = %next,
        "journal puller started: events are pulled from the I/O Events journal into the local bus"
    );
    // Present from the start, so a dashboard shows 0 rather than no data.
    for outcome in ["events", "end", "failed"] {
        metrics::counter!("commerce_kit_journal_requests_total", "outcome" => outcome).increment(0);
    }
    metrics::counter!("commerce_kit_journal_events_total").increment(0);
    loop {
        if *stop.borrow() {
            break;
        }
        let step = tokio::select! {
            step = fetch(&client, &ims, &bus, &options, &next) => step,
            () = stop_requested(&mut stop) => break,
        };
        let outcome = match &step {
            Step::Stored { .. } => "events",
            Step::Idle { .. } => "end",
            Step::Failed { .. } => "failed",
        };
        metrics::counter!("commerce_kit_journal_requests_total", "outcome" => outcome).increment(1);
        let wait = match step {
            Step::Stored { count, next: link } => {
                metrics::counter!("commerce_kit_journal_events_total").increment(count as u64);
                if failures > 0 {
                    tracing::info!(failures, "journal puller: the journal answers again");
                }
                failures = 0;
                if count > 0 {
                    tracing::info!(events = count, "journal puller: events stored in the local bus");
                }
                next = link;
                Duration::ZERO
            }
            Step::Idle { wait, next: link } => {
                failures = 0;
                next = link;
                wait
            }
            Step::Failed { reason, wait } => {
                failures += 1;
                let wait = wait.unwrap_or_else(|| options.backoff(failures));
                tracing::error!(
                    error = %reason,
                    failures,
                    retry_in_ms = wait.as_millis() as u64,
                    "journal puller: request failed; the position is not moved and the request is retried"
                );
                wait
            }
        };
        if !wait.is_zero() && sleep_or_stop(&mut stop, wait).await {
            break;
        }
    }
    tracing::info!("journal puller stopped");
}

/// The first request: from the stored position, else from the journal's start.
fn start_url(options: &JournalOptions, position: Option<&str>) -> Url {
    let mut url = options.url.clone();
    {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "since" | "limit" | "latest" | "seek"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut query = url.query_pairs_mut();
        query.clear().extend_pairs(kept);
        if let Some(position) = position {
            query.append_pair("since", position);
        }
        if let Some(limit) = options.limit {
            query.append_pair("limit", &limit.to_string());
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

/// The journal URL without its query, for logs.
fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// One request, with one re-authentication on 401.
async fn fetch(
    client: &reqwest::Client,
    ims: &ImsTokenProvider,
    bus: &LocalBus,
    options: &JournalOptions,
    url: &Url,
) -> Step {
    let mut reauthenticated = false;
    loop {
        let token = match ims.token().await {
            Ok(token) => token,
            Err(err) => {
                return Step::Failed {
                    reason: format!("no IMS token: {err}"),
                    wait: None,
                };
            }
        };
        let Some(bearer) = token.bearer_header() else {
            return Step::Failed {
                reason: "the IMS token is not a valid header value".to_owned(),
                wait: None,
            };
        };
        let mut request = client
            .get(url.clone())
            .timeout(options.timeout)
            .header(http::header::AUTHORIZATION, bearer.clone())
            .header("x-api-key", ims.client_id());
        if let Some(org) = &options.org_id {
            request = request.header("x-ims-org-id", org);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                return Step::Failed {
                    reason: format!(
                        "GET {}: {}",
                        without_query(url),
                        commerce_kit_core::http::without_url(&err)
                    ),
                    wait: None,
                };
            }
        };
        let status = response.status();
        let retry_after = commerce_kit_core::http::retry_after(response.headers());
        let link = next_link(response.headers(), url);
        match status.as_u16() {
            200 => {
                let body = match response.bytes().await {
                    Ok(body) => body,
                    Err(err) => {
                        return Step::Failed {
                            reason: format!("reading the page: {}", commerce_kit_core::http::without_url(&err)),
                            wait: None,
                        };
                    }
                };
                return store_page(bus, options, url, &body, link).await;
            }
            204 => {
                return Step::Idle {
                    wait: retry_after.unwrap_or(options.idle_wait),
                    next: link.unwrap_or_else(|| url.clone()),
                };
            }
            401 if !reauthenticated => {
                tracing::warn!("journal puller: the journal answered 401; fetching a new IMS token once");
                ims.invalidate(&token);
                reauthenticated = true;
                continue;
            }
            code => {
                let text = response.text().await.unwrap_or_default();
                let detail: String = text.chars().take(300).collect();
                let retryable = code == 429 || code >= 500;
                return Step::Failed {
                    reason: format!(
                        "GET {} answered {status}{}: {}",
                        without_query(url),
                        if retryable {
                            ""
                        } else {
                            " (not a retryable answer: check the journal URL and the credentials)"
                        },
                        detail.trim()
                    ),
                    wait: retry_after,
                };
            }
        }
    }
}

/// `Link: <…>; rel="next"`, resolved against the request's URL.
fn next_link(headers: &http::HeaderMap, base: &Url) -> Option<Url> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| base.join(target).ok()).flatten()
        })
}

/// Stores a 200 page's events, then its position.
async fn store_page(bus: &LocalBus, options: &JournalOptions, url: &Url, body: &[u8], link: Option<Url>) -> Step {
    let malformed = |what: String| Step::Failed {
        reason: format!(
            "GET {} answered a page that is not what the Journaling API sends: {what}",
            without_query(url)
        ),
        wait: None,
    };
    let page: Page = match serde_json::from_slice(body) {
        Ok(page) => page,
        Err(err) => return malformed(format!("{err}")),
    };
    let mut events = Vec::with_capacity(page.events.len());
    for (i, entry) in page.events.iter().enumerate() {
        if entry.position.is_empty() {
            return malformed(format!("events[{i}] has an empty position"));
        }
        match serde_json::from_value::<CloudEvent>(entry.event.clone()) {
            Ok(event) => events.push(event),
            Err(err) => return malformed(format!("events[{i}].event is not a CloudEvent: {err}")),
        }
    }
    let last = page
        .page
        .and_then(|p| p.last)
        .or_else(|| page.events.last().map(|e| e.position.clone()));
    for event in &events {
        let key = format!("journal:{}", event.event_id());
        if let Err(err) = bus.append_once(&key, event).await {
            return Step::Failed {
                reason: format!("storing event '{}' in the local bus: {err}", event.event_id()),
                wait: None,
            };
        }
    }
    if let Some(last) = &last
        && let Err(err) = bus.set_cursor(&options.cursor_name, last).await
    {
        return Step::Failed {
            reason: format!("storing the journal position in the local bus: {err}"),
            wait: None,
        };
    }
    // Without a next link, ask again from the position just stored.
    let next = link.unwrap_or_else(|| match &last {
        Some(last) => start_url(options, Some(last)),
        None => url.clone(),
    });
    Step::Stored {
        count: events.len(),
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_starts_at_the_stored_position() {
        let mut o = JournalOptions::new(Url::parse("https://journal.test/events/org/x?latest=true&a=b").expect("url"));
        assert_eq!(start_url(&o, None).as_str(), "https://journal.test/events/org/x?a=b");
        o.limit = Some(50);
        assert_eq!(
            start_url(&o, Some("pos/1+2")).as_str(),
            "https://journal.test/events/org/x?a=b&since=pos%2F1%2B2&limit=50"
        );
    }

    #[test]
    fn next_links_are_found_and_resolved() {
        let base = Url::parse("https://journal.test/events/org/x?since=a").expect("url");
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::LINK,
            http::HeaderValue::from_static(
                "</events/org/x?since=b>; rel=\"next\", </events/org/x?latest=true>; rel=\"latest\"",
            ),
        );
        assert_eq!(
            next_link(&headers, &base).map(|u| u.to_string()).as_deref(),
            Some("https://journal.test/events/org/x?since=b")
        );
        headers.insert(
            http::header::LINK,
            http::HeaderValue::from_static("<https://other.test/p>; rel=latest"),
        );
        assert_eq!(next_link(&headers, &base), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let mut o = JournalOptions::new(Url::parse("https://j.test/").expect("url"));
        o.min_backoff = Duration::from_millis(100);
        o.max_backoff = Duration::from_millis(300);
        let waits: Vec<u128> = (1..=4).map(|f| o.backoff(f).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 300, 300]);
    }
}
