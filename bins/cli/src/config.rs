//! Configuration plumbing shared by the binaries: flags, environment and a
//! `.env` file (in that order of precedence), one-line configuration errors,
//! secrets, and logging set-up.
//!
//! Every setting is a flag with an environment variable behind it
//! (`#[arg(long, env = "NAME")]`); a `.env` file in the working directory feeds
//! the environment without overriding variables already set.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use secrecy::SecretString;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use commerce_kit_core::body::DEFAULT_BODY_LIMIT;

mod log_writer;
mod text_log;

/// A setting is invalid. `Display` is one line naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    /// A setting (flag and env var) with what is wrong with it.
    pub fn setting(flag: &str, env: &str, problem: impl fmt::Display) -> Self {
        ConfigError(format!("{flag} ({env}): {problem}"))
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings every server binary shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is logged).
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = DEFAULT_BODY_LIMIT, value_name = "BYTES")]
    pub body_limit: usize,

    /// On SIGINT/SIGTERM, how long in-flight requests may take to finish.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 30, value_name = "SECS")]
    pub shutdown_grace_secs: u64,

    /// How long a client may take to send a request's headers (idle kept-alive connections
    /// close after it too), and how long it may leave a request body stalled (then 408).
    #[arg(long, env = "READ_TIMEOUT_SECS", default_value_t = 30, value_name = "SECS")]
    pub read_timeout_secs: u64,
}

impl ServerArgs {
    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// What [`server::serve_with`](commerce_kit_core::server::serve_with) needs; a zero
    /// read timeout is refused.
    pub fn serve_options(&self) -> Result<commerce_kit_core::server::ServeOptions, ConfigError> {
        if self.read_timeout_secs == 0 {
            return Err(ConfigError::setting(
                "--read-timeout-secs",
                "READ_TIMEOUT_SECS",
                "must be greater than 0",
            ));
        }
        Ok(commerce_kit_core::server::ServeOptions {
            grace: self.shutdown_grace(),
            read_timeout: Duration::from_secs(self.read_timeout_secs),
        })
    }
}

/// Loads `.env`, parses flags + environment into `T`, and on a bad value
/// prints one line (`error: …`) and exits with status 2. `--help` and
/// `--version` print and exit 0.
pub fn parse<T: Parser>() -> T {
    if let Err(err) = load_dotenv() {
        exit_config_error(&err);
    }
    match T::try_parse() {
        Ok(parsed) => parsed,
        Err(err) => {
            use clap::error::ErrorKind;
            match err.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = err.print();
                    std::process::exit(if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    })
                }
                _ => {
                    let text = err.to_string();
                    let first = text
                        .lines()
                        .next()
                        .unwrap_or("invalid arguments")
                        .trim_start_matches("error: ");
                    exit_config_error(&ConfigError(first.to_owned()))
                }
            }
        }
    }
}

/// Prints `error: <err>` on one line to stderr and exits with status 2.
pub fn exit_config_error(err: &ConfigError) -> ! {
    eprintln!("error: {err}");
    std::process::exit(2)
}

/// Prints `error: <err>` on one line to stderr and exits with status 2: a
/// start-up failure that is not a bad setting (a damaged or locked journal),
/// whose message says what to do.
pub fn exit_startup_error(err: &dyn fmt::Display) -> ! {
    eprintln!("error: {err}");
    std::process::exit(2)
}

/// What `GET /ready` checks: the journal when this process uses the local bus
/// (failing while it cannot be written or read), nothing otherwise.
pub fn readiness(bus: Option<commerce_kit_model::bus::LocalBus>) -> commerce_kit_core::server::Readiness {
    let readiness = commerce_kit_core::server::Readiness::new();
    match bus {
        Some(bus) => readiness.with_check("journal", move || bus.probe()),
        None => readiness,
    }
}

/// Loads `./.env` if present; a malformed file is an error naming the line.
pub fn load_dotenv() -> Result<Option<PathBuf>, ConfigError> {
    match dotenvy::dotenv() {
        Ok(path) => Ok(Some(path)),
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(dotenvy::Error::LineParse(line, at)) => Err(ConfigError(format!(
            ".env: cannot parse line {line:?} at character {at}"
        ))),
        Err(e) => Err(ConfigError(format!(".env: {e}"))),
    }
}

/// Reads a secret from an inline value or a file path (trailing newline trimmed).
/// Neither given → `Ok(None)`; both given → error.
pub fn secret_from_value_or_file(
    value: Option<&SecretString>,
    file: Option<&Path>,
    names: (&str, &str),
) -> Result<Option<SecretString>, ConfigError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(ConfigError(format!("set either {} or {}, not both", names.0, names.1))),
        (Some(v), None) => Ok(Some(v.clone())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|s| Some(SecretString::from(s.trim_end().to_owned())))
            .map_err(|e| ConfigError(format!("{}: cannot read {}: {e}", names.1, path.display()))),
        (None, None) => Ok(None),
    }
}

/// Keeps the background log writer alive; drop it last so buffered lines are flushed.
#[must_use = "logs are lost when the guard is dropped early"]
pub struct LogGuard(#[allow(dead_code)] log_writer::WriterGuard);

/// Installs the global tracing subscriber writing to stdout through a
/// non-blocking (but never lossy) writer. The level comes from `LOG_LEVEL`, else
/// `RUST_LOG`, else `info`; both accept `EnvFilter` directives. The
/// `listening on http://IP:PORT` line is printed at any level (see
/// [`server::LISTENING_TARGET`](commerce_kit_core::server::LISTENING_TARGET)).
pub fn init_logging(format: LogFormat) -> Result<LogGuard, ConfigError> {
    let (directives, source) = match (std::env::var("LOG_LEVEL"), std::env::var("RUST_LOG")) {
        (Ok(v), _) if !v.is_empty() => (v, "LOG_LEVEL"),
        (_, Ok(v)) if !v.is_empty() => (v, "RUST_LOG"),
        _ => ("info".to_owned(), "default"),
    };
    let filter = LogFilter::parse(&directives)
        .map_err(|e| ConfigError(format!("{source}: invalid log level {directives:?}: {e}")))?;
    // Lines collect in a buffer that a writer thread writes out: at once when
    // idle, in one write(2) every couple of milliseconds under load (see
    // log_writer), never dropping any.
    let (writer, guard) = log_writer::spawn(std::io::stdout())
        .map_err(|e| ConfigError(format!("cannot start the log writer thread: {e}")))?;
    let (fixed, dynamic) = filter.into_layers();
    let filtered = tracing_subscriber::registry().with(fixed).with(dynamic);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_span_events(FmtSpan::NONE)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => filtered
            .with(
                layer
                    .with_ansi(false)
                    .event_format(text_log::TextFormat)
                    .fmt_fields(text_log::TextFields),
            )
            .try_init(),
        LogFormat::Json => filtered
            .with(layer.json().with_current_span(true).with_span_list(false))
            .try_init(),
    };
    installed.map_err(|e| ConfigError(format!("logging already initialised: {e}")))?;
    Ok(LogGuard(guard))
}

/// The level filter of [`init_logging`].
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "built once at startup; both filters are large")]
enum LogFilter {
    /// Plain `level` and `target=level` directives: tracing-subscriber's
    /// `Targets`, which decides once per call site and takes no lock per span
    /// (`EnvFilter` read-locks a map shared by every thread on each span
    /// enter and exit, in case a directive filters on span fields).
    Fixed(Targets),
    /// Directives that name spans or fields (`[request{id=…}]=debug`): `EnvFilter`.
    Dynamic(EnvFilter),
}

impl LogFilter {
    /// Parses `LOG_LEVEL`/`RUST_LOG` directives (`EnvFilter` syntax). Unless
    /// they name it themselves, the `listening on` line's target is kept at
    /// info, so that line is printed whatever the level.
    fn parse(directives: &str) -> Result<Self, String> {
        let keep_listening = !directives.contains(commerce_kit_core::server::LISTENING_TARGET);
        let plain = !directives.contains(['[', '{']);
        if plain && let Ok(targets) = directives.parse::<Targets>() {
            let targets = if keep_listening {
                targets.with_target(commerce_kit_core::server::LISTENING_TARGET, tracing::Level::INFO)
            } else {
                targets
            };
            return Ok(Self::Fixed(targets));
        }
        let mut filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
        if keep_listening {
            let always = format!("{}=info", commerce_kit_core::server::LISTENING_TARGET)
                .parse()
                .map_err(|e| format!("listening line log directive: {e}"))?;
            filter = filter.add_directive(always);
        }
        Ok(Self::Dynamic(filter))
    }

    /// The filter as layers, exactly one of them present.
    fn into_layers(self) -> (Option<Targets>, Option<EnvFilter>) {
        match self {
            Self::Fixed(targets) => (Some(targets), None),
            Self::Dynamic(env) => (None, Some(env)),
        }
    }
}

/// Parses a comma-separated list, trimming blanks and dropping empty items.
pub fn comma_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// Which of (listening line at info, webhook info, webhook debug, other
    /// debug, other warn) `directives` let through.
    fn let_through(directives: &str) -> (bool, [bool; 5]) {
        use tracing::Level;
        let filter = LogFilter::parse(directives).expect("valid directives");
        let fixed = matches!(filter, LogFilter::Fixed(_));
        let (a, b) = filter.into_layers();
        let subscriber = tracing_subscriber::registry().with(a).with(b);
        let enabled = tracing::subscriber::with_default(subscriber, || {
            [
                tracing::enabled!(target: "commerce_kit::listening", Level::INFO),
                tracing::enabled!(target: "commerce_kit_webhook::service", Level::INFO),
                tracing::enabled!(target: "commerce_kit_webhook::service", Level::DEBUG),
                tracing::enabled!(target: "hyper::proto", Level::DEBUG),
                tracing::enabled!(target: "hyper::proto", Level::WARN),
            ]
        });
        (fixed, enabled)
    }

    #[test]
    fn plain_directives_use_the_lock_free_filter_and_keep_the_listening_line() {
        assert_eq!(commerce_kit_core::server::LISTENING_TARGET, "commerce_kit::listening");
        assert_eq!(let_through("info"), (true, [true, true, false, false, true]));
        assert_eq!(let_through("WARN"), (true, [true, false, false, false, true]));
        assert_eq!(let_through("error"), (true, [true, false, false, false, false]));
        assert_eq!(
            let_through("warn,commerce_kit_webhook=debug"),
            (true, [true, true, true, false, true])
        );
        assert_eq!(let_through("debug"), (true, [true, true, true, true, true]));
        // Naming the listening line's target overrides keeping it.
        assert_eq!(
            let_through("info,commerce_kit::listening=off"),
            (true, [false, true, false, false, true])
        );
    }

    #[test]
    fn span_and_field_directives_use_env_filter_and_keep_the_listening_line() {
        assert_eq!(
            let_through("warn,[request]=debug"),
            (false, [true, false, false, false, true])
        );
        assert_eq!(
            let_through("error,[request{method=POST}]=info"),
            (false, [true, false, false, false, false])
        );
    }

    #[test]
    fn invalid_directives_are_an_error() {
        for bad in ["info,hyper=loud", "[request{=]=debug"] {
            assert!(LogFilter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comma_list_trims_and_drops_empties() {
        assert_eq!(comma_list(" a, b ,,c,"), vec!["a", "b", "c"]);
        assert!(comma_list("").is_empty());
    }

    #[test]
    fn secret_sources_are_exclusive_and_files_are_trimmed() {
        let dir = std::env::temp_dir().join(format!("ck-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("s.pem");
        std::fs::write(&file, "value\n").expect("write");
        let names = ("--key", "--key-file");
        let inline = SecretString::from("inline".to_owned());
        let got = secret_from_value_or_file(None, Some(&file), names)
            .expect("file")
            .expect("some");
        assert_eq!(got.expose_secret(), "value");
        assert_eq!(
            secret_from_value_or_file(Some(&inline), None, names)
                .expect("inline")
                .expect("some")
                .expose_secret(),
            "inline"
        );
        assert!(secret_from_value_or_file(None, None, names).expect("none").is_none());
        let both = secret_from_value_or_file(Some(&inline), Some(&file), names).unwrap_err();
        assert_eq!(
            both.to_string(),
            "invalid configuration: set either --key or --key-file, not both"
        );
        let missing = secret_from_value_or_file(None, Some(&dir.join("nope")), names).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("invalid configuration: --key-file: cannot read"),
            "{missing}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
