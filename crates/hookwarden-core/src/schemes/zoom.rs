//! Zoom.

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::unix_seconds;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

const SIGNATURE: HeaderKey = HeaderKey::from_static("x-zm-signature");
const TIMESTAMP: HeaderKey = HeaderKey::from_static("x-zm-request-timestamp");
static REQUIRED: [HeaderKey; 2] = [SIGNATURE, TIMESTAMP];

/// [Zoom](https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events).
///
/// | | |
/// |---|---|
/// | headers | `x-zm-signature` (signature), `x-zm-request-timestamp` (timestamp) |
/// | signed content | `v0:{x-zm-request-timestamp}:{body}` |
/// | signature | `v0=` + hex HMAC-SHA256 |
/// | secret | the app's webhook *Secret Token*, its bytes (not the deprecated verification token) |
/// | timestamp | `x-zm-request-timestamp`, unix seconds |
/// | default tolerance | 5 minutes each way (Zoom states no window; 5 minutes is the common choice) |
/// | delivery id | none: dedup falls back to the digest of the verified signature |
///
/// Zoom also sends `x-zm-trackingid`, a support correlation id. It is not signed and Zoom
/// does not document it as stable across retries, so it is not used as the delivery id:
/// deduplication keys on the signature digest, which stops verbatim replays (a changed
/// timestamp or body changes the signature) but not a retry that Zoom signs anew. Use a
/// configured header or body field as the dedup key if you need more.
///
/// The `endpoint.url_validation` challenge is answered by the receive pipeline
/// (`Challenge::Zoom`), with the secret that verified the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Zoom;

impl Zoom {
    /// The Zoom scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Zoom {
    fn name(&self) -> &'static str {
        "zoom"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::FIVE_MINUTES)
    }

    fn required_headers(&self) -> &[HeaderKey] {
        &REQUIRED
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let sig = headers
            .first(&SIGNATURE)
            .ok_or_else(|| VerifyError::missing(&SIGNATURE))?;
        let ts_raw = headers
            .first(&TIMESTAMP)
            .ok_or_else(|| VerifyError::missing(&TIMESTAMP))?;
        let timestamp = unix_seconds(ts_raw.trim_ascii())
            .ok_or_else(|| VerifyError::malformed(&TIMESTAMP, "not a unix timestamp in seconds"))?;
        let sig = sig.trim_ascii();
        let Some(eq) = sig.iter().position(|&b| b == b'=') else {
            return Err(VerifyError::malformed(&SIGNATURE, "expected `v0=<hex>`"));
        };
        let (version, hex) = (sig.get(..eq).unwrap_or_default(), sig.get(eq + 1..));
        if version != b"v0" {
            return Err(VerifyError::new(
                ErrorKind::UnsupportedSignatureVersion,
                "only `v0` signatures are supported",
            )
            .with_header(&SIGNATURE));
        }
        let tag = hex
            .and_then(Tag::from_hex)
            .ok_or_else(|| VerifyError::malformed(&SIGNATURE, "signature is not valid hex"))?;
        parsed.timestamp = Some(timestamp);
        parsed.timestamp_raw = ts_raw;
        parsed.add_signature(tag, &SIGNATURE)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(b"v0:");
        sink(parsed.timestamp_raw);
        sink(b":");
        sink(req.body);
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        timestamp: &str,
        _id: &str,
    ) -> Vec<(String, String)> {
        vec![
            (
                "x-zm-signature".into(),
                format!("v0={}", hex::encode(signature)),
            ),
            ("x-zm-request-timestamp".into(), timestamp.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::test_headers::{with, without};
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const NOW: i64 = 1_700_000_000;
    const SECRET: &str = "zoom_secret_token_for_tests";

    fn signed(body: &[u8], ts: i64, secret: &str) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: None,
            url: None,
        };
        sign(&Zoom, &secret.into(), &input).unwrap()
    }

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Zoom)
            .secret(secret)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_and_no_delivery_id() {
        let body = br#"{"event":"meeting.started","event_ts":1700000000000}"#;
        let headers = signed(body, NOW, SECRET);
        let ok = verifier(SECRET).verify(&headers, body, None).unwrap();
        assert_eq!(ok.scheme(), "zoom");
        assert_eq!(ok.timestamp().map(|t| t.unix_timestamp()), Some(NOW));
        assert_eq!(ok.delivery_id(), None);
        assert_eq!(ok.matched_signature().map(<[u8]>::len), Some(32));
    }

    #[test]
    fn known_answer_computed_with_python_hmac() {
        // python3 -c "import hmac,hashlib; print(hmac.new(b'zoom_secret_token_for_tests',
        //   b'v0:1700000000:{\"event\":\"meeting.started\"}', hashlib.sha256).hexdigest())"
        let body = br#"{"event":"meeting.started"}"#;
        let headers = [
            (
                "x-zm-signature",
                "v0=c677cac60c9c01d83af978cee4c4752e79a9abeb2d7059359b25b2963c8cf72e",
            ),
            ("x-zm-request-timestamp", "1700000000"),
        ];
        let expected = signed(body, NOW, SECRET);
        assert_eq!(expected[0].1, headers[0].1);
        verifier(SECRET).verify(&headers, body, None).unwrap();
    }

    #[test]
    fn tampered_body_and_wrong_secret_mismatch() {
        let body = b"{\"event\":\"meeting.ended\"}";
        let headers = signed(body, NOW, SECRET);
        let err = verifier(SECRET)
            .verify(&headers, b"{\"event\":\"meeting.endeD\"}", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("another_secret")
            .verify(&headers, body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        // The timestamp is signed: changing it breaks the signature.
        let moved = with(&headers, "x-zm-request-timestamp", "1700000001");
        let err = verifier(SECRET).verify(&moved, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn malformed_and_missing_headers() {
        let body = b"{}";
        let headers = signed(body, NOW, SECRET);
        let v = verifier(SECRET);
        let cases: [(&str, Option<&str>, ErrorKind); 7] = [
            ("x-zm-signature", None, ErrorKind::MissingHeader),
            ("x-zm-request-timestamp", None, ErrorKind::MissingHeader),
            ("x-zm-signature", Some("abcdef"), ErrorKind::MalformedHeader),
            ("x-zm-signature", Some("v0=zz"), ErrorKind::MalformedHeader),
            ("x-zm-signature", Some("v0="), ErrorKind::MalformedHeader),
            (
                "x-zm-signature",
                Some("v1=abcd"),
                ErrorKind::UnsupportedSignatureVersion,
            ),
            (
                "x-zm-request-timestamp",
                Some("2023-11-14T22:13:20Z"),
                ErrorKind::MalformedHeader,
            ),
        ];
        for (name, value, kind) in cases {
            let h = match value {
                Some(value) => with(&headers, name, value),
                None => without(&headers, name),
            };
            let err = v.verify(&h, body, None).unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {value:?}");
            assert_eq!(err.header(), Some(name), "{name}: {value:?}");
            assert_eq!(v.precheck(&h).unwrap_err(), err);
        }
    }

    #[test]
    fn stale_and_future_timestamps() {
        let body = b"{}";
        let v = verifier(SECRET);
        v.verify(&signed(body, NOW - 300, SECRET), body, None)
            .unwrap();
        let err = v
            .verify(&signed(body, NOW - 301, SECRET), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
        let err = v
            .verify(&signed(body, NOW + 301, SECRET), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew);
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_body() {
        let body = [0xff, 0xfe, 0x00, b'v', b'0', 0xc3];
        let headers = signed(&body, NOW, SECRET);
        let v = verifier(SECRET);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            v.verify(&h, &body, None).unwrap();
        }
        let h: Vec<_> = headers
            .iter()
            .map(|(k, x)| (k.replace("x-zm", "X-Zm"), x.clone()))
            .collect();
        v.verify(&h, &body, None).unwrap();
    }
}
