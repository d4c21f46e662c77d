//! The group-commit writer thread: the only place write transactions happen.
//!
//! Requests (appends, acks, dead letters) arrive on a channel. The thread takes
//! everything queued (up to [`MAX_BATCH`]), applies it in one write
//! transaction, commits once with `Durability::Immediate` (fsync), and only then
//! answers every waiter and publishes the new head. Under load, one fsync
//! covers many requests; alone, a request costs one commit.
//!
//! Retention requests (prune steps) run after the batch they arrived with, each
//! in a transaction of its own, and each removes a bounded number of rows so
//! appends never wait long behind them.
//!
//! After a failed commit the storage library refuses every later write until
//! the file is reopened, so the writer is then *broken*: it answers requests
//! with [`BusError::Unavailable`] at once, and [`Writer::recover`]s (drops
//! every handle, reopens the file, makes a test write) after one second, then
//! after doubling waits of at most [`RECOVERY_MAX_WAIT`], whether requests
//! arrive or not.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use redb::{Database, ReadableTable};
use tokio::sync::{oneshot, watch};

use super::health::{HealthState, Side};
use super::store::{
    ACK_DONE, ACKS, CHECKPOINTS, CURSORS, DEAD, EVENTS, KEYS, META, META_NEXT, StoredReplay, decode_dead_letter,
    storage,
};
use super::{Appended, BusError, DeadLetter, HeldBack, Replay, Replayed, Slot, integrity};

/// Most requests applied in one transaction.
pub(super) const MAX_BATCH: usize = 4096;

/// Longest wait between two attempts to reopen the journal after a write
/// error: once space is back, appends resume within this time.
pub const RECOVERY_MAX_WAIT: Duration = Duration::from_secs(8);

/// First wait before reopening the journal after a write error.
const RECOVERY_FIRST_WAIT: Duration = Duration::from_secs(1);

/// How long a recovery waits for readers to drop their handles of the file.
const READERS_GRACE: Duration = Duration::from_secs(5);

/// Size of a recovery's test write: appends resume once the journal can take
/// this much again, not merely one more small row (which a nearly full disk
/// still takes, only to refuse the next batch).
pub(super) const PROBE_BYTES: usize = 1024 * 1024;

/// The table a recovery's test write goes to (written, then emptied).
const PROBE: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("probe");

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
        /// Also replaces the finished ranges above `next` ([`store::encode_ranges`]).
        done: Option<Vec<u8>>,
        reply: oneshot::Sender<Result<(), BusError>>,
    },
    DeadLetter {
        consumer: String,
        offset: u64,
        record: Vec<u8>,
        /// Also moves the consumer's acknowledgement past the offset.
        ack: bool,
        reply: oneshot::Sender<Result<(), BusError>>,
    },
    /// Stores an external position under a name.
    Cursor {
        name: String,
        value: String,
        reply: oneshot::Sender<Result<(), BusError>>,
    },
    /// Moves a dead letter back into the journal, for its consumer alone.
    Replay {
        consumer: String,
        offset: u64,
        reply: oneshot::Sender<Result<Replayed, BusError>>,
    },
    /// Removes a dead letter.
    Discard {
        consumer: String,
        offset: u64,
        reply: oneshot::Sender<Result<DeadLetter, BusError>>,
    },
    /// A retention step; never part of a batch's transaction.
    Prune(PruneOp),
}

/// A retention step.
pub(super) enum PruneOp {
    /// Removes up to `max` events below the retention boundary (see [`Writer::prune_events`]).
    Events {
        cutoff: u64,
        max: usize,
        reply: oneshot::Sender<Result<EventsStep, BusError>>,
    },
    /// Looks at up to `max` idempotency keys from `from` and removes those of events below `below`.
    Keys {
        below: u64,
        from: Option<String>,
        max: usize,
        reply: oneshot::Sender<Result<KeysStep, BusError>>,
    },
}

/// One step of removing old events.
#[derive(Debug)]
pub(super) struct EventsStep {
    /// Events removed by this step.
    pub removed: u64,
    /// True when more events below the boundary remain (take another step).
    pub more: bool,
    /// Every event below this offset may go: acknowledged by every consumer
    /// and appended before the cutoff (0 when nothing may go).
    pub boundary: u64,
    /// The oldest offset still in the journal (the head when it is empty).
    pub first_kept: u64,
    /// The slowest consumer, when its acknowledgement is what keeps older events.
    pub held_back: Option<HeldBack>,
}

/// One step of removing idempotency keys of removed events.
#[derive(Debug)]
pub(super) struct KeysStep {
    /// Keys removed by this step.
    pub removed: u64,
    /// Where the next step starts; `None` when every key was looked at.
    pub next: Option<String>,
}

/// What one op resolved to, answered only after the commit: the assigned (or,
/// for a repeated key, the earlier) offset of an append and whether it was a
/// duplicate, the consumer's next offset after an ack or dead letter, or why
/// the op was refused.
type Outcome = Result<Done, BusError>;

/// What a successful op resolved to.
pub(super) struct Done {
    offset: u64,
    duplicate: bool,
    /// The letter a discard removed.
    letter: Option<DeadLetter>,
}

impl Done {
    fn at(offset: u64, duplicate: bool) -> Self {
        Self {
            offset,
            duplicate,
            letter: None,
        }
    }
}

pub(super) struct Writer {
    /// The open file; `None` only while broken and the reopen failed.
    pub db: Option<Arc<Database>>,
    /// The readers' handle of the file (the same database).
    pub slot: Arc<Slot>,
    pub health: Arc<HealthState>,
    /// Set after a failed write, until a recovery succeeds.
    pub broken: Option<Broken>,
    pub path: PathBuf,
    pub next: u64,
    pub head: Arc<watch::Sender<u64>>,
    pub commits: Arc<AtomicU64>,
    /// The unix second of the newest row in `CHECKPOINTS` (checkpoints never
    /// go back in time, even when the clock does).
    pub last_checkpoint: u64,
}

/// The writer's state after a failed write.
pub(super) struct Broken {
    /// When the first write failed, RFC 3339 UTC.
    since: String,
    /// What the last failure said.
    reason: String,
    /// The next recovery attempt.
    retry_at: Instant,
    /// The wait after the next failed attempt.
    wait: Duration,
}

/// Now, in unix seconds (0 if the clock is before 1970).
pub(super) fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Writer {
    /// Runs until every sender is dropped.
    pub fn run(mut self, rx: Receiver<Op>) {
        loop {
            let received = match &self.broken {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(broken) => rx.recv_timeout(broken.retry_at.saturating_duration_since(Instant::now())),
            };
            let first = match received {
                Ok(op) => op,
                Err(RecvTimeoutError::Timeout) => {
                    self.recover();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            if self.broken.as_ref().is_some_and(|b| Instant::now() >= b.retry_at) {
                self.recover();
            }
            let mut batch = Vec::with_capacity(64);
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            if let Some(broken) = &self.broken {
                let refusal = BusError::Unavailable {
                    path: self.path.clone(),
                    since: broken.since.clone(),
                    reason: broken.reason.clone(),
                };
                for op in batch {
                    answer(op, Err(refusal.clone()));
                }
                continue;
            }
            let (prunes, batch): (Vec<Op>, Vec<Op>) = batch.into_iter().partition(|op| matches!(op, Op::Prune(_)));
            if !batch.is_empty() {
                self.commit_batch(batch);
            }
            for op in prunes {
                if let Op::Prune(step) = op {
                    self.prune(step);
                }
            }
        }
    }

    /// Applies and commits a batch of appends, acks and dead letters, then answers them.
    fn commit_batch(&mut self, batch: Vec<Op>) {
        let second = unix_secs().max(self.last_checkpoint);
        let Some(db) = self.db.clone() else {
            // Not reached: `db` is only empty while broken, and a broken writer refuses batches.
            for op in batch {
                answer(
                    op,
                    Err(BusError::Closed {
                        path: self.path.clone(),
                    }),
                );
            }
            return;
        };
        match self.apply(&db, &batch, second) {
            Ok((outcomes, next)) => {
                if next != self.next {
                    self.last_checkpoint = second;
                }
                self.next = next;
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.head.send_replace(next);
                metrics::gauge!("commerce_kit_bus_head").set(next as f64);
                for (op, outcome) in batch.into_iter().zip(outcomes) {
                    answer(op, outcome);
                }
            }
            Err(err) => {
                tracing::error!(
                    path = %self.path.display(),
                    batch = batch.len(),
                    "local bus commit failed: {err}; nothing in this batch was stored, appends are refused until a \
                     test write succeeds (retried in {} s)",
                    RECOVERY_FIRST_WAIT.as_secs()
                );
                for op in batch {
                    answer(op, Err(err.clone()));
                }
                self.break_down(&err.to_string());
            }
        }
    }

    /// Enters (or stays in) the broken state after a failure.
    fn break_down(&mut self, reason: &str) {
        let since = self.health.failed(Side::Write, reason);
        let wait = self.broken.as_ref().map_or(RECOVERY_FIRST_WAIT, |b| b.wait);
        self.broken = Some(Broken {
            since,
            reason: reason.to_owned(),
            retry_at: Instant::now() + wait,
            wait: wait.saturating_mul(2).min(RECOVERY_MAX_WAIT),
        });
    }

    /// Reopens the file and makes a test write; on success the writer is no
    /// longer broken and appends resume.
    fn recover(&mut self) {
        match self.reopen() {
            Ok(()) => {
                if let Some(broken) = self.broken.take() {
                    self.health.succeeded(Side::Write);
                    tracing::info!(
                        path = %self.path.display(),
                        since = %broken.since,
                        head = self.next,
                        "local bus: the journal is writable again; appends resume"
                    );
                }
            }
            Err(err) => {
                let reason = err.to_string();
                self.break_down(&reason);
                let wait = self.broken.as_ref().map_or(RECOVERY_FIRST_WAIT, |b| {
                    b.retry_at.saturating_duration_since(Instant::now())
                });
                tracing::error!(
                    path = %self.path.display(),
                    retry_in_ms = wait.as_millis() as u64,
                    "local bus: the journal is still not writable: {reason}"
                );
            }
        }
    }

    fn reopen(&mut self) -> Result<(), BusError> {
        // The file lock allows one handle: take it from the readers, wait for
        // the reads in progress to finish, and close it.
        if let Some(current) = self.db.take() {
            drop(self.slot.take());
            let deadline = Instant::now() + READERS_GRACE;
            while Arc::strong_count(&current) > 1 {
                if Instant::now() >= deadline {
                    self.slot.put(current.clone());
                    self.db = Some(current);
                    return Err(BusError::Storage {
                        path: self.path.clone(),
                        operation: "reopen",
                        reason: format!("reads still hold the file after {} s", READERS_GRACE.as_secs()),
                    });
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            drop(current);
        }
        let db = Arc::new(integrity::open_database(&self.path)?);
        let initial = super::store::initialise(&db, &self.path)?;
        self.probe(&db)?;
        self.next = initial.next;
        self.last_checkpoint = self.last_checkpoint.max(initial.last_checkpoint);
        self.head.send_replace(self.next);
        self.slot.put(db.clone());
        self.db = Some(db);
        Ok(())
    }

    /// Whether the journal takes writes again: a durable write of
    /// [`PROBE_BYTES`], then a commit that removes it.
    fn probe(&self, db: &Database) -> Result<(), BusError> {
        let path = &self.path;
        let room = vec![0u8; PROBE_BYTES];
        for value in [Some(room.as_slice()), None] {
            let txn = db.begin_write().map_err(|e| storage(path, "test write", e))?;
            {
                let mut probe = txn.open_table(PROBE).map_err(|e| storage(path, "test write", e))?;
                match value {
                    Some(bytes) => probe.insert("room", bytes).map(drop),
                    None => probe.remove("room").map(drop),
                }
                .map_err(|e| storage(path, "test write", e))?;
            }
            txn.commit().map_err(|e| storage(path, "test write", e))?;
        }
        Ok(())
    }

    /// Runs one prune step in a transaction of its own and answers it.
    fn prune(&self, step: PruneOp) {
        match step {
            PruneOp::Events { cutoff, max, reply } => {
                let _ = reply.send(self.prune_events(cutoff, max));
            }
            PruneOp::Keys {
                below,
                from,
                max,
                reply,
            } => {
                let _ = reply.send(self.prune_keys(below, from.as_deref(), max));
            }
        }
    }

    /// Removes up to `max` of the oldest events that every consumer has
    /// acknowledged and that were appended before `cutoff` (unix seconds).
    ///
    /// The time boundary is the newest checkpoint of a second before `cutoff`:
    /// everything below its offset was appended by the end of that second. With
    /// no consumer in the journal nothing is removed (no one has read anything).
    fn prune_events(&self, cutoff: u64, max: usize) -> Result<EventsStep, BusError> {
        let path = &self.path;
        let txn = self.database()?.begin_write().map_err(|e| storage(path, "prune", e))?;
        let step = {
            let acks = txn.open_table(ACKS).map_err(|e| storage(path, "prune", e))?;
            let mut slowest: Option<(String, u64)> = None;
            for entry in acks.iter().map_err(|e| storage(path, "prune", e))? {
                let (consumer, acked) = entry.map_err(|e| storage(path, "prune", e))?;
                if slowest.as_ref().is_none_or(|(_, a)| acked.value() < *a) {
                    slowest = Some((consumer.value().to_owned(), acked.value()));
                }
            }
            let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(|e| storage(path, "prune", e))?;
            let aged = checkpoints
                .range(..cutoff)
                .map_err(|e| storage(path, "prune", e))?
                .next_back()
                .transpose()
                .map_err(|e| storage(path, "prune", e))?
                .map_or(0, |(_, offset)| offset.value());
            let (boundary, held_back) = match slowest {
                None => (0, None),
                Some((consumer, acked)) if acked < aged => (acked, Some(HeldBack { consumer, acked, aged })),
                Some(_) => (aged, None),
            };
            let mut events = txn.open_table(EVENTS).map_err(|e| storage(path, "prune", e))?;
            let first = events
                .first()
                .map_err(|e| storage(path, "prune", e))?
                .map(|(k, _)| k.value());
            let (removed, more) = match first {
                Some(first) if first < boundary => {
                    // Offsets are contiguous from the oldest kept one, so this range holds at most `max` rows.
                    let end = boundary.min(first.saturating_add(max as u64));
                    let mut removed = 0;
                    events
                        .retain_in(first..end, |_, _| {
                            removed += 1;
                            false
                        })
                        .map_err(|e| storage(path, "prune", e))?;
                    (removed, end < boundary)
                }
                _ => (0, false),
            };
            if !more && boundary > 0 {
                // Checkpoints wholly below the boundary can no longer move it.
                checkpoints
                    .retain_in(..cutoff, |_, offset| offset >= boundary)
                    .map_err(|e| storage(path, "prune", e))?;
            }
            let first_kept = events
                .first()
                .map_err(|e| storage(path, "prune", e))?
                .map_or(self.next, |(k, _)| k.value());
            EventsStep {
                removed,
                more,
                boundary,
                first_kept,
                held_back,
            }
        };
        txn.commit().map_err(|e| storage(path, "prune", e))?;
        Ok(step)
    }

    /// Looks at up to `max` idempotency keys from `from` (inclusive) in key
    /// order and removes those whose event is below `below`.
    fn prune_keys(&self, below: u64, from: Option<&str>, max: usize) -> Result<KeysStep, BusError> {
        let path = &self.path;
        let txn = self.database()?.begin_write().map_err(|e| storage(path, "prune", e))?;
        let step = {
            let mut keys = txn.open_table(KEYS).map_err(|e| storage(path, "prune", e))?;
            let mut doomed = Vec::new();
            let mut next = None;
            {
                let range = match from {
                    Some(from) => keys.range(from..),
                    None => keys.range::<&str>(..),
                }
                .map_err(|e| storage(path, "prune", e))?;
                for (seen, entry) in range.enumerate() {
                    let (key, offset) = entry.map_err(|e| storage(path, "prune", e))?;
                    if seen == max {
                        next = Some(key.value().to_owned());
                        break;
                    }
                    if offset.value() < below {
                        doomed.push(key.value().to_owned());
                    }
                }
            }
            for key in &doomed {
                keys.remove(key.as_str()).map_err(|e| storage(path, "prune", e))?;
            }
            KeysStep {
                removed: doomed.len() as u64,
                next,
            }
        };
        txn.commit().map_err(|e| storage(path, "prune", e))?;
        Ok(step)
    }

    /// Applies a batch in one transaction; when it appends, records that every
    /// event below the new next offset was appended by `second` (a checkpoint).
    /// Returns each op's outcome and the new next offset.
    fn apply(&self, db: &Database, batch: &[Op], second: u64) -> Result<(Vec<Outcome>, u64), BusError> {
        let path = &self.path;
        let txn = db.begin_write().map_err(|e| storage(path, "begin write", e))?;
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
                            Some(offset) => Ok(Done::at(offset, true)),
                            None => {
                                events
                                    .insert(next, bytes.as_slice())
                                    .map_err(|e| storage(path, "append", e))?;
                                next += 1;
                                Ok(Done::at(next - 1, false))
                            }
                        }
                    }
                    (
                        Op::Ack {
                            consumer,
                            next: to,
                            done,
                            ..
                        },
                        Some((acks, _)),
                    ) => {
                        if *to > next {
                            Err(self.beyond_head(consumer, *to, next))
                        } else {
                            let acked = advance(acks, consumer, *to).map_err(|e| storage(path, "ack", e))?;
                            if let Some(done) = done
                                && acked == *to
                            {
                                let mut table = txn.open_table(ACK_DONE).map_err(|e| storage(path, "ack", e))?;
                                table
                                    .insert(consumer.as_str(), done.as_slice())
                                    .map_err(|e| storage(path, "ack", e))?;
                            }
                            Ok(Done::at(acked, false))
                        }
                    }
                    (
                        Op::DeadLetter {
                            consumer,
                            offset,
                            record,
                            ack,
                            ..
                        },
                        Some((acks, dead)),
                    ) => {
                        if *offset >= next {
                            Err(self.beyond_head(consumer, offset + 1, next))
                        } else {
                            dead.insert((consumer.as_str(), *offset), record.as_slice())
                                .map_err(|e| storage(path, "dead_letter", e))?;
                            let acked = if *ack {
                                advance(acks, consumer, offset + 1).map_err(|e| storage(path, "dead_letter", e))?
                            } else {
                                *offset
                            };
                            Ok(Done::at(acked, false))
                        }
                    }
                    (Op::Replay { consumer, offset, .. }, Some((_, dead))) => {
                        match dead
                            .remove((consumer.as_str(), *offset))
                            .map_err(|e| storage(path, "replay", e))?
                        {
                            None => Err(self.not_dead(consumer, *offset)),
                            Some(bytes) => {
                                let letter =
                                    decode_dead_letter(path, consumer, *offset, bytes.value())?.into_letter(*offset);
                                let replay = StoredReplay {
                                    replay: Replay {
                                        consumer: consumer.clone(),
                                        of: *offset,
                                    },
                                    event: letter.event.clone(),
                                };
                                let bytes = serde_json::to_vec(&replay).map_err(|e| BusError::Encode {
                                    path: path.clone(),
                                    id: replay.event.id.clone(),
                                    reason: e.to_string(),
                                })?;
                                events
                                    .insert(next, bytes.as_slice())
                                    .map_err(|e| storage(path, "replay", e))?;
                                next += 1;
                                Ok(Done {
                                    offset: next - 1,
                                    duplicate: false,
                                    letter: Some(letter),
                                })
                            }
                        }
                    }
                    (Op::Cursor { name, value, .. }, _) => {
                        let mut table = txn.open_table(CURSORS).map_err(|e| storage(path, "cursor", e))?;
                        table
                            .insert(name.as_str(), value.as_bytes())
                            .map_err(|e| storage(path, "cursor", e))?;
                        Ok(Done::at(0, false))
                    }
                    (Op::Discard { consumer, offset, .. }, Some((_, dead))) => {
                        match dead
                            .remove((consumer.as_str(), *offset))
                            .map_err(|e| storage(path, "discard", e))?
                        {
                            None => Err(self.not_dead(consumer, *offset)),
                            Some(bytes) => Ok(Done {
                                offset: *offset,
                                duplicate: false,
                                letter: Some(
                                    decode_dead_letter(path, consumer, *offset, bytes.value())?.into_letter(*offset),
                                ),
                            }),
                        }
                    }
                    // Unreachable: the tables are open whenever the batch holds an ack or a
                    // dead letter, and prune steps never join a batch.
                    (Op::Ack { .. } | Op::DeadLetter { .. } | Op::Replay { .. } | Op::Discard { .. }, None)
                    | (Op::Prune(_), _) => Err(BusError::Closed { path: path.clone() }),
                };
                outcomes.push(outcome);
            }
            if next != self.next {
                let mut meta = txn.open_table(META).map_err(|e| storage(path, "append", e))?;
                meta.insert(META_NEXT, next).map_err(|e| storage(path, "append", e))?;
                let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(|e| storage(path, "append", e))?;
                checkpoints
                    .insert(second, next)
                    .map_err(|e| storage(path, "append", e))?;
            }
        }
        txn.commit().map_err(|e| storage(path, "commit", e))?;
        Ok((outcomes, next))
    }

    /// The open file (prune steps only run while not broken).
    fn database(&self) -> Result<&Database, BusError> {
        self.db.as_deref().ok_or_else(|| BusError::Closed {
            path: self.path.clone(),
        })
    }

    fn not_dead(&self, consumer: &str, offset: u64) -> BusError {
        BusError::NotDead {
            path: self.path.clone(),
            consumer: consumer.to_owned(),
            offset,
        }
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

/// The letter a replay's or discard's outcome carries (always: the error arm
/// is not reached).
fn with_letter(done: Done, consumer: String, offset: u64) -> Result<DeadLetter, BusError> {
    done.letter.ok_or(BusError::NotDead {
        path: PathBuf::new(),
        consumer,
        offset,
    })
}

/// Sends the result to the waiter (a waiter that gave up is ignored).
fn answer(op: Op, result: Outcome) {
    match op {
        Op::Append { reply, .. } => {
            let _ = reply.send(result.map(|done| Appended {
                offset: done.offset,
                duplicate: done.duplicate,
            }));
        }
        Op::Replay {
            reply,
            offset,
            consumer,
        } => {
            let _ = reply.send(result.and_then(|done| {
                let at = done.offset;
                with_letter(done, consumer, offset).map(|letter| Replayed { offset: at, letter })
            }));
        }
        Op::Ack { reply, .. } | Op::DeadLetter { reply, .. } | Op::Cursor { reply, .. } => {
            let _ = reply.send(result.map(|_| ()));
        }
        Op::Discard {
            reply,
            offset,
            consumer,
        } => {
            let _ = reply.send(result.and_then(|done| with_letter(done, consumer, offset)));
        }
        // Only answered here when refused (a broken writer); otherwise run by `prune`.
        Op::Prune(PruneOp::Events { reply, .. }) => {
            if let Err(err) = result {
                let _ = reply.send(Err(err));
            }
        }
        Op::Prune(PruneOp::Keys { reply, .. }) => {
            if let Err(err) = result {
                let _ = reply.send(Err(err));
            }
        }
    }
}
