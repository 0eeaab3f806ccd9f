//! Stripe.

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

static SIGNATURE: HeaderKey = HeaderKey::from_static("stripe-signature");

/// [Stripe](https://docs.stripe.com/webhooks#verify-manually).
///
/// | | |
/// |---|---|
/// | headers | `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]` |
/// | signed content | `{t}.{body}` |
/// | signature | hex HMAC-SHA256 in each `v1`; `v0` (test mode legacy) and unknown schemes are ignored |
/// | secret | the whole `whsec_...` string, prefix included, as bytes |
/// | timestamp | `t`, unix seconds |
/// | default tolerance | 5 minutes each way: Stripe's libraries refuse a timestamp over 5 minutes old; a future bound is hookwarden's (they check none) |
/// | delivery id | the event's `id` (`evt_...`) in the signed JSON body |
#[derive(Debug, Clone, Copy, Default)]
pub struct Stripe;

impl Stripe {
    /// The Stripe scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::FIVE_MINUTES)
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&SIGNATURE)
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        super::fields::timestamp_and_signatures(headers, &SIGNATURE, b',', b"t", b"v1", parsed)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(parsed.timestamp_raw);
        sink(b".");
        sink(req.body);
    }

    fn delivery_id<'r>(&self, req: &Request<'r>, _parsed: &Parsed<'r>) -> IdSource<'r> {
        IdSource::BodyField(req.body, "id")
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        timestamp: &str,
        _id: &str,
    ) -> Vec<(String, String)> {
        vec![(
            "Stripe-Signature".into(),
            format!("t={timestamp},v1={}", hex::encode(signature)),
        )]
    }
}
