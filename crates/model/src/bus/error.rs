//! The one error type of the local bus.

use std::path::PathBuf;

/// A local bus operation failed. `Display` says what failed, on which file,
/// and (where there is one) what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BusError {
    /// The data directory or the journal file could not be created or opened.
    #[error("local bus {path}: cannot open: {reason} (check DATA_DIR exists and is writable)")]
    Open {
        /// The journal file (`<dir>/bus.redb`).
        path: PathBuf,
        /// What the storage layer said.
        reason: String,
    },
    /// Another process (or another `LocalBus` in this process) has the journal open.
    #[error(
        "local bus {path}: already open by another process (file locked); stop that process or use another DATA_DIR"
    )]
    Locked {
        /// The journal file.
        path: PathBuf,
    },
    /// The journal file is damaged: its integrity check failed when it was
    /// opened, or the storage library found a damaged page while reading it.
    /// Retrying does not help; `Display` says what to do.
    #[error(
        "local bus {path} is damaged: {detail}. Stop every process using it, then restore the file from a backup, \
         or move it aside (e.g. `mv {path} {path}.damaged`) so that the next start begins an empty journal; \
         starting empty loses the events not yet delivered, the dead letters, the consumers' positions and the \
         idempotency keys (a back office repeating an earlier uid gets it published again)"
    )]
    Damaged {
        /// The journal file.
        path: PathBuf,
        /// What was found damaged, and where.
        detail: String,
    },
    /// The journal cannot be written for now: a write failed (a full disk,
    /// an I/O error) and the bus is reopening it. Appends are refused until a
    /// test write succeeds again, which the bus retries on its own.
    #[error("local bus {path}: not writable since {since} ({reason}); retrying on its own every few seconds")]
    Unavailable {
        /// The journal file.
        path: PathBuf,
        /// When the first failed write happened, RFC 3339 UTC.
        since: String,
        /// What the failed write (or the last retry) said.
        reason: String,
    },
    /// A read, a write or a commit failed.
    #[error("local bus {path}: {operation} failed: {reason}")]
    Storage {
        /// The journal file.
        path: PathBuf,
        /// `append`, `read`, `ack`, `dead_letter`, `commit`, …
        operation: &'static str,
        /// What the storage layer said.
        reason: String,
    },
    /// An event could not be encoded as JSON (a bug: `CloudEvent` always serializes).
    #[error("local bus {path}: event '{id}' could not be encoded: {reason}")]
    Encode {
        /// The journal file.
        path: PathBuf,
        /// The CloudEvent id.
        id: String,
        /// The serializer's message.
        reason: String,
    },
    /// An acknowledgement points past the last appended event.
    #[error("local bus {path}: consumer '{consumer}' cannot ack up to {next}: only {head} event(s) exist")]
    AckBeyondHead {
        /// The journal file.
        path: PathBuf,
        /// The consumer name.
        consumer: String,
        /// The offset given.
        next: u64,
        /// The current head.
        head: u64,
    },
    /// A dead-letter operation named an offset that is not in the consumer's
    /// dead-letter list (never parked, already replayed or discarded).
    #[error("local bus {path}: consumer '{consumer}' has no dead letter at offset {offset}")]
    NotDead {
        /// The journal file.
        path: PathBuf,
        /// The consumer name.
        consumer: String,
        /// The offset given.
        offset: u64,
    },
    /// The writer thread is gone (it panicked or the process is shutting down).
    #[error("local bus {path}: the writer thread has stopped; restart the process")]
    Closed {
        /// The journal file.
        path: PathBuf,
    },
}
