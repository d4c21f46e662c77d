//! The background log writer: log lines are appended to a shared buffer and a
//! writer thread writes the buffer out in batches, so a logging thread never
//! waits for stdout, and nothing is ever dropped.
//!
//! Under load the writer wakes on its own every [`BATCH_INTERVAL`] and writes
//! whatever has collected with one `write(2)`: logging threads append to a
//! buffer and carry on, without waking anyone (no futex, no context switch per
//! line, no allocation per line). When it finds nothing to write, the writer
//! sleeps until the next line arrives, which wakes it at once: a line logged on
//! an idle server is written immediately, one logged under load within about
//! [`BATCH_INTERVAL`].
//!
//! Never lossy: past [`MAX_PENDING`] bytes waiting (stdout blocked), logging
//! threads wait for the writer. Dropping the [`WriterGuard`] writes what is
//! pending and stops the thread.
//!
//! Why it is kept instead of tracing-appender's non-blocking writer (lossless
//! mode, which does the same job with a channel and a wake-up per line):
//! `bench/check-stock.sh` (pinned layout, alternating rounds, 2026-12-04)
//! served the same build with tracing-appender in its place (the text
//! formatter kept) as `BASELINE_BIN`: check-stock/baseline 1.06 (medians
//! 102.8k vs 96.9k req/s; per-round ratios 1.04-1.20), and 1.10 (104.5k vs
//! 95.3k; 1.06-1.17, 7 rounds) in a later run. The project keeps a
//! hand-written copy of a well-kept crate only while it wins by 5 % or more
//! on that benchmark: measure again before changing it.

use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines collect after writing a batch.
pub(crate) const BATCH_INTERVAL: Duration = Duration::from_millis(2);

/// Bytes waiting to be written past which logging threads wait for the writer.
pub(crate) const MAX_PENDING: usize = 256 * 1024;

/// How long dropping the guard waits for the writer to finish (it may be stuck
/// on a blocked stdout).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

struct Shared {
    state: Mutex<State>,
    /// The writer waits here when there is nothing to write.
    wake_writer: Condvar,
    /// Logging threads wait here when [`MAX_PENDING`] bytes are waiting.
    room: Condvar,
    max_pending: usize,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The writer is waiting on `wake_writer`.
    writer_waiting: bool,
    /// Logging threads waiting on `room`.
    waiting_for_room: usize,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one formatted line (or several, whole). Once the writer has
    /// stopped, lines are dropped: nothing would write them.
    fn push(&self, bytes: &[u8]) {
        let mut state = self.lock();
        while state.pending.len() >= self.max_pending && !state.closed {
            state.waiting_for_room += 1;
            state = self.room.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.waiting_for_room -= 1;
        }
        if state.closed {
            return;
        }
        state.pending.extend_from_slice(bytes);
        if state.writer_waiting {
            state.writer_waiting = false;
            drop(state);
            self.wake_writer.notify_one();
        }
    }
}

/// The `MakeWriter` handed to tracing-subscriber: each event's line is appended
/// whole to the shared buffer.
#[derive(Clone)]
pub(crate) struct BatchWriter {
    shared: Arc<Shared>,
}

/// One event's writer.
pub(crate) struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.shared.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { shared: &self.shared }
    }
}

/// Stops the writer thread when dropped, after it has written every pending line.
pub(crate) struct WriterGuard {
    shared: Arc<Shared>,
    finished: mpsc::Receiver<()>,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closed = true;
        drop(state);
        self.shared.wake_writer.notify_one();
        self.shared.room.notify_all();
        let _ = self.finished.recv_timeout(CLOSE_TIMEOUT);
    }
}

/// Starts the writer thread over `out`.
pub(crate) fn spawn<W: Write + Send + 'static>(out: W) -> io::Result<(BatchWriter, WriterGuard)> {
    spawn_with(out, MAX_PENDING, BATCH_INTERVAL)
}

fn spawn_with<W: Write + Send + 'static>(
    out: W,
    max_pending: usize,
    interval: Duration,
) -> io::Result<(BatchWriter, WriterGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        wake_writer: Condvar::new(),
        room: Condvar::new(),
        max_pending,
    });
    let (done, finished) = mpsc::channel();
    let writer = Arc::clone(&shared);
    std::thread::Builder::new().name("log-writer".into()).spawn(move || {
        // However the writer ends, logging threads must not wait for it any more.
        let _stopped = StopOnExit(&writer);
        run(&writer, out, interval);
        let _ = done.send(());
    })?;
    Ok((
        BatchWriter {
            shared: Arc::clone(&shared),
        },
        WriterGuard { shared, finished },
    ))
}

/// Marks the writer stopped when its thread ends, even by a panic.
struct StopOnExit<'a>(&'a Shared);

impl Drop for StopOnExit<'_> {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.room.notify_all();
    }
}

fn run<W: Write>(shared: &Shared, mut out: W, interval: Duration) {
    let mut batch = Vec::new();
    // Report a failing output once, not for every batch.
    let mut failing = false;
    loop {
        let (closed, room_needed) = {
            let mut state = shared.lock();
            while state.pending.is_empty() && !state.closed {
                state.writer_waiting = true;
                state = shared.wake_writer.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            state.writer_waiting = false;
            // The emptied previous batch becomes the next buffer: no allocation in steady state.
            std::mem::swap(&mut state.pending, &mut batch);
            (state.closed, state.waiting_for_room > 0)
        };
        if room_needed {
            shared.room.notify_all();
        }
        if batch.is_empty() {
            // Closed with nothing left to write.
            return;
        }
        match out.write_all(&batch).and_then(|()| out.flush()) {
            Ok(()) => failing = false,
            Err(err) if !failing => {
                eprintln!("cannot write logs: {err}");
                failing = true;
            }
            Err(_) => {}
        }
        batch.clear();
        if !closed {
            std::thread::sleep(interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[derive(Clone, Default)]
    struct Sink {
        bytes: Arc<Mutex<Vec<u8>>>,
        writes: Arc<Mutex<usize>>,
        delay: Option<Duration>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if let Some(delay) = self.delay {
                std::thread::sleep(delay);
            }
            self.bytes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            *self.writes.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.bytes.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
        }
        fn writes(&self) -> usize {
            *self.writes.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    fn log(writer: &BatchWriter, line: &str) {
        writer.make_writer().write_all(line.as_bytes()).expect("write");
    }

    #[test]
    fn every_line_is_written_whole_and_in_order_per_thread_by_the_time_the_guard_drops() {
        let sink = Sink::default();
        let (writer, guard) = spawn(sink.clone()).expect("spawn");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        log(&writer, &format!("thread={t} line={i} {}\n", "x".repeat(i % 200)));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("join");
        }
        drop(guard);
        let text = sink.text();
        let mut next = [0usize; 4];
        for line in text.lines() {
            let mut parts = line.split(' ');
            let t: usize = parts
                .next()
                .and_then(|p| p.strip_prefix("thread="))
                .expect("thread")
                .parse()
                .expect("t");
            let i: usize = parts
                .next()
                .and_then(|p| p.strip_prefix("line="))
                .expect("line")
                .parse()
                .expect("i");
            assert_eq!(parts.next().map(str::len), Some(i % 200), "{line}");
            assert_eq!(i, next[t], "thread {t} out of order");
            next[t] += 1;
        }
        assert_eq!(next, [5_000; 4]);
        // Batched: far fewer writes than lines.
        assert!(sink.writes() < 20_000 / 4, "{} writes", sink.writes());
    }

    #[test]
    fn a_line_on_an_idle_writer_is_written_at_once() {
        let sink = Sink::default();
        // A pause after each write far longer than the test: only the wake-up can explain a prompt write.
        let (writer, _guard) = spawn_with(sink.clone(), MAX_PENDING, Duration::from_secs(30)).expect("spawn");
        std::thread::sleep(Duration::from_millis(20)); // the writer is idle, waiting for lines
        let started = Instant::now();
        log(&writer, "first\n");
        while sink.text() != "first\n" {
            assert!(started.elapsed() < Duration::from_secs(2), "line not written");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    struct Panicking;

    impl Write for Panicking {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            panic!("output exploded");
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn logging_never_waits_for_a_writer_that_died() {
        let (writer, _guard) = spawn_with(Panicking, 64, Duration::from_millis(1)).expect("spawn");
        let started = Instant::now();
        // Far more than the cap: with a dead writer these would wait forever.
        for i in 0..1_000 {
            log(&writer, &format!("line {i:04} padding padding\n"));
        }
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_slow_output_makes_logging_threads_wait_instead_of_dropping_lines() {
        let sink = Sink {
            delay: Some(Duration::from_millis(5)),
            ..Sink::default()
        };
        let (writer, guard) = spawn_with(sink.clone(), 64, Duration::from_millis(1)).expect("spawn");
        for i in 0..200 {
            log(&writer, &format!("line {i:04} padding padding\n"));
            // Never more than the cap plus one line waiting.
            let pending = writer.shared.lock().pending.len();
            assert!(pending <= 64 + 32, "{pending} bytes pending");
        }
        drop(guard);
        let text = sink.text();
        assert_eq!(text.lines().count(), 200);
        assert!(
            text.lines()
                .enumerate()
                .all(|(i, l)| l.starts_with(&format!("line {i:04} ")))
        );
    }
}
