//! Paddle Billing.

use time::Duration;

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

static SIGNATURE: HeaderKey = HeaderKey::from_static("paddle-signature");

/// [Paddle Billing](https://developer.paddle.com/webhooks/signature-verification)
/// (not Paddle Classic, which signed with RSA).
///
/// | | |
/// |---|---|
/// | headers | `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>...]` |
/// | signed content | `{ts}:{body}` |
/// | signature | hex HMAC-SHA256 in each `h1` (several during a secret rotation); unknown fields are ignored |
/// | secret | the notification destination's whole secret key (`pdl_ntfset_...`), prefix included, as bytes |
/// | timestamp | `ts`, unix seconds |
/// | default tolerance | 5 seconds in the past, 5 minutes in the future |
/// | delivery id | the event's `event_id` (`evt_...`) in the signed JSON body |
///
/// The 5 seconds in the past are what Paddle's official Node.js SDK enforces
/// (`WebhooksValidator.MAX_VALID_TIME_DIFFERENCE = 5`, in
/// `src/notifications/helpers/webhooks-validator.ts` of `PaddleHQ/paddle-node-sdk`),
/// which has no bound in the future; here a timestamp ahead of the receiver's clock is
/// allowed the usual five minutes of clock skew, not 5 seconds (a receiver whose
/// clock ran 6 s behind Paddle's refused every delivery). The past bound is tight: a receiver whose clock drifts, or that sees deliveries queued behind a
/// slow proxy, should widen it with
/// [`VerifierBuilder::tolerance_past`](crate::VerifierBuilder::tolerance_past); dedup on
/// `event_id` still stops replays within the window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paddle;

impl Paddle {
    /// The Paddle Billing scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Paddle {
    fn name(&self) -> &'static str {
        "paddle"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::new(Duration::seconds(5), Duration::minutes(5)))
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&SIGNATURE)
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        super::fields::timestamp_and_signatures(headers, &SIGNATURE, b';', b"ts", b"h1", parsed)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(parsed.timestamp_raw);
        sink(b":");
        sink(req.body);
    }

    fn delivery_id<'r>(&self, req: &Request<'r>, _parsed: &Parsed<'r>) -> IdSource<'r> {
        IdSource::BodyField(req.body, "event_id")
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        timestamp: &str,
        _id: &str,
    ) -> Vec<(String, String)> {
        vec![(
            "Paddle-Signature".into(),
            format!("ts={timestamp};h1={}", hex::encode(signature)),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::{ManualClock, Verifier, sign};

    // The shape of a Paddle destination secret, from Paddle's docs (not a real one).
    const SECRET: &str = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI";
    const NOW: i64 = 1_671_552_777;
    const BODY: &[u8] = br#"{"event_id":"evt_01h8bzakzx3hm2fmen703n5q45","event_type":"transaction.paid","data":{}}"#;

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Paddle::new())
            .secret(secret)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    fn header(value: &str) -> [(&'static str, String); 1] {
        [("Paddle-Signature", value.to_owned())]
    }

    fn signed(body: &[u8], ts: i64) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: None,
            url: None,
        };
        sign(&Paddle::new(), &SECRET.into(), &input).unwrap()
    }

    #[test]
    fn known_answer_from_python() {
        // Computed independently: hmac.new(SECRET.encode(), b"1671552777:" + BODY,
        // hashlib.sha256).hexdigest(). The prefix `pdl_ntfset_` is part of the key.
        let h1 = "95ce7d17272d245252339acbd78c94b1d412653015d1aabf36eef24dda6fb96a";
        let headers = header(&format!("ts={NOW};h1={h1}"));
        let ok = verifier(SECRET).verify(&headers, BODY, None).unwrap();
        assert_eq!(ok.delivery_id(), Some("evt_01h8bzakzx3hm2fmen703n5q45"));
        let stripped = SECRET.trim_start_matches("pdl_ntfset_");
        let err = verifier(stripped).verify(&headers, BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn round_trip_tamper_wrong_secret_and_signed_timestamp() {
        let headers = signed(BODY, NOW);
        assert!(verifier(SECRET).verify(&headers, BODY, None).is_ok());
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        let err = verifier(SECRET)
            .verify(&headers, &tampered, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("pdl_ntfset_other")
            .verify(&headers, BODY, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let moved = headers[0]
            .1
            .replace(&NOW.to_string(), &(NOW - 1).to_string());
        let err = verifier(SECRET)
            .verify(&header(&moved), BODY, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn several_h1_signatures_any_may_match() {
        let good = signed(BODY, NOW).remove(0).1;
        let h1 = good.split("h1=").nth(1).unwrap();
        let value = format!("ts={NOW};h1={};h1={h1};x9=whatever", "ab".repeat(32));
        assert!(verifier(SECRET).verify(&header(&value), BODY, None).is_ok());
        let value = format!("ts={NOW};h1={};h1=zz", "ab".repeat(32));
        let err = verifier(SECRET)
            .verify(&header(&value), BODY, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn tolerance_is_five_seconds_past_five_minutes_ahead() {
        let v = verifier(SECRET);
        assert!(v.verify(&signed(BODY, NOW - 5), BODY, None).is_ok());
        // A receiver whose clock runs behind Paddle's.
        assert!(v.verify(&signed(BODY, NOW + 6), BODY, None).is_ok());
        assert!(v.verify(&signed(BODY, NOW + 300), BODY, None).is_ok());
        let err = v.verify(&signed(BODY, NOW - 6), BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
        let err = v.verify(&signed(BODY, NOW + 301), BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew);
    }

    #[test]
    fn malformed_and_missing_header() {
        let v = verifier(SECRET);
        let hex = "ab".repeat(32);
        let cases = [
            (format!("h1={hex}"), ErrorKind::MalformedHeader),
            (format!("ts=soon;h1={hex}"), ErrorKind::MalformedHeader),
            (format!("ts=-1;h1={hex}"), ErrorKind::MalformedHeader),
            (format!("ts={NOW};h1=xyz"), ErrorKind::MalformedHeader),
            (format!("ts={NOW};h1="), ErrorKind::MalformedHeader),
            (
                format!("ts={NOW};h2={hex}"),
                ErrorKind::UnsupportedSignatureVersion,
            ),
            (String::new(), ErrorKind::MalformedHeader),
            (
                format!("ts={NOW}{}", format!(";h1={hex}").repeat(9)),
                ErrorKind::MalformedHeader,
            ),
        ];
        for (value, kind) in cases {
            let err = v.verify(&header(&value), BODY, None).unwrap_err();
            assert_eq!(err.kind(), kind, "{value}");
            assert_eq!(err.header(), Some("paddle-signature"));
        }
        let err = v.verify(&[("x-other", "1")], BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("paddle-signature"));
    }

    #[test]
    fn header_case_and_non_utf8_body() {
        let body = [0xff, 0xfe, b':', 0x00];
        let headers: Vec<_> = signed(&body, NOW)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        let ok = verifier(SECRET).verify(&headers, &body, None).unwrap();
        assert_eq!(ok.delivery_id(), None);
    }
}
