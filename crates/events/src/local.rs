//! Consuming the embedded local bus: the in-process counterpart of Adobe I/O
//! Events' webhook delivery.
//!
//! [`spawn_local`] starts a task that reads the journal from the consumer's
//! position and dispatches its events through the same [`Consumer::dispatch`]
//! as `POST /events`, up to [`LocalOptions::concurrency`] at once. Events that
//! share an ordering key ([`crate::ordering`]) are handled strictly in journal
//! order, one at a time; the others run side by side.
//!
//! - success (2xx, including duplicates and loop-guard discards) → finished;
//! - a retryable status (429, 5xx except 505) → retried after a backoff
//!   (`EVENTS_LOCAL_RETRY_INITIAL_MS` doubling up to `EVENTS_LOCAL_RETRY_MAX_MS`),
//!   at most `EVENTS_LOCAL_MAX_ATTEMPTS` attempts in all; the events of its key
//!   wait, the others go on; the wait holds no task;
//! - any other status, or retries exhausted → parked in the dead-letter list
//!   ([`LocalBus::park`]) with the status and message as the reason: finished.
//!
//! Acknowledgement: at most every [`LocalOptions::ack_interval`] (10 ms), the
//! loop durably records ([`LocalBus::ack_with_done`]) its watermark (every
//! event below it is finished) and the finished ranges above it. A retrying
//! event holds back the watermark; the loop reads at most
//! [`LocalOptions::window`] events past what is acknowledged, then waits.
//!
//! Crash safety: a finished event whose finish was recorded is never
//! dispatched again; after a crash only the unfinished ones are, in journal
//! order per key: what was running, retrying or waiting for its key, and what
//! finished since the last write, at most the window. Delivery is at least
//! once: with a shared state store (`REDIS_URL`) redelivered events are
//! recognised by their dedupe marks; handlers should be idempotent either way
//! (the forwarding handler sends an `idempotency-key`).
//!
//! Memory: at most the window's offsets and the keys of waiting events, the
//! records of `2 × concurrency + read_batch` events ready to run, the running
//! ones, and [`LocalOptions::buffered`] waiting or retrying records (the
//! others are read again from the journal when their turn comes).
//!
//! Dead letters are listed, shown, replayed and discarded with
//! [`LocalBus::dead_letters`], [`LocalBus::replay`] and
//! [`LocalBus::discard`]; while the server runs (it holds the journal's lock),
//! through [`crate::admin`].
//!
//! Retention: beside the loop, a task removes the events every consumer has
//! acknowledged once they are older than [`LocalOptions::retention`] (7 days
//! by default, `BUS_RETENTION_HOURS`), at start and then every
//! [`LocalOptions::prune_every`] (an hour); see [`LocalBus::prune`]. It logs
//! what it removed, and warns when a consumer's acknowledgement keeps events
//! past the retention (a stopped or renamed consumer holds the journal's size).
//!
//! Shutdown: [`LocalConsumerHandle::shutdown`] lets the events being handled
//! finish (bounded by the handler deadline), drops retry waits and events not
//! yet started, records what finished, and returns; the next start resumes
//! from there.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::bus::{AckState, BusError, BusRecord, LocalBus};
use crate::consumer::Consumer;
use crate::handler::{DeliverySource, EventContext};
use crate::ordering::OrderingKeys;

/// Consumer name under which the loop acknowledges and dead-letters by default.
pub const DEFAULT_CONSUMER_NAME: &str = "events-consumer";

/// How the loop reads and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// The consumer name in the journal (acks and dead letters are per name).
    pub consumer_name: String,
    /// Attempts per event for retryable failures, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubles each time.
    pub initial_backoff: Duration,
    /// Cap of the wait between retries.
    pub max_backoff: Duration,
    /// Records read per journal read.
    pub read_batch: usize,
    /// How long acknowledged events are kept; `None` keeps every event.
    pub retention: Option<Duration>,
    /// How often old events are removed (the first time at start).
    pub prune_every: Duration,
    /// Events handled at the same time at most (`EVENTS_CONCURRENCY`, 32).
    pub concurrency: usize,
    /// How far past its acknowledgement the loop reads (`EVENTS_WINDOW`,
    /// 10,000 events): the bound of what a crash hands over again, and how
    /// far the other keys go on past an event that keeps failing.
    pub window: usize,
    /// Records kept in memory for events waiting on their key or a retry;
    /// past it they are read again from the journal when their turn comes.
    pub buffered: usize,
    /// The ordering keys (see [`crate::ordering`]).
    pub ordering: OrderingKeys,
    /// The shortest time between two acknowledgement writes (each one a
    /// durable commit): 10 ms.
    pub ack_interval: Duration,
}

/// Default [`LocalOptions::concurrency`].
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Default [`LocalOptions::window`].
pub const DEFAULT_WINDOW: usize = 10_000;

/// Default [`LocalOptions::retention`]: 7 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl Default for LocalOptions {
    fn default() -> Self {
        Self {
            consumer_name: DEFAULT_CONSUMER_NAME.to_owned(),
            max_attempts: 10,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            read_batch: 64,
            retention: Some(DEFAULT_RETENTION),
            prune_every: Duration::from_secs(3600),
            concurrency: DEFAULT_CONCURRENCY,
            window: DEFAULT_WINDOW,
            buffered: 1024,
            ordering: OrderingKeys::starter_kit(),
            ack_interval: Duration::from_millis(10),
        }
    }
}

impl LocalOptions {
    /// The wait before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        doubling(self.initial_backoff, self.max_backoff, retry)
    }
}

/// `initial` doubled `n - 1` times, capped at `max` (`n` is 1-based).
pub(crate) fn doubling(initial: Duration, max: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1));
    initial.saturating_mul(factor).min(max)
}

/// The running loop. Dropping the handle does not stop it; call [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct LocalConsumerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    retention: Option<JoinHandle<()>>,
}

impl LocalConsumerHandle {
    /// Asks the loop to stop after the events in progress (non-blocking).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Asks the loop to stop and waits until it has.
    pub async fn shutdown(self) {
        self.stop();
        self.join().await;
    }

    /// Waits for the loop (and the retention task) to end; they only end after [`stop`](Self::stop).
    pub async fn join(self) {
        if let Err(err) = self.task.await {
            tracing::error!(error = %err, "local bus consumer task failed");
        }
        if let Some(retention) = self.retention
            && let Err(err) = retention.await
        {
            tracing::error!(error = %err, "local bus retention task failed");
        }
    }

    /// True once the loop has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Starts consuming `bus` with `consumer`; see the module docs.
pub fn spawn_local(consumer: Consumer, bus: LocalBus, options: LocalOptions) -> LocalConsumerHandle {
    let (stop, stop_rx) = watch::channel(false);
    let retention = options
        .retention
        .map(|keep| tokio::spawn(retain(bus.clone(), keep, options.prune_every, stop_rx.clone())));
    let task = tokio::spawn(run(consumer, bus, options, stop_rx));
    LocalConsumerHandle { stop, task, retention }
}

/// Removes old acknowledged events now and then every `every`, until stopped.
async fn retain(bus: LocalBus, keep: Duration, every: Duration, mut stop: watch::Receiver<bool>) {
    let hours = keep.as_secs_f64() / 3600.0;
    loop {
        match bus.prune(keep).await {
            Ok(pruned) => {
                if pruned.events > 0 {
                    tracing::info!(
                        events = pruned.events,
                        keys = pruned.keys,
                        first_kept = pruned.first_kept,
                        "local bus retention: removed events older than {hours} h that every consumer had acknowledged"
                    );
                }
                if let Some(held) = pruned.held_back {
                    tracing::warn!(
                        consumer = %held.consumer,
                        acked = held.acked,
                        aged = held.aged,
                        "local bus retention: consumer '{}' has not acknowledged events older than {hours} h; they are \
                         kept until it does (a consumer that no longer runs keeps them forever)",
                        held.consumer
                    );
                }
            }
            Err(err) => tracing::error!(error = %err, "local bus retention failed; retrying at the next run"),
        }
        if sleep_or_stop(&mut stop, every).await {
            return;
        }
    }
}

/// Sleeps for `d` unless a stop is requested first; true when stopping.
/// When the handle is gone (no stop can come any more), it just sleeps.
pub(crate) async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    let sleep = tokio::time::sleep(d);
    tokio::pin!(sleep);
    tokio::select! {
        () = &mut sleep => *stop.borrow(),
        changed = stop.changed() => match changed {
            Ok(()) => *stop.borrow(),
            Err(_) => {
                sleep.await;
                false
            }
        },
    }
}

/// Resolves when a stop is requested; never, once the handle that could
/// request one is gone (a `changed()` that fails at once would spin a loop).
pub(crate) async fn stop_requested(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Retries a bus operation with capped backoff until it succeeds (Some) or a
/// stop is requested (None). Every failure is logged at error level with the
/// count so far; the bus records read and write failures in
/// [`LocalBus::health`], which `GET /ready` reports, and a later success is
/// logged too. A damaged journal ([`BusError::Damaged`]) does not heal by
/// retrying: its message says what to do.
async fn persist<T, F, Fut>(
    what: &str,
    options: &LocalOptions,
    stop: &mut watch::Receiver<bool>,
    mut op: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BusError>>,
{
    let mut failures = Failures::default();
    loop {
        match op().await {
            Ok(v) => {
                failures.succeeded(what);
                return Some(v);
            }
            Err(err) => {
                let at = failures.failed(what, &err.to_string(), "the consumer waits here", options);
                if sleep_or_stop(stop, at.saturating_duration_since(Instant::now())).await {
                    return None;
                }
            }
        }
    }
}

/// Upper bound of the finished ranges recorded with an acknowledgement: past
/// them, finished events are handled again after a crash (still within the window).
const MAX_DONE_RANGES: usize = 1024;

async fn run(consumer: Consumer, bus: LocalBus, options: LocalOptions, mut stop: watch::Receiver<bool>) {
    let name = options.consumer_name.clone();
    let Some(state) = persist("read of the acknowledged offset", &options, &mut stop, || {
        bus.ack_state(&name)
    })
    .await
    else {
        return;
    };
    let options = Arc::new(options);
    let concurrency = options.concurrency.max(1);
    let readahead = concurrency * 2 + options.read_batch.max(1);
    let mut sched = Scheduler::new(name.clone(), options.ordering.clone(), options.buffered, &state);
    let mut acks = AckWriter::new(name.clone(), state.next);
    let mut tasks: JoinSet<Finished> = JoinSet::new();
    let mut timers: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut reads = Reads::default();
    let mut head = bus.subscribe();
    tracing::info!(
        consumer = %name,
        from = state.next,
        finished_above = state.done.iter().map(|r| r.end - r.start).sum::<u64>(),
        head = bus.head(),
        concurrency,
        window = options.window,
        "local bus consumer started"
    );
    acks.report(&bus);
    metrics::counter!("commerce_kit_bus_dead_letters_total", "consumer" => name.clone()).increment(0);
    let in_flight = metrics::gauge!("commerce_kit_bus_in_flight", "consumer" => name.clone());
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.len() < concurrency {
            let Some(start) = sched.take_ready() else { break };
            tasks.spawn(handle(
                consumer.clone(),
                bus.clone(),
                options.clone(),
                start,
                stop.clone(),
            ));
        }
        in_flight.set(tasks.len() as f64);
        let current_head = *head.borrow_and_update();
        let unacked = sched.end.saturating_sub(acks.durable) as usize;
        let room = options.window.max(1).saturating_sub(unacked);
        let may_read = reads.retry_at.is_none_or(|at| Instant::now() >= at);
        if reads.task.is_none()
            && may_read
            && sched.end < current_head
            && room > 0
            && sched.ready_len() + tasks.len() < readahead
        {
            let (bus, from, max) = (bus.clone(), sched.end, room.min(options.read_batch.max(1)));
            reads.task = Some(tokio::spawn(async move { bus.read(from, max).await }));
        }
        let due = timers.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                finish(joined, &mut sched, &mut timers, &options);
                acks.changed(&sched, options.ack_interval);
            }
            () = sleep_until_some(due), if due.is_some() => {
                let now = Instant::now();
                while let Some(Reverse((at, offset))) = timers.peek().copied() {
                    if at > now {
                        break;
                    }
                    timers.pop();
                    sched.retry_due(offset);
                }
            }
            Some(read) = wait_some(&mut reads.task), if reads.task.is_some() => {
                if let Some(records) = reads.done(read, &options) {
                    for record in records {
                        sched.add(record);
                    }
                    acks.changed(&sched, options.ack_interval);
                }
            }
            () = sleep_until_some(reads.retry_at), if reads.retry_at.is_some() && reads.task.is_none() => {
                reads.retry_at = None;
            }
            () = sleep_until_some(acks.due), if acks.due.is_some() && acks.writing.is_none() => {
                acks.write(&bus, &sched);
            }
            Some(written) = wait_some(&mut acks.writing), if acks.writing.is_some() => {
                acks.written(written, &bus, &options, &sched);
            }
            changed = head.changed() => if changed.is_err() { break },
            () = stop_requested(&mut stop) => {}
        }
    }
    // A stop interrupts retry waits and leaves what has not started; the
    // events being handled finish (bounded by the handler deadline) and what
    // was finished is acknowledged (one last try).
    if let Some(read) = reads.task.take() {
        read.abort();
    }
    while let Some(joined) = tasks.join_next().await {
        finish(joined, &mut sched, &mut timers, &options);
    }
    in_flight.set(0.0);
    if let Some(writing) = acks.writing.take() {
        let written = writing.await;
        acks.written(written, &bus, &options, &sched);
    }
    let (next, done) = sched.position();
    if next > acks.durable || !done.is_empty() {
        match bus.ack_with_done(&name, next, &done).await {
            Ok(()) => acks.durable = next,
            Err(err) => tracing::warn!(
                error = %err,
                next,
                "local bus: last acknowledgement failed; finished events will be redelivered"
            ),
        }
    }
    tracing::info!(consumer = %name, next = acks.durable, "local bus consumer stopped");
}

/// The journal read in progress, and when to try again after a failure.
#[derive(Default)]
struct Reads {
    task: Option<JoinHandle<Result<Vec<BusRecord>, BusError>>>,
    retry_at: Option<Instant>,
    failures: Failures,
}

/// Consecutive failures of one journal operation, logged the same way for each.
#[derive(Default)]
struct Failures(u32);

impl Failures {
    /// A success: logs the end of a run of failures.
    fn succeeded(&mut self, what: &str) {
        if self.0 > 0 {
            tracing::info!(
                failures = self.0,
                "local bus {what} succeeded again; the consumer goes on"
            );
        }
        self.0 = 0;
    }

    /// One more failure, logged at error with the count; returns when to try again.
    fn failed(&mut self, what: &str, error: &str, meanwhile: &str, options: &LocalOptions) -> Instant {
        self.0 += 1;
        let wait = options.backoff(self.0);
        tracing::error!(
            error = %error,
            failures = self.0,
            retry_in_ms = wait.as_millis() as u64,
            "local bus {what} failed; {meanwhile} and retries (GET /ready reports it)"
        );
        Instant::now() + wait
    }
}

impl Reads {
    /// The records read, or `None` after a failure (logged at error with the
    /// count so far, retried after a backoff; the bus records it in
    /// [`LocalBus::health`], which `GET /ready` reports). A damaged journal
    /// ([`BusError::Damaged`]) does not heal by retrying: its message says what to do.
    fn done(
        &mut self,
        read: Result<Result<Vec<BusRecord>, BusError>, tokio::task::JoinError>,
        options: &LocalOptions,
    ) -> Option<Vec<BusRecord>> {
        let error = match read {
            Ok(Ok(records)) => {
                self.failures.succeeded("read");
                if records.is_empty() {
                    // head is ahead but nothing readable yet: do not spin.
                    self.retry_at = Some(Instant::now() + Duration::from_millis(50));
                }
                return Some(records);
            }
            Ok(Err(err)) => err.to_string(),
            Err(err) => format!("the read task failed: {err}"),
        };
        let what = "the consumer finishes what it has, waits here";
        self.retry_at = Some(self.failures.failed("read", &error, what, options));
        None
    }
}

/// Sleeps until `at` (forever when `None`; the branch is disabled then).
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The result of the task in `slot`, once it ends (it stays `None` after).
async fn wait_some<T: Send + 'static>(slot: &mut Option<JoinHandle<T>>) -> Option<Result<T, tokio::task::JoinError>> {
    let handle = slot.as_mut()?;
    let result = handle.await;
    *slot = None;
    Some(result)
}

/// Applies a finished task to the schedule.
fn finish(
    joined: Result<Finished, tokio::task::JoinError>,
    sched: &mut Scheduler,
    timers: &mut BinaryHeap<Reverse<(Instant, u64)>>,
    options: &LocalOptions,
) {
    let finished = match joined {
        Ok(finished) => finished,
        // The task only awaits the consumer (which catches handler panics) and the bus.
        Err(err) => {
            tracing::error!(error = %err, "local bus event task failed; the event is handled again after a restart");
            return;
        }
    };
    match finished {
        Finished::Done { offset } => sched.complete(offset),
        Finished::Retry { record, attempts } => {
            let at = Instant::now() + options.backoff(attempts);
            timers.push(Reverse((at, record.offset)));
            sched.retry_later(*record, attempts);
        }
        Finished::Stopped { offset } => sched.stopped(offset),
    }
}

/// An acknowledgement write: the position written and how it went.
type AckWrite = (u64, Vec<Range<u64>>, Result<(), BusError>);

/// The acknowledgement: what is durable, the write in progress, when the next is due.
struct AckWriter {
    consumer: String,
    /// On disk: every event below it is finished.
    durable: u64,
    /// The finished ranges on disk above `durable` were written (for "changed").
    durable_done: Vec<Range<u64>>,
    /// The write in progress, and the position it writes.
    writing: Option<JoinHandle<AckWrite>>,
    /// When the next write is due (`None`: nothing to write).
    due: Option<Instant>,
    /// When the last write started.
    last: Instant,
    /// Consecutive failed writes.
    failures: Failures,
}

impl AckWriter {
    fn new(consumer: String, durable: u64) -> Self {
        Self {
            consumer,
            durable,
            durable_done: Vec::new(),
            writing: None,
            due: None,
            last: Instant::now(),
            failures: Failures::default(),
        }
    }

    /// Schedules a write when the position moved: at most one every `interval`.
    fn changed(&mut self, sched: &Scheduler, interval: Duration) {
        if self.due.is_none() && (sched.watermark() > self.durable || sched.has_done_above()) {
            self.due = Some((self.last + interval).max(Instant::now()));
        }
    }

    fn write(&mut self, bus: &LocalBus, sched: &Scheduler) {
        self.due = None;
        let (next, done) = sched.position();
        if next <= self.durable && done == self.durable_done {
            return;
        }
        self.last = Instant::now();
        let (bus, name) = (bus.clone(), self.consumer.clone());
        self.writing = Some(tokio::spawn(async move {
            let result = bus.ack_with_done(&name, next, &done).await;
            (next, done, result)
        }));
    }

    fn written(
        &mut self,
        written: Result<AckWrite, tokio::task::JoinError>,
        bus: &LocalBus,
        options: &LocalOptions,
        sched: &Scheduler,
    ) {
        let error = match written {
            Ok((next, done, Ok(()))) => {
                self.failures.succeeded("ack");
                self.durable = self.durable.max(next);
                self.durable_done = done;
                self.report(bus);
                self.changed(sched, options.ack_interval);
                return;
            }
            Ok((_, _, Err(err))) => err.to_string(),
            Err(err) => format!("the write task failed: {err}"),
        };
        let what = "the consumer reads no further than its window";
        self.due = Some(self.failures.failed("ack", &error, what, options));
    }

    /// `commerce_kit_bus_acked_offset{consumer}` and `commerce_kit_bus_lag{consumer}`
    /// (events appended but not yet acknowledged).
    fn report(&self, bus: &LocalBus) {
        let consumer = self.consumer.clone();
        metrics::gauge!("commerce_kit_bus_acked_offset", "consumer" => consumer.clone()).set(self.durable as f64);
        metrics::gauge!("commerce_kit_bus_lag", "consumer" => consumer)
            .set(bus.head().saturating_sub(self.durable) as f64);
    }
}

/// What a task did with its event.
enum Finished {
    /// Handled, or parked in the dead-letter list: finished.
    Done { offset: u64 },
    /// A retryable failure with attempts left: due again after the backoff.
    Retry { record: Box<BusRecord>, attempts: u32 },
    /// A stop came first: not finished, handled again after a restart.
    Stopped { offset: u64 },
}

/// An event handed to a task.
struct Start {
    offset: u64,
    /// `None` when it was not kept in memory: the task reads it again.
    record: Option<BusRecord>,
    /// Attempts made so far.
    attempts: u32,
}

/// Handles one event: one attempt, or parks it when it failed for good.
async fn handle(
    consumer: Consumer,
    bus: LocalBus,
    options: Arc<LocalOptions>,
    start: Start,
    mut stop: watch::Receiver<bool>,
) -> Finished {
    let Start {
        offset,
        record,
        attempts,
    } = start;
    let record = match record {
        Some(record) => record,
        None => {
            let read = persist("read", &options, &mut stop, || bus.read(offset, 1)).await;
            match read.and_then(|mut r| r.pop().filter(|r| r.offset == offset)) {
                Some(record) => record,
                None if *stop.borrow() => return Finished::Stopped { offset },
                None => {
                    // Not reached: events are only removed once every consumer acknowledged them.
                    tracing::error!(
                        offset,
                        "local bus: an unfinished event is no longer in the journal; passing over it"
                    );
                    return Finished::Done { offset };
                }
            }
        }
    };
    let name = options.consumer_name.as_str();
    let mut ctx = EventContext::new(record.event.event_id().to_owned());
    ctx.retry_count = (attempts > 0).then_some(attempts);
    ctx.source = DeliverySource::LocalBus { offset };
    let d = consumer.dispatch(record.event.clone(), ctx).await;
    let attempts = attempts + 1;
    tracing::info!(
        offset,
        event_type = %record.event.event_type,
        event_id = %record.event.event_id(),
        handler = d.handler.as_deref().unwrap_or("-"),
        outcome = d.outcome.as_str(),
        status = d.status.as_u16(),
        attempt = attempts,
        error = d.error_message(),
        elapsed_ms = d.elapsed.as_millis() as u64,
        "local bus event"
    );
    if d.is_success() {
        return Finished::Done { offset };
    }
    let max_attempts = options.max_attempts.max(1);
    if d.is_retryable() && attempts < max_attempts {
        tracing::warn!(
            offset,
            retry_in_ms = options.backoff(attempts).as_millis() as u64,
            "retryable failure; the events with the same ordering key wait, the others go on"
        );
        return Finished::Retry {
            record: Box::new(record),
            attempts,
        };
    }
    let detail = json!({"status": d.status.as_u16(), "error": d.error_message()}).to_string();
    let reason = if d.is_retryable() {
        format!("gave up after {attempts} attempts: {detail}")
    } else {
        format!("not retryable: {detail}")
    };
    tracing::warn!(offset, reason = %reason, "event parked in the dead-letter list");
    match persist("dead_letter", &options, &mut stop, || bus.park(name, &record, &reason)).await {
        Some(()) => {
            metrics::counter!("commerce_kit_bus_dead_letters_total", "consumer" => name.to_owned()).increment(1);
            Finished::Done { offset }
        }
        None => Finished::Stopped { offset },
    }
}

/// Where an unfinished event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// An earlier event shares one of its keys.
    Blocked,
    /// First in line for each of its keys; waiting for a free task.
    Ready,
    /// A task has it.
    Running,
    /// Failed, retryable; due again after its backoff.
    Retrying,
}

/// An event read and not finished.
struct Entry {
    keys: Vec<String>,
    state: State,
    record: Option<BusRecord>,
    /// True when `record` counts against [`LocalOptions::buffered`].
    counted: bool,
    attempts: u32,
}

/// Which events may run, in which order, and the acknowledgement watermark.
struct Scheduler {
    consumer: String,
    ordering: OrderingKeys,
    /// Cap of records kept for events neither ready nor running.
    max_buffered: usize,
    buffered: usize,
    /// Offsets read and not yet below the watermark, ascending, with "finished".
    slots: VecDeque<(u64, bool)>,
    /// The next offset to read.
    end: u64,
    /// Finished before the start (the recorded ranges): passed over when read.
    finished_before: Vec<Range<u64>>,
    /// Per key, its unfinished events in journal order.
    queues: HashMap<String, VecDeque<u64>>,
    entries: HashMap<u64, Entry>,
    ready: VecDeque<u64>,
}

impl Scheduler {
    fn new(consumer: String, ordering: OrderingKeys, max_buffered: usize, state: &AckState) -> Self {
        Self {
            consumer,
            ordering,
            max_buffered,
            buffered: 0,
            slots: VecDeque::new(),
            end: state.next,
            finished_before: state.done.clone(),
            queues: HashMap::new(),
            entries: HashMap::new(),
            ready: VecDeque::new(),
        }
    }

    fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Every event below it is finished.
    fn watermark(&self) -> u64 {
        self.slots.front().map_or(self.end, |(offset, _)| *offset)
    }

    fn has_done_above(&self) -> bool {
        self.slots.iter().any(|(_, done)| *done)
    }

    /// The watermark and the finished ranges above it (at most [`MAX_DONE_RANGES`]).
    fn position(&self) -> (u64, Vec<Range<u64>>) {
        let mut ranges: Vec<Range<u64>> = Vec::new();
        for &(offset, done) in &self.slots {
            if !done {
                continue;
            }
            let full = ranges.len() == MAX_DONE_RANGES;
            match ranges.last_mut() {
                Some(last) if last.end == offset => last.end = offset + 1,
                _ if full => break,
                _ => ranges.push(offset..offset + 1),
            }
        }
        (self.watermark(), ranges)
    }

    /// Takes a record read from the journal.
    fn add(&mut self, record: BusRecord) {
        let offset = record.offset;
        self.end = offset + 1;
        // Ranges are ascending and reads go forward: drop those behind.
        while self.finished_before.first().is_some_and(|r| r.end <= offset) {
            self.finished_before.remove(0);
        }
        let finished = self.finished_before.first().is_some_and(|r| r.contains(&offset));
        if finished || !record.is_for(&self.consumer) {
            self.slots.push_back((offset, true));
            self.advance();
            return;
        }
        self.slots.push_back((offset, false));
        let keys = self.ordering.keys(&record.event);
        for key in &keys {
            self.queues.entry(key.clone()).or_default().push_back(offset);
        }
        let mut entry = Entry {
            keys,
            state: State::Blocked,
            record: None,
            counted: false,
            attempts: 0,
        };
        if self.is_first(&entry.keys, offset) {
            entry.state = State::Ready;
            entry.record = Some(record);
            self.ready.push_back(offset);
        } else {
            self.keep(&mut entry, record);
        }
        self.entries.insert(offset, entry);
    }

    /// Keeps the record of a waiting event while under the cap.
    fn keep(&mut self, entry: &mut Entry, record: BusRecord) {
        if self.buffered < self.max_buffered {
            self.buffered += 1;
            entry.counted = true;
            entry.record = Some(record);
        }
    }

    fn is_first(&self, keys: &[String], offset: u64) -> bool {
        keys.iter()
            .all(|k| self.queues.get(k).and_then(|q| q.front()) == Some(&offset))
    }

    fn take_ready(&mut self) -> Option<Start> {
        while let Some(offset) = self.ready.pop_front() {
            let Some(entry) = self.entries.get_mut(&offset) else {
                continue;
            };
            if entry.state != State::Ready {
                continue;
            }
            entry.state = State::Running;
            if entry.counted {
                entry.counted = false;
                self.buffered -= 1;
            }
            return Some(Start {
                offset,
                record: entry.record.take(),
                attempts: entry.attempts,
            });
        }
        None
    }

    fn retry_later(&mut self, record: BusRecord, attempts: u32) {
        let offset = record.offset;
        let Some(mut entry) = self.entries.remove(&offset) else {
            return;
        };
        entry.state = State::Retrying;
        entry.attempts = attempts;
        self.keep(&mut entry, record);
        self.entries.insert(offset, entry);
    }

    fn retry_due(&mut self, offset: u64) {
        if let Some(entry) = self.entries.get_mut(&offset)
            && entry.state == State::Retrying
        {
            entry.state = State::Ready;
            // A retry goes first: its key has been waiting longest.
            self.ready.push_front(offset);
        }
    }

    /// A task ended by a stop: the event stays unfinished.
    fn stopped(&mut self, offset: u64) {
        if let Some(entry) = self.entries.get_mut(&offset) {
            entry.state = State::Retrying;
        }
    }

    /// The event is finished: its keys move on, the watermark too.
    fn complete(&mut self, offset: u64) {
        let Some(entry) = self.entries.remove(&offset) else {
            return;
        };
        if entry.counted {
            self.buffered -= 1;
        }
        for key in &entry.keys {
            let Some(queue) = self.queues.get_mut(key) else {
                continue;
            };
            if queue.front() == Some(&offset) {
                queue.pop_front();
            }
            match queue.front().copied() {
                None => {
                    self.queues.remove(key);
                }
                Some(next) => {
                    let blocked = self.entries.get(&next).is_some_and(|e| e.state == State::Blocked);
                    if blocked && self.is_first(&self.entries[&next].keys, next) {
                        if let Some(e) = self.entries.get_mut(&next) {
                            e.state = State::Ready;
                        }
                        self.ready.push_back(next);
                    }
                }
            }
        }
        if let Ok(i) = self.slots.binary_search_by_key(&offset, |(o, _)| *o) {
            self.slots[i].1 = true;
        }
        self.advance();
    }

    fn advance(&mut self) {
        while self.slots.front().is_some_and(|(_, done)| *done) {
            self.slots.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudevent::CloudEvent;

    #[test]
    fn events_recorded_as_finished_are_passed_over_and_the_watermark_moves_past_them() {
        let state = AckState {
            next: 2,
            done: vec![3..5, 7..8],
        };
        let mut sched = Scheduler::new("c".into(), OrderingKeys::starter_kit(), 16, &state);
        for offset in 2..9 {
            let event = CloudEvent::new(
                format!("e{offset}"),
                "s",
                "be-observer.customer_delete",
                serde_json::json!({"id": offset}),
            );
            sched.add(BusRecord::new(offset, event));
        }
        let mut started = Vec::new();
        while let Some(start) = sched.take_ready() {
            assert!(start.record.is_some(), "a ready event keeps its record");
            started.push(start.offset);
        }
        assert_eq!(started, vec![2, 5, 6, 8], "3, 4 and 7 finished before the restart");
        assert_eq!(sched.position(), (2, vec![3..5, 7..8]));
        for offset in [2, 5, 6] {
            sched.complete(offset);
        }
        assert_eq!(sched.position(), (8, vec![]), "up to the one still running");
        sched.complete(8);
        assert_eq!(sched.position(), (9, vec![]));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = LocalOptions {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            ..LocalOptions::default()
        };
        let waits: Vec<u128> = (1..=6).map(|r| o.backoff(r).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 700, 700, 700]);
        assert_eq!(o.backoff(200), Duration::from_millis(700), "no overflow");
    }
}
