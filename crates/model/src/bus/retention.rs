//! Removing what the retention no longer needs: [`LocalBus::prune`].

use std::time::Duration;

use super::writer::{Op, PruneOp, unix_secs};
use super::{BusError, LocalBus};

/// Rows a prune step removes (or, for idempotency keys, looks at) in one
/// transaction; appends queued meanwhile go in between steps.
const STEP_ROWS: usize = 4096;

/// What a [`prune`](LocalBus::prune) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Events removed.
    pub events: u64,
    /// Idempotency keys removed (those of removed events).
    pub keys: u64,
    /// The oldest offset still in the journal ([`head`](LocalBus::head) when it is empty).
    pub first_kept: u64,
    /// Set when a consumer's acknowledgement, not the age, is what kept older events.
    pub held_back: Option<HeldBack>,
}

/// A consumer behind the retention: events it has not acknowledged are kept
/// even once they are older than the retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    /// The consumer's name.
    pub consumer: String,
    /// Its next offset to process: events from here on are kept.
    pub acked: u64,
    /// Where the age alone would have allowed removal up to.
    pub aged: u64,
}

impl LocalBus {
    /// Removes the events every consumer has acknowledged that were appended
    /// more than `retention` ago (by this machine's clock), and their
    /// idempotency keys; see the [module docs](super#retention).
    ///
    /// ```
    /// use std::time::Duration;
    /// use commerce_kit_model::bus::LocalBus;
    /// use commerce_kit_model::cloudevent::CloudEvent;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let bus = LocalBus::open(dir.path()).unwrap();
    /// for id in ["a", "b", "c"] {
    ///     bus.append(&CloudEvent::new(id, "urn:uuid:p", "t", serde_json::json!({}))).await.unwrap();
    /// }
    /// bus.ack("handler", 2).await.unwrap();
    /// // Nothing is a week old yet.
    /// assert_eq!(bus.prune(Duration::from_secs(7 * 24 * 3600)).await.unwrap().events, 0);
    /// # });
    /// ```
    pub async fn prune(&self, retention: Duration) -> Result<Pruned, BusError> {
        self.prune_before(unix_secs().saturating_sub(retention.as_secs())).await
    }

    /// Like [`prune`](Self::prune), with the cutoff given as unix seconds:
    /// acknowledged events appended before `cutoff` are removed.
    pub async fn prune_before(&self, cutoff: u64) -> Result<Pruned, BusError> {
        self.prune_in_steps(cutoff, STEP_ROWS).await
    }

    pub(super) async fn prune_in_steps(&self, cutoff: u64, rows: usize) -> Result<Pruned, BusError> {
        let mut pruned = Pruned::default();
        let boundary = loop {
            let step = self
                .submit(|reply| {
                    Op::Prune(PruneOp::Events {
                        cutoff,
                        max: rows,
                        reply,
                    })
                })
                .await?;
            pruned.events += step.removed;
            pruned.first_kept = step.first_kept;
            pruned.held_back = step.held_back;
            if !step.more {
                break step.boundary;
            }
        };
        // Keys are ordered by key, not offset: look at all of them, a step at a
        // time, but only when this run removed events (leftovers of an
        // interrupted run go with the next removal).
        if pruned.events > 0 {
            let mut from = None;
            loop {
                let step = self
                    .submit(|reply| {
                        Op::Prune(PruneOp::Keys {
                            below: boundary,
                            from,
                            max: rows,
                            reply,
                        })
                    })
                    .await?;
                pruned.keys += step.removed;
                match step.next {
                    Some(next) => from = Some(next),
                    None => break,
                }
            }
        }
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudevent::CloudEvent;

    #[tokio::test]
    async fn removal_in_small_steps_removes_the_same_rows() {
        let dir = tempfile::tempdir().expect("tmp");
        let bus = LocalBus::open(dir.path()).expect("open");
        for i in 0..10 {
            let event = CloudEvent::new(format!("u{i}"), "urn:uuid:p", "t", serde_json::json!({}));
            bus.append_once(&format!("k{i}"), &event).await.expect("append");
        }
        bus.ack("c", 7).await.expect("ack");
        let after = unix_secs() + 1;
        let commits = bus.commits();
        // 3 rows a step: events in 3 steps (3 + 3 + 1), keys in 4 (3 + 3 + 3 + 1).
        let pruned = bus.prune_in_steps(after, 3).await.expect("prune");
        assert_eq!((pruned.events, pruned.keys, pruned.first_kept), (7, 7, 7));
        assert_eq!(bus.commits(), commits, "prune steps are not counted as append commits");
        let left: Vec<u64> = bus.read(0, 100).await.expect("read").iter().map(|r| r.offset).collect();
        assert_eq!(left, [7, 8, 9]);
        for (key, duplicate) in [("k6", false), ("k7", true), ("k9", true)] {
            let event = CloudEvent::new("again", "urn:uuid:p", "t", serde_json::json!({}));
            assert_eq!(
                bus.append_once(key, &event).await.expect("append").duplicate,
                duplicate,
                "{key}"
            );
        }
    }
}
