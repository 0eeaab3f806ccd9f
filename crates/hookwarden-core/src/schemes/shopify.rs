//! Shopify.

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

use super::SignatureEncoding;

static SIGNATURE: HeaderKey = HeaderKey::from_static("x-shopify-hmac-sha256");
static EVENT_ID: HeaderKey = HeaderKey::from_static("x-shopify-event-id");
static WEBHOOK_ID: HeaderKey = HeaderKey::from_static("x-shopify-webhook-id");

/// [Shopify](https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook)
/// webhooks over HTTPS.
///
/// | | |
/// |---|---|
/// | headers | `X-Shopify-Hmac-Sha256` (signature), `X-Shopify-Event-Id` / `X-Shopify-Webhook-Id` (id, not signed) |
/// | signed content | the body |
/// | signature | base64 HMAC-SHA256 |
/// | secret | the app's client secret (API secret key), its bytes |
/// | timestamp | none: Shopify signs no timestamp, nor its id headers: the default dedup key is the signature's digest, which a replay with another id does not change |
/// | delivery id | `X-Shopify-Event-Id` (the same for every retry of an event), else `X-Shopify-Webhook-Id` |
#[derive(Debug, Clone, Copy, Default)]
pub struct Shopify;

impl Shopify {
    /// The Shopify scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Shopify {
    fn name(&self) -> &'static str {
        "shopify"
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

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        super::fields::one_signature(headers, &SIGNATURE, b"", SignatureEncoding::Base64, parsed)?;
        parsed.id = headers
            .first(&EVENT_ID)
            .or_else(|| headers.first(&WEBHOOK_ID));
        Ok(())
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
        use base64::Engine as _;
        vec![
            (
                "X-Shopify-Hmac-Sha256".into(),
                base64::engine::general_purpose::STANDARD.encode(signature),
            ),
            ("X-Shopify-Event-Id".into(), id.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const SECRET: &str = "hush";
    const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Shopify::new())
            .secret(secret)
            .clock(ManualClock::new(0))
            .build()
            .unwrap()
    }

    fn signed(body: &[u8]) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: 0,
            id: Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
            url: None,
        };
        sign(&Shopify::new(), &SECRET.into(), &input).unwrap()
    }

    #[test]
    fn known_answer_from_python() {
        // Computed independently:
        // base64.b64encode(hmac.new(b"hush", BODY, hashlib.sha256).digest())
        let headers = [(
            "X-Shopify-Hmac-Sha256",
            "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=",
        )];
        assert!(verifier(SECRET).verify(&headers, BODY, None).is_ok());
        assert_eq!(signed(BODY)[0].1, headers[0].1);
    }

    #[test]
    fn round_trip_tamper_and_wrong_secret() {
        let headers = signed(BODY);
        let ok = verifier(SECRET).verify(&headers, BODY, None).unwrap();
        assert_eq!(
            ok.delivery_id(),
            Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        );
        assert_eq!(ok.timestamp(), None);
        let err = verifier(SECRET)
            .verify(&headers, &BODY[1..], None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("hash").verify(&headers, BODY, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn event_id_is_preferred_then_webhook_id() {
        let sig = signed(BODY).remove(0);
        let both = vec![
            sig.clone(),
            ("X-Shopify-Webhook-Id".into(), "wh-1".into()),
            ("X-Shopify-Event-Id".into(), "ev-1".into()),
        ];
        let v = verifier(SECRET);
        assert_eq!(
            v.verify(&both, BODY, None).unwrap().delivery_id(),
            Some("ev-1")
        );
        let only_webhook = vec![sig.clone(), ("x-shopify-webhook-id".into(), "wh-1".into())];
        assert_eq!(
            v.verify(&only_webhook, BODY, None).unwrap().delivery_id(),
            Some("wh-1")
        );
        assert_eq!(
            v.verify(&vec![sig], BODY, None).unwrap().delivery_id(),
            None
        );
    }

    #[test]
    fn malformed_and_missing_signature() {
        let v = verifier(SECRET);
        for bad in ["", "not base64!", "sha256=abc", "YFxu4AG4jS0g DU4GNg=="] {
            let err = v
                .verify(&[("X-Shopify-Hmac-Sha256", bad)], BODY, None)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedHeader, "{bad:?}");
            assert_eq!(err.header(), Some("x-shopify-hmac-sha256"));
        }
        let err = v
            .verify(&[("X-Shopify-Event-Id", "1")], BODY, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("x-shopify-hmac-sha256"));
    }

    #[test]
    fn header_case_and_non_utf8_body() {
        let body = [0x80, 0xff, b'{', 0x00];
        let headers: Vec<_> = signed(&body)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        assert!(verifier(SECRET).verify(&headers, &body, None).is_ok());
    }
}
