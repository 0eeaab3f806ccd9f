//! hookwarden's `Verifier::verify` against the peer crates, on identical inputs in the same
//! run, beside the floor: a raw prekeyed HMAC-SHA256 of exactly the bytes each scheme signs.
//!
//! - Standard Webhooks: hookwarden, `standardwebhooks` 1.0, `svix` 2.9 (its
//!   `webhooks::Webhook`), `webhook-verify` 0.1.
//! - Stripe and GitHub: hookwarden, `webhook-verify` 0.1.
//!
//! Every implementation gets the same secret, body and headers (an `http::HeaderMap`
//! built once; `webhook-verify` and hookwarden also with a `Vec<(&str, &str)>`, the
//! cheapest header type `webhook-verify` takes: its `http::HeaderMap` look-up parses a
//! `HeaderName` per call). Each one reads the system clock, so every group signs afresh
//! with the current time, and each implementation must accept the delivery before it is
//! measured. The raw HMAC is checked against the signature in the headers.
//!
//! ```text
//! cd crates/hookwarden-peers   # its own workspace: svix's TLS stack stays out of CI
//! CARGO_TARGET_DIR=/work/target-peers cargo bench --bench peers
//! python3 scripts/peers-table.py /work/target-peers/criterion
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use hookwarden_core::{SignInput, Verifier, schemes, sign};
use sha2::Sha256;
use webhook_verify::{Provider, Secret, VerifyOptions};

/// Valid as raw bytes (Stripe, GitHub) and as `whsec_` + base64 (Standard Webhooks).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
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

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// One signed delivery, in the two header representations.
struct Delivery {
    body: Vec<u8>,
    pairs: Vec<(String, String)>,
    map: http::HeaderMap,
    timestamp: i64,
}

impl Delivery {
    fn new(scheme: &str, size: usize) -> Self {
        let body = body(size);
        let timestamp = now();
        let input = SignInput {
            body: &body,
            timestamp,
            id: Some(MSG_ID),
            url: None,
        };
        let scheme = schemes::by_name(scheme).unwrap();
        let pairs = sign(&*scheme, &SECRET.into(), &input).unwrap();
        let mut map = http::HeaderMap::new();
        for (n, v) in &pairs {
            map.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        Self {
            body,
            pairs,
            map,
            timestamp,
        }
    }

    fn str_pairs(&self) -> Vec<(&str, &str)> {
        self.pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    fn header(&self, name: &str) -> &str {
        self.map.get(name).unwrap().to_str().unwrap()
    }
}

/// The raw floor: an `Hmac<Sha256>` keyed once, cloned per iteration, fed the signed
/// bytes in place (no copy). Checked against the signature the headers carry.
fn raw_hmac(
    group: &mut BenchmarkGroup<'_, WallTime>,
    key: &[u8],
    parts: &[&[u8]],
    expected: &[u8],
) {
    let prekeyed = Hmac::<Sha256>::new_from_slice(key).unwrap();
    let mac = |parts: &[&[u8]]| {
        let mut mac = prekeyed.clone();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes()
    };
    assert_eq!(
        mac(parts).as_slice(),
        expected,
        "raw HMAC of the signed bytes"
    );
    group.bench_function("raw-hmac", |b| b.iter(|| black_box(mac(black_box(parts)))));
}

/// hookwarden with both header representations.
fn hookwarden(group: &mut BenchmarkGroup<'_, WallTime>, scheme: &str, d: &Delivery) {
    let verifier = Verifier::builder_arc(schemes::by_name(scheme).unwrap())
        .secret(SECRET)
        .build()
        .unwrap();
    let pairs = d.str_pairs();
    let ok = verifier.verify(&d.map, &d.body, None).expect("hookwarden");
    assert_eq!(
        ok.timestamp().map(|t| t.unix_timestamp()),
        if scheme == "github" {
            None
        } else {
            Some(d.timestamp)
        }
    );
    verifier
        .verify(&pairs, &d.body, None)
        .expect("hookwarden, pairs");
    group.bench_function("hookwarden", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&d.map), black_box(&d.body), None)
                .is_ok()
        });
    });
    group.bench_function("hookwarden-pairs", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&pairs), black_box(&d.body), None)
                .is_ok()
        });
    });
    // Still valid after measuring (a timestamp only ages): no cheap rejection was timed.
    verifier
        .verify(&d.map, &d.body, None)
        .expect("hookwarden, after measuring");
}

/// `webhook-verify` with both header representations; it takes the secret per call.
fn webhook_verify(group: &mut BenchmarkGroup<'_, WallTime>, provider: Provider, d: &Delivery) {
    let secret = Secret::new(SECRET);
    let pairs = d.str_pairs();
    let run = |headers: &dyn webhook_verify::HeaderMap| {
        webhook_verify::verify(
            provider,
            headers,
            black_box(&d.body),
            &secret,
            VerifyOptions::default(),
        )
    };
    run(&d.map).expect("webhook-verify");
    run(&pairs).expect("webhook-verify, pairs");
    group.bench_function("webhook-verify", |b| {
        b.iter(|| run(black_box(&d.map)).is_ok());
    });
    group.bench_function("webhook-verify-pairs", |b| {
        b.iter(|| run(black_box(&pairs)).is_ok());
    });
    run(&d.map).expect("webhook-verify, after measuring");
}

fn configure<'a>(
    c: &'a mut Criterion,
    scheme: &str,
    size: usize,
    label: &str,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(format!("peers/{scheme}/{label}"));
    group.throughput(Throughput::Bytes(size as u64));
    if size >= 1024 * 1024 {
        group.sample_size(10);
    } else if size >= 64 * 1024 {
        group.sample_size(30);
    }
    group
}

fn standard(c: &mut Criterion) {
    let key = B64.decode(SECRET.strip_prefix("whsec_").unwrap()).unwrap();
    for (size, label) in SIZES {
        // Signed now: every implementation checks it against the system clock.
        let d = Delivery::new("standard", size);
        let mut group = configure(c, "standard", size, label);

        let ts = d.header("webhook-timestamp").to_owned();
        let signature = d.header("webhook-signature");
        let expected = B64.decode(signature.strip_prefix("v1,").unwrap()).unwrap();
        raw_hmac(
            &mut group,
            &key,
            &[MSG_ID.as_bytes(), b".", ts.as_bytes(), b".", &d.body],
            &expected,
        );

        hookwarden(&mut group, "standard", &d);

        let sw = standardwebhooks::Webhook::new(SECRET).unwrap();
        sw.verify(&d.body, &d.map).expect("standardwebhooks");
        group.bench_function("standardwebhooks", |b| {
            b.iter(|| sw.verify(black_box(&d.body), black_box(&d.map)).is_ok());
        });
        sw.verify(&d.body, &d.map)
            .expect("standardwebhooks, after measuring");

        let svix = svix::webhooks::Webhook::new(SECRET).unwrap();
        svix.verify(&d.body, &d.map).expect("svix");
        group.bench_function("svix", |b| {
            b.iter(|| svix.verify(black_box(&d.body), black_box(&d.map)).is_ok());
        });
        svix.verify(&d.body, &d.map).expect("svix, after measuring");

        webhook_verify(&mut group, Provider::StandardWebhooks, &d);
        group.finish();
    }
}

fn stripe(c: &mut Criterion) {
    for (size, label) in SIZES {
        let d = Delivery::new("stripe", size);
        let mut group = configure(c, "stripe", size, label);
        let header = d.header("stripe-signature");
        let (t, v1) = header.split_once(",v1=").unwrap();
        let t = t.strip_prefix("t=").unwrap().to_owned();
        let expected = hex::decode(v1).unwrap();
        raw_hmac(
            &mut group,
            SECRET.as_bytes(),
            &[t.as_bytes(), b".", &d.body],
            &expected,
        );
        hookwarden(&mut group, "stripe", &d);
        webhook_verify(&mut group, Provider::Stripe, &d);
        group.finish();
    }
}

fn github(c: &mut Criterion) {
    for (size, label) in SIZES {
        let d = Delivery::new("github", size);
        let mut group = configure(c, "github", size, label);
        let header = d.header("x-hub-signature-256");
        let expected = hex::decode(header.strip_prefix("sha256=").unwrap()).unwrap();
        raw_hmac(&mut group, SECRET.as_bytes(), &[&d.body], &expected);
        hookwarden(&mut group, "github", &d);
        webhook_verify(&mut group, Provider::GitHub, &d);
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = standard, stripe, github
}
criterion_main!(benches);
