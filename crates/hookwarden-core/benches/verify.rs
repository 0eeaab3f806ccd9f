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

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use hookwarden_core::{SignInput, Verifier, schemes, sign};
use sha2::Sha256;

/// Valid as raw bytes (Stripe, GitHub) and as `whsec_` + base64 (Standard Webhooks).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SCHEMES: [&str; 3] = ["standard", "stripe", "github"];
const SIZES: [(usize, &str); 4] = [
    (64, "64B"),
    (1024, "1KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];

/// A JSON event of exactly `size` bytes, its id first (as Stripe sends it).
fn body(size: usize) -> Vec<u8> {
    let mut b = br#"{"id":"evt_1NG8Du2eZvKYlo2CU","pad":""#.to_vec();
    b.resize(size - 2, b'x');
    b.extend_from_slice(b"\"}");
    assert_eq!(b.len(), size);
    b
}

fn header_map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (n, v) in pairs {
        map.append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

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
            let scheme = schemes::by_name(name).unwrap();
            // Signed now, verified with the system clock: signed afresh for each
            // group so that the timestamp stays within the tolerance.
            let input = SignInput {
                body: &body,
                timestamp: now(),
                id: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
                url: None,
            };
            let headers = header_map(&sign(&*scheme, &SECRET.into(), &input).unwrap());
            let verifier = Verifier::builder_arc(scheme)
                .secret(SECRET)
                .build()
                .unwrap();
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
