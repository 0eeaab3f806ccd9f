//! Stripe.

use std::borrow::Cow;

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::{json_top_level_str, pairs, unix_seconds};
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
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
/// | default tolerance | 5 minutes (Stripe's libraries' default) each way |
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

    fn parse<'r>(&self, headers: &'r dyn Headers) -> Result<Parsed<'r>, VerifyError> {
        let raw = headers
            .first(&SIGNATURE)
            .ok_or_else(|| VerifyError::missing(&SIGNATURE))?;
        let mut parsed = Parsed::default();
        let mut v1_seen = false;
        for (k, v) in pairs(raw, b',') {
            match k {
                b"t" => {
                    parsed.timestamp_raw = v;
                    parsed.timestamp = Some(unix_seconds(v).ok_or_else(|| {
                        VerifyError::malformed(&SIGNATURE, "`t` is not a unix timestamp")
                    })?);
                }
                b"v1" => {
                    v1_seen = true;
                    if let Some(tag) = Tag::from_hex(v) {
                        parsed.add_signature(tag, &SIGNATURE)?;
                    }
                }
                _ => {}
            }
        }
        if parsed.timestamp.is_none() {
            return Err(VerifyError::malformed(&SIGNATURE, "no `t=` timestamp"));
        }
        if parsed.signatures.is_empty() {
            return Err(if v1_seen {
                VerifyError::malformed(&SIGNATURE, "`v1` signature is not valid hex")
            } else {
                VerifyError::new(ErrorKind::UnsupportedSignatureVersion, "no `v1` signature")
                    .with_header(&SIGNATURE)
            });
        }
        Ok(parsed)
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

    fn delivery_id<'r>(&self, req: &Request<'r>, _parsed: &Parsed<'r>) -> Option<Cow<'r, str>> {
        json_top_level_str(req.body, "id")
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
