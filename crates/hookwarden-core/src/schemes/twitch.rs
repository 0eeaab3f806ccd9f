//! Twitch EventSub (webhook transport).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

const SIGNATURE: HeaderKey = HeaderKey::from_static("twitch-eventsub-message-signature");
const MESSAGE_ID: HeaderKey = HeaderKey::from_static("twitch-eventsub-message-id");
const TIMESTAMP: HeaderKey = HeaderKey::from_static("twitch-eventsub-message-timestamp");
static REQUIRED: [HeaderKey; 3] = [SIGNATURE, MESSAGE_ID, TIMESTAMP];

/// [Twitch EventSub](https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message),
/// webhook transport.
///
/// | | |
/// |---|---|
/// | headers | `Twitch-Eventsub-Message-Signature`, `Twitch-Eventsub-Message-Id`, `Twitch-Eventsub-Message-Timestamp` |
/// | signed content | `{message id}{timestamp}{body}`, concatenated with no separator; the timestamp exactly as sent |
/// | signature | `sha256=` + hex HMAC-SHA256 |
/// | secret | the `secret` given when creating the subscription (10 to 100 ASCII characters), its bytes |
/// | timestamp | `Twitch-Eventsub-Message-Timestamp`, RFC 3339 with fractional seconds (nanoseconds), read down to the second |
/// | default tolerance | 10 minutes each way ([Twitch's replay guidance](https://dev.twitch.tv/docs/eventsub/#guarding-against-replay-attacks)) |
/// | delivery id | `Twitch-Eventsub-Message-Id` (signed; a resent notification keeps it) |
///
/// The `webhook_callback_verification` challenge is answered by the receive pipeline
/// (`Challenge::Twitch`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Twitch;

impl Twitch {
    /// The Twitch EventSub scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

/// Parse an RFC 3339 timestamp into unix seconds, without allocating.
fn rfc3339_seconds(raw: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(raw).ok()?;
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

impl Scheme for Twitch {
    fn name(&self) -> &'static str {
        "twitch"
    }

    // The message id is the first part of the signed content.
    fn signs_id_header(&self) -> bool {
        true
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::symmetric(Duration::minutes(10)))
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
        let id = headers
            .first(&MESSAGE_ID)
            .ok_or_else(|| VerifyError::missing(&MESSAGE_ID))?;
        let ts_raw = headers
            .first(&TIMESTAMP)
            .ok_or_else(|| VerifyError::missing(&TIMESTAMP))?;
        if id.is_empty() {
            return Err(VerifyError::malformed(&MESSAGE_ID, "message id is empty"));
        }
        let timestamp = rfc3339_seconds(ts_raw)
            .ok_or_else(|| VerifyError::malformed(&TIMESTAMP, "not an RFC 3339 timestamp"))?;
        let sig = sig.trim_ascii();
        let Some(eq) = sig.iter().position(|&b| b == b'=') else {
            return Err(VerifyError::malformed(
                &SIGNATURE,
                "expected `sha256=<hex>`",
            ));
        };
        if sig.get(..eq) != Some(&b"sha256"[..]) {
            return Err(VerifyError::new(
                ErrorKind::UnsupportedSignatureVersion,
                "only `sha256` signatures are supported",
            )
            .with_header(&SIGNATURE));
        }
        let tag = sig
            .get(eq + 1..)
            .and_then(Tag::from_hex)
            .ok_or_else(|| VerifyError::malformed(&SIGNATURE, "signature is not valid hex"))?;
        parsed.timestamp = Some(timestamp);
        parsed.timestamp_raw = ts_raw;
        parsed.id = Some(id);
        parsed.add_signature(tag, &SIGNATURE)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(parsed.id.unwrap_or_default());
        sink(parsed.timestamp_raw);
        sink(req.body);
    }

    /// RFC 3339 in UTC (`2023-11-14T22:13:20Z`); decimal seconds for a time RFC 3339
    /// cannot express (outside years 0 to 9999), which verification then refuses.
    fn format_timestamp(&self, unix_seconds: i64) -> String {
        OffsetDateTime::from_unix_timestamp(unix_seconds)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| unix_seconds.to_string())
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        vec![
            ("Twitch-Eventsub-Message-Id".into(), id.to_owned()),
            (
                "Twitch-Eventsub-Message-Timestamp".into(),
                timestamp.to_owned(),
            ),
            (
                "Twitch-Eventsub-Message-Signature".into(),
                format!("sha256={}", hex::encode(signature)),
            ),
            ("Twitch-Eventsub-Message-Type".into(), "notification".into()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::test_headers::{with, without};
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const NOW: i64 = 1_700_000_000;
    const SECRET: &str = "twitch_subscription_secret";
    const MSG_ID: &str = "e76c6bd4-55c9-4987-8304-da1588d8988b";

    fn signed(body: &[u8], ts: i64, secret: &str) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: Some(MSG_ID),
            url: None,
        };
        sign(&Twitch, &secret.into(), &input).unwrap()
    }

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Twitch)
            .secret(secret)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_formats_rfc3339_and_uses_the_message_id() {
        let body = br#"{"subscription":{"type":"channel.follow"},"event":{}}"#;
        let headers = signed(body, NOW, SECRET);
        let ts = headers
            .iter()
            .find(|(k, _)| k == "Twitch-Eventsub-Message-Timestamp")
            .map(|(_, v)| v.as_str());
        assert_eq!(ts, Some("2023-11-14T22:13:20Z"));
        let ok = verifier(SECRET).verify(&headers, body, None).unwrap();
        assert_eq!(ok.scheme(), "twitch");
        assert_eq!(ok.delivery_id(), Some(MSG_ID));
        assert_eq!(ok.timestamp().map(|t| t.unix_timestamp()), Some(NOW));
    }

    #[test]
    fn known_answer_with_nanosecond_timestamp_computed_with_python_hmac() {
        // The timestamp is signed exactly as sent, nanoseconds included. Computed with:
        // python3 -c "import hmac,hashlib; print(hmac.new(b'twitch_subscription_secret',
        //   b'e76c6bd4-55c9-4987-8304-da1588d8988b2023-11-14T22:13:19.123456789Z{\"event\":{}}',
        //   hashlib.sha256).hexdigest())"
        let body = br#"{"event":{}}"#;
        let headers = [
            ("Twitch-Eventsub-Message-Id", MSG_ID),
            (
                "Twitch-Eventsub-Message-Timestamp",
                "2023-11-14T22:13:19.123456789Z",
            ),
            (
                "Twitch-Eventsub-Message-Signature",
                "sha256=3dc3b66ee8f3c05a14d855e920442f00a8f86650a3f2dc47b68e505f1ee4ef2c",
            ),
        ];
        let ok = verifier(SECRET).verify(&headers, body, None).unwrap();
        assert_eq!(ok.timestamp().map(|t| t.unix_timestamp()), Some(NOW - 1));
        // Re-formatting the timestamp (dropping the fraction) breaks the signature.
        let mut trimmed = headers;
        trimmed[1].1 = "2023-11-14T22:13:19Z";
        let err = verifier(SECRET).verify(&trimmed, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn tampered_body_id_and_wrong_secret_mismatch() {
        let body = br#"{"event":{"user_id":"1"}}"#;
        let headers = signed(body, NOW, SECRET);
        let v = verifier(SECRET);
        let err = v
            .verify(&headers, br#"{"event":{"user_id":"2"}}"#, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let other_id = with(&headers, "twitch-eventsub-message-id", "another-id");
        let err = v.verify(&other_id, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("a_different_secret")
            .verify(&headers, body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn malformed_and_missing_headers() {
        let body = b"{}";
        let headers = signed(body, NOW, SECRET);
        let v = verifier(SECRET);
        let sig = "twitch-eventsub-message-signature";
        let id = "twitch-eventsub-message-id";
        let ts = "twitch-eventsub-message-timestamp";
        let cases: [(&str, Option<&str>, ErrorKind); 10] = [
            (sig, None, ErrorKind::MissingHeader),
            (id, None, ErrorKind::MissingHeader),
            (ts, None, ErrorKind::MissingHeader),
            (sig, Some("deadbeef"), ErrorKind::MalformedHeader),
            (sig, Some("sha256=xyz"), ErrorKind::MalformedHeader),
            (
                sig,
                Some("sha512=abcd"),
                ErrorKind::UnsupportedSignatureVersion,
            ),
            (id, Some(""), ErrorKind::MalformedHeader),
            (ts, Some("1700000000"), ErrorKind::MalformedHeader),
            (ts, Some("2023-11-14 22:13:20"), ErrorKind::MalformedHeader),
            (ts, Some("2023-13-14T22:13:20Z"), ErrorKind::MalformedHeader),
        ];
        for (name, value, kind) in cases {
            let h = match value {
                Some(value) => with(&headers, name, value),
                None => without(&headers, name),
            };
            let err = v.verify(&h, body, None).unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {value:?}");
            assert_eq!(err.header(), Some(name), "{name}: {value:?}");
        }
        // No offset, and a value that is not UTF-8.
        let bad = with(&headers, ts, "2023-11-14T22:13:20");
        let mut non_utf8: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect();
        for (k, v) in &mut non_utf8 {
            if k.eq_ignore_ascii_case(ts) {
                *v = vec![0xff, b'2', b'0'];
            }
        }
        for err in [
            v.verify(&bad, body, None).unwrap_err(),
            v.verify(&non_utf8, body, None).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::MalformedHeader);
            assert_eq!(err.header(), Some(ts));
        }
    }

    #[test]
    fn stale_and_future_timestamps_use_ten_minutes() {
        let body = b"{}";
        let v = verifier(SECRET);
        v.verify(&signed(body, NOW - 600, SECRET), body, None)
            .unwrap();
        v.verify(&signed(body, NOW + 600, SECRET), body, None)
            .unwrap();
        let err = v
            .verify(&signed(body, NOW - 601, SECRET), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
        let err = v
            .verify(&signed(body, NOW + 601, SECRET), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew);
        // An offset other than Z is honoured.
        let body = b"x";
        let h = signed(body, NOW, SECRET);
        let shifted = with(
            &h,
            "twitch-eventsub-message-timestamp",
            "2023-11-14T12:13:20-10:00",
        );
        let err = v.verify(&shifted, body, None).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::SignatureMismatch,
            "same instant, other bytes"
        );
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_body() {
        let body = [0x80, 0xff, b'{', 0x00];
        let headers = signed(&body, NOW, SECRET);
        let v = verifier(SECRET);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            v.verify(&h, &body, None).unwrap();
        }
    }

    #[test]
    fn format_timestamp_never_panics() {
        assert_eq!(Twitch.format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(Twitch.format_timestamp(i64::MAX), i64::MAX.to_string());
        assert_eq!(Twitch.format_timestamp(i64::MIN), i64::MIN.to_string());
    }
}
