//! In-process [`StateStore`] with TTL expiry and a bounded number of entries.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{StateError, StateStore};

/// Default entry bound of [`MemoryStore::new`].
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// In-memory TTL store for a single process.
///
/// Expired entries are dropped on access and whenever room is needed; when the
/// store is full of live entries the one closest to expiry is evicted, so memory
/// stays bounded by `max_entries`.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    max_entries: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// The keys are shared with `by_expiry` (one allocation per key).
    entries: HashMap<Arc<str>, Entry>,
    /// (expiry, sequence) → key: expiry order for eviction; the sequence
    /// number makes each position unique, so removing needs no key compare.
    by_expiry: BTreeMap<(Instant, u64), Arc<str>>,
    seq: u64,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Instant,
    seq: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store holding at most [`DEFAULT_MAX_ENTRIES`] entries.
    pub fn new() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }

    /// A store holding at most `max_entries` entries (at least 1).
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_entries: max_entries.max(1),
        }
    }

    /// Live entries right now (expired ones are not counted).
    pub fn len(&self) -> usize {
        let mut inner = self.lock();
        inner.purge_expired(Instant::now());
        inner.entries.len()
    }

    /// True when no live entry is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the maps inconsistent
        // (each method finishes its updates before anything can panic), so a
        // poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.remove(key) {
            self.by_expiry.remove(&(old.expires, old.seq));
        }
    }

    fn purge_expired(&mut self, now: Instant) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.entries.remove(&*key);
        }
    }

    fn live(&mut self, key: &str, now: Instant) -> Option<&Entry> {
        let expired = self.entries.get(key).is_some_and(|e| e.expires <= now);
        if expired {
            self.remove(key);
        }
        self.entries.get(key)
    }

    fn insert(&mut self, key: &str, value: &[u8], ttl: Duration, now: Instant, max: usize) {
        self.remove(key);
        if self.entries.len() >= max {
            self.purge_expired(now);
        }
        while self.entries.len() >= max {
            let Some((_, victim)) = self.by_expiry.pop_first() else {
                break;
            };
            self.entries.remove(&*victim);
        }
        self.seq += 1;
        let expires = now + ttl;
        let key: Arc<str> = Arc::from(key);
        self.by_expiry.insert((expires, self.seq), Arc::clone(&key));
        self.entries.insert(
            key,
            Entry {
                value: value.to_vec(),
                expires,
                seq: self.seq,
            },
        );
    }
}

#[async_trait::async_trait]
impl StateStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.lock().live(key, Instant::now()).map(|e| e.value.clone()))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError> {
        self.lock().insert(key, value, ttl, Instant::now(), self.max_entries);
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StateError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.live(key, now).is_some() {
            return Ok(false);
        }
        inner.insert(key, value, ttl, now, self.max_entries);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_their_ttl() {
        let s = MemoryStore::new();
        s.put("a", b"1", Duration::from_secs(2)).await.expect("put");
        assert_eq!(s.get("a").await.expect("get").as_deref(), Some(&b"1"[..]));
        tokio::time::advance(Duration::from_millis(1999)).await;
        assert!(s.get("a").await.expect("get").is_some());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(s.get("a").await.expect("get").is_none());
        // an expired key is absent for put_if_absent
        assert!(s.put_if_absent("a", b"2", MIN).await.expect("pia"));
        assert_eq!(s.get("a").await.expect("get").as_deref(), Some(&b"2"[..]));
    }

    #[tokio::test]
    async fn put_if_absent_stores_once_and_delete_frees_the_key() {
        let s = MemoryStore::new();
        assert!(s.put_if_absent("k", b"1", MIN).await.expect("first"));
        assert!(!s.put_if_absent("k", b"2", MIN).await.expect("second"));
        assert_eq!(s.get("k").await.expect("get").as_deref(), Some(&b"1"[..]));
        s.put("k", b"3", MIN).await.expect("put overwrites");
        assert_eq!(s.get("k").await.expect("get").as_deref(), Some(&b"3"[..]));
        s.delete("k").await.expect("delete");
        s.delete("k").await.expect("delete twice is fine");
        assert!(s.get("k").await.expect("get").is_none());
        assert!(s.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn memory_stays_bounded_and_evicts_soonest_expiring_first() {
        let s = MemoryStore::with_max_entries(3);
        s.put("long", b"", Duration::from_secs(300)).await.expect("put");
        s.put("short", b"", Duration::from_secs(10)).await.expect("put");
        s.put("mid", b"", Duration::from_secs(100)).await.expect("put");
        s.put("new", b"", Duration::from_secs(200)).await.expect("put");
        assert_eq!(s.len(), 3);
        assert!(s.get("short").await.expect("get").is_none(), "soonest expiry evicted");
        for k in ["long", "mid", "new"] {
            assert!(s.get(k).await.expect("get").is_some(), "{k} kept");
        }
        // expired entries make room before live ones are evicted
        tokio::time::advance(Duration::from_secs(150)).await;
        s.put("x", b"", MIN).await.expect("put");
        for k in ["long", "new", "x"] {
            assert!(
                s.get(k).await.expect("get").is_some(),
                "{k} kept: the expired entry made room"
            );
        }
        assert!(s.get("mid").await.expect("get").is_none());
        assert_eq!(s.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_overwritten_entry_is_evicted_by_its_new_expiry() {
        let s = MemoryStore::with_max_entries(2);
        s.put("a", b"1", Duration::from_secs(10)).await.expect("put");
        s.put("b", b"", Duration::from_secs(100)).await.expect("put");
        s.put("a", b"2", Duration::from_secs(1000)).await.expect("put"); // now expires last
        s.put("c", b"", Duration::from_secs(500)).await.expect("put"); // full: evicts b
        assert_eq!(s.get("a").await.expect("get").as_deref(), Some(&b"2"[..]));
        assert!(s.get("b").await.expect("get").is_none(), "soonest expiry evicted");
        assert!(s.get("c").await.expect("get").is_some());
        assert_eq!(s.len(), 2);
        // Its old expiry is gone too: at 10 s, "a" is still there.
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(s.get("a").await.expect("get").is_some());
    }

    #[tokio::test]
    async fn concurrent_put_if_absent_has_exactly_one_winner() {
        let s = std::sync::Arc::new(MemoryStore::new());
        let mut tasks = Vec::new();
        for i in 0..64u8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.put_if_absent("race", &[i], MIN).await }));
        }
        let mut winners = 0;
        for t in tasks {
            if t.await.expect("join").expect("store") {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
    }
}
