//! Square.

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

static SIGNATURE: HeaderKey = HeaderKey::from_static("x-square-hmacsha256-signature");

/// [Square](https://developer.squareup.com/docs/webhooks/step3validate).
///
/// | | |
/// |---|---|
/// | headers | `x-square-hmacsha256-signature` |
/// | signed content | `{notification URL}{body}`, no separator |
/// | signature | base64 HMAC-SHA256 (the legacy `x-square-signature` HMAC-SHA1 is not supported) |
/// | secret | the subscription's *signature key*, its bytes |
/// | timestamp | none: Square signs no timestamp (dedup on the signed `event_id` refuses a replay while the key is retained) |
/// | delivery id | the top-level `event_id` in the signed JSON body |
///
/// The URL passed to [`Verifier::verify`](crate::Verifier::verify) must be the
/// notification URL exactly as configured in the subscription (scheme, host, path,
/// query, trailing slash): it is signed byte for byte, not normalised.
#[derive(Debug, Clone, Copy, Default)]
pub struct Square;

impl Square {
    /// The Square scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Square {
    fn name(&self) -> &'static str {
        "square"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        None
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&SIGNATURE)
    }

    fn signs_url(&self) -> bool {
        true
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let raw = headers
            .first(&SIGNATURE)
            .ok_or_else(|| VerifyError::missing(&SIGNATURE))?;
        let tag = Tag::from_base64(raw.trim_ascii())
            .ok_or_else(|| VerifyError::malformed(&SIGNATURE, "signature is not valid base64"))?;
        parsed.add_signature(tag, &SIGNATURE)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        _parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(req.url.unwrap_or_default().as_bytes());
        sink(req.body);
    }

    fn delivery_id<'r>(&self, req: &Request<'r>, _parsed: &Parsed<'r>) -> IdSource<'r> {
        IdSource::BodyField(req.body, "event_id")
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        _timestamp: &str,
        _id: &str,
    ) -> Vec<(String, String)> {
        use base64::Engine as _;
        vec![(
            "x-square-hmacsha256-signature".into(),
            base64::engine::general_purpose::STANDARD.encode(signature),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    // From Square's own SDK tests: square/square-python-sdk,
    // tests/utilities/test_webhooks_helper.py.
    const KEY: &str = "Ibxx_5AKakO-3qeNVR61Dw";
    const URL: &str = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
    const SIG: &str = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";
    const BODY: &str = r#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#;

    fn verifier(key: &str) -> Verifier {
        Verifier::builder(Square::new())
            .secret(key)
            .clock(ManualClock::new(0))
            .build()
            .unwrap()
    }

    const HEADERS: [(&str, &str); 1] = [("x-square-hmacsha256-signature", SIG)];

    #[test]
    fn square_sdk_vector_and_its_negative_cases() {
        let ok = verifier(KEY)
            .verify(&HEADERS, BODY.as_bytes(), Some(URL))
            .unwrap();
        assert_eq!(ok.scheme(), "square");
        assert_eq!(
            ok.delivery_id(),
            Some("ac3ac95b-f97d-458c-a6e6-18981597e05f")
        );
        // The SDK's url_mismatch, invalid_signature_key and body_mismatch cases.
        let other_url = "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9";
        let other_body = BODY.replace("2022-07-13", "2022-06-13");
        for (key, url, body) in [
            (KEY, other_url, BODY),
            ("MCmhFRxGX82xMwg5FsaoQA", URL, BODY),
            (KEY, URL, other_body.as_str()),
        ] {
            let err = verifier(key)
                .verify(&HEADERS, body.as_bytes(), Some(url))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        }
        // ...and its invalid_signature_header case (a well-formed SHA-1-sized value).
        let headers = [(
            "x-square-hmacsha256-signature",
            "1z2n3DEJJiUPKcPzQo1ftvbxGdw=",
        )];
        let err = verifier(KEY)
            .verify(&headers, BODY.as_bytes(), Some(URL))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn sign_reproduces_the_sdk_vector() {
        let input = SignInput {
            body: BODY.as_bytes(),
            timestamp: 0,
            id: None,
            url: Some(URL),
        };
        let headers = sign(&Square::new(), &KEY.into(), &input).unwrap();
        assert_eq!(headers[0].1, SIG);
    }

    #[test]
    fn the_url_is_required_and_signing_needs_one() {
        let err = verifier(KEY)
            .verify(&HEADERS, BODY.as_bytes(), None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UrlRequired);
        let input = SignInput {
            body: b"{}",
            timestamp: 0,
            id: None,
            url: None,
        };
        assert_eq!(
            sign(&Square::new(), &KEY.into(), &input)
                .unwrap_err()
                .message(),
            "scheme square signs the URL: give one"
        );
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn malformed_and_missing_header() {
        let v = verifier(KEY);
        for bad in ["", "%%%", "sha256=GF4YkrJg"] {
            let err = v
                .verify(
                    &[("x-square-hmacsha256-signature", bad)],
                    BODY.as_bytes(),
                    Some(URL),
                )
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedHeader, "{bad:?}");
            assert_eq!(err.header(), Some("x-square-hmacsha256-signature"));
        }
        // The legacy SHA-1 header alone is not accepted.
        let err = v
            .verify(&[("x-square-signature", SIG)], BODY.as_bytes(), Some(URL))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("x-square-hmacsha256-signature"));
    }

    #[test]
    fn header_case_and_non_utf8_body() {
        let headers = [("X-SQUARE-HMACSHA256-SIGNATURE", SIG)];
        assert!(
            verifier(KEY)
                .verify(&headers, BODY.as_bytes(), Some(URL))
                .is_ok()
        );
        let body = [0xff, 0x00, 0xfe];
        let input = SignInput {
            body: &body,
            timestamp: 0,
            id: None,
            url: Some(URL),
        };
        let headers = sign(&Square::new(), &KEY.into(), &input).unwrap();
        let ok = verifier(KEY).verify(&headers, &body, Some(URL)).unwrap();
        assert_eq!(ok.delivery_id(), None);
    }
}
