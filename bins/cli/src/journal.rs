//! Settings of the I/O Events Journaling API puller (`serve`, `event-consumer`):
//! with `IO_EVENTS_JOURNAL_URL`, events are pulled from the registration's
//! journal into the local bus and handled there (see
//! `commerce_kit_events::journal`), with the project's IMS credentials.
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--io-events-journal-url URL` | `IO_EVENTS_JOURNAL_URL` | none: no journal |
//! | `--io-events-journal-limit N` | `IO_EVENTS_JOURNAL_LIMIT` | the API's |
//! | `--io-events-journal-idle-secs SECS` | `IO_EVENTS_JOURNAL_IDLE_SECS` | 10 (after a 204 without `retry-after`) |

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_events::bus::LocalBus;
use commerce_kit_events::journal::{JournalHandle, JournalOptions, spawn_journal};

use crate::config::ConfigError;
use crate::ims::{ImsArgs, http_url};

/// The journal puller's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct JournalArgs {
    /// The I/O Events registration's journal URL (Developer Console: the registration's
    /// Journaling endpoint): events are pulled from it instead of (or beside) webhook deliveries.
    #[arg(long, env = "IO_EVENTS_JOURNAL_URL", value_name = "URL")]
    pub io_events_journal_url: Option<String>,

    /// Events per journal request (the API's default when unset).
    #[arg(long, env = "IO_EVENTS_JOURNAL_LIMIT", value_name = "N")]
    pub io_events_journal_limit: Option<u32>,

    /// Seconds to wait after the journal's end (a 204 without `retry-after`).
    #[arg(long, env = "IO_EVENTS_JOURNAL_IDLE_SECS", default_value_t = 10, value_name = "SECS")]
    pub io_events_journal_idle_secs: u64,
}

/// A configured puller, ready to start on a bus.
#[derive(Debug)]
pub struct Journal {
    client: reqwest::Client,
    ims: Arc<commerce_kit_core::ims::ImsTokenProvider>,
    options: JournalOptions,
}

impl JournalArgs {
    /// True when a journal URL is set.
    pub fn is_set(&self) -> bool {
        self.io_events_journal_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
    }

    /// The validated puller, or `None` without a journal URL; `ims` are the
    /// project's credentials (required with a journal URL).
    pub fn build(&self, ims: &ImsArgs) -> Result<Option<Journal>, ConfigError> {
        let Some(raw) = self.io_events_journal_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let url = http_url("--io-events-journal-url", "IO_EVENTS_JOURNAL_URL", raw)?;
        if self.io_events_journal_limit == Some(0) {
            return Err(ConfigError::setting(
                "--io-events-journal-limit",
                "IO_EVENTS_JOURNAL_LIMIT",
                "must be greater than 0",
            ));
        }
        if self.io_events_journal_idle_secs == 0 {
            return Err(ConfigError::setting(
                "--io-events-journal-idle-secs",
                "IO_EVENTS_JOURNAL_IDLE_SECS",
                "must be greater than 0",
            ));
        }
        let (provider, _) = ims.provider("reading the I/O Events journal (IO_EVENTS_JOURNAL_URL)")?;
        let client = commerce_kit_core::http::client(commerce_kit_core::http::ClientTimeouts::default())
            .map_err(|e| ConfigError(e.to_string()))?;
        let mut options = JournalOptions::new(url);
        options.org_id = ims.org_id();
        options.limit = self.io_events_journal_limit;
        options.idle_wait = Duration::from_secs(self.io_events_journal_idle_secs);
        Ok(Some(Journal {
            client,
            ims: Arc::new(provider),
            options,
        }))
    }
}

impl Journal {
    /// Starts pulling into `bus` (whose local-bus loop handles the events).
    pub fn spawn(self, bus: LocalBus) -> JournalHandle {
        spawn_journal(self.client, self.ims, bus, self.options)
    }
}
