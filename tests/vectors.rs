//! Every published test vector (tests/data/published.json, copied from the providers'
//! docs and official SDKs' tests) verifies, or is rejected, as its source says.

use std::collections::BTreeMap;

use hookwarden::{ManualClock, Verifier, schemes};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Vector {
    scheme: String,
    source: String,
    secrets: Vec<String>,
    headers: BTreeMap<String, String>,
    body: String,
    url: Option<String>,
    now: i64,
    expect: String,
}

fn vectors() -> Vec<Vector> {
    let raw = include_str!("data/published.json");
    serde_json::from_str(raw).expect("published.json parses")
}

#[test]
fn every_published_vector_agrees() {
    let vectors = vectors();
    assert!(vectors.len() >= 7, "the vector file lost entries");
    for v in &vectors {
        let scheme = schemes::by_name(&v.scheme).unwrap_or_else(|| {
            panic!(
                "scheme {} of vector {:?} is not built in",
                v.scheme, v.source
            )
        });
        let verifier = Verifier::builder_arc(scheme)
            .secrets(v.secrets.iter())
            .clock(ManualClock::new(v.now))
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", v.source));
        let headers: Vec<(&str, &str)> = v
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let outcome = verifier.verify(&headers, v.body.as_bytes(), v.url.as_deref());
        match v.expect.as_str() {
            "ok" => {
                let verified = outcome.unwrap_or_else(|e| panic!("{}: rejected: {e}", v.source));
                assert_eq!(verified.scheme(), v.scheme, "{}", v.source);
            }
            "reject" => {
                let err = outcome
                    .err()
                    .unwrap_or_else(|| panic!("{}: accepted", v.source));
                assert!(matches!(err.status(), 400 | 401), "{}: {err}", v.source);
            }
            other => panic!("unknown expectation {other}"),
        }
    }
}

#[test]
fn published_rejections_fail_for_the_documented_reason() {
    use hookwarden::ErrorKind;
    for v in vectors().iter().filter(|v| v.expect == "reject") {
        let scheme = schemes::by_name(&v.scheme).expect("built in");
        let verifier = Verifier::builder_arc(scheme)
            .secrets(v.secrets.iter())
            .clock(ManualClock::new(v.now))
            .build()
            .expect("config");
        let headers: Vec<(&str, &str)> = v
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let err = verifier
            .verify(&headers, v.body.as_bytes(), v.url.as_deref())
            .expect_err("rejected");
        let expected = if v.source.contains("replayed") {
            ErrorKind::TimestampTooOld
        } else if v.source.contains("unknown version") {
            ErrorKind::UnsupportedSignatureVersion
        } else {
            panic!("add the expected kind for {:?}", v.source)
        };
        assert_eq!(err.kind(), expected, "{}", v.source);
    }
}
