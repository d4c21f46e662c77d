//! What the bus knows about its own state: whether the journal can be
//! written and read right now, since when it cannot, and how many operations
//! failed in all ([`LocalBus::health`](super::LocalBus::health)).
//!
//! The writer thread records write failures (and clears them once a test
//! write succeeds again); [`LocalBus::read`](super::LocalBus::read) and
//! [`LocalBus::acked`](super::LocalBus::acked) record read failures (cleared
//! by the next successful `read`). The hot paths only look at an atomic flag;
//! the lock is taken when the state changes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use commerce_kit_core::server::Probe;
use serde_json::json;

use super::LocalBus;
use crate::cloudevent::now_rfc3339;

/// A side of the journal (writes or reads) that is failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// When it started failing, RFC 3339 UTC.
    pub since: String,
    /// The latest error, as the bus words it.
    pub reason: String,
    /// Failed operations (or recovery attempts) since it started failing.
    pub failures: u64,
}

/// A snapshot of the journal's state ([`LocalBus::health`](super::LocalBus::health)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusHealth {
    /// Set while appends are refused (after a failed write, until a test write succeeds).
    pub write: Option<Failure>,
    /// Set while reads fail (a damaged page, an I/O error), until a read succeeds.
    pub read: Option<Failure>,
    /// Failed writes (batches and recovery attempts) since the bus was opened.
    pub write_errors: u64,
    /// Failed reads since the bus was opened.
    pub read_errors: u64,
}

impl BusHealth {
    /// True when neither writes nor reads are failing.
    pub fn is_ok(&self) -> bool {
        self.write.is_none() && self.read.is_none()
    }
}

impl LocalBus {
    /// The journal as a readiness check (`GET /ready`): failing while writes
    /// or reads fail, with why and since when; the head and the failure
    /// counters either way.
    ///
    /// ```
    /// use commerce_kit_core::server::{Probe, Readiness};
    /// use commerce_kit_model::bus::LocalBus;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let bus = LocalBus::open(dir.path()).unwrap();
    /// let readiness = Readiness::new().with_check("journal", move || bus.probe());
    /// let (status, body) = readiness.evaluate();
    /// assert_eq!(status, http::StatusCode::OK);
    /// assert_eq!(body["checks"]["journal"]["head"], 0);
    /// ```
    pub fn probe(&self) -> Probe {
        let health = self.health();
        let mut detail = json!({
            "head": self.head(),
            "write_errors": health.write_errors,
            "read_errors": health.read_errors,
        });
        let mut reasons = Vec::new();
        for (side, key, failure) in [
            ("written", "write_failing_since", &health.write),
            ("read", "read_failing_since", &health.read),
        ] {
            if let Some(failure) = failure {
                reasons.push(format!(
                    "the journal cannot be {side} since {} ({} failed attempts): {}",
                    failure.since, failure.failures, failure.reason
                ));
                detail[key] = failure.since.clone().into();
            }
        }
        if reasons.is_empty() {
            Probe::Ready { detail }
        } else {
            Probe::Failing {
                reason: reasons.join("; "),
                detail,
            }
        }
    }
}

/// The shared, updatable state behind [`BusHealth`].
#[derive(Debug, Default)]
pub(super) struct HealthState {
    write_failing: AtomicBool,
    read_failing: AtomicBool,
    write_errors: AtomicU64,
    read_errors: AtomicU64,
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    write: Option<Failure>,
    read: Option<Failure>,
}

/// Which side an update is about.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    Write,
    Read,
}

impl HealthState {
    pub fn snapshot(&self) -> BusHealth {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        BusHealth {
            write: failures.write.clone(),
            read: failures.read.clone(),
            write_errors: self.write_errors.load(Ordering::Relaxed),
            read_errors: self.read_errors.load(Ordering::Relaxed),
        }
    }

    /// Records a failure; returns the time it started failing.
    pub fn failed(&self, side: Side, reason: &str) -> String {
        match side {
            Side::Write => metrics::counter!("commerce_kit_bus_write_errors_total").increment(1),
            Side::Read => metrics::counter!("commerce_kit_bus_read_errors_total").increment(1),
        }
        let (flag, count) = self.side(side);
        count.fetch_add(1, Ordering::Relaxed);
        flag.store(true, Ordering::Release);
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = match side {
            Side::Write => &mut failures.write,
            Side::Read => &mut failures.read,
        };
        let failure = slot.get_or_insert_with(|| Failure {
            since: now_rfc3339(),
            reason: String::new(),
            failures: 0,
        });
        failure.reason = reason.to_owned();
        failure.failures += 1;
        failure.since.clone()
    }

    /// Records a success; returns the failure it ends, if there was one.
    pub fn succeeded(&self, side: Side) -> Option<Failure> {
        let (flag, _) = self.side(side);
        if !flag.load(Ordering::Acquire) {
            return None;
        }
        flag.store(false, Ordering::Release);
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match side {
            Side::Write => failures.write.take(),
            Side::Read => failures.read.take(),
        }
    }

    fn side(&self, side: Side) -> (&AtomicBool, &AtomicU64) {
        match side {
            Side::Write => (&self.write_failing, &self.write_errors),
            Side::Read => (&self.read_failing, &self.read_errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_kept_until_a_success_and_counted_for_good() {
        let state = HealthState::default();
        assert!(state.snapshot().is_ok());
        let since = state.failed(Side::Write, "disk full");
        assert_eq!(
            state.failed(Side::Write, "still full"),
            since,
            "the start of the failure stays"
        );
        let health = state.snapshot();
        let write = health.write.as_ref().expect("write failing");
        assert_eq!((write.reason.as_str(), write.failures), ("still full", 2));
        assert!(health.read.is_none());
        assert!(!health.is_ok());

        let ended = state.succeeded(Side::Write).expect("the failure it ended");
        assert_eq!(ended.failures, 2);
        assert_eq!(state.succeeded(Side::Write), None, "nothing left to end");
        let health = state.snapshot();
        assert!(health.is_ok());
        assert_eq!((health.write_errors, health.read_errors), (2, 0));
    }
}
