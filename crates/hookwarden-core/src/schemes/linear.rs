//! Linear.

use time::Duration;

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::{JsonValue, json_top_level};
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

use super::SignatureEncoding;

static SIGNATURE: HeaderKey = HeaderKey::from_static("linear-signature");
static DELIVERY: HeaderKey = HeaderKey::from_static("linear-delivery");

/// The body field holding Linear's signing time, in milliseconds.
const TIMESTAMP_FIELD: &str = "webhookTimestamp";

/// [Linear](https://linear.app/developers/webhooks#securing-webhooks).
///
/// | | |
/// |---|---|
/// | headers | `Linear-Signature` (signature), `Linear-Delivery` (id, not signed) |
/// | signed content | the body |
/// | signature | hex HMAC-SHA256 |
/// | secret | the webhook's signing secret as shown by Linear, its bytes |
/// | timestamp | `webhookTimestamp` in the signed JSON body, unix **milliseconds** (truncated to seconds) |
/// | default tolerance | 1 minute each way (Linear's SDK refuses a delta over 60 s) |
/// | delivery id | `Linear-Delivery` |
///
/// The timestamp lives in the body, so it is read after the signature matched
/// ([`Scheme::timestamp_from_body`]: an unsigned body is never scanned); a signed body
/// without an integer `webhookTimestamp` is refused as `MalformedBody`. Only the top level of the body is scanned, and only up
/// to that field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Linear;

impl Linear {
    /// The Linear scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::symmetric(Duration::seconds(60)))
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&SIGNATURE)
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        super::fields::one_signature(headers, &SIGNATURE, b"", SignatureEncoding::Hex, parsed)?;
        parsed.id = headers.first(&DELIVERY);
        Ok(())
    }

    fn timestamp_from_body(&self, body: &[u8]) -> Result<Option<i64>, VerifyError> {
        match json_top_level(body, TIMESTAMP_FIELD) {
            Some(JsonValue::Int(ms)) => Ok(Some(ms.div_euclid(1000))),
            Some(JsonValue::Str(_) | JsonValue::Other) => Err(VerifyError::new(
                ErrorKind::MalformedBody,
                "`webhookTimestamp` is not an integer of milliseconds",
            )),
            None => Err(VerifyError::new(
                ErrorKind::MalformedBody,
                "the JSON body has no top-level `webhookTimestamp`",
            )),
        }
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        _parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(req.body);
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        _timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        vec![
            ("Linear-Signature".into(), hex::encode(signature)),
            ("Linear-Delivery".into(), id.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::{ManualClock, Verifier, sign};

    const SECRET: &str = "lin_wh_0123456789abcdef";
    const NOW: i64 = 1_700_000_000;

    fn body_at(ms: i64) -> Vec<u8> {
        format!(
            r#"{{"action":"create","type":"Issue","data":{{"id":"x"}},"webhookTimestamp":{ms}}}"#
        )
        .into_bytes()
    }

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Linear::new())
            .secret(secret)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    fn signed(body: &[u8]) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: NOW,
            id: Some("6c1f1b9e-2f2a-4d8e-9b8a-6d4a2c1e0f11"),
            url: None,
        };
        sign(&Linear::new(), &SECRET.into(), &input).unwrap()
    }

    #[test]
    fn known_answer_from_python() {
        // Computed independently: hmac.new(b"lin_wh_0123456789abcdef",
        // body_at(1700000000123), hashlib.sha256).hexdigest()
        let body = body_at(1_700_000_000_123);
        let headers = [(
            "Linear-Signature",
            "3818a5d74971dc00f2ab2f532d389c175bfdea11ca53565cb733d55a2ab9f356",
        )];
        let ok = verifier(SECRET).verify(&headers, &body, None).unwrap();
        assert_eq!(
            ok.timestamp().map(time::OffsetDateTime::unix_timestamp),
            Some(NOW),
            "milliseconds truncated to seconds"
        );
        assert_eq!(ok.delivery_id(), None);
    }

    #[test]
    fn round_trip_tamper_and_wrong_secret() {
        let body = body_at(NOW * 1000);
        let headers = signed(&body);
        let ok = verifier(SECRET).verify(&headers, &body, None).unwrap();
        assert_eq!(
            ok.delivery_id(),
            Some("6c1f1b9e-2f2a-4d8e-9b8a-6d4a2c1e0f11")
        );
        let tampered = body_at(NOW * 1000 + 1);
        let err = verifier(SECRET)
            .verify(&headers, &tampered, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("other").verify(&headers, &body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn one_minute_tolerance_from_the_body_timestamp() {
        let v = verifier(SECRET);
        for (ms, kind) in [
            ((NOW - 61) * 1000, Some(ErrorKind::TimestampTooOld)),
            ((NOW - 60) * 1000, None),
            ((NOW + 60) * 1000 + 999, None),
            ((NOW + 61) * 1000, Some(ErrorKind::TimestampTooNew)),
        ] {
            let body = body_at(ms);
            let headers = signed(&body);
            let result = v.verify(&headers, &body, None);
            assert_eq!(result.err().map(|e| e.kind()), kind, "{ms}");
        }
    }

    #[test]
    fn a_body_without_a_usable_timestamp_is_malformed() {
        let v = verifier(SECRET);
        for body in [
            &br#"{"action":"create"}"#[..],
            br#"{"webhookTimestamp":"1700000000000"}"#,
            br#"{"webhookTimestamp":1.7e12}"#,
            br#"{"data":{"webhookTimestamp":1700000000000}}"#,
            b"[1700000000000]",
            b"",
            &[0xff, 0xfe, 0x80],
        ] {
            let err = v.verify(&signed(body), body, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedBody, "{body:?}");
            assert_eq!(err.status(), 400);
        }
    }

    #[test]
    fn malformed_and_missing_signature_header() {
        let v = verifier(SECRET);
        let body = body_at(NOW * 1000);
        for bad in ["", "sha256=ab", "abc", "zz"] {
            let err = v
                .verify(&[("Linear-Signature", bad)], &body, None)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedHeader, "{bad:?}");
            assert_eq!(err.header(), Some("linear-signature"));
        }
        let err = v
            .verify(&[("Linear-Delivery", "x")], &body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("linear-signature"));
    }

    #[test]
    fn header_case_and_non_utf8_bytes_after_the_timestamp() {
        // Fields after `webhookTimestamp` are not read, so they may hold any bytes.
        let mut body = br#"{"webhookTimestamp":1700000000000,"data":""#.to_vec();
        body.extend_from_slice(&[0xff, 0xc3, b'"', b'}']);
        let headers: Vec<_> = signed(&body)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        assert!(verifier(SECRET).verify(&headers, &body, None).is_ok());
    }
}
