//! Property tests: for random secrets, bodies and timestamps, a delivery signed by
//! the scheme verifies, and any single-byte change to its body or to its decoded
//! signature is rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookwarden::{ErrorKind, ManualClock, SignInput, Verifier, schemes, sign};
use proptest::prelude::*;

/// How each scheme's signature header encodes its MAC, to mutate the decoded bytes
/// (a case change of a hex digit is not a change of signature).
fn mutate_signature(scheme: &str, headers: &mut [(String, String)], index: usize, xor: u8) {
    let (_, value) = headers
        .iter_mut()
        .find(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k.contains("signature") && !k.contains("timestamp")
        })
        .expect("signature header");
    let mutate = |bytes: &mut Vec<u8>| {
        let i = index % bytes.len();
        bytes[i] ^= xor;
    };
    *value = match scheme {
        "standard" => {
            let mut raw = B64
                .decode(value.strip_prefix("v1,").expect("v1"))
                .expect("b64");
            mutate(&mut raw);
            format!("v1,{}", B64.encode(raw))
        }
        "github" => {
            let mut raw = hex::decode(value.strip_prefix("sha256=").expect("prefix")).expect("hex");
            mutate(&mut raw);
            format!("sha256={}", hex::encode(raw))
        }
        "stripe" => {
            let (t, v1) = value.split_once(",v1=").expect("stripe format");
            let mut raw = hex::decode(v1).expect("hex");
            mutate(&mut raw);
            format!("{t},v1={}", hex::encode(raw))
        }
        other => unreachable!("no mutation for {other}"),
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn single_byte_changes_are_rejected(
        scheme_name in prop::sample::select(vec!["standard", "github", "stripe"]),
        key in prop::collection::vec(any::<u8>(), 1..64),
        body in prop::collection::vec(any::<u8>(), 1..512),
        ts in 1_000_000_000i64..4_000_000_000,
        index in any::<usize>(),
        xor in 1u8..=255,
    ) {
        let scheme = schemes::by_name(scheme_name).expect("built in");
        let secret = if scheme_name == "standard" {
            format!("whsec_{}", B64.encode(&key))
        } else {
            format!("k{}", hex::encode(&key))
        };
        let input = SignInput { body: &body, timestamp: ts, id: Some("msg_p"), url: None };
        let headers = sign(&*scheme, &secret.as_str().into(), &input).expect("sign");
        let verifier = Verifier::builder_arc(scheme)
            .secret(secret.as_str())
            .clock(ManualClock::new(ts))
            .build()
            .expect("build");
        prop_assert!(verifier.verify(&headers, &body, None).is_ok());

        let mut tampered = body.clone();
        let i = index % tampered.len();
        tampered[i] ^= xor;
        let err = verifier.verify(&headers, &tampered, None).expect_err("tampered body");
        prop_assert_eq!(err.kind(), ErrorKind::SignatureMismatch);

        let mut bad = headers.clone();
        mutate_signature(scheme_name, &mut bad, index, xor);
        let err = verifier.verify(&bad, &body, None).expect_err("tampered signature");
        prop_assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    /// Arbitrary header values never panic and never verify.
    #[test]
    fn arbitrary_headers_never_panic_or_pass(
        scheme_index in any::<prop::sample::Index>(),
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 4),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let name = scheme_index.get(schemes::NAMES);
        let scheme = schemes::by_name(name).expect("listed");
        // A `whsec_` secret serves every HMAC scheme; Discord takes a hex public key
        // (RFC 8032, test 1). One of them must build: no scheme is skipped.
        let verifier = ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"]
            .into_iter()
            .find_map(|secret| Verifier::builder_arc(scheme.clone()).secret(secret).build().ok())
            .unwrap_or_else(|| panic!("{name}: no test secret builds a verifier"));
        let mut names: Vec<String> =
            scheme.required_headers().iter().map(|h| h.as_str().to_owned()).collect();
        names.extend(["webhook-id", "webhook-timestamp", "webhook-signature", "stripe-signature"]
            .map(String::from));
        let headers: Vec<(String, Vec<u8>)> = names
            .into_iter()
            .zip(values.into_iter().cycle())
            .collect();
        let result = verifier.verify(&headers, &body, Some("https://example.com/"));
        prop_assert!(result.is_err());
    }
}
