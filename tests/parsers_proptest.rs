//! Stable-toolchain property tests over the parsers the fuzz targets cover
//! (`fuzz/`): every scheme's header parser, the shared `parse` helpers, the generic
//! scheme's configuration, and `MemoryStore` operation sequences against a model.
//! Kept fast: a few seconds in total.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookwarden::dedup::{Claim, ClaimToken, DedupKey, DedupStore, ManualTime, MemoryStore};
use hookwarden::parse::{JsonValue, json_top_level, pairs, unix_seconds};
use hookwarden::schemes::{self, GenericHmac, HmacHash, SignatureEncoding};
use hookwarden::{MAX_SIGNATURES, ManualClock, SignInput, Verifier, sign};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;

/// Every built-in scheme name, and the Ed25519 Standard Webhooks variant.
fn all_schemes() -> Vec<&'static str> {
    let mut names = schemes::NAMES.to_vec();
    names.push("standard-ed25519");
    names
}

/// Header names the built-in schemes read.
const HEADER_NAMES: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "stripe-signature",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-github-delivery",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-shopify-hmac-sha256",
    "paddle-signature",
    "x-twilio-signature",
    "x-square-hmacsha256-signature",
    "linear-signature",
    "x-zm-signature",
    "x-zm-request-timestamp",
    "twitch-eventsub-message-id",
    "twitch-eventsub-message-timestamp",
    "twitch-eventsub-message-signature",
    "x-signature-ed25519",
    "x-signature-timestamp",
    "x-gitlab-token",
    "x-wc-webhook-signature",
];

/// A valid Ed25519 public key (not every 32 bytes are one).
fn public_key() -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
        .verifying_key()
        .to_bytes()
}

/// Header values near the valid forms: fragments of real signatures, timestamps,
/// separators, and arbitrary bytes.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"v1,".to_vec()),
        Just(b"v1a,".to_vec()),
        Just(b"t=".to_vec()),
        Just(b",v1=".to_vec()),
        Just(b"ts=".to_vec()),
        Just(b";h1=".to_vec()),
        Just(b"sha256=".to_vec()),
        Just(b"v0=".to_vec()),
        Just(b" ".to_vec()),
        Just(b"1700000000".to_vec()),
        Just(b"17000000000000000000".to_vec()),
        Just(b"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y".to_vec()),
        Just(vec![b'a'; 64]),
        Just(vec![b'A'; 132]),
        Just(b"=".to_vec()),
        prop::collection::vec(any::<u8>(), 0..12),
    ];
    prop::collection::vec(fragment, 0..8).prop_map(|v| v.concat())
}

fn header_set() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    prop::collection::vec((prop::sample::select(HEADER_NAMES), header_value()), 0..8).prop_map(
        |v| {
            v.into_iter()
                .map(|(n, value)| (n.to_owned(), value))
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every scheme's parser: no panic, header errors are 400, parsed signatures
    /// stay within the bounds.
    #[test]
    fn scheme_parsers_never_panic(
        scheme in prop::sample::select(all_schemes()),
        headers in header_set(),
    ) {
        let scheme = schemes::by_name(scheme).expect("listed");
        match scheme.parse(&headers) {
            Ok(parsed) => {
                prop_assert!(parsed.signatures.len() <= MAX_SIGNATURES);
            }
            Err(e) => prop_assert_eq!(e.status(), 400),
        }
    }

    /// Arbitrary headers through `verify`, for every scheme: never Ok (no MAC can be
    /// guessed), and every error maps to 400 or 401.
    #[test]
    fn arbitrary_headers_never_verify(
        scheme in prop::sample::select(all_schemes()),
        headers in header_set(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let s = schemes::by_name(scheme).expect("listed");
        let secret = match scheme {
            "standard" | "svix" => "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".to_owned(),
            "standard-ed25519" => format!("whpk_{}", B64.encode(public_key())),
            "discord" => hex::encode(public_key()),
            _ => "a secret nobody sends".to_owned(),
        };
        let Ok(verifier) = Verifier::builder_arc(s).secret(secret).build() else {
            return Err(TestCaseError::fail(format!("{scheme}: verifier does not build")));
        };
        match verifier.verify(&headers, &body, Some("https://example.com/hooks")) {
            Ok(v) => prop_assert!(false, "{scheme}: {v:?}"),
            Err(e) => prop_assert!(matches!(e.status(), 400 | 401), "{e:?}"),
        }
    }

    #[test]
    fn unix_seconds_is_plain_decimal(raw in prop::collection::vec(
        prop_oneof![8 => b'0'..=b'9', 1 => any::<u8>()], 0..22)
    ) {
        let expected = (!raw.is_empty() && raw.len() <= 18 && raw.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(&raw).ok()?.parse::<i64>().ok())
            .flatten();
        prop_assert_eq!(unix_seconds(&raw), expected);
    }

    #[test]
    fn pairs_splits_at_the_first_equals(
        raw in prop::collection::vec(prop_oneof![
            Just(b'='), Just(b','), Just(b';'), Just(b' '), b'a'..=b'c'], 0..40),
        separator in prop::sample::select(vec![b',', b';']),
    ) {
        let items: Vec<_> = pairs(&raw, separator).collect();
        prop_assert_eq!(items.len(), raw.split(|&b| b == separator).count());
        for (k, v) in items {
            prop_assert!(!k.contains(&b'='));
            prop_assert!(k.len() + v.len() < raw.len() + 1);
        }
    }

    /// The top-level scan agrees with `serde_json` on complete objects whose key
    /// is written once.
    #[test]
    fn json_scan_matches_serde_json(
        fields in prop::collection::vec(
            (prop::sample::select(vec!["a", "b", "id", "n"]),
             prop_oneof![
                any::<i64>().prop_map(|n| serde_json::json!(n)),
                "[a-z\"\\\\é]{0,6}".prop_map(|s| serde_json::json!(s)),
                Just(serde_json::json!({"id": "inner", "x": [1, {"y": null}]})),
                Just(serde_json::json!(1.5)),
                Just(serde_json::json!(null)),
             ]),
            0..5),
        name in prop::sample::select(vec!["a", "id", "n"]),
    ) {
        let mut map = serde_json::Map::new();
        for (k, v) in fields {
            map.insert(k.to_owned(), v);
        }
        let body = serde_json::to_vec(&serde_json::Value::Object(map.clone())).expect("json");
        match (json_top_level(&body, name), map.get(name)) {
            (None, None) => {}
            (Some(JsonValue::Str(s)), Some(serde_json::Value::String(t))) => prop_assert_eq!(&*s, t.as_str()),
            (Some(JsonValue::Int(n)), Some(serde_json::Value::Number(m))) => prop_assert_eq!(Some(n), m.as_i64()),
            (Some(JsonValue::Other), Some(v)) => prop_assert!(!v.is_string() && v.as_i64().is_none(), "{v:?}"),
            (found, expected) => prop_assert!(false, "scan {found:?}, serde_json {expected:?}"),
        }
    }

    /// Arbitrary bytes: the scan never panics.
    #[test]
    fn json_scan_never_panics(body in prop::collection::vec(any::<u8>(), 0..64), name in "[a-z]{0,3}") {
        let _ = json_top_level(&body, &name);
    }

    /// Generic configurations: `build` is Ok or a `ConfigError`; when Ok, a signed
    /// delivery verifies and a changed body does not.
    #[test]
    fn generic_config_builds_or_explains(
        signature in prop::option::of(prop_oneof![Just("X-Sig".to_owned()), "[a-zA-Z -]{0,8}"]),
        prefix in prop::option::of(prop_oneof![Just("sha256=".to_owned()), Just("v1=".to_owned()), ".{0,4}"]),
        base64 in any::<bool>(),
        hash in 0u8..3,
        separator in prop::option::of(prop_oneof![Just(','), Just(' '), any::<char>()]),
        timestamp in prop::option::of(prop_oneof![Just("X-Ts".to_owned()), "[a-z:]{0,4}"]),
        id in prop::option::of(prop_oneof![Just("X-Id".to_owned()), "[a-z]{0,4}"]),
        template in prop::option::of(prop_oneof![
            Just("{body}".to_owned()),
            Just("{id}.{timestamp}.{body}".to_owned()),
            Just("{url}{body}".to_owned()),
            Just("{timestamp}:{body}".to_owned()),
            Just("{{{body}}}".to_owned()),
            "[{}a-z.]{0,12}",
        ]),
        body in prop::collection::vec(any::<u8>(), 1..64),
        flip in any::<prop::sample::Index>(),
    ) {
        let mut b = GenericHmac::builder()
            .encoding(if base64 { SignatureEncoding::Base64 } else { SignatureEncoding::Hex })
            .hash([HmacHash::Sha1, HmacHash::Sha256, HmacHash::Sha512][usize::from(hash)]);
        if let Some(s) = &signature { b = b.signature_header(s.as_str()); }
        if let Some(p) = &prefix { b = b.prefix(p.as_str()); }
        if let Some(c) = separator { b = b.separator(c); }
        if let Some(t) = &timestamp { b = b.timestamp_header(t.as_str()); }
        if let Some(i) = &id { b = b.id_header(i.as_str()); }
        if let Some(t) = &template { b = b.template(t.as_str()); }
        let scheme = match b.build() {
            Ok(s) => s,
            Err(e) => {
                prop_assert!(e.message().starts_with("generic scheme:") || e.message().contains("header name"),
                    "{}", e.message());
                return Ok(());
            }
        };
        let url = "https://example.com/hooks";
        let input = SignInput { body: &body, timestamp: NOW, id: Some("msg_1"), url: Some(url) };
        let headers = sign(&scheme, &"k3y".into(), &input).expect("a built scheme signs");
        let verifier = Verifier::builder(scheme).secret("k3y").clock(ManualClock::new(NOW)).build().expect("verifier");
        // A configuration whose signatures could not be read back (a separator in the
        // prefix or the encoding, a prefix starting with a space, one header for two
        // roles) does not build: whatever builds round-trips.
        let verified = verifier.verify(&headers, &body, Some(url));
        prop_assert!(verified.is_ok(), "round trip failed: {verified:?} {headers:?}");
        let mut changed = body.clone();
        changed[flip.index(body.len())] ^= 1;
        prop_assert!(verifier.verify(&headers, &changed, Some(url)).is_err());
    }

    /// Every scheme: a signed delivery verifies, and a changed body byte is rejected
    /// (for Twilio, a changed letter of a form value: Twilio signs the decoded
    /// parameters, not the bytes).
    #[test]
    fn every_scheme_round_trips_and_rejects_changed_bodies(
        scheme in prop::sample::select(all_schemes()),
        key in prop::array::uniform32(any::<u8>()),
        raw in prop::collection::vec(any::<u8>(), 1..128),
        flip in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let s = schemes::by_name(scheme).expect("listed");
        let public = ed25519_dalek::SigningKey::from_bytes(&key).verifying_key().to_bytes();
        let (sign_secret, verify_secret) = match scheme {
            "standard" | "svix" => (format!("whsec_{}", B64.encode(key)), format!("whsec_{}", B64.encode(key))),
            "standard-ed25519" => (format!("whsk_{}", B64.encode(key)), format!("whpk_{}", B64.encode(public))),
            "discord" => (hex::encode(key), hex::encode(public)),
            _ => (hex::encode(key), hex::encode(key)),
        };
        let letters = |raw: &[u8]| raw.iter().map(|b| b'a' + b % 26).collect::<Vec<u8>>();
        let body = match scheme {
            "linear" => [format!(r#"{{"webhookTimestamp":{},"d":"#, NOW * 1000).as_bytes(), &raw].concat(),
            // One form parameter: its value is what Twilio signs, after the URL.
            "twilio" => [&b"Body="[..], &letters(&raw)].concat(),
            _ => raw,
        };
        let url = s.signs_url().then(|| "https://example.com/hooks".to_owned());
        let input = SignInput { body: &body, timestamp: NOW, id: Some("msg_1"), url: url.as_deref() };
        let headers = sign(&*s, &sign_secret.as_str().into(), &input).expect("sign");
        let verifier = Verifier::builder_arc(s).secret(verify_secret).clock(ManualClock::new(NOW)).build().expect("build");
        prop_assert!(verifier.verify(&headers, &body, url.as_deref()).is_ok(), "{scheme}");
        if scheme == "gitlab" {
            // A token scheme: GitLab signs nothing, the body is not bound.
            return Ok(());
        }
        let mut changed = body.clone();
        if scheme == "twilio" {
            // Another letter in the value (a byte such as `&` or `%` could leave the
            // decoded parameter string as it was).
            let i = 5 + flip.index(body.len() - 5);
            changed[i] = b'a' + (changed[i] - b'a' + 1 + xor % 25) % 26;
        } else {
            changed[flip.index(body.len())] ^= xor;
        }
        prop_assert!(verifier.verify(&headers, &changed, url.as_deref()).is_err(), "{scheme}");
    }
}

#[derive(Debug, Clone)]
enum Op {
    Claim(u8, u16),
    Complete(u8, u8, u16),
    Release(u8, u8),
    Advance(u16),
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 1u16..500).prop_map(|(k, l)| Op::Claim(k, l)),
        3 => (0u8..6, any::<u8>(), 1u16..2000).prop_map(|(k, t, r)| Op::Complete(k, t, r)),
        2 => (0u8..6, any::<u8>()).prop_map(|(k, t)| Op::Release(k, t)),
        2 => (0u16..800).prop_map(Op::Advance),
        1 => Just(Op::Purge),
    ]
}

/// Poll a future that is ready at once (the memory store's).
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the memory store's futures are ready at once"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    InFlight(u128),
    Completed,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `MemoryStore` against a `HashMap` model (room for every key: the model is
    /// exact): claim outcomes, complete/release results, entry counts.
    #[test]
    fn memory_store_matches_a_model(ops in prop::collection::vec(op(), 1..80)) {
        let time = ManualTime::new();
        let store = Arc::new(MemoryStore::builder().with_time(time.clone()).build().expect("store"));
        let mut model: HashMap<u8, (Slot, u128)> = HashMap::new();
        let mut tokens: Vec<(u8, ClaimToken)> = Vec::new();
        let key = |k: u8| DedupKey::new("prop", &format!("k{k}"));
        let pick = |tokens: &[(u8, ClaimToken)], k: u8, t: u8| {
            let own: Vec<_> = tokens.iter().filter(|(kk, _)| *kk == k).collect();
            if t % 3 != 2 && !own.is_empty() {
                own[usize::from(t) % own.len()].1.clone()
            } else {
                ClaimToken::from_u128(u128::from(t) + 1)
            }
        };
        for op in ops {
            let now = time.now().as_nanos();
            match op {
                Op::Claim(k, lease) => {
                    let live = model.get(&k).filter(|(_, exp)| now < *exp).map(|(s, _)| *s);
                    let got = ready(store.claim(&key(k), Duration::from_millis(lease.into()))).expect("no error");
                    match (&got, live) {
                        (Claim::New(t), None) => {
                            model.insert(k, (Slot::InFlight(t.as_u128()), now + u128::from(lease) * 1_000_000));
                            tokens.push((k, t.clone()));
                        }
                        (Claim::InFlight, Some(Slot::InFlight(_))) | (Claim::Completed, Some(Slot::Completed)) => {}
                        _ => prop_assert!(false, "claim k{k}: {got:?} vs {live:?}"),
                    }
                }
                Op::Complete(k, t, retention) => {
                    let tok = pick(&tokens, k, t);
                    let holds = matches!(model.get(&k), Some((Slot::InFlight(x), exp)) if *x == tok.as_u128() && now < *exp);
                    let got = ready(store.complete(&key(k), &tok, Duration::from_millis(retention.into()))).expect("no error");
                    prop_assert_eq!(got, holds);
                    if got {
                        model.insert(k, (Slot::Completed, now + u128::from(retention) * 1_000_000));
                    }
                }
                Op::Release(k, t) => {
                    let tok = pick(&tokens, k, t);
                    let held = matches!(model.get(&k), Some((Slot::InFlight(x), _)) if *x == tok.as_u128());
                    let live = model.get(&k).is_some_and(|(_, exp)| now < *exp);
                    let got = ready(store.release(&key(k), &tok)).expect("no error");
                    prop_assert_eq!(got, held && live);
                    if held {
                        model.remove(&k);
                    }
                }
                Op::Advance(ms) => time.advance(Duration::from_millis(ms.into())),
                Op::Purge => {
                    store.purge_expired();
                    model.retain(|_, (_, exp)| now < *exp);
                    prop_assert_eq!(store.len(), model.len());
                }
            }
            let now = time.now().as_nanos();
            let live = model.values().filter(|(_, exp)| now < *exp).count();
            prop_assert!(live <= store.len() && store.len() <= model.len(),
                "len {} live {live} model {}", store.len(), model.len());
        }
    }
}
