//! Helpers shared by the fuzz targets: the scheme list, per-scheme secrets, header
//! names, and the Twilio form-body equivalence.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookwarden_core::schemes::{self, GenericHmac, HmacHash, SignatureEncoding};
use hookwarden_core::{Scheme, Secret};
use sha2::{Digest, Sha256};

/// A fixed time for signing and verifying.
pub const NOW: i64 = 1_700_000_000;

/// Every scheme the targets exercise: [`schemes::NAMES`], the Ed25519 Standard
/// Webhooks variant, and three fixed generic configurations.
pub fn scheme_names() -> Vec<&'static str> {
    let mut names = schemes::NAMES.to_vec();
    names.extend(["standard-ed25519", "generic-a", "generic-b", "generic-c"]);
    names
}

/// The scheme called `name` (see [`scheme_names`]).
pub fn scheme(name: &str) -> Option<Arc<dyn Scheme>> {
    let generic = match name {
        // id.timestamp.body, base64 with a prefix, several signatures.
        "generic-a" => GenericHmac::builder()
            .signature_header("X-Acme-Signature")
            .prefix("v1=")
            .encoding(SignatureEncoding::Base64)
            .separator(' ')
            .timestamp_header("X-Acme-Timestamp")
            .id_header("X-Acme-Id")
            .template("{id}.{timestamp}.{body}"),
        // url|body, hex SHA-1, unsigned id header.
        "generic-b" => GenericHmac::builder()
            .signature_header("X-Sig")
            .hash(HmacHash::Sha1)
            .id_header("X-Id")
            .template("{url}|{body}"),
        // body, hex SHA-512 with a prefix.
        "generic-c" => GenericHmac::builder()
            .signature_header("X-Sig")
            .prefix("sha512=")
            .hash(HmacHash::Sha512)
            .template("{{{body}}}"),
        _ => return schemes::by_name(name),
    };
    generic.build().ok().map(|s| Arc::new(s) as Arc<dyn Scheme>)
}

/// Every header name a built-in scheme reads, and a few others.
pub const HEADER_NAMES: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "stripe-signature",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-github-delivery",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-shopify-hmac-sha256",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "paddle-signature",
    "x-twilio-signature",
    "i-twilio-idempotency-token",
    "x-square-hmacsha256-signature",
    "x-square-signature",
    "linear-signature",
    "linear-delivery",
    "x-zm-signature",
    "x-zm-request-timestamp",
    "twitch-eventsub-message-id",
    "twitch-eventsub-message-timestamp",
    "twitch-eventsub-message-signature",
    "x-signature-ed25519",
    "x-signature-timestamp",
    "x-gitlab-token",
    "x-gitlab-event-uuid",
    "idempotency-key",
    "x-wc-webhook-signature",
    "x-wc-webhook-delivery-id",
    "x-acme-signature",
    "x-acme-timestamp",
    "x-acme-id",
    "x-sig",
    "x-id",
    "content-type",
];

/// The secret to sign with and the secret to verify with (they differ for the
/// Ed25519 schemes: private and public key).
#[derive(Debug, Clone)]
pub struct Keys {
    /// Signs.
    pub sign: Secret,
    /// Verifies.
    pub verify: Secret,
}

/// Well-formed keys for `scheme`, derived from `seed` through SHA-256, so that two
/// different seeds never give equivalent HMAC keys (`k` and `k\0` are the same HMAC
/// key).
pub fn keys_for(scheme: &str, seed: &[u8]) -> Keys {
    let key: [u8; 32] = Sha256::digest(seed).into();
    let same = |s: String| Keys {
        sign: Secret::new(s.clone()),
        verify: Secret::new(s),
    };
    match scheme {
        "standard" | "svix" => same(format!("whsec_{}", B64.encode(key))),
        "standard-ed25519" => {
            let public = ed25519_dalek::SigningKey::from_bytes(&key)
                .verifying_key()
                .to_bytes();
            Keys {
                sign: Secret::new(format!("whsk_{}", B64.encode(key))),
                verify: Secret::new(format!("whpk_{}", B64.encode(public))),
            }
        }
        "discord" => {
            let public = ed25519_dalek::SigningKey::from_bytes(&key)
                .verifying_key()
                .to_bytes();
            Keys {
                sign: Secret::new(hex::encode(key)),
                verify: Secret::new(hex::encode(public)),
            }
        }
        _ => same(hex::encode(key)),
    }
}

/// The URL a URL-signing scheme is sent to; for Twilio JSON bodies it carries the
/// body's digest.
pub fn url_for(seed: u16, twilio_json_body: Option<&[u8]>) -> String {
    let mut url = format!("https://example.com/hooks/{seed:04x}");
    if let Some(body) = twilio_json_body {
        url.push_str("?bodySHA256=");
        url.push_str(&hex::encode(Sha256::digest(body)));
    }
    url
}

/// What Twilio signs of a form body (parameters sorted, deduplicated, concatenated
/// without separators): two bodies with the same string are the same signed content.
pub fn twilio_form_content(body: &[u8]) -> Vec<u8> {
    let mut params: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(body).collect();
    params.sort_unstable();
    params.dedup();
    let mut out = Vec::new();
    for (name, value) in &params {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// Poll a future that is ready at once (the memory store's); `None` if it is not.
pub fn now_or_never<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}
