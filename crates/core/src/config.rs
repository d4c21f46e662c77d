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
use tracing_subscriber::fmt::format::FmtSpan;

use crate::body::DEFAULT_BODY_LIMIT;

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
}

impl ServerArgs {
    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
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
/// [`server::LISTENING_TARGET`](crate::server::LISTENING_TARGET)).
pub fn init_logging(format: LogFormat) -> Result<LogGuard, ConfigError> {
    let (directives, source) = match (std::env::var("LOG_LEVEL"), std::env::var("RUST_LOG")) {
        (Ok(v), _) if !v.is_empty() => (v, "LOG_LEVEL"),
        (_, Ok(v)) if !v.is_empty() => (v, "RUST_LOG"),
        _ => ("info".to_owned(), "default"),
    };
    let mut filter = EnvFilter::try_new(&directives)
        .map_err(|e| ConfigError(format!("{source}: invalid log level {directives:?}: {e}")))?;
    // The listening line is printed whatever the level, unless the directives
    // name its target themselves.
    if !directives.contains(crate::server::LISTENING_TARGET) {
        let always = format!("{}=info", crate::server::LISTENING_TARGET)
            .parse()
            .map_err(|e| ConfigError(format!("listening line log directive: {e}")))?;
        filter = filter.add_directive(always);
    }
    // Lines collect in a buffer that a writer thread writes out: at once when
    // idle, in one write(2) every couple of milliseconds under load (see
    // log_writer), never dropping any.
    let (writer, guard) = log_writer::spawn(std::io::stdout())
        .map_err(|e| ConfigError(format!("cannot start the log writer thread: {e}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_span_events(FmtSpan::NONE)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(false)
            .event_format(text_log::TextFormat)
            .fmt_fields(text_log::TextFields)
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
    installed.map_err(|e| ConfigError(format!("logging already initialised: {e}")))?;
    Ok(LogGuard(guard))
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
