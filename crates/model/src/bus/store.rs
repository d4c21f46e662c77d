//! The journal's tables and its read paths (read transactions only).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{AckState, BusError, BusRecord, DeadLetter, Replay};
use crate::cloudevent::CloudEvent;

/// offset → the event's JSON bytes.
pub(super) const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// consumer → next offset to process.
pub(super) const ACKS: TableDefinition<&str, u64> = TableDefinition::new("acks");
/// consumer → the offsets above its acknowledgement it has also finished, as
/// ranges `[start, end)` of two little-endian u64 each, ascending (see
/// [`LocalBus::ack_with_done`](super::LocalBus::ack_with_done)).
pub(super) const ACK_DONE: TableDefinition<&str, &[u8]> = TableDefinition::new("ack_done");
/// name → an external position (e.g. the I/O Events journal's cursor), as UTF-8.
pub(super) const CURSORS: TableDefinition<&str, &[u8]> = TableDefinition::new("cursors");
/// (consumer, offset) → a [`StoredDeadLetter`] as JSON.
pub(super) const DEAD: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("dead_letters");
/// Idempotency key of a keyed append → the offset it was stored at.
pub(super) const KEYS: TableDefinition<&str, u64> = TableDefinition::new("keys");
/// Bookkeeping: `next` = the next offset to assign (kept even if old events are ever pruned).
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The `META` key holding the next offset.
pub(super) const META_NEXT: &str = "next";
/// Unix second → the next offset after the last append of that second: every
/// event below it was appended by the end of that second. One row per second
/// with appends; retention finds its time boundary here.
pub(super) const CHECKPOINTS: TableDefinition<u64, u64> = TableDefinition::new("checkpoints");

/// What [`initialise`] found.
pub(super) struct Initial {
    /// The next offset to assign.
    pub next: u64,
    /// The second of the newest checkpoint (0 when none).
    pub last_checkpoint: u64,
}

/// How a dead letter is stored.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredDeadLetter {
    pub reason: String,
    pub at: String,
    pub event: CloudEvent,
}

impl StoredDeadLetter {
    /// The letter stored at `offset`.
    pub fn into_letter(self, offset: u64) -> DeadLetter {
        DeadLetter {
            offset,
            at: self.at,
            reason: self.reason,
            event: self.event,
        }
    }
}

/// How a replayed dead letter is stored in `EVENTS`: the event with the
/// consumer it is for and the offset it was parked at. Its JSON starts with
/// [`REPLAY_PREFIX`], which an event's JSON never does (a serialized
/// `CloudEvent` starts with its `specversion`).
#[derive(Serialize, Deserialize)]
pub(super) struct StoredReplay {
    pub replay: Replay,
    pub event: CloudEvent,
}

/// The first bytes of a [`StoredReplay`]'s JSON.
pub(super) const REPLAY_PREFIX: &[u8] = b"{\"replay\":";

/// A storage library error as a [`BusError`]: a damaged page is
/// [`BusError::Damaged`] (retrying cannot help), anything else `Storage`.
pub(super) fn storage(path: &Path, operation: &'static str, err: impl Into<redb::Error>) -> BusError {
    match err.into() {
        redb::Error::Corrupted(message) => BusError::Damaged {
            path: path.to_owned(),
            detail: format!("{operation}: {message}"),
        },
        other => BusError::Storage {
            path: path.to_owned(),
            operation,
            reason: other.to_string(),
        },
    }
}

/// Creates the tables if needed and returns the next offset to assign and the newest checkpoint.
pub(super) fn initialise(db: &Database, path: &Path) -> Result<Initial, BusError> {
    let txn = db.begin_write().map_err(|e| storage(path, "open", e))?;
    let initial = {
        let events = txn.open_table(EVENTS).map_err(|e| storage(path, "open", e))?;
        txn.open_table(ACKS).map_err(|e| storage(path, "open", e))?;
        txn.open_table(ACK_DONE).map_err(|e| storage(path, "open", e))?;
        txn.open_table(CURSORS).map_err(|e| storage(path, "open", e))?;
        txn.open_table(DEAD).map_err(|e| storage(path, "open", e))?;
        txn.open_table(KEYS).map_err(|e| storage(path, "open", e))?;
        let checkpoints = txn.open_table(CHECKPOINTS).map_err(|e| storage(path, "open", e))?;
        let meta = txn.open_table(META).map_err(|e| storage(path, "open", e))?;
        let after_last = events
            .last()
            .map_err(|e| storage(path, "open", e))?
            .map_or(0, |(k, _)| k.value() + 1);
        let recorded = meta
            .get(META_NEXT)
            .map_err(|e| storage(path, "open", e))?
            .map_or(0, |v| v.value());
        let last_checkpoint = checkpoints
            .last()
            .map_err(|e| storage(path, "open", e))?
            .map_or(0, |(k, _)| k.value());
        Initial {
            next: after_last.max(recorded),
            last_checkpoint,
        }
    };
    txn.commit().map_err(|e| storage(path, "open", e))?;
    Ok(initial)
}

pub(super) fn read_events(db: &Database, path: &Path, from: u64, max: usize) -> Result<Vec<BusRecord>, BusError> {
    let txn = db.begin_read().map_err(|e| storage(path, "read", e))?;
    let table = txn.open_table(EVENTS).map_err(|e| storage(path, "read", e))?;
    let mut out = Vec::with_capacity(max.min(1024));
    for entry in table.range(from..).map_err(|e| storage(path, "read", e))?.take(max) {
        let (key, value) = entry.map_err(|e| storage(path, "read", e))?;
        let offset = key.value();
        out.push(decode(path, offset, value.value())?);
    }
    Ok(out)
}

pub(super) fn read_ack(db: &Database, path: &Path, consumer: &str) -> Result<u64, BusError> {
    let txn = db.begin_read().map_err(|e| storage(path, "acked", e))?;
    let table = txn.open_table(ACKS).map_err(|e| storage(path, "acked", e))?;
    Ok(table
        .get(consumer)
        .map_err(|e| storage(path, "acked", e))?
        .map_or(0, |v| v.value()))
}

/// The consumer's acknowledgement and the finished ranges above it.
pub(super) fn read_ack_state(db: &Database, path: &Path, consumer: &str) -> Result<AckState, BusError> {
    let txn = db.begin_read().map_err(|e| storage(path, "acked", e))?;
    let acks = txn.open_table(ACKS).map_err(|e| storage(path, "acked", e))?;
    let next = acks
        .get(consumer)
        .map_err(|e| storage(path, "acked", e))?
        .map_or(0, |v| v.value());
    let done = txn.open_table(ACK_DONE).map_err(|e| storage(path, "acked", e))?;
    let ranges = match done.get(consumer).map_err(|e| storage(path, "acked", e))? {
        None => Vec::new(),
        Some(bytes) => decode_ranges(bytes.value()).ok_or_else(|| BusError::Damaged {
            path: path.to_owned(),
            detail: format!("the finished ranges of consumer '{consumer}' are not what the bus wrote"),
        })?,
    };
    // Ranges at or below the acknowledgement say nothing more.
    let done = ranges
        .into_iter()
        .filter(|r| r.end > next)
        .map(|r| r.start.max(next)..r.end)
        .collect();
    Ok(AckState { next, done })
}

/// The cursor stored under `name`.
pub(super) fn read_cursor(db: &Database, path: &Path, name: &str) -> Result<Option<String>, BusError> {
    let txn = db.begin_read().map_err(|e| storage(path, "cursor", e))?;
    let table = txn.open_table(CURSORS).map_err(|e| storage(path, "cursor", e))?;
    let Some(value) = table.get(name).map_err(|e| storage(path, "cursor", e))? else {
        return Ok(None);
    };
    String::from_utf8(value.value().to_vec())
        .map(Some)
        .map_err(|_| BusError::Damaged {
            path: path.to_owned(),
            detail: format!("the cursor '{name}' is not the text the bus wrote"),
        })
}

/// Ranges as stored in [`ACK_DONE`].
pub(super) fn encode_ranges(ranges: &[std::ops::Range<u64>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ranges.len() * 16);
    for r in ranges {
        out.extend_from_slice(&r.start.to_le_bytes());
        out.extend_from_slice(&r.end.to_le_bytes());
    }
    out
}

fn decode_ranges(bytes: &[u8]) -> Option<Vec<std::ops::Range<u64>>> {
    if !bytes.len().is_multiple_of(16) {
        return None;
    }
    bytes
        .chunks_exact(16)
        .map(|c| {
            let start = u64::from_le_bytes(c[..8].try_into().ok()?);
            let end = u64::from_le_bytes(c[8..].try_into().ok()?);
            (start < end).then_some(start..end)
        })
        .collect()
}

pub(super) fn read_dead_letters(db: &Database, path: &Path, consumer: &str) -> Result<Vec<DeadLetter>, BusError> {
    let txn = db.begin_read().map_err(|e| storage(path, "dead_letters", e))?;
    let table = txn.open_table(DEAD).map_err(|e| storage(path, "dead_letters", e))?;
    let mut out = Vec::new();
    let range = table
        .range((consumer, 0u64)..=(consumer, u64::MAX))
        .map_err(|e| storage(path, "dead_letters", e))?;
    for entry in range {
        let (key, value) = entry.map_err(|e| storage(path, "dead_letters", e))?;
        let offset = key.value().1;
        out.push(decode_dead_letter(path, consumer, offset, value.value())?.into_letter(offset));
    }
    Ok(out)
}

/// The dead letter of `consumer` at `offset`, if there is one.
pub(super) fn read_dead_letter(
    db: &Database,
    path: &Path,
    consumer: &str,
    offset: u64,
) -> Result<Option<DeadLetter>, BusError> {
    let txn = db.begin_read().map_err(|e| storage(path, "dead_letter", e))?;
    let table = txn.open_table(DEAD).map_err(|e| storage(path, "dead_letter", e))?;
    let Some(value) = table
        .get((consumer, offset))
        .map_err(|e| storage(path, "dead_letter", e))?
    else {
        return Ok(None);
    };
    Ok(Some(
        decode_dead_letter(path, consumer, offset, value.value())?.into_letter(offset),
    ))
}

/// A stored dead letter's JSON.
pub(super) fn decode_dead_letter(
    path: &Path,
    consumer: &str,
    offset: u64,
    bytes: &[u8],
) -> Result<StoredDeadLetter, BusError> {
    serde_json::from_slice(bytes).map_err(|e| BusError::Damaged {
        path: path.to_owned(),
        detail: format!(
            "the dead letter of consumer '{consumer}' at offset {offset} is not the JSON the bus wrote: {e}"
        ),
    })
}

/// A stored journal entry: an event, or a replayed dead letter ([`StoredReplay`]).
pub(super) fn decode(path: &Path, offset: u64, bytes: &[u8]) -> Result<BusRecord, BusError> {
    let damaged = |e: serde_json::Error| BusError::Damaged {
        path: path.to_owned(),
        detail: format!("the event at offset {offset} is not the JSON the bus wrote: {e}"),
    };
    if bytes.starts_with(REPLAY_PREFIX) {
        let stored: StoredReplay = serde_json::from_slice(bytes).map_err(damaged)?;
        return Ok(BusRecord {
            offset,
            event: stored.event,
            replay: Some(stored.replay),
        });
    }
    Ok(BusRecord {
        offset,
        event: serde_json::from_slice(bytes).map_err(damaged)?,
        replay: None,
    })
}
