//! Slack.

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::unix_seconds;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

const SIGNATURE_NAME: &str = "x-slack-signature";
const TIMESTAMP_NAME: &str = "x-slack-request-timestamp";

static SIGNATURE: HeaderKey = HeaderKey::from_static(SIGNATURE_NAME);
static TIMESTAMP: HeaderKey = HeaderKey::from_static(TIMESTAMP_NAME);
static REQUIRED: [HeaderKey; 2] = [
    HeaderKey::from_static(SIGNATURE_NAME),
    HeaderKey::from_static(TIMESTAMP_NAME),
];

/// [Slack](https://api.slack.com/authentication/verifying-requests-from-slack): Events
/// API, slash commands, interactivity.
///
/// | | |
/// |---|---|
/// | headers | `X-Slack-Signature: v0=<hex>`, `X-Slack-Request-Timestamp: <unix>` |
/// | signed content | `v0:{timestamp}:{body}` |
/// | signature | `v0=` + hex HMAC-SHA256; another version (`v1=...`) is refused as unsupported |
/// | secret | the app's *Signing Secret* as shown by Slack, its bytes |
/// | timestamp | `X-Slack-Request-Timestamp`, unix seconds |
/// | default tolerance | 5 minutes each way (Slack: "more than five minutes from local time") |
/// | delivery id | the top-level `event_id` of a JSON body (Events API); none for form bodies (slash commands, interactivity) |
///
/// Slack's `url_verification` challenge is signed like any other request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slack;

impl Slack {
    /// The Slack scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Slack {
    fn name(&self) -> &'static str {
        "slack"
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
            .ok_or_else(|| VerifyError::missing(&SIGNATURE))?
            .trim_ascii();
        let ts_raw = headers
            .first(&TIMESTAMP)
            .ok_or_else(|| VerifyError::missing(&TIMESTAMP))?
            .trim_ascii();
        let timestamp = unix_seconds(ts_raw)
            .ok_or_else(|| VerifyError::malformed(&TIMESTAMP, "not a unix timestamp in seconds"))?;
        let hex = match sig.strip_prefix(b"v0=") {
            Some(hex) => hex,
            None if sig.contains(&b'=') => {
                return Err(VerifyError::new(
                    ErrorKind::UnsupportedSignatureVersion,
                    "only `v0` signatures are supported",
                )
                .with_header(&SIGNATURE));
            }
            None => return Err(VerifyError::malformed(&SIGNATURE, "expected `v0=<hex>`")),
        };
        let tag = Tag::from_hex(hex)
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
        vec![
            ("X-Slack-Request-Timestamp".into(), timestamp.to_owned()),
            (
                "X-Slack-Signature".into(),
                format!("v0={}", hex::encode(signature)),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::test_headers::with;
    use crate::{ManualClock, Verifier, sign};

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"token":"x","event_id":"Ev08MFMKH6","type":"event_callback"}"#;

    fn verifier(now: i64) -> Verifier {
        Verifier::builder(Slack::new())
            .secret(SECRET)
            .clock(ManualClock::new(now))
            .build()
            .unwrap()
    }

    fn signed(body: &[u8], ts: i64) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: None,
            url: None,
        };
        sign(&Slack::new(), &SECRET.into(), &input).unwrap()
    }

    #[test]
    fn slack_docs_example_verifies() {
        // Slack docs, "Verifying requests from Slack" (also in
        // tests/data/published.json).
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let headers = [
            ("X-Slack-Request-Timestamp", "1531420618"),
            (
                "X-Slack-Signature",
                "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            ),
        ];
        let ok = verifier(1_531_420_618)
            .verify(&headers, body, None)
            .unwrap();
        assert_eq!(ok.scheme(), "slack");
        assert_eq!(ok.delivery_id(), None, "form bodies carry no event id");
        // The same request replayed ten minutes later.
        let err = verifier(1_531_420_618 + 600)
            .verify(&headers, body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
    }

    #[test]
    fn round_trip_reads_event_id_and_rejects_tampering() {
        let headers = signed(BODY, NOW);
        let ok = verifier(NOW).verify(&headers, BODY, None).unwrap();
        assert_eq!(ok.delivery_id(), Some("Ev08MFMKH6"));
        assert_eq!(
            ok.timestamp().map(time::OffsetDateTime::unix_timestamp),
            Some(NOW)
        );

        let mut tampered = BODY.to_vec();
        tampered[3] ^= 1;
        let err = verifier(NOW).verify(&headers, &tampered, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);

        let wrong = Verifier::builder(Slack::new())
            .secret("another secret")
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap();
        let err = wrong.verify(&headers, BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn the_timestamp_is_signed() {
        let headers = signed(BODY, NOW);
        let moved = with(
            &headers,
            "X-Slack-Request-Timestamp",
            &(NOW + 1).to_string(),
        );
        let err = verifier(NOW).verify(&moved, BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let v = verifier(NOW);
        let old = NOW - 301;
        let err = v.verify(&signed(BODY, old), BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
        let ahead = NOW + 301;
        let err = v.verify(&signed(BODY, ahead), BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew);
        assert!(v.verify(&signed(BODY, NOW - 300), BODY, None).is_ok());
    }

    #[test]
    fn malformed_and_missing_headers_name_the_header() {
        let v = verifier(NOW);
        let headers = signed(BODY, NOW);
        let cases = [
            (SIGNATURE_NAME, "a2114d57", ErrorKind::MalformedHeader),
            (SIGNATURE_NAME, "v0=zz", ErrorKind::MalformedHeader),
            (SIGNATURE_NAME, "v0=", ErrorKind::MalformedHeader),
            (
                SIGNATURE_NAME,
                "v1=a2114d57",
                ErrorKind::UnsupportedSignatureVersion,
            ),
            (TIMESTAMP_NAME, "yesterday", ErrorKind::MalformedHeader),
            (TIMESTAMP_NAME, "-5", ErrorKind::MalformedHeader),
            (TIMESTAMP_NAME, "", ErrorKind::MalformedHeader),
        ];
        for (name, value, kind) in cases {
            let err = v
                .verify(&with(&headers, name, value), BODY, None)
                .unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {value}");
            assert_eq!(err.header(), Some(name));
        }
        for name in [SIGNATURE_NAME, TIMESTAMP_NAME] {
            let without: Vec<_> = headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
                .cloned()
                .collect();
            let err = v.verify(&without, BODY, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MissingHeader);
            assert_eq!(err.header(), Some(name));
        }
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_bodies() {
        let body = [0xff, 0xfe, 0x00, b'{', 0xc3];
        let headers: Vec<_> = signed(&body, NOW)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        let ok = verifier(NOW).verify(&headers, &body, None).unwrap();
        assert_eq!(ok.delivery_id(), None);
    }
}
