//! `verify` against the raw prekeyed HMAC, **interleaved**: on a shared or virtual machine
//! the speed drifts between one benchmark and the next, so criterion's back-to-back groups
//! can disagree by 20% from run to run. Here each round times a batch of raw HMACs and a
//! batch of `verify` calls right after each other, and the ratio is taken per round; the
//! median over rounds cancels drifts slower than a round (a few milliseconds).
//!
//! ```text
//! cargo bench -p hookwarden-core --features http --bench verify_ratio [-- ROUNDS]
//! ```
//!
//! Prints, per scheme and body size, the median per-round time of each and the median,
//! lowest and highest per-round ratio. `cargo test --benches` runs it with 3 rounds.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use common::{SCHEMES, SECRET, body, signed};

const SIZES: [(usize, &str); 2] = [(64, "64B"), (1024, "1KiB")];
/// Work per batch, in bytes hashed: ~1–2 ms per batch whatever the body size.
const BATCH_BYTES: usize = 2 << 20;

fn time(n: usize, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: a smoke run then.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let rounds: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 200 } else { 3 });
    println!("rounds: {rounds} (each: a batch of raw HMACs, then a batch of verify calls)");
    println!("scheme    size  raw/op    verify/op  ratio median (min–max)");
    for (size, label) in SIZES {
        let body = body(size);
        let n = (BATCH_BYTES / size).max(1);
        let prekeyed = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        for name in SCHEMES {
            let (headers, verifier) = signed(name, &body);
            let (mut raw, mut ver, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                let r = time(n, || {
                    let mut mac = prekeyed.clone();
                    mac.update(black_box(&body));
                    black_box(mac.finalize().into_bytes());
                });
                let v = time(n, || {
                    black_box(
                        verifier
                            .verify(black_box(&headers), black_box(&body), None)
                            .is_ok(),
                    );
                });
                let per = |d: Duration| d.as_secs_f64() * 1e9 / n as f64;
                raw.push(per(r));
                ver.push(per(v));
                ratio.push(v.as_secs_f64() / r.as_secs_f64());
            }
            // Still valid after measuring (a timestamp only ages): every call timed
            // was a full verification, not a cheap rejection.
            assert!(verifier.verify(&headers, &body, None).is_ok(), "{name}");
            let (lo, hi) = ratio
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            println!(
                "{name:<9} {label:<5} {:>6.0} ns  {:>6.0} ns  {:.3} ({lo:.3}–{hi:.3})",
                median(&mut raw),
                median(&mut ver),
                median(&mut ratio),
            );
        }
    }
}
