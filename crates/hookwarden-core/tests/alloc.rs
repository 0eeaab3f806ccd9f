//! Proof that `Verifier::verify` makes no heap allocation, with a counting global
//! allocator (`dhat` in testing mode).
//!
//! Every built-in scheme listed in [`schemes::NAMES`] is covered automatically: it is
//! looked up with [`schemes::by_name`], a delivery is made for it with [`sign`], and the
//! verifier is built before measuring (building may allocate). Then, for each header
//! representation (`http::HeaderMap`, `[(&str, &str); N]`, `Vec<(String, String)>`),
//! the allocations made by `verify()` — result and error included — are counted for:
//!
//! - a valid delivery, its delivery id and timestamp read (the id, e.g. Stripe's `id`
//!   scanned from the JSON body, must be found without allocating);
//! - a tampered body;
//! - a delivery checked against the wrong secret;
//! - a delivery whose timestamp is out of tolerance (schemes that sign one);
//! - no headers at all, and every header value replaced by garbage (header errors,
//!   which name the header concerned);
//!
//! and the same for two configurations of the generic HMAC scheme (run-time header
//! names) and a Standard Webhooks header carrying several signatures.
//!
//! dhat allows one profiler per process, hence one `#[test]` in this file.
//!
//! Run: `cargo test -p hookwarden-core --features http --test alloc -- --nocapture`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use hookwarden_core::{
    Algorithm, ErrorKind, Headers, ManualClock, Scheme, SignInput, Verifier, schemes, sign,
};
use sha2::{Digest, Sha256};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Schemes allowed to allocate in `verify()` for bodies over a size, and why. Every
/// other case must not.
const MAY_ALLOCATE: &[(&str, usize, &str)] = &[(
    "twilio",
    4096,
    "form bodies over 4 KiB are percent-decoded and sorted into a temporary Vec per MAC \
     (documented on `Twilio`); smaller ones on the stack",
)];

/// Scheme variants that `by_name` knows but `NAMES` does not list.
const EXTRA_NAMES: &[&str] = &["standard-ed25519"];

const NOW: i64 = 1_700_000_000;
const URL: &str = "https://hooks.example.com/webhooks/in?tenant=7";
/// Valid as raw bytes (Stripe, GitHub...) and as `whsec_` + base64 (Standard Webhooks).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_b2xkIHNlY3JldCBiZWluZyByb3RhdGVk";
/// RFC 8032, section 7.1, test 1.
const ED25519_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const ED25519_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// RFC 8032, section 7.1, test 2 (a key that did not sign).
const ED25519_OTHER_PUBLIC: &str =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

/// A JSON body of about `size` bytes (at least its fields) holding the delivery ids the
/// schemes scan for (Stripe `id`; Paddle, Slack and Square `event_id`; Linear's
/// `webhookTimestamp` in milliseconds). `ids_first`: as Stripe and Paddle send them,
/// before the event data; otherwise after nested data with escaped strings (as Slack and
/// Linear do), so the scan must skip it.
fn body(size: usize, ids_first: bool) -> Vec<u8> {
    let ids = format!(
        r#""id":"evt_1NG8Du2eZvKYlo2CU","event_id":"evt_01h8bkr","webhookTimestamp":{}"#,
        NOW * 1000
    );
    let data = r#""type":"invoice.paid","data":{"object":{"id":"in_1","lines":[{"amount":2000,"tax":[1.5e2,null,true]}],"note":"a \"quoted\" word \u00e9"}},"pad":""#;
    let mut b = if ids_first {
        format!("{{{ids},{data}")
    } else {
        format!("{{{data}")
    };
    let tail = if ids_first {
        "\"}".to_owned()
    } else {
        format!("\",{ids}}}")
    };
    while b.len() + tail.len() < size {
        b.push('x');
    }
    b.push_str(&tail);
    b.into_bytes()
}

fn allocations<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = dhat::HeapStats::get().total_blocks;
    let out = f();
    let after = dhat::HeapStats::get().total_blocks;
    (after - before, out)
}

/// Secrets for a scheme: (to sign, to verify, a wrong one to verify).
fn secrets(scheme: &dyn Scheme) -> Vec<(String, String, String)> {
    if scheme.algorithm() != Algorithm::Ed25519 {
        return vec![(SECRET.into(), SECRET.into(), OTHER_SECRET.into())];
    }
    let b64 = |h: &str| base64::engine::general_purpose::STANDARD.encode(hex::decode(h).unwrap());
    vec![
        (
            ED25519_SEED.into(),
            ED25519_PUBLIC.into(),
            ED25519_OTHER_PUBLIC.into(),
        ),
        (
            format!("whsk_{}", b64(ED25519_SEED)),
            format!("whpk_{}", b64(ED25519_PUBLIC)),
            format!("whpk_{}", b64(ED25519_OTHER_PUBLIC)),
        ),
    ]
}

struct Case {
    name: &'static str,
    scheme: Arc<dyn Scheme>,
    valid: Verifier,
    wrong_secret: Verifier,
    late: Verifier,
    headers: Vec<(String, String)>,
    url: &'static str,
}

fn case(name: &'static str, body: &[u8]) -> Case {
    case_at(name, body, URL)
}

/// `case` for a delivery to `url`.
fn case_at(name: &'static str, body: &[u8], url: &'static str) -> Case {
    let scheme = schemes::by_name(name).unwrap_or_else(|| panic!("by_name({name:?})"));
    case_for_at(name, scheme, body, url)
}

fn case_for(name: &'static str, scheme: Arc<dyn Scheme>, body: &[u8]) -> Case {
    case_for_at(name, scheme, body, URL)
}

fn case_for_at(
    name: &'static str,
    scheme: Arc<dyn Scheme>,
    body: &[u8],
    url: &'static str,
) -> Case {
    for (sign_with, verify_with, wrong) in secrets(&*scheme) {
        let input = SignInput {
            body,
            timestamp: NOW,
            id: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
            url: Some(url),
        };
        let Ok(headers) = sign(&*scheme, &sign_with.as_str().into(), &input) else {
            continue;
        };
        let build = |secret: &str, now: i64| {
            Verifier::builder_arc(scheme.clone())
                .secret(secret)
                .clock(ManualClock::new(now))
                .build()
        };
        let (Ok(valid), Ok(wrong_secret), Ok(late)) = (
            build(&verify_with, NOW),
            build(&wrong, NOW),
            build(&verify_with, NOW + 86_400),
        ) else {
            continue;
        };
        return Case {
            name,
            scheme,
            valid,
            wrong_secret,
            late,
            headers,
            url,
        };
    }
    panic!("{name}: no secret format worked; teach `secrets()` this scheme's format")
}

/// Counts the allocations of each `verify()` for one header representation, checking
/// the outcomes. Returns lines describing allocations found.
fn measure<H: Headers>(c: &Case, form: &str, headers: &H, body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let url = Some(c.url);
    let mut record = |what: &str, n: u64| {
        if n != 0 {
            found.push(format!("{}: {form}: {what}: {n} allocation(s)", c.name));
        }
    };

    // The delivery id and timestamp are read lazily: resolve them inside the count.
    let (n, r) = allocations(|| {
        let r = c.valid.verify(black_box(headers), black_box(body), url);
        if let Ok(v) = &r {
            black_box((v.delivery_id(), v.timestamp()));
        }
        r
    });
    let v = r.unwrap_or_else(|e| panic!("{} ({form}): valid delivery rejected: {e}", c.name));
    if c.name == "stripe" {
        assert_eq!(v.delivery_id(), Some("evt_1NG8Du2eZvKYlo2CU"));
    }
    record("valid delivery", n);

    let mut tampered = body.to_vec();
    let at = body.windows(4).position(|w| w == b"in_1").unwrap();
    tampered[at + 3] = b'2';
    let (n, r) = allocations(|| {
        c.valid
            .verify(black_box(headers), black_box(&tampered), url)
    });
    // A token scheme (GitLab) signs nothing: any body is accepted.
    if c.scheme.algorithm() != Algorithm::Token {
        assert_eq!(
            r.err().map(|e| e.kind()),
            Some(ErrorKind::SignatureMismatch),
            "{}",
            c.name
        );
    }
    record("tampered body", n);

    let (n, r) = allocations(|| {
        c.wrong_secret
            .verify(black_box(headers), black_box(body), url)
    });
    assert_eq!(
        r.err().map(|e| e.kind()),
        Some(ErrorKind::SignatureMismatch),
        "{}",
        c.name
    );
    record("wrong secret", n);

    let (n, r) = allocations(|| c.late.verify(black_box(headers), black_box(body), url));
    if c.late.tolerance().is_some() {
        assert_eq!(
            r.err().map(|e| e.kind()),
            Some(ErrorKind::TimestampTooOld),
            "{}",
            c.name
        );
    }
    record("timestamp out of tolerance", n);

    let none: [(&str, &str); 0] = [];
    let (n, r) = allocations(|| c.valid.verify(black_box(&none), black_box(body), url));
    assert_eq!(
        r.err().map(|e| e.kind()),
        Some(ErrorKind::MissingHeader),
        "{}",
        c.name
    );
    record("no headers", n);

    let garbage: Vec<(&str, &str)> = c.headers.iter().map(|(n, _)| (n.as_str(), "!")).collect();
    let (n, r) = allocations(|| c.valid.verify(black_box(&garbage), black_box(body), url));
    assert!(r.is_err(), "{}: garbage headers accepted", c.name);
    record("garbage headers", n);
    found
}

fn measure_all_forms(c: &Case, body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();

    let mut map = http::HeaderMap::new();
    for (n, v) in &c.headers {
        map.append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    found.extend(measure(c, "http::HeaderMap", &map, body));

    let refs: Vec<(&str, &str)> = c
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    macro_rules! array {
        ($($n:literal)*) => {
            match refs.len() {
                $($n => {
                    let a = <[(&str, &str); $n]>::try_from(refs.as_slice()).unwrap();
                    found.extend(measure(c, concat!("[(&str, &str); ", $n, "]"), &a, body));
                })*
                n => panic!("{}: {n} headers: add an arm to `array!`", c.name),
            }
        };
    }
    array!(1 2 3 4 5 6);

    found.extend(measure(c, "Vec<(String, String)>", &c.headers, body));
    found
}

/// "0 allocations", or the allocations found.
fn describe(found: &[String]) -> String {
    if found.is_empty() {
        "0 allocations".to_owned()
    } else {
        found.join("; ")
    }
}

#[test]
fn verify_does_not_allocate() {
    let _profiler = dhat::Profiler::builder().testing().build();
    // The counter counts.
    assert_eq!(allocations(|| black_box(Box::new(1u8))).0, 1);

    let names: Vec<&'static str> = schemes::NAMES.iter().chain(EXTRA_NAMES).copied().collect();
    let mut report = String::new();
    let mut failures = Vec::new();
    let mut covered = Vec::new();
    for name in names {
        for (size, ids_first) in [(64, true), (1024, true), (64 * 1024, true), (1024, false)] {
            let body = body(size, ids_first);
            let size = body.len();
            let layout = if ids_first {
                "ids first"
            } else {
                "ids after nested data"
            };
            // Twilio signs a JSON body through the URL's `bodySHA256` (it refuses one
            // posted as a form).
            let c = &if name == "twilio" {
                let url = format!("{URL}&bodySHA256={}", hex::encode(Sha256::digest(&body)));
                case_at(name, &body, Box::leak(url.into_boxed_str()))
            } else {
                case(name, &body)
            };
            let found = measure_all_forms(c, &body);
            let allowed = MAY_ALLOCATE
                .iter()
                .find(|(n, over, _)| *n == name && size > *over);
            match allowed {
                Some((_, _, why)) => {
                    let _ = writeln!(
                        report,
                        "{name} ({size} B, {layout}): excluded, {} case(s) allocate: {why}",
                        found.len()
                    );
                }
                None => {
                    let _ = writeln!(
                        report,
                        "{name} ({:?}, {size} B, {layout}): {}",
                        c.scheme.algorithm(),
                        describe(&found)
                    );
                    failures.extend(found);
                }
            }
        }
        covered.push(name);
    }
    // The generic scheme, whose header names are given at run time (a header error
    // names one without copying it).
    let generic: [(&'static str, Arc<dyn Scheme>); 2] = [
        (
            "generic (hex SHA-256, id and timestamp signed)",
            Arc::new(
                schemes::GenericHmac::builder()
                    .signature_header("X-Acme-Signature")
                    .prefix("sha256=")
                    .timestamp_header("X-Acme-Timestamp")
                    .id_header("X-Acme-Id")
                    .template("{id}.{timestamp}.{body}")
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "generic (base64 SHA-512, several signatures)",
            Arc::new(
                schemes::GenericHmac::builder()
                    .signature_header("X-Other-Signature")
                    .encoding(schemes::SignatureEncoding::Base64)
                    .hash(schemes::HmacHash::Sha512)
                    .separator(',')
                    .build()
                    .unwrap(),
            ),
        ),
    ];
    for (name, scheme) in generic {
        let body = body(1024, true);
        let found = measure_all_forms(&case_for(name, scheme, &body), &body);
        let _ = writeln!(report, "{name} ({} B): {}", body.len(), describe(&found));
        failures.extend(found);
    }
    // Several signatures in one header: one that does not match, then the real one.
    let body = body(1024, true);
    let mut c = case("standard", &body);
    for (n, v) in &mut c.headers {
        if n == "webhook-signature" {
            *v = format!(
                "v1,{} {v}",
                base64::engine::general_purpose::STANDARD.encode([7u8; 32])
            );
        }
    }
    let found = measure_all_forms(&c, &body);
    let _ = writeln!(
        report,
        "standard (two signatures, the second valid): {}",
        describe(&found)
    );
    failures.extend(found);
    // A form body as Twilio sends them: percent-encoded phone numbers, `+` for spaces.
    let form: &[u8] =
        b"ToCountry=US&Body=Invoice+in_1+paid%21&To=%2B15558675310&From=%2B14158675310&NumMedia=0";
    let found = measure_all_forms(&case("twilio", form), form);
    let _ = writeln!(
        report,
        "twilio (form body, {} B): {}",
        form.len(),
        describe(&found)
    );
    failures.extend(found);
    // A JSON delivery to a URL whose query holds escapes besides Twilio's digest.
    let json: &[u8] = br#"{"CallSid":"CA1234567890ABCDE","Invoice":"in_1"}"#;
    let url = "https://hooks.example.com/webhooks/in?note=a+b%21&bodySHA256=\
               1b21fee0ec2dd9178ff0785daae3e3c3e0736cfe2bd7f0b72b56c2c829f6dd5e";
    let found = measure_all_forms(&case_at("twilio", json, url), json);
    let _ = writeln!(
        report,
        "twilio (JSON body, escapes in the URL's query): {}",
        describe(&found)
    );
    failures.extend(found);
    println!("{report}");
    assert!(
        failures.is_empty(),
        "verify() allocated:\n{}",
        failures.join("\n")
    );
    for required in ["standard", "svix", "stripe", "github"] {
        assert!(covered.contains(&required), "{required} not covered");
    }
}
