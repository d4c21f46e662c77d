//! Catalog errors: loading (start-up) and validating a value (per request).

use std::path::PathBuf;

/// The catalog file could not be loaded. `Display` names the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("events catalog {}: {problem}", file.display())]
pub struct CatalogError {
    /// The `events.json` file (as given).
    pub file: PathBuf,
    /// What is wrong, naming the entity/provider/event and any schema file involved.
    pub problem: String,
}

/// A value does not fit the catalog. `Display` is the exact client-facing message.
///
/// The pointer is the JSON pointer of the failing part of `value`, with the
/// root shown as `/`; the reason is the validator's (e.g. `"1" is not of type
/// "number"`, `"sku" is a required property`). When several parts fail, the
/// first is named and the others counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The event code is not in the catalog.
    #[error("unknown event '{0}'")]
    UnknownEvent(String),
    /// The value does not satisfy the event's JSON Schema.
    #[error(
        "invalid value for event '{event}' at '{pointer}': {reason}{}",
        more_suffix(*.more)
    )]
    Invalid {
        /// The event code.
        event: String,
        /// JSON pointer of the failing part of `value` (`/` for the value itself).
        pointer: String,
        /// Why it fails.
        reason: String,
        /// How many other failures there are.
        more: usize,
    },
}

fn more_suffix(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more error)".to_owned(),
        n => format!(" (and {n} more errors)"),
    }
}
