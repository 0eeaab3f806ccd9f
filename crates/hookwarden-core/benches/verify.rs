//! `Verifier::verify` for Standard Webhooks, Stripe and GitHub at 64 B, 1 KiB, 64 KiB and
//! 1 MiB, beside the floor: a raw prekeyed HMAC-SHA256 of the same body (an `Hmac`
//! initialised once and cloned per iteration).
//!
//! Headers are a prebuilt `http::HeaderMap`; the clock is the default system clock.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p hookwarden-core --features http \
//!     --bench verify -- --warm-up-time 1 --measurement-time 3
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use common::{SCHEMES, SECRET, body, signed};

const SIZES: [(usize, &str); 4] = [
    (64, "64B"),
    (1024, "1KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];

fn verify(c: &mut Criterion) {
    for (size, label) in SIZES {
        let body = body(size);
        let mut group = c.benchmark_group(format!("verify/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 64 * 1024 {
            group.sample_size(20);
        }

        let prekeyed = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        group.bench_function(BenchmarkId::from_parameter("raw_hmac_sha256"), |b| {
            b.iter(|| {
                let mut mac = prekeyed.clone();
                mac.update(black_box(&body));
                black_box(mac.finalize().into_bytes())
            });
        });

        for name in SCHEMES {
            // Signed now, verified with the system clock: signed afresh for each
            // group so that the timestamp stays within the tolerance.
            let (headers, verifier) = signed(name, &body);
            let check = verifier.verify(&headers, &body, None).expect("valid");
            if name == "stripe" {
                assert_eq!(check.delivery_id(), Some("evt_1NG8Du2eZvKYlo2CU"));
            }
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| {
                    verifier
                        .verify(black_box(&headers), black_box(&body), None)
                        .is_ok()
                });
            });
            assert!(verifier.verify(&headers, &body, None).is_ok(), "{name}");
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = verify
}
criterion_main!(benches);
