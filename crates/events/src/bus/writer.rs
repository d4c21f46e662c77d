//! The group-commit writer thread: the only place write transactions happen.
//!
//! Requests (appends, acks, dead letters) arrive on a channel. The thread takes
//! everything queued (up to [`MAX_BATCH`]), applies it in one write
//! transaction, commits once with `Durability::Immediate` (fsync), and only then
//! answers every waiter and publishes the new head. Under load, one fsync
//! covers many requests; alone, a request costs one commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use redb::{Database, ReadableTable};
use tokio::sync::{oneshot, watch};

use super::store::{ACKS, DEAD, EVENTS, KEYS, META, META_NEXT, storage};
use super::{Appended, BusError};

/// Most requests applied in one transaction.
pub(super) const MAX_BATCH: usize = 4096;

/// One request to the writer.
pub(super) enum Op {
    Append {
        bytes: Vec<u8>,
        /// Idempotency key: an append whose key is already in the journal is not
        /// stored again; it answers the offset stored under the key.
        key: Option<String>,
        reply: oneshot::Sender<Result<Appended, BusError>>,
    },
    Ack {
        consumer: String,
        next: u64,
        reply: oneshot::Sender<Result<(), BusError>>,
    },
    DeadLetter {
        consumer: String,
        offset: u64,
        record: Vec<u8>,
        reply: oneshot::Sender<Result<(), BusError>>,
    },
}

/// What one op resolved to, answered only after the commit: the assigned (or,
/// for a repeated key, the earlier) offset of an append and whether it was a
/// duplicate, the consumer's next offset after an ack or dead letter, or why
/// the op was refused.
type Outcome = Result<(u64, bool), BusError>;

pub(super) struct Writer {
    pub db: Arc<Database>,
    pub path: PathBuf,
    pub next: u64,
    pub head: Arc<watch::Sender<u64>>,
    pub commits: Arc<AtomicU64>,
}

impl Writer {
    /// Runs until every sender is dropped.
    pub fn run(mut self, rx: Receiver<Op>) {
        while let Ok(first) = rx.recv() {
            let mut batch = Vec::with_capacity(64);
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            match self.apply(&batch) {
                Ok((outcomes, next)) => {
                    self.next = next;
                    self.commits.fetch_add(1, Ordering::Relaxed);
                    self.head.send_replace(next);
                    for (op, outcome) in batch.into_iter().zip(outcomes) {
                        answer(op, outcome);
                    }
                }
                Err(err) => {
                    tracing::error!(path = %self.path.display(), batch = batch.len(), "local bus commit failed: {err}");
                    for op in batch {
                        answer(op, Err(err.clone()));
                    }
                }
            }
        }
    }

    /// Applies a batch in one transaction; returns each op's outcome and the new next offset.
    fn apply(&self, batch: &[Op]) -> Result<(Vec<Outcome>, u64), BusError> {
        let path = &self.path;
        let txn = self.db.begin_write().map_err(|e| storage(path, "begin write", e))?;
        let mut next = self.next;
        let mut outcomes = Vec::with_capacity(batch.len());
        let appends_only = batch.iter().all(|op| matches!(op, Op::Append { .. }));
        let keyed = batch.iter().any(|op| matches!(op, Op::Append { key: Some(_), .. }));
        {
            let mut events = txn.open_table(EVENTS).map_err(|e| storage(path, "append", e))?;
            let mut keys = if keyed {
                Some(txn.open_table(KEYS).map_err(|e| storage(path, "append", e))?)
            } else {
                None
            };
            // Appends are the hot path: only open the consumer tables when needed.
            let mut consumer_tables = if appends_only {
                None
            } else {
                Some((
                    txn.open_table(ACKS).map_err(|e| storage(path, "ack", e))?,
                    txn.open_table(DEAD).map_err(|e| storage(path, "dead_letter", e))?,
                ))
            };
            for op in batch {
                let outcome = match (op, consumer_tables.as_mut()) {
                    (Op::Append { bytes, key, .. }, _) => {
                        let earlier = match (key, keys.as_mut()) {
                            (Some(key), Some(keys)) => {
                                let found = keys
                                    .get(key.as_str())
                                    .map_err(|e| storage(path, "append", e))?
                                    .map(|v| v.value());
                                if found.is_none() {
                                    keys.insert(key.as_str(), next)
                                        .map_err(|e| storage(path, "append", e))?;
                                }
                                found
                            }
                            _ => None,
                        };
                        match earlier {
                            Some(offset) => Ok((offset, true)),
                            None => {
                                events
                                    .insert(next, bytes.as_slice())
                                    .map_err(|e| storage(path, "append", e))?;
                                next += 1;
                                Ok((next - 1, false))
                            }
                        }
                    }
                    (Op::Ack { consumer, next: to, .. }, Some((acks, _))) => {
                        if *to > next {
                            Err(self.beyond_head(consumer, *to, next))
                        } else {
                            Ok((
                                advance(acks, consumer, *to).map_err(|e| storage(path, "ack", e))?,
                                false,
                            ))
                        }
                    }
                    (
                        Op::DeadLetter {
                            consumer,
                            offset,
                            record,
                            ..
                        },
                        Some((acks, dead)),
                    ) => {
                        if *offset >= next {
                            Err(self.beyond_head(consumer, offset + 1, next))
                        } else {
                            dead.insert((consumer.as_str(), *offset), record.as_slice())
                                .map_err(|e| storage(path, "dead_letter", e))?;
                            let acked =
                                advance(acks, consumer, offset + 1).map_err(|e| storage(path, "dead_letter", e))?;
                            Ok((acked, false))
                        }
                    }
                    // Unreachable: the tables are open whenever the batch holds an ack or a dead letter.
                    (Op::Ack { .. } | Op::DeadLetter { .. }, None) => Err(BusError::Closed { path: path.clone() }),
                };
                outcomes.push(outcome);
            }
            if next != self.next {
                let mut meta = txn.open_table(META).map_err(|e| storage(path, "append", e))?;
                meta.insert(META_NEXT, next).map_err(|e| storage(path, "append", e))?;
            }
        }
        txn.commit().map_err(|e| storage(path, "commit", e))?;
        Ok((outcomes, next))
    }

    fn beyond_head(&self, consumer: &str, next: u64, head: u64) -> BusError {
        BusError::AckBeyondHead {
            path: self.path.clone(),
            consumer: consumer.to_owned(),
            next,
            head,
        }
    }
}

/// Moves `consumer`'s ack forward to `to` (acks never move back); returns the resulting ack.
fn advance(acks: &mut redb::Table<'_, &str, u64>, consumer: &str, to: u64) -> Result<u64, redb::StorageError> {
    let current = acks.get(consumer)?.map_or(0, |v| v.value());
    if to > current {
        acks.insert(consumer, to)?;
        Ok(to)
    } else {
        Ok(current)
    }
}

/// Sends the result to the waiter (a waiter that gave up is ignored).
fn answer(op: Op, result: Outcome) {
    match op {
        Op::Append { reply, .. } => {
            let _ = reply.send(result.map(|(offset, duplicate)| Appended { offset, duplicate }));
        }
        Op::Ack { reply, .. } | Op::DeadLetter { reply, .. } => {
            let _ = reply.send(result.map(|_| ()));
        }
    }
}
