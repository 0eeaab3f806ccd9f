//! RedisStore claim+complete per second against a local redis-server (started by the
//! bench on a free loopback port, like the tests), and the EVALSHA count per step.
//!
//! `cargo bench -p hookwarden-redis --bench redis`
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hookwarden_core::dedup::{Claim, DedupKey, DedupStore};
use hookwarden_redis::RedisStore;

const LEASE: Duration = Duration::from_secs(60);
const KEEP: Duration = Duration::from_secs(600);

async fn evalsha_calls(url: &str) -> u64 {
    let mut conn = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_evalsha:"))
        .and_then(|s| s.split(',').find_map(|f| f.strip_prefix("calls=")))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// claim+complete pairs per second with `clients` concurrent tasks sharing one store.
async fn run(store: &RedisStore, clients: usize, run: Duration, tag: &str) -> (f64, u64) {
    let pairs = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (store, pairs, tag) = (store.clone(), Arc::clone(&pairs), tag.to_owned());
            tokio::spawn(async move {
                let mut i = 0u64;
                while start.elapsed() < run {
                    let k = DedupKey::new("bench", &format!("{tag}-{c}-{i}"));
                    i += 1;
                    let Claim::New(t) = store.claim(&k, LEASE).await.unwrap() else {
                        panic!("not new")
                    };
                    assert!(store.complete(&k, &t, KEEP).await.unwrap());
                    pairs.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let n = pairs.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let rate = n as f64 / start.elapsed().as_secs_f64();
    (rate, n)
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let Some(redis) = support::own_redis() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = RedisStore::builder(redis.url()).unwrap().connect().await.unwrap();
        let secs = Duration::from_millis(if quick { 200 } else { 3000 });
        for clients in [1, 32] {
            let before = evalsha_calls(redis.url()).await;
            let (rate, pairs) = run(&store, clients, secs, &format!("c{clients}")).await;
            let calls = evalsha_calls(redis.url()).await - before;
            #[allow(clippy::cast_precision_loss)]
            let per_step = calls as f64 / (2 * pairs) as f64;
            println!(
                "redis store, {clients} concurrent client(s) on one multiplexed connection: claim+complete {:.1} k/s ({pairs} pairs, {per_step:.3} EVALSHA per step)",
                rate / 1e3
            );
        }
    });
}
