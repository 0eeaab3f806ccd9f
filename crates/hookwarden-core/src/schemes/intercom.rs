//! Intercom.

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

static SIGNATURE: HeaderKey = HeaderKey::from_static("x-hub-signature");

/// [Intercom](https://developers.intercom.com/docs/webhooks) webhook notifications.
///
/// | | |
/// |---|---|
/// | headers | `X-Hub-Signature` |
/// | signed content | the body |
/// | signature | `sha1=` + hex HMAC-SHA1 |
/// | secret | the app's *client secret* (Developer Hub, Basic information), its bytes |
/// | timestamp | none in a header: Intercom signs no timestamp (dedup on the signed `id` refuses a replay while the key is retained) |
/// | delivery id | the notification's top-level `id` (`notif_...`) in the signed JSON body (a retry resends the same notification, counting `delivery_attempts`) |
#[derive(Debug, Clone, Copy, Default)]
pub struct Intercom;

impl Intercom {
    /// The Intercom scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Intercom {
    fn name(&self) -> &'static str {
        "intercom"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha1
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        None
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&SIGNATURE)
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
        let Some(eq) = sig.iter().position(|&b| b == b'=') else {
            return Err(VerifyError::malformed(&SIGNATURE, "expected `sha1=<hex>`"));
        };
        if sig.get(..eq) != Some(&b"sha1"[..]) {
            return Err(VerifyError::new(
                ErrorKind::UnsupportedSignatureVersion,
                "only `sha1` signatures are supported",
            )
            .with_header(&SIGNATURE));
        }
        let tag = sig
            .get(eq + 1..)
            .and_then(Tag::from_hex)
            .ok_or_else(|| VerifyError::malformed(&SIGNATURE, "signature is not valid hex"))?;
        parsed.add_signature(tag, &SIGNATURE)
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

    fn delivery_id<'r>(&self, req: &Request<'r>, _parsed: &Parsed<'r>) -> IdSource<'r> {
        IdSource::BodyField(req.body, "id")
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        _timestamp: &str,
        _id: &str,
    ) -> Vec<(String, String)> {
        vec![(
            "X-Hub-Signature".into(),
            format!("sha1={}", hex::encode(signature)),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const SECRET: &str = "intercom_client_secret";
    const BODY: &[u8] = br#"{"type":"notification_event","app_id":"abc123","data":{"type":"notification_event_data","item":{"type":"ping","id":"inner"}},"id":"notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3","topic":"ping","delivery_attempts":1}"#;

    fn signed(body: &[u8], secret: &str) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: 1_700_000_000,
            id: None,
            url: None,
        };
        sign(&Intercom, &secret.into(), &input).unwrap()
    }

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Intercom)
            .secret(secret)
            .clock(ManualClock::new(1_700_000_000))
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_uses_the_notification_id() {
        let headers = signed(BODY, SECRET);
        let ok = verifier(SECRET).verify(&headers, BODY, None).unwrap();
        assert_eq!(ok.scheme(), "intercom");
        assert_eq!(ok.timestamp(), None);
        assert_eq!(
            ok.delivery_id(),
            Some("notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3")
        );
        assert_eq!(ok.matched_signature().map(<[u8]>::len), Some(20));
    }

    #[test]
    fn known_answer_computed_with_python_hmac() {
        // python3 -c "import hmac,hashlib; print(hmac.new(b'intercom_client_secret',
        //   b'{\"type\":\"notification_event\",\"id\":\"notif_1\"}', hashlib.sha1).hexdigest())"
        let body = br#"{"type":"notification_event","id":"notif_1"}"#;
        let headers = [(
            "X-Hub-Signature",
            "sha1=3faebb0034e47694de045ab8bc314399711ff673",
        )];
        let ok = verifier(SECRET).verify(&headers, body, None).unwrap();
        assert_eq!(ok.delivery_id(), Some("notif_1"));
        assert_eq!(signed(body, SECRET)[0].1, headers[0].1);
    }

    #[test]
    fn tampered_body_and_wrong_secret_mismatch() {
        let headers = signed(BODY, SECRET);
        let mut tampered = BODY.to_vec();
        if let Some(b) = tampered.last_mut() {
            *b = b' ';
        }
        let err = verifier(SECRET)
            .verify(&headers, &tampered, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("other_secret")
            .verify(&headers, BODY, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn malformed_and_missing_header() {
        let v = verifier(SECRET);
        let cases = [
            ("abcdef", ErrorKind::MalformedHeader),
            ("sha1=", ErrorKind::MalformedHeader),
            ("sha1=not-hex", ErrorKind::MalformedHeader),
            ("sha1=abc", ErrorKind::MalformedHeader),
            ("sha256=abcd", ErrorKind::UnsupportedSignatureVersion),
        ];
        for (value, kind) in cases {
            let err = v
                .verify(&[("X-Hub-Signature", value)], BODY, None)
                .unwrap_err();
            assert_eq!(err.kind(), kind, "{value}");
            assert_eq!(err.header(), Some("x-hub-signature"), "{value}");
        }
        // GitHub's SHA-256 header is not Intercom's.
        let err = v
            .verify(&[("X-Hub-Signature-256", "sha256=abcd")], BODY, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("x-hub-signature"));
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_body() {
        let body = [0xff, 0xfe, b'{', 0x80];
        let headers = signed(&body, SECRET);
        let v = verifier(SECRET);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            let ok = v.verify(&h, &body, None).unwrap();
            assert_eq!(ok.delivery_id(), None);
        }
    }
}
