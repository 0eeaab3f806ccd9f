//! The set-up the verify benches share (`verify`, `verify_ratio`): one secret, the
//! schemes compared, a JSON body, and a delivery signed now with its verifier.

use std::time::{SystemTime, UNIX_EPOCH};

use hookwarden_core::{SignInput, Verifier, schemes, sign};

/// Valid as raw bytes (Stripe, GitHub) and as `whsec_` + base64 (Standard Webhooks).
pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub(crate) const SCHEMES: [&str; 3] = ["standard", "stripe", "github"];

/// A JSON event of exactly `size` bytes, its id first (as Stripe sends it).
pub(crate) fn body(size: usize) -> Vec<u8> {
    let mut b = br#"{"id":"evt_1NG8Du2eZvKYlo2CU","pad":""#.to_vec();
    b.resize(size - 2, b'x');
    b.extend_from_slice(b"\"}");
    assert_eq!(b.len(), size);
    b
}

/// `body` signed now by scheme `name`, as an `http::HeaderMap`, and a verifier for it
/// on the system clock (checked to accept it). Sign afresh per group: the timestamp
/// must stay within the tolerance.
pub(crate) fn signed(name: &str, body: &[u8]) -> (http::HeaderMap, Verifier) {
    let scheme = schemes::by_name(name).unwrap();
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let input = SignInput {
        body,
        timestamp: now,
        id: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
        url: None,
    };
    let mut headers = http::HeaderMap::new();
    for (n, v) in sign(&*scheme, &SECRET.into(), &input).unwrap() {
        headers.append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(&v).unwrap(),
        );
    }
    let verifier = Verifier::builder_arc(scheme)
        .secret(SECRET)
        .build()
        .unwrap();
    assert!(verifier.verify(&headers, body, None).is_ok(), "{name}");
    (headers, verifier)
}
