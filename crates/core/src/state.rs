//! A small TTL key/value store shared by replicas: event dedupe keys,
//! infinite-loop fingerprints, idempotency records.
//!
//! [`MemoryStore`] is the embedded default (one process). [`RedisStore`]
//! (feature `redis`, on by default) lets N replicas share the same state.
//!
//! ```
//! use std::time::Duration;
//! use commerce_kit_core::state::{MemoryStore, StateStore};
//!
//! # tokio_test_block(async {
//! let store = MemoryStore::new();
//! assert!(store.put_if_absent("k", b"1", Duration::from_secs(60)).await.unwrap());
//! assert!(!store.put_if_absent("k", b"2", Duration::from_secs(60)).await.unwrap());
//! assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"1"[..]));
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_REDIS_URL, RedisStore};

/// A state store operation failed (connection lost, timeout, server error).
#[derive(Debug, thiserror::Error)]
#[error("state store {operation} failed: {reason}")]
pub struct StateError {
    /// The operation: `get`, `put`, `put_if_absent`, `delete`, `connect`.
    pub operation: &'static str,
    /// What went wrong, without key values or credentials.
    pub reason: String,
}

/// A TTL key/value store. Object-safe: hold it as `Arc<dyn StateStore>`.
#[async_trait::async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// The value under `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError>;

    /// Stores `value` under `key` for `ttl`, replacing any previous value.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError>;

    /// Stores `value` only when `key` is absent (or expired). True when stored.
    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StateError>;

    /// Removes `key`; removing an absent key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StateError>;
}

#[async_trait::async_trait]
impl<T: StateStore + ?Sized> StateStore for Arc<T> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(key).await
    }
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError> {
        (**self).put(key, value, ttl).await
    }
    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StateError> {
        (**self).put_if_absent(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), StateError> {
        (**self).delete(key).await
    }
}
