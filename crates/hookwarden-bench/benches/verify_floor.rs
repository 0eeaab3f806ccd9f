//! hookwarden's `verify` against a plain hand-written Standard Webhooks check on an
//! `http::HeaderMap` ([`floor::check_headers`]: three look-ups by prebuilt names, the
//! timestamp against `SystemTime::now`, a raw prekeyed HMAC-SHA256 of
//! `id.timestamp.body`, one base64 decode and a constant-time compare), against the raw
//! HMAC of the body alone, and against the three header look-ups alone (what any check
//! reading an `http::HeaderMap` pays besides the MAC), **interleaved**: each round times
//! a batch of each right after each other and the ratios are taken per round.
//!
//! ```text
//! cargo bench -p hookwarden-bench --bench verify_floor [-- ROUNDS]
//! ```
//!
//! `cargo test --benches` runs it with 3 rounds.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use hmac::Mac;
use hookwarden_bench::{SECRET, floor, signed_deliveries};
use hookwarden_core::Verifier;
use hookwarden_core::schemes::StandardWebhooks;

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
    let verifier = Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .build()
        .unwrap();
    let mac = floor::prekeyed();
    println!("rounds: {rounds}; Standard Webhooks, headers in an http::HeaderMap");
    println!(
        "size  raw HMAC/op  look-ups/op  plain/op  verify/op  verify/plain median (min-max)  verify/raw"
    );
    for size in [64, 1024] {
        let (pairs, body) = signed_deliveries(1, size).unwrap().pop().unwrap();
        let mut headers = http::HeaderMap::new();
        for (n, v) in pairs {
            headers.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_str(&v).unwrap(),
            );
        }
        // Both accept it: every call timed is a full verification.
        assert!(floor::check_headers(&mac, &headers, &body));
        assert!(verifier.verify(&headers, &body, None).is_ok());
        let n = (BATCH_BYTES / size).max(1);
        let (mut raw, mut look, mut flo, mut ver) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut over_floor, mut over_raw) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let r = time(n, || {
                let mut m = mac.clone();
                m.update(black_box(&body));
                black_box(m.finalize().into_bytes());
            });
            let l = time(n, || {
                black_box(floor::look_up(black_box(&headers)));
            });
            let f = time(n, || {
                black_box(floor::check_headers(
                    &mac,
                    black_box(&headers),
                    black_box(&body),
                ));
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
            look.push(per(l));
            flo.push(per(f));
            ver.push(per(v));
            over_floor.push(v.as_secs_f64() / f.as_secs_f64());
            over_raw.push(v.as_secs_f64() / r.as_secs_f64());
        }
        // Still valid after measuring (a timestamp only ages).
        assert!(floor::check_headers(&mac, &headers, &body));
        assert!(verifier.verify(&headers, &body, None).is_ok());
        let (lo, hi) = over_floor
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        println!(
            "{size:>5} {:>8.0} ns  {:>8.0} ns  {:>6.0} ns  {:>6.0} ns  {:.3} ({lo:.3}-{hi:.3})  {:.3}",
            median(&mut raw),
            median(&mut look),
            median(&mut flo),
            median(&mut ver),
            median(&mut over_floor),
            median(&mut over_raw),
        );
    }
}
