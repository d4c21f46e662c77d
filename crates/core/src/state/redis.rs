//! Redis-backed [`StateStore`], shared by every replica.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, SetExpiry, SetOptions};

use super::{StateError, StateStore};

/// Default Redis address, the standard local port.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// [`StateStore`] on Redis, through a reconnecting connection manager.
///
/// Keys are namespaced with a prefix (default `commerce-kit:`) so the store can
/// share a Redis database with other applications.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A Redis failure, counted in `commerce_kit_redis_errors_total{operation}`.
fn err(operation: &'static str, e: redis::RedisError) -> StateError {
    metrics::counter!("commerce_kit_redis_errors_total", "operation" => operation).increment(1);
    StateError {
        operation,
        reason: e.to_string(),
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`), with 2 s connection and
    /// response timeouts, keys prefixed with `commerce-kit:`.
    pub async fn connect(url: &str) -> Result<Self, StateError> {
        Self::connect_with_prefix(url, "commerce-kit:").await
    }

    /// Connects to `url` with a custom key prefix.
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, StateError> {
        let client = redis::Client::open(url).map_err(|e| err("connect", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| err("connect", e))?;
        // Present from the start, so a dashboard shows 0 rather than no data.
        metrics::counter!("commerce_kit_redis_errors_total", "operation" => "connect").increment(0);
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

#[async_trait::async_trait]
impl StateStore for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let mut conn = self.conn.clone();
        conn.get(self.key(key)).await.map_err(|e| err("get", e))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError> {
        let mut conn = self.conn.clone();
        let opts = SetOptions::default().with_expiration(SetExpiry::PX(ttl_ms(ttl)));
        conn.set_options::<_, _, ()>(self.key(key), value, opts)
            .await
            .map_err(|e| err("put", e))
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StateError> {
        let mut conn = self.conn.clone();
        let opts = SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(SetExpiry::PX(ttl_ms(ttl)));
        let reply: Option<String> = conn
            .set_options(self.key(key), value, opts)
            .await
            .map_err(|e| err("put_if_absent", e))?;
        Ok(reply.is_some())
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(self.key(key)).await.map_err(|e| err("delete", e))
    }
}
