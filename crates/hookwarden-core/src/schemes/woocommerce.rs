//! WooCommerce.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

use super::SignatureEncoding;

static SIGNATURE: HeaderKey = HeaderKey::from_static("x-wc-webhook-signature");
static DELIVERY: HeaderKey = HeaderKey::from_static("x-wc-webhook-delivery-id");

/// [WooCommerce](https://developer.woocommerce.com/docs/apis/rest-api/v2/webhooks/)
/// webhooks, as `WC_Webhook::deliver` and `generate_signature` send them
/// (`includes/class-wc-webhook.php`).
///
/// | | |
/// |---|---|
/// | headers | `X-WC-Webhook-Signature` (signature), `X-WC-Webhook-Delivery-ID` (id, not signed) |
/// | signed content | the body |
/// | signature | standard base64 (with padding) of the HMAC-SHA256 |
/// | secret | the webhook's *Secret*, its bytes (WooCommerce decodes HTML entities such as `&amp;` in it first: configure the decoded form) |
/// | timestamp | none: WooCommerce signs no timestamp, nor `X-WC-Webhook-Delivery-ID`: the default dedup key is the signature's digest, which a replay with another id does not change |
/// | delivery id | `X-WC-Webhook-Delivery-ID`, a hash WooCommerce makes for each delivery |
///
/// The ping WooCommerce sends when a webhook is saved (body `webhook_id=<n>`) carries no
/// signature and is refused with `MissingHeader`; answer it before verifying if you want
/// WooCommerce to record it as delivered. A site can change the hash with the
/// `woocommerce_webhook_hash_algorithm` filter; only the default SHA-256 is supported.
#[derive(Debug, Clone, Copy, Default)]
pub struct WooCommerce;

impl WooCommerce {
    /// The WooCommerce scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for WooCommerce {
    fn name(&self) -> &'static str {
        "woocommerce"
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
        parsed.id = headers.first(&DELIVERY).filter(|id| !id.is_empty());
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
        vec![
            ("X-WC-Webhook-Signature".into(), B64.encode(signature)),
            ("X-WC-Webhook-Delivery-ID".into(), id.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const SECRET: &str = "wc_webhook_secret";

    fn signed(body: &[u8], secret: &str) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: 1_700_000_000,
            id: Some("9a5fd1f1d6b8c0e8b2b1c36c9f0d7a43"),
            url: None,
        };
        sign(&WooCommerce, &secret.into(), &input).unwrap()
    }

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(WooCommerce)
            .secret(secret)
            .clock(ManualClock::new(1_700_000_000))
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_uses_the_delivery_id() {
        let body = br#"{"id":42,"status":"processing"}"#;
        let headers = signed(body, SECRET);
        let ok = verifier(SECRET).verify(&headers, body, None).unwrap();
        assert_eq!(ok.scheme(), "woocommerce");
        assert_eq!(ok.timestamp(), None);
        assert_eq!(ok.delivery_id(), Some("9a5fd1f1d6b8c0e8b2b1c36c9f0d7a43"));
        let no_id = [("X-WC-Webhook-Signature", headers[0].1.as_str())];
        let ok = verifier(SECRET).verify(&no_id, body, None).unwrap();
        assert_eq!(ok.delivery_id(), None);
        assert_eq!(ok.matched_signature().map(<[u8]>::len), Some(32));
    }

    #[test]
    fn known_answer_computed_with_python_hmac() {
        // python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
        //   b'wc_webhook_secret', b'{\"id\":42}', hashlib.sha256).digest()).decode())"
        let body = br#"{"id":42}"#;
        let headers = [(
            "X-WC-Webhook-Signature",
            "50B/RxKZ9wJz/LmqshffRIgwDrZE+wyYoMlXN9KwZw0=",
        )];
        verifier(SECRET).verify(&headers, body, None).unwrap();
        assert_eq!(signed(body, SECRET)[0].1, headers[0].1);
    }

    #[test]
    fn tampered_body_and_wrong_secret_mismatch() {
        let body = br#"{"id":42,"total":"10.00"}"#;
        let headers = signed(body, SECRET);
        let err = verifier(SECRET)
            .verify(&headers, br#"{"id":42,"total":"11.00"}"#, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier("other").verify(&headers, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn malformed_and_missing_header() {
        let v = verifier(SECRET);
        for value in ["", "not base64!", "AAE", &"QUFB".repeat(30)] {
            let err = v
                .verify(&[("X-WC-Webhook-Signature", value)], b"{}", None)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedHeader, "{value:?}");
            assert_eq!(err.header(), Some("x-wc-webhook-signature"));
        }
        // The unsigned ping sent when a webhook is saved.
        let err = v
            .verify(&[("X-WC-Webhook-Delivery-ID", "x")], b"webhook_id=7", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("x-wc-webhook-signature"));
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_body() {
        let body = [0xc3, 0x28, 0xff, 0x00];
        let headers = signed(&body, SECRET);
        let v = verifier(SECRET);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            v.verify(&h, &body, None).unwrap();
        }
    }
}
