//! MemoryStore heap bytes per retained key, counted by the `dhat` allocator (every
//! live heap byte the store holds, nothing else).
//!
//! `cargo bench -p hookwarden-core --bench dedup_heap`
#![allow(missing_docs, clippy::unwrap_used)]

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hookwarden_core::dedup::{Claim, DedupKey, DedupStore, MemoryStore};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: usize = if quick { 10_000 } else { 1_000_000 };
    let _profiler = dhat::Profiler::builder()
        .testing()
        .trim_backtraces(Some(1))
        .build();
    let store = MemoryStore::builder().with_max_entries(n).build().unwrap();
    let base = dhat::HeapStats::get().curr_bytes;
    for i in 0..n {
        let k = DedupKey::new("bench", &format!("evt_{i:032x}"));
        if let Claim::New(t) = block_on(store.claim(&k, Duration::from_secs(60))).unwrap() {
            block_on(store.complete(&k, &t, Duration::from_secs(345_600))).unwrap();
        }
    }
    let stats = dhat::HeapStats::get();
    assert_eq!(store.len(), n);
    #[allow(clippy::cast_precision_loss)]
    let per_key = (stats.curr_bytes - base) as f64 / n as f64;
    println!(
        "memory store, {n} completed keys retained: heap {:.1} MB in {} blocks, {per_key:.1} bytes/key (dhat)",
        (stats.curr_bytes - base) as f64 / 1e6,
        stats.curr_blocks
    );
}
