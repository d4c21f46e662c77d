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
    /// A stored record is not the JSON the bus wrote (file damaged or written by something else).
    #[error("local bus {path}: record at offset {offset} is unreadable: {reason}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// The record's offset.
        offset: u64,
        /// Why it could not be decoded.
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
    /// The writer thread is gone (it panicked or the process is shutting down).
    #[error("local bus {path}: the writer thread has stopped; restart the process")]
    Closed {
        /// The journal file.
        path: PathBuf,
    },
}
