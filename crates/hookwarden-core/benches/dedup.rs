//! MemoryStore throughput and memory (system allocator).
//!
//! `cargo bench -p hookwarden-core --bench dedup`
//!
//! - claim+complete per second of distinct keys, on 1 and 2 threads (each thread its
//!   own keys, `evt_` + 32 hex digits in namespace `bench`, about 42 bytes);
//! - the same with a full store (100,000 entries: every claim evicts the oldest
//!   completed entry);
//! - resident memory (RSS, from `/proc/self/statm`) grown by retaining 1M completed keys.
#![allow(missing_docs, clippy::unwrap_used)]

use std::future::Future;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hookwarden_core::dedup::{Claim, DedupKey, DedupStore, MemoryStore};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

const LEASE: Duration = Duration::from_secs(60);
const KEEP: Duration = Duration::from_secs(4 * 86_400);

fn keys(thread: usize, n: usize) -> Vec<DedupKey> {
    (0..n)
        .map(|i| DedupKey::new("bench", &format!("evt_{thread:08x}{i:024x}")))
        .collect()
}

fn claim_complete(store: &MemoryStore, keys: &[DedupKey]) {
    for k in keys {
        if let Claim::New(t) = block_on(store.claim(k, LEASE)).unwrap() {
            assert!(block_on(store.complete(k, &t, KEEP)).unwrap());
        } else {
            panic!("not new");
        }
    }
}

/// claim+complete per second with `threads` threads, `per_thread` keys each.
fn run(threads: usize, per_thread: usize, max_entries: usize) -> (f64, u64) {
    let store = Arc::new(
        MemoryStore::builder()
            .with_max_entries(max_entries)
            .build()
            .unwrap(),
    );
    let all: Vec<_> = (0..threads)
        .map(|t| Arc::new(keys(t, per_thread)))
        .collect();
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = all
        .iter()
        .map(|ks| {
            let (store, ks, b) = (Arc::clone(&store), Arc::clone(ks), Arc::clone(&barrier));
            std::thread::spawn(move || {
                b.wait();
                claim_complete(&store, &ks);
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = (threads * per_thread) as f64 / secs;
    (rate, store.evictions())
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a quick smoke pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let per_thread = if quick { 10_000 } else { 1_000_000 };
    // Memory: 1M completed keys retained. The keys are created and dropped one at a
    // time, so only the store's own memory stays.
    // First, while the heap is fresh (freed memory of later runs would stay resident).
    let n = if quick { 10_000 } else { 1_000_000 };
    let store = MemoryStore::builder().with_max_entries(n).build().unwrap();
    let before = rss_bytes();
    for i in 0..n {
        let k = DedupKey::new("bench", &format!("evt_{i:032x}"));
        if let Claim::New(t) = block_on(store.claim(&k, LEASE)).unwrap() {
            block_on(store.complete(&k, &t, KEEP)).unwrap();
        }
    }
    let after = rss_bytes();
    assert_eq!(store.len(), n);
    assert_eq!(store.evictions(), 0);
    #[allow(clippy::cast_precision_loss)]
    let per_key = after.saturating_sub(before) as f64 / n as f64;
    println!(
        "memory store, {n} completed keys retained: RSS grew {:.1} MB, {per_key:.1} bytes/key",
        after.saturating_sub(before) as f64 / 1e6
    );
    drop(store);

    for threads in [1, 2] {
        let mut rates = Vec::new();
        for _ in 0..3 {
            rates.push(run(threads, per_thread, 4_000_000).0);
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "memory store, {threads} thread(s), {} distinct keys: claim+complete {:.2} M/s (median of 3; min {:.2}, max {:.2})",
            threads * per_thread,
            rates[1] / 1e6,
            rates[0] / 1e6,
            rates[2] / 1e6
        );
    }
    for threads in [1, 2] {
        let (rate, evictions) = run(threads, per_thread, 100_000.min(per_thread / 2));
        println!(
            "memory store full (evicting), {threads} thread(s): claim+complete {:.2} M/s, {evictions} evictions",
            rate / 1e6
        );
    }
}
