//! `RedisStore` against a real Redis server at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`). These tests FAIL when Redis is unreachable: start
//! it with `redis-server --daemonize yes` (Debian: `apt-get install redis-server`).
//!
//! Each test uses its own random key prefix, so runs never see each other's keys.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::state::{DEFAULT_REDIS_URL, RedisStore, StateStore};

fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned())
}

/// A store with a fresh prefix; panics with what to do when Redis is not there.
async fn store() -> (RedisStore, String) {
    let prefix = format!("ck-test-{}:", uuid::Uuid::new_v4().simple());
    (connect(&prefix).await, prefix)
}

async fn connect(prefix: &str) -> RedisStore {
    let url = redis_url();
    let store = match RedisStore::connect_with_prefix(&url, prefix).await {
        Ok(store) => store,
        Err(e) => panic!(
            "Redis is not reachable at {url} ({e}). These tests need a real Redis server: \
             start one with `redis-server --daemonize yes` (or set REDIS_URL)."
        ),
    };
    // The connection manager may connect lazily: prove the server answers.
    if let Err(e) = store.get("ping-probe").await {
        panic!(
            "Redis at {url} does not answer ({e}). Start it with `redis-server --daemonize yes` (or set REDIS_URL)."
        );
    }
    store
}

/// Raw Redis access to look behind the store's back (TTLs, actual key names).
async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection (start redis-server)")
}

const MIN: Duration = Duration::from_secs(60);

#[tokio::test]
async fn put_get_overwrite_and_delete() {
    let (s, _) = store().await;
    assert_eq!(s.get("k").await.expect("get"), None);
    s.put("k", b"one", MIN).await.expect("put");
    assert_eq!(s.get("k").await.expect("get").as_deref(), Some(&b"one"[..]));
    s.put("k", b"two", MIN).await.expect("overwrite");
    assert_eq!(s.get("k").await.expect("get").as_deref(), Some(&b"two"[..]));
    s.delete("k").await.expect("delete");
    assert_eq!(s.get("k").await.expect("get"), None);
    s.delete("k").await.expect("deleting an absent key is fine");
    // after a delete the key is free for put_if_absent again
    assert!(s.put_if_absent("k", b"three", MIN).await.expect("pia"));
    s.delete("k").await.expect("cleanup");
}

#[tokio::test]
async fn values_round_trip_arbitrary_bytes() {
    let (s, _) = store().await;
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("nul-and-high", vec![0, 0, 255, 254, 0x80, b'\r', b'\n']),
        ("all", all_bytes),
        ("utf8", "ünïcødé ✓ \"quoted\"".as_bytes().to_vec()),
        ("big", vec![0xAB; 1024 * 1024]),
    ];
    for (key, value) in &cases {
        s.put(key, value, MIN).await.expect("put");
        assert_eq!(s.get(key).await.expect("get").as_deref(), Some(&value[..]), "{key}");
    }
    assert!(s.put_if_absent("pia-bin", &[0, 1, 0], MIN).await.expect("pia"));
    assert_eq!(s.get("pia-bin").await.expect("get").as_deref(), Some(&[0u8, 1, 0][..]));
    for (key, _) in &cases {
        s.delete(key).await.expect("cleanup");
    }
    s.delete("pia-bin").await.expect("cleanup");
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let (s, prefix) = store().await;
    s.put("short", b"v", Duration::from_millis(300)).await.expect("put");
    assert!(
        s.put_if_absent("pia-short", b"v", Duration::from_millis(300))
            .await
            .expect("pia")
    );
    s.put("long", b"v", MIN).await.expect("put");
    // the TTL is really set on the server, in milliseconds
    let mut conn = raw().await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}short"))
        .query_async(&mut conn)
        .await
        .expect("pttl");
    assert!((1..=300).contains(&pttl), "PTTL {pttl}");
    let long_ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}long"))
        .query_async(&mut conn)
        .await
        .expect("pttl");
    assert!(long_ttl > 50_000, "PTTL {long_ttl}");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(s.get("short").await.expect("get"), None, "expired");
    assert_eq!(s.get("pia-short").await.expect("get"), None, "expired");
    assert!(s.get("long").await.expect("get").is_some());
    // an expired key is absent for put_if_absent
    assert!(s.put_if_absent("pia-short", b"again", MIN).await.expect("pia"));
    // a sub-millisecond TTL is rounded up to 1 ms, never "no expiry"
    s.put("tiny", b"v", Duration::from_micros(10)).await.expect("put");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(s.get("tiny").await.expect("get"), None);
    for k in ["long", "pia-short"] {
        s.delete(k).await.expect("cleanup");
    }
}

#[tokio::test]
async fn put_if_absent_races_have_exactly_one_winner() {
    let (s, _) = store().await;
    let s = Arc::new(s);
    for round in 0..5 {
        let key = format!("race-{round}");
        let mut tasks = Vec::new();
        for i in 0..64u32 {
            let (s, key) = (s.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                let won = s.put_if_absent(&key, &i.to_be_bytes(), MIN).await.expect("pia");
                (i, won)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (i, won) = t.await.expect("join");
            if won {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let stored = s.get(&key).await.expect("get").expect("present");
        assert_eq!(stored, winners[0].to_be_bytes(), "the winner's value is stored");
        s.delete(&key).await.expect("cleanup");
    }
}

#[tokio::test]
async fn races_across_separate_connections_have_one_winner() {
    // as with replicas: each task has its own store (own connection manager)
    let prefix = format!("ck-test-{}:", uuid::Uuid::new_v4().simple());
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(connect(&prefix).await);
    }
    let mut tasks = Vec::new();
    for (i, s) in stores.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut wins = HashSet::new();
            for k in 0..20 {
                if s.put_if_absent(&format!("k{k}"), &[i as u8], MIN).await.expect("pia") {
                    wins.insert(k);
                }
            }
            wins
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("join"));
    }
    all.sort_unstable();
    assert_eq!(all, (0..20).collect::<Vec<_>>(), "every key won exactly once");
    let cleanup = connect(&prefix).await;
    for k in 0..20 {
        cleanup.delete(&format!("k{k}")).await.expect("cleanup");
    }
}

#[tokio::test]
async fn prefixes_isolate_namespaces() {
    let (a, prefix_a) = store().await;
    let (b, prefix_b) = store().await;
    a.put("shared", b"from-a", MIN).await.expect("put");
    assert_eq!(b.get("shared").await.expect("get"), None, "b does not see a's key");
    assert!(
        b.put_if_absent("shared", b"from-b", MIN).await.expect("pia"),
        "b's key is its own"
    );
    assert_eq!(a.get("shared").await.expect("get").as_deref(), Some(&b"from-a"[..]));
    b.delete("shared").await.expect("delete");
    assert_eq!(
        a.get("shared").await.expect("get").as_deref(),
        Some(&b"from-a"[..]),
        "b's delete left a's key"
    );
    // the actual key names carry the prefix
    let mut conn = raw().await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("{prefix_a}shared"))
        .query_async(&mut conn)
        .await
        .expect("exists");
    assert_eq!(exists, 1);
    let exists_b: i64 = redis::cmd("EXISTS")
        .arg(format!("{prefix_b}shared"))
        .query_async(&mut conn)
        .await
        .expect("exists");
    assert_eq!(exists_b, 0);
    a.delete("shared").await.expect("cleanup");
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let started = std::time::Instant::now();
    let result = RedisStore::connect(&format!("redis://127.0.0.1:{port}")).await;
    match result {
        Err(e) => assert_eq!(e.operation, "connect", "{e}"),
        Ok(s) => {
            let err = s.get("k").await.expect_err("nothing listens there");
            assert_eq!(err.operation, "get");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}
