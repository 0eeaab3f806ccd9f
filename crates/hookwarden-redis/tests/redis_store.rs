//! RedisStore against a real redis-server (no mocks). See `support` for how the server
//! is started, and when these tests are skipped.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookwarden_core::dedup::{Claim, ClaimGuard, DedupKey, DedupStore, StoreErrorKind};
use hookwarden_redis::RedisStore;

const LEASE: Duration = Duration::from_secs(60);
const KEEP: Duration = Duration::from_secs(3600);

async fn store(url: &str, test: &str) -> RedisStore {
    RedisStore::builder(url)
        .unwrap()
        .with_prefix(support::unique_prefix(test))
        .connect()
        .await
        .unwrap()
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn key(id: &str) -> DedupKey {
    DedupKey::new("test", id)
}

async fn new_token(s: &RedisStore, k: &DedupKey, lease: Duration) -> hookwarden_core::ClaimToken {
    match s.claim(k, lease).await.unwrap() {
        Claim::New(t) => t,
        other => panic!("expected New, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_of_one_key_yield_exactly_one_new() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "concurrent").await;
    let k = key("evt_concurrent");
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (s, k, b) = (s.clone(), k.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                b.wait().await;
                s.claim(&k, LEASE).await.unwrap()
            })
        })
        .collect();
    let mut claims = Vec::new();
    for t in tasks {
        claims.push(t.await.unwrap());
    }
    assert_eq!(
        claims.iter().filter(|c| matches!(c, Claim::New(_))).count(),
        1
    );
    assert_eq!(claims.iter().filter(|c| **c == Claim::InFlight).count(), 63);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_yield_exactly_one_new() {
    let Some(redis) = support::redis() else {
        return;
    };
    let prefix = support::unique_prefix("replicas");
    let mut replicas = Vec::new();
    for _ in 0..2 {
        // Two stores, two connections: as two service replicas.
        let s = RedisStore::builder(redis.url())
            .unwrap()
            .with_prefix(&prefix)
            .connect()
            .await
            .unwrap();
        replicas.push(s);
    }
    for round in 0..20 {
        let k = key(&format!("evt_replicas_{round}"));
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let (s, k) = (replicas[i % 2].clone(), k.clone());
                tokio::spawn(async move { s.claim(&k, LEASE).await.unwrap() })
            })
            .collect();
        let mut new = 0;
        for t in tasks {
            new += usize::from(matches!(t.await.unwrap(), Claim::New(_)));
        }
        assert_eq!(new, 1, "round {round}");
    }
}

#[tokio::test]
async fn release_makes_the_next_claim_new() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "release").await;
    let k = key("evt_release");
    let t = new_token(&s, &k, LEASE).await;
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::InFlight);
    assert!(s.release(&k, &t).await.unwrap());
    assert!(!s.release(&k, &t).await.unwrap());
    new_token(&s, &k, LEASE).await;
}

#[tokio::test]
async fn completed_until_retention_ends_then_new() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "complete").await;
    let k = key("evt_complete");
    let t = new_token(&s, &k, LEASE).await;
    assert!(
        s.complete(&k, &t, Duration::from_millis(400))
            .await
            .unwrap()
    );
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::Completed);
    // Neither the holder nor anyone else can release or re-complete it.
    assert!(!s.release(&k, &t).await.unwrap());
    assert!(!s.complete(&k, &t, KEEP).await.unwrap());
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::Completed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    new_token(&s, &k, LEASE).await;
}

#[tokio::test]
async fn lease_expiry_frees_the_key() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "lease").await;
    let k = key("evt_lease");
    new_token(&s, &k, Duration::from_millis(200)).await;
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::InFlight);
    tokio::time::sleep(Duration::from_millis(300)).await;
    new_token(&s, &k, LEASE).await;
}

#[tokio::test]
async fn a_stale_token_cannot_complete_or_release_someone_elses_claim() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "stale").await;
    let k = key("evt_stale");
    let stale = new_token(&s, &k, Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fresh = new_token(&s, &k, LEASE).await;
    assert!(!s.complete(&k, &stale, KEEP).await.unwrap());
    assert!(!s.release(&k, &stale).await.unwrap());
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::InFlight);
    assert!(s.complete(&k, &fresh, KEEP).await.unwrap());
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::Completed);
    // A lease that ran out with nobody else claiming cannot complete either.
    let k2 = key("evt_stale_2");
    let late = new_token(&s, &k2, Duration::from_millis(50)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!s.complete(&k2, &late, KEEP).await.unwrap());
}

#[tokio::test]
async fn keys_are_prefixed_and_carry_the_lease_then_the_retention() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "ttl").await;
    let k = key("evt_ttl");
    let mut conn = raw(redis.url()).await;
    let t = new_token(&s, &k, LEASE).await;
    let rk = s.redis_key(&k);
    assert!(rk.starts_with(s.prefix()) && rk.ends_with("test:evt_ttl"));
    let value: String = redis::cmd("GET")
        .arg(&rk)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, format!("{:032x}", t.as_u128()));
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&rk)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 55_000 && pttl <= 60_000, "{pttl}");
    assert!(s.complete(&k, &t, KEEP).await.unwrap());
    let value: String = redis::cmd("GET")
        .arg(&rk)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, "done");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&rk)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 3_590_000 && pttl <= 3_600_000, "{pttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_guard_releases_in_the_background() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = Arc::new(store(redis.url(), "guard").await);
    let k = key("evt_guard");
    let t = new_token(&s, &k, LEASE).await;
    drop(ClaimGuard::new(Arc::clone(&s), k.clone(), t));
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match s.claim(&k, LEASE).await.unwrap() {
            Claim::New(_) => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(10)).await,
            other => panic!("the guard did not release: {other:?}"),
        }
    }
    let t = match s.claim(&key("evt_guard_2"), LEASE).await.unwrap() {
        Claim::New(t) => t,
        other => panic!("{other:?}"),
    };
    let guard = ClaimGuard::new(Arc::clone(&s), key("evt_guard_2"), t);
    assert!(guard.complete(KEEP).await.unwrap());
    assert_eq!(
        s.claim(&key("evt_guard_2"), LEASE).await.unwrap(),
        Claim::Completed
    );
}

/// The key ends completed, and the retry budget `Duration::MAX` does not overflow. (The
/// first completion is already on the wire when its future is dropped, so this does not
/// tell the destructor's completion from it: `ClaimGuard`'s own test in the core does,
/// with a store that never answers.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_abandoned_while_redis_is_slow_still_completes() {
    let Some(redis) = support::own_redis() else {
        return;
    };
    // Duration::MAX as the retry budget: no deadline to overflow.
    let s = Arc::new(
        RedisStore::builder(redis.url())
            .unwrap()
            .with_prefix(support::unique_prefix("complete_abandoned"))
            .with_timeout(Duration::from_millis(200))
            .with_complete_retry(Duration::MAX)
            .connect()
            .await
            .unwrap(),
    );
    let k = key("evt_abandoned");
    let t = new_token(&s, &k, LEASE).await;
    // The handler succeeded; Redis stalls and the client hangs up mid-completion.
    redis.freeze(true);
    let completing = tokio::spawn({
        let guard = ClaimGuard::new(Arc::clone(&s), k.clone(), t);
        async move { guard.complete(KEEP).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    completing.abort();
    assert!(completing.await.unwrap_err().is_cancelled());
    redis.freeze(false);
    // The guard's destructor completed in the background: the retry is a duplicate.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match s.claim(&k, LEASE).await.unwrap() {
            Claim::Completed => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("the abandoned completion was not finished: {other:?}"),
        }
    }
}

/// Commands the server ran, per command name, from `INFO commandstats`.
async fn command_calls(conn: &mut redis::aio::MultiplexedConnection) -> Vec<(String, u64)> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("cmdstat_")?;
            let (name, stats) = rest.split_once(':')?;
            let calls = stats.split(',').find_map(|f| f.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn every_step_is_one_round_trip() {
    let Some(redis) = support::own_redis() else {
        return;
    };
    let s = store(redis.url(), "trips").await;
    let mut conn = raw(redis.url()).await;
    // Warm up (scripts are loaded at connect; this proves it).
    let t = new_token(&s, &key("warm"), LEASE).await;
    assert!(s.release(&key("warm"), &t).await.unwrap());
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    const N: u64 = 50;
    for i in 0..N {
        let k = key(&format!("evt_trip_{i}"));
        let t = new_token(&s, &k, LEASE).await; // step 1
        assert!(s.complete(&k, &t, KEEP).await.unwrap()); // step 2
        assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::Completed); // step 3
        let k = key(&format!("evt_trip_r{i}"));
        let t = new_token(&s, &k, LEASE).await; // step 4
        assert!(s.release(&k, &t).await.unwrap()); // step 5
    }
    let calls = command_calls(&mut conn).await;
    let count = |name: &str| calls.iter().find(|(n, _)| n == name).map_or(0, |c| c.1);
    // One EVALSHA per step, and nothing else from the client: the only other
    // commands counted are those the scripts ran inside Redis (commandstats counts
    // them too): claim SET (+GET when the key exists), complete GET+SET, release GET+DEL.
    assert_eq!(count("evalsha"), 5 * N, "{calls:?}");
    assert_eq!(
        (count("set"), count("get"), count("del")),
        (4 * N, 3 * N, N),
        "{calls:?}"
    );
    let unexpected: Vec<_> = calls
        .iter()
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "evalsha" | "set" | "get" | "del" | "config|resetstat" | "info"
            )
        })
        .collect();
    assert!(unexpected.is_empty(), "unexpected commands: {unexpected:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_a_store_error_within_the_timeout_and_redis_back_recovers() {
    let Some(mut redis) = support::own_redis() else {
        return;
    };
    let timeout = Duration::from_millis(500);
    let s = RedisStore::builder(redis.url())
        .unwrap()
        .with_prefix(support::unique_prefix("fault"))
        .with_timeout(timeout)
        .with_complete_retry(Duration::from_millis(300))
        .with_connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    let k = key("evt_fault");
    let held = new_token(&s, &k, LEASE).await;

    redis.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let err = s.claim(&key("evt_fault_2"), LEASE).await.unwrap_err();
        let took = started.elapsed();
        assert!(
            took <= timeout + Duration::from_millis(250),
            "took {took:?}: {err}"
        );
        assert!(
            matches!(
                err.kind(),
                StoreErrorKind::Unavailable | StoreErrorKind::Timeout
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("dedup store error: redis claim"),
            "{err}"
        );
    }
    assert!(s.complete(&k, &held, KEEP).await.is_err());
    assert!(s.release(&k, &held).await.is_err());
    assert!(s.ping().await.is_err());

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    let recovered = loop {
        match s.claim(&key("evt_fault_3"), LEASE).await {
            Ok(claim) => break claim,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover: {e}"),
        }
    };
    assert!(matches!(recovered, Claim::New(_)), "{recovered:?}");
    s.ping().await.unwrap();
    // The restarted server keeps nothing (no persistence): the key is free again.
    let t = new_token(&s, &k, LEASE).await;
    assert!(s.complete(&k, &t, KEEP).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_during_a_short_outage_is_retried_until_redis_answers() {
    let Some(redis) = support::own_redis() else {
        return;
    };
    let s = RedisStore::builder(redis.url())
        .unwrap()
        .with_prefix(support::unique_prefix("complete_retry"))
        .with_timeout(Duration::from_millis(200))
        .with_complete_retry(Duration::from_secs(3))
        .connect()
        .await
        .unwrap();
    let k = key("evt_retry");
    let t = new_token(&s, &k, LEASE).await;
    // The handler succeeded; Redis stops answering for 800 ms just as we complete.
    redis.freeze(true);
    let thaw = std::thread::spawn({
        let started = Instant::now();
        move || {
            std::thread::sleep(Duration::from_millis(800).saturating_sub(started.elapsed()));
        }
    });
    let completing = tokio::spawn({
        let (s, k, t) = (s.clone(), k.clone(), t.clone());
        async move { s.complete(&k, &t, KEEP).await }
    });
    thaw.join().unwrap();
    redis.freeze(false);
    assert!(
        completing
            .await
            .unwrap()
            .expect("completed once Redis answered")
    );
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::Completed);

    // Without a retry budget the same outage is an error, left to the lease.
    let quick = RedisStore::builder(redis.url())
        .unwrap()
        .with_prefix(support::unique_prefix("complete_no_retry"))
        .with_timeout(Duration::from_millis(200))
        .with_complete_retry(Duration::ZERO)
        .connect()
        .await
        .unwrap();
    let k = key("evt_no_retry");
    let t = new_token(&quick, &k, LEASE).await;
    redis.freeze(true);
    let err = quick.complete(&k, &t, KEEP).await.unwrap_err();
    redis.freeze(false);
    assert_eq!(err.kind(), StoreErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn unreachable_redis_fails_to_connect_without_leaking_the_password() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("redis://:hunter2@127.0.0.1:{port}/");
    let started = Instant::now();
    let err = RedisStore::builder(&url)
        .unwrap()
        .with_connect_timeout(Duration::from_millis(200))
        .with_timeout(Duration::from_millis(200))
        .with_reconnect_retries(0)
        .connect()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    // Refused, not slow: the outage kind, which the adapters answer 503.
    assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{err}");
    assert!(err.message().starts_with("redis connect: "), "{err}");
    // A lazy store starts, and its calls fail with a StoreError.
    let lazy = RedisStore::builder(&url)
        .unwrap()
        .with_connect_timeout(Duration::from_millis(200))
        .with_timeout(Duration::from_millis(300))
        .connect_lazy()
        .unwrap();
    let err = lazy.claim(&key("x"), LEASE).await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(
        matches!(
            err.kind(),
            StoreErrorKind::Unavailable | StoreErrorKind::Timeout
        ),
        "{err:?}"
    );
    assert!(err.message().starts_with("redis claim: "), "{err}");
}

/// A key that holds something else than a claim (another application's list under
/// the same prefix): a store error of kind Other, naming the operation, not a claim
/// or a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_holding_another_type_is_a_store_error() {
    let Some(redis) = support::redis() else {
        return;
    };
    let s = store(redis.url(), "wrongtype").await;
    let k = key("evt_list");
    let mut conn = raw(redis.url()).await;
    let _: () = redis::cmd("RPUSH")
        .arg(s.redis_key(&k))
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = s.claim(&k, LEASE).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Other, "{err}");
    assert!(err.message().starts_with("redis claim: "), "{err}");
    assert!(err.message().contains("WRONGTYPE"), "{err}");
    let _: () = redis::cmd("DEL")
        .arg(s.redis_key(&k))
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_answer_was_lost_does_not_hold_the_key() {
    let Some(redis) = support::own_redis() else {
        return;
    };
    let s = RedisStore::builder(redis.url())
        .unwrap()
        .with_prefix(support::unique_prefix("claim_lost"))
        .with_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let k = key("evt_lost_answer");
    // Redis stalls: the claim is sent, its answer does not come in time.
    redis.freeze(true);
    let err = s.claim(&k, LEASE).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Timeout, "{err}");
    redis.freeze(false);
    // Redis then ran the claim; the sender's retry must not get 409 for a minute.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match s.claim(&k, LEASE).await {
            Ok(Claim::New(_)) => break,
            other if Instant::now() < deadline => {
                let _ = other;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("the lost claim still holds the key: {other:?}"),
        }
    }
}

/// Redis up but refusing commands for a while (`BUSY`: another application's long
/// script on the shared server; `LOADING` after a restart answers the same way): a
/// completion is retried through it like through an outage. It was a final error, and
/// the delivery stayed in flight until its lease ended (409, then the handler again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_while_redis_is_busy_is_retried() {
    let Some(redis) = support::own_redis() else {
        return;
    };
    let mut other = raw(redis.url()).await;
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("busy-reply-threshold")
        .arg(100)
        .query_async(&mut other)
        .await
        .unwrap();
    let s = RedisStore::builder(redis.url())
        .unwrap()
        .with_prefix(support::unique_prefix("busy"))
        .with_timeout(Duration::from_millis(300))
        .with_complete_retry(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let k = key("evt_busy");
    let t = new_token(&s, &k, LEASE).await;
    // Another client's read-only script spinning for 1.5 s.
    let slow = tokio::spawn(async move {
        redis::cmd("EVAL")
            .arg(
                "local t = redis.call('TIME') local s = t[1] + t[2] / 1e6 \
                 while true do local n = redis.call('TIME') \
                 if n[1] + n[2] / 1e6 - s > 1.5 then return 1 end end",
            )
            .arg(0)
            .query_async::<i64>(&mut other)
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = s.complete(&k, &t, KEEP).await;
    // (The raw connection's own response timeout may end its wait first.)
    let _ = slow.await.unwrap();
    assert!(matches!(answer, Ok(true)), "{answer:?}");
    assert_eq!(s.claim(&k, LEASE).await.unwrap(), Claim::Completed);
}
