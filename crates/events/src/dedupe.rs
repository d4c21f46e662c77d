//! Event dedupe on a [`StateStore`]: an event id handled successfully is not
//! handled again while its mark lives (`EVENTS_DEDUPE_TTL_SECS`, 24 h by default).
//!
//! Adobe I/O Events delivers at least once, so the same event id can arrive
//! again (a retry after a timeout, a batch redelivered because another event of
//! it failed), and can even arrive twice at the same time on two replicas. The
//! key `dedupe:<event type>:<event id>` goes through three states:
//!
//! 1. **claim**: `put_if_absent(key, "pending", claim TTL)` before the handler
//!    runs. Exactly one concurrent delivery wins; the others see `pending` and
//!    are answered 503 (retryable: Adobe tries again later and then finds the
//!    event handled). The claim TTL is the handler deadline plus a margin, so a
//!    claim left by a crashed process frees itself.
//! 2. **complete**: after a successful handling, `put(key, "done", dedupe TTL)`.
//!    Later deliveries are acknowledged 200 without calling the handler.
//! 3. **release**: after a failed handling, the key is deleted, so the retry is
//!    handled again (a failed handling never marks the id).
//!
//! Durability: the mark is as durable as the store (Redis in production; the
//! in-memory store by default, which forgets marks on restart). On the local
//! bus the durable acknowledgement offset is what prevents re-handling after a
//! restart; see [`crate::local`].

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::state::{StateError, StateStore};

/// Value of a claimed key while its handler runs.
const PENDING: &[u8] = b"pending";
/// Value of a key whose event was handled successfully.
const DONE: &[u8] = b"done";

/// Default lifetime of a "done" mark: 24 hours (Adobe retries for 24 h).
pub const DEFAULT_DEDUPE_TTL: Duration = Duration::from_secs(86_400);

/// The state of an event id, as seen by a new delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This delivery owns the event: handle it, then [`Dedupe::complete`] or [`Dedupe::release`].
    Acquired,
    /// Already handled successfully: acknowledge without handling.
    AlreadyHandled,
    /// Another delivery is handling it right now: answer retryable.
    InProgress,
}

/// Dedupe marks on a shared [`StateStore`].
#[derive(Clone)]
pub struct Dedupe {
    store: Arc<dyn StateStore>,
    ttl: Duration,
    claim_ttl: Duration,
}

impl std::fmt::Debug for Dedupe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedupe")
            .field("ttl", &self.ttl)
            .field("claim_ttl", &self.claim_ttl)
            .finish_non_exhaustive()
    }
}

impl Dedupe {
    /// Marks live for `ttl`; claims for `claim_ttl` (at least the handler deadline).
    pub fn new(store: Arc<dyn StateStore>, ttl: Duration, claim_ttl: Duration) -> Self {
        Self { store, ttl, claim_ttl }
    }

    /// The store key of an event: `dedupe:<event type>:<event id>`.
    pub fn key(event_type: &str, event_id: &str) -> String {
        format!("dedupe:{event_type}:{event_id}")
    }

    /// Claims `key` for this delivery, or says why not.
    pub async fn claim(&self, key: &str) -> Result<Claim, StateError> {
        // Two rounds: a claim that expires between put_if_absent and get is retried once.
        for _ in 0..2 {
            if self.store.put_if_absent(key, PENDING, self.claim_ttl).await? {
                return Ok(Claim::Acquired);
            }
            match self.store.get(key).await?.as_deref() {
                Some(DONE) => return Ok(Claim::AlreadyHandled),
                Some(_) => return Ok(Claim::InProgress),
                None => continue,
            }
        }
        Ok(Claim::InProgress)
    }

    /// Marks `key` handled for the dedupe TTL.
    pub async fn complete(&self, key: &str) -> Result<(), StateError> {
        self.store.put(key, DONE, self.ttl).await
    }

    /// Frees `key` after a failed handling, so a redelivery is handled.
    pub async fn release(&self, key: &str) -> Result<(), StateError> {
        self.store.delete(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commerce_kit_core::state::MemoryStore;

    fn dedupe() -> Dedupe {
        Dedupe::new(
            Arc::new(MemoryStore::new()),
            DEFAULT_DEDUPE_TTL,
            Duration::from_secs(30),
        )
    }

    #[tokio::test]
    async fn claim_complete_release_cycle() {
        let d = dedupe();
        let k = Dedupe::key("t", "e1");
        assert_eq!(k, "dedupe:t:e1");
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::Acquired);
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::InProgress);
        d.release(&k).await.expect("release");
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::Acquired);
        d.complete(&k).await.expect("complete");
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::AlreadyHandled);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_claim_frees_itself_and_marks_expire() {
        let d = Dedupe::new(
            Arc::new(MemoryStore::new()),
            Duration::from_secs(100),
            Duration::from_secs(10),
        );
        let k = Dedupe::key("t", "e2");
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::Acquired);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::Acquired, "claim expired");
        d.complete(&k).await.expect("complete");
        tokio::time::advance(Duration::from_secs(99)).await;
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::AlreadyHandled);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(d.claim(&k).await.expect("claim"), Claim::Acquired, "mark expired");
    }

    #[tokio::test]
    async fn concurrent_claims_have_one_owner() {
        let d = dedupe();
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let d = d.clone();
            tasks.push(tokio::spawn(async move { d.claim("dedupe:t:race").await }));
        }
        let mut acquired = 0;
        for t in tasks {
            match t.await.expect("join").expect("claim") {
                Claim::Acquired => acquired += 1,
                Claim::InProgress => {}
                Claim::AlreadyHandled => panic!("nothing completed yet"),
            }
        }
        assert_eq!(acquired, 1);
    }
}
