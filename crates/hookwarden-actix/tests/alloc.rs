//! Proof that verifying through [`ActixHeaders`] makes no heap allocation: actix-web's
//! own `HeaderMap::get(&str)` builds an `http` 0.2 `HeaderName` per call, which
//! allocates for every non-standard name, and the signature headers all are.
//!
//! dhat (testing mode) counts the allocations; it allows one profiler per process,
//! hence one `#[test]` in this file.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use hookwarden_actix::ActixHeaders;
use hookwarden_core::{ManualClock, SignInput, Verifier, schemes, sign};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const NOW: i64 = 1_700_000_000;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn verifying_through_actix_headers_does_not_allocate() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let body = br#"{"type":"invoice.paid","id":"in_1"}"#;
    for name in ["standard", "stripe", "github"] {
        let scheme = schemes::by_name(name).unwrap();
        let input = SignInput {
            body,
            timestamp: NOW,
            id: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
            url: None,
        };
        let mut map = HeaderMap::new();
        for (n, v) in [
            ("Host", "hooks.example.com"),
            ("Content-Type", "application/json"),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .chain(sign(&*scheme, &SECRET.into(), &input).unwrap())
        {
            map.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(&v).unwrap(),
            );
        }
        let verifier = Verifier::builder_arc(scheme)
            .secret(SECRET)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap();
        let headers = ActixHeaders(&map);

        let before = dhat::HeapStats::get().total_blocks;
        let verified = verifier.verify(black_box(&headers), black_box(body), None);
        let ok = verified.is_ok();
        let allocations = dhat::HeapStats::get().total_blocks - before;

        assert!(ok, "{name}: {verified:?}");
        assert_eq!(
            allocations, 0,
            "{name}: verify through ActixHeaders allocated"
        );
    }
}
