//! `dead-letters`: list, show, replay or discard the local bus's dead letters.
//!
//! - With `--url` (`ADMIN_URL`), through a running server's admin API
//!   (`/admin/dead-letters`, token `ADMIN_TOKEN`): while `serve` runs.
//! - Without it, on the journal itself (`--data-dir`): only while no server
//!   holds it (the file is locked).
//!
//! Output: `list` prints one JSON object per letter and line, oldest first
//! (`{"offset","at","reason","event"}`); the others print the JSON answer.
//! Exit status: 0 done, 1 refused (no such letter, wrong token, …) or the
//! server unreachable, 2 bad usage.

use std::path::PathBuf;
use std::time::Duration;

use commerce_kit_events::bus::{BusError, LocalBus};
use commerce_kit_events::local::DEFAULT_CONSUMER_NAME;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::config::ConfigError;
use crate::tooling::{EXIT_OK, EXIT_REFUSED, Outcome};

/// `dead-letters` arguments (shared by `commerce-kit` and `event-consumer`).
#[derive(Debug, Clone, clap::Args)]
pub struct DeadLettersArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<DeadLetterAction>,
    /// A running server's base URL (e.g. http://127.0.0.1:8080): go through its admin API.
    #[arg(long, env = "ADMIN_URL", value_name = "URL", global = true)]
    pub url: Option<String>,
    /// The admin API's token (the server's ADMIN_TOKEN).
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        global = true
    )]
    pub admin_token: Option<SecretString>,
    /// Directory of the local bus journal (bus.redb), without --url.
    #[arg(long, env = "DATA_DIR", default_value = "./data", value_name = "DIR", global = true)]
    pub data_dir: PathBuf,
    /// Consumer whose dead letters these are, without --url (the server knows its own).
    #[arg(long, env = "EVENTS_CONSUMER_NAME", default_value = DEFAULT_CONSUMER_NAME, global = true)]
    pub consumer: String,
}

/// One dead-letter action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum DeadLetterAction {
    /// Every dead letter, oldest first, one JSON object per line.
    List,
    /// One dead letter.
    Show {
        /// Its journal offset.
        offset: u64,
    },
    /// Put it back in the journal (same event id) to be handled again, after the events of its
    /// ordering key already there.
    Replay {
        /// Its journal offset.
        offset: u64,
    },
    /// Remove it for good.
    Discard {
        /// Its journal offset.
        offset: u64,
    },
}

impl DeadLettersArgs {
    /// Runs the action; see the [module docs](self).
    pub async fn run(&self) -> Result<Outcome, ConfigError> {
        let action = self.action.unwrap_or(DeadLetterAction::List);
        match &self.url {
            Some(url) => self.remote(url, action).await,
            None => Ok(self.local(action).await.unwrap_or_else(|err| Outcome {
                report: format!("{err}\n"),
                status: EXIT_REFUSED,
            })),
        }
    }

    async fn local(&self, action: DeadLetterAction) -> Result<Outcome, BusError> {
        let bus = LocalBus::open(&self.data_dir)?;
        let name = self.consumer.as_str();
        let done = |value: Value| Outcome {
            report: format!("{value}\n"),
            status: EXIT_OK,
        };
        Ok(match action {
            DeadLetterAction::List => Outcome {
                report: bus
                    .dead_letters(name)
                    .await?
                    .into_iter()
                    .map(|l| format!("{}\n", json!(l)))
                    .collect(),
                status: EXIT_OK,
            },
            DeadLetterAction::Show { offset } => match bus.dead_letter_at(name, offset).await? {
                Some(l) => done(json!(l)),
                None => Outcome {
                    report: format!("consumer '{name}' has no dead letter at offset {offset}\n"),
                    status: EXIT_REFUSED,
                },
            },
            DeadLetterAction::Replay { offset } => {
                let replayed = bus.replay(name, offset).await?;
                let event_id = replayed.letter.event.event_id();
                done(json!({"replayed": offset, "offset": replayed.offset, "event_id": event_id}))
            }
            DeadLetterAction::Discard { offset } => {
                let l = bus.discard(name, offset).await?;
                done(json!({"discarded": offset, "event_id": l.event.event_id()}))
            }
        })
    }

    async fn remote(&self, base: &str, action: DeadLetterAction) -> Result<Outcome, ConfigError> {
        let bad_url = |problem: &str| ConfigError::setting("--url", "ADMIN_URL", problem);
        let mut base = reqwest::Url::parse(base).map_err(|_| bad_url("not an absolute URL"))?;
        if !base.path().ends_with('/') {
            // a server behind a path prefix: http://host/commerce-kit → …/commerce-kit/admin/…
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(bad_url("must be an http:// or https:// URL with a host"));
        }
        let token = self.admin_token.as_ref().ok_or_else(|| {
            ConfigError::setting(
                "--admin-token",
                "ADMIN_TOKEN",
                "is needed with --url (the server's ADMIN_TOKEN)",
            )
        })?;
        let path = match action {
            DeadLetterAction::List => "admin/dead-letters".to_owned(),
            DeadLetterAction::Show { offset } | DeadLetterAction::Discard { offset } => {
                format!("admin/dead-letters/{offset}")
            }
            DeadLetterAction::Replay { offset } => format!("admin/dead-letters/{offset}/replay"),
        };
        let url = base
            .join(&path)
            .map_err(|_| bad_url("cannot be joined with the admin path"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ConfigError(format!("cannot build an HTTP client: {e}")))?;
        let request = match action {
            DeadLetterAction::List | DeadLetterAction::Show { .. } => http.get(url.clone()),
            DeadLetterAction::Replay { .. } => http.post(url.clone()),
            DeadLetterAction::Discard { .. } => http.delete(url.clone()),
        };
        let response = match request.bearer_auth(token.expose_secret()).send().await {
            Ok(response) => response,
            Err(err) => {
                return Ok(Outcome {
                    report: format!(
                        "{url} could not be reached: {}\n",
                        commerce_kit_core::http::root_cause(&err)
                    ),
                    status: EXIT_REFUSED,
                });
            }
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("no error message");
            return Ok(Outcome {
                report: format!("{url} answered {status}: {message}\n"),
                status: EXIT_REFUSED,
            });
        }
        let report = match action {
            DeadLetterAction::List => body["dead_letters"]
                .as_array()
                .map(|letters| letters.iter().map(|l| format!("{l}\n")).collect())
                .unwrap_or_default(),
            _ => format!("{body}\n"),
        };
        Ok(Outcome {
            report,
            status: EXIT_OK,
        })
    }
}
