//! [`DedupConfig`]: where a delivery's dedup key comes from, its namespace, the lease
//! and the retention.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::key::{DedupKey, push_hex};
use crate::error::ConfigError;
use crate::headers::HeaderKey;
use crate::scheme::Request;
use crate::tolerance::Tolerance;
use crate::verifier::Verified;

/// The default lease: 60 seconds, well above a typical handler. A claim not completed
/// or released within its lease frees itself (a crashed worker's claim).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The default retention of a completed delivery: 4 days. It covers the providers'
/// retry horizons (Stripe retries for up to three days; Standard Webhooks / Svix
/// schedules end within about a day and a half) with a day to spare.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(4 * 24 * 60 * 60);

/// The longest lease or retention accepted: 365 days.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The longest namespace accepted, in bytes.
pub const MAX_NAMESPACE_LEN: usize = 64;

/// Where a delivery's dedup key comes from.
///
/// Whatever the source, when it yields nothing for a request (the header is missing,
/// the pointer finds no string or integer...), the key falls back to the digest of the
/// verified signature, so a verified delivery is never left without a key unless the
/// scheme has no signature to digest (token schemes).
///
/// # Security
///
/// Prefer a *signed* id: the Standard Webhooks `webhook-id` and Stripe's event `id`
/// are covered by the signature, so nobody without the secret can change them. A
/// header the scheme does not sign (`X-GitHub-Delivery`, `X-Shopify-Event-Id`) can be
/// changed by whoever replays a captured request: [`Auto`](Self::Auto) uses one only
/// when a signed timestamp bounds such replays to the tolerance (Linear, a generic
/// scheme with a timestamp), and a [`Header`](Self::Header) source naming one lets
/// them through (for a scheme without a timestamp, at any time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DedupKeySource {
    /// The scheme's delivery id when the signature covers it
    /// ([`Verified::delivery_id_signed`]: `webhook-id`, Stripe's event `id`) or when a
    /// signed timestamp bounds its replays to the tolerance (Linear, whose retries are
    /// re-stamped, so that their signatures differ); else the digest of the signature
    /// that matched (GitHub, Shopify, Twilio, WooCommerce: their id headers are not
    /// signed and nothing expires, but a retry resends the same signed bytes); else,
    /// for a scheme that signs nothing (GitLab's token), its id header. The default.
    #[default]
    Auto,
    /// The first value of this header (trimmed; it must be UTF-8), for providers
    /// whose id travels in a header the scheme does not read (an `X-Request-Id` set by
    /// a relay, say).
    Header(HeaderKey),
    /// A string or integer found by this JSON pointer (RFC 6901, e.g. `/event_id`) in
    /// the verified body (Paddle's and Slack's `event_id`). A number with a fraction,
    /// an exponent or out of the 64-bit range is read as an `f64`, rounded: it yields
    /// nothing (distinct ids would share a key).
    JsonPointer(String),
    /// The SHA-256 of the signature that matched: identical requests share it, so
    /// it catches retries that resend the same signed bytes (but not a re-signed
    /// retry with a fresh timestamp). When a secret other than the first matched (a
    /// rotation), the first secret's MAC of the signed content stands for it, so a
    /// replay that drops a candidate signature keeps the key (Ed25519 excepted:
    /// there the matched signature).
    SignatureDigest,
}

impl fmt::Display for DedupKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Header(h) => write!(f, "header {h}"),
            Self::JsonPointer(p) => write!(f, "JSON pointer {p:?}"),
            Self::SignatureDigest => f.write_str("signature digest"),
        }
    }
}

/// How deliveries are deduplicated: key source, namespace, lease and retention.
///
/// Setters are infallible; [`validate`](Self::validate) checks the whole (the
/// receive pipeline calls it when it is built).
///
/// ```
/// use std::time::Duration;
/// use hookwarden_core::dedup::{DedupConfig, DedupKeySource};
/// use hookwarden_core::{HeaderKey, Tolerance};
///
/// let config = DedupConfig::new()
///     .with_namespace("shopify-orders")
///     .with_source(DedupKeySource::Header(HeaderKey::new("X-Shopify-Event-Id")?))
///     .with_lease(Duration::from_secs(30));
/// config.validate(Some(Tolerance::FIVE_MINUTES))?;
/// assert_eq!(config.retention_for(Some(Tolerance::FIVE_MINUTES)), Duration::from_secs(4 * 86_400));
///
/// // Retention is never shorter than twice the tolerance.
/// let short = DedupConfig::new().with_retention(Duration::from_secs(60));
/// assert!(short.validate(Some(Tolerance::FIVE_MINUTES)).is_err());
/// assert_eq!(short.retention_for(Some(Tolerance::FIVE_MINUTES)), Duration::from_secs(601));
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct DedupConfig {
    namespace: Option<Arc<str>>,
    source: DedupKeySource,
    lease: Duration,
    retention: Duration,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            namespace: None,
            source: DedupKeySource::Auto,
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
        }
    }
}

impl DedupConfig {
    /// The defaults: [`DedupKeySource::Auto`], the scheme's name as namespace,
    /// [`DEFAULT_LEASE`] and [`DEFAULT_RETENTION`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The namespace in front of every key: `"{namespace}:{key}"`. Give each endpoint
    /// its own so that two endpoints never collide, even when they share a store and
    /// receive the same event (two Stripe endpoints both get `evt_...`). 1 to
    /// [`MAX_NAMESPACE_LEN`] printable ASCII bytes, no `:` nor space. Defaults to the
    /// scheme's name (`"stripe"`, `"github"`...).
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into().into());
        self
    }

    /// Where the key comes from. Defaults to [`DedupKeySource::Auto`].
    pub fn with_source(mut self, source: DedupKeySource) -> Self {
        self.source = source;
        self
    }

    /// How long a claim holds before it frees itself if neither completed nor
    /// released: make it longer than the slowest handler. Defaults to
    /// [`DEFAULT_LEASE`] (60 s).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long a completed delivery is remembered: make it cover the sender's retry
    /// horizon. Never shorter than twice the timestamp tolerance (see
    /// [`validate`](Self::validate)). Defaults to [`DEFAULT_RETENTION`] (4 days).
    ///
    /// # Security
    ///
    /// For schemes that sign no timestamp (GitHub, Shopify, GitLab, ...), the
    /// retention is the only replay protection: a captured delivery replayed after
    /// it is forgotten runs the handler again.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The configured namespace (`None`: the scheme's name).
    #[must_use]
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The key source.
    #[must_use]
    pub fn source(&self) -> &DedupKeySource {
        &self.source
    }

    /// The lease.
    #[must_use]
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The configured retention (see [`retention_for`](Self::retention_for) for the
    /// one in force).
    #[must_use]
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// The shortest retention allowed with `tolerance`: twice the larger of its past
    /// and future allowances, plus one second, so a delivery is remembered for at
    /// least as long as a replay of it could still pass the timestamp check (both
    /// bounds are inclusive and the clock counts whole seconds: a delivery first seen
    /// when the clock reads `ts - future` passes until it leaves `ts + past`, up to
    /// `past + future + 1` s later). Zero without a tolerance.
    #[must_use]
    pub fn min_retention(tolerance: Option<Tolerance>) -> Duration {
        tolerance.map_or(Duration::ZERO, |t| {
            let widest = t.past().max(t.future());
            let secs = widest.whole_seconds().max(0).unsigned_abs();
            Duration::from_secs(secs.saturating_mul(2).saturating_add(1))
        })
    }

    /// The retention in force with the verifier's `tolerance`: the configured one,
    /// raised to [`min_retention`](Self::min_retention) if shorter.
    #[must_use]
    pub fn retention_for(&self, tolerance: Option<Tolerance>) -> Duration {
        self.retention.max(Self::min_retention(tolerance))
    }

    /// Check the configuration against the verifier's `tolerance`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the namespace is empty, longer than
    /// [`MAX_NAMESPACE_LEN`] or holds a `:`, a space or a non-printable byte; the lease
    /// or the retention is under a millisecond or over [`MAX_DURATION`]; the
    /// retention is shorter than the lease or than twice the tolerance plus one second
    /// ([`min_retention`](Self::min_retention)); or a JSON pointer is neither empty nor
    /// starts with `/`.
    pub fn validate(&self, tolerance: Option<Tolerance>) -> Result<(), ConfigError> {
        if let Some(ns) = &self.namespace {
            if ns.is_empty() || ns.len() > MAX_NAMESPACE_LEN {
                return Err(ConfigError::new(format!(
                    "dedup namespace must be 1 to {MAX_NAMESPACE_LEN} bytes"
                )));
            }
            if !ns.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err(ConfigError::new(
                    "dedup namespace must be printable ASCII without `:` or spaces",
                ));
            }
        }
        for (name, d) in [("lease", self.lease), ("retention", self.retention)] {
            if d < Duration::from_millis(1) || d > MAX_DURATION {
                return Err(ConfigError::new(format!(
                    "dedup {name} must be between 1 ms and 365 days"
                )));
            }
        }
        if self.retention < self.lease {
            return Err(ConfigError::new(
                "dedup retention must not be shorter than the lease",
            ));
        }
        let min = Self::min_retention(tolerance);
        if self.retention < min {
            return Err(ConfigError::new(format!(
                "dedup retention ({} s) must be at least twice the timestamp tolerance plus a second ({} s)",
                self.retention.as_secs(),
                min.as_secs()
            )));
        }
        if let DedupKeySource::JsonPointer(p) = &self.source
            && !(p.is_empty() || p.starts_with('/'))
        {
            return Err(ConfigError::new(
                "dedup JSON pointer must be empty or start with `/`",
            ));
        }
        Ok(())
    }

    /// The dedup key of a verified delivery: `"{namespace}:{value}"` where the value
    /// comes from the [source](DedupKeySource), else `"sig:{hex SHA-256 of the
    /// signature}"` (see [`DedupKeySource::SignatureDigest`]: the first secret's MAC
    /// when another secret matched). `None` only when the source yields nothing and the
    /// scheme has no signature to digest: such a delivery is not deduplicated.
    ///
    /// `req` is the request that produced `verified` (its headers and body).
    ///
    /// ```
    /// use hookwarden_core::dedup::{DedupConfig, DedupKeySource};
    /// use hookwarden_core::{schemes::Github, HeaderKey, Request, Verifier};
    ///
    /// let verifier = Verifier::builder(Github::new()).secret("It's a Secret to Everybody").build()?;
    /// let headers = [
    ///     ("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
    ///     ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    /// ];
    /// let req = Request { headers: &headers, body: b"Hello, World!", url: None };
    /// let verified = verifier.verify_request(&req).expect("valid");
    /// // `X-GitHub-Delivery` is not signed: the key is the signature's digest.
    /// let key = DedupConfig::new().key_for(&verified, &req).expect("a key");
    /// assert!(key.as_str().starts_with("github:sig:"), "{key}");
    /// // Naming the header trusts it.
    /// let by_header = DedupConfig::new()
    ///     .with_source(DedupKeySource::Header(HeaderKey::new("X-GitHub-Delivery")?))
    ///     .key_for(&verified, &req)
    ///     .expect("a key");
    /// assert_eq!(by_header.as_str(), "github:72d3162e-cc78-11e3-81ab-4c9367dc0958");
    /// # Ok::<(), hookwarden_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn key_for(&self, verified: &Verified<'_>, req: &Request<'_>) -> Option<DedupKey> {
        let namespace = self.namespace.as_deref().unwrap_or(verified.scheme());
        let value: Option<Cow<'_, str>> = match &self.source {
            DedupKeySource::Auto => verified
                .delivery_id()
                .filter(|_| verified.delivery_id_signed() || verified.timestamp().is_some())
                .map(Cow::Borrowed),
            DedupKeySource::Header(header) => req
                .headers
                .first(header)
                .and_then(|v| std::str::from_utf8(v.trim_ascii()).ok())
                .map(Cow::Borrowed),
            DedupKeySource::JsonPointer(pointer) => json_pointer(req.body, pointer),
            DedupKeySource::SignatureDigest => None,
        };
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            return Some(DedupKey::new(namespace, &value));
        }
        let Some(signature) = verified.identity_tag() else {
            // Nothing signed (a token scheme): its id header is the only identity of a
            // delivery, and there is nothing to protect it with.
            return match &self.source {
                DedupKeySource::Auto => verified
                    .delivery_id()
                    .filter(|v| !v.is_empty())
                    .map(|id| DedupKey::new(namespace, id)),
                _ => None,
            };
        };
        let mut value = String::with_capacity(4 + 64);
        value.push_str("sig:");
        push_hex(&mut value, &Sha256::digest(signature));
        Some(DedupKey::new(namespace, &value))
    }
}

/// The string or 64-bit integer at `pointer` in the JSON `body`.
fn json_pointer<'a>(body: &[u8], pointer: &str) -> Option<Cow<'a, str>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.pointer(pointer)? {
        serde_json::Value::String(s) => Some(Cow::Owned(s.clone())),
        // An integer as written; a number that is not an `i64` or `u64` was rounded to
        // an `f64` (`100000000000000000001` and `...000` both read `1e20`): it is no
        // key, and the signature digest stands in.
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::{Github, StandardWebhooks, Stripe};
    use crate::{HeaderKey, SignInput, Verifier, sign};

    const NOW: i64 = 1_700_000_000;

    fn signed(
        scheme: impl crate::Scheme + Clone + 'static,
        secret: &str,
        body: &[u8],
        id: Option<&str>,
    ) -> (Verifier, Vec<(String, String)>) {
        let headers = sign(
            &scheme,
            &secret.into(),
            &SignInput {
                body,
                timestamp: NOW,
                id,
                url: None,
            },
        )
        .unwrap();
        let verifier = Verifier::builder(scheme)
            .secret(secret)
            .clock(crate::ManualClock::new(NOW))
            .build()
            .unwrap();
        (verifier, headers)
    }

    fn key(
        config: &DedupConfig,
        verifier: &Verifier,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Option<String> {
        let req = Request {
            headers: &headers,
            body,
            url: None,
        };
        let verified = verifier.verify_request(&req).unwrap();
        config
            .key_for(&verified, &req)
            .map(|k| k.as_str().to_owned())
    }

    const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn auto_uses_the_signed_webhook_id() {
        let (v, h) = signed(StandardWebhooks::new(), WHSEC, b"{}", Some("msg_2Lh9"));
        assert_eq!(
            key(&DedupConfig::new(), &v, &h, b"{}").unwrap(),
            "standard:msg_2Lh9"
        );
        let c = DedupConfig::new().with_namespace("billing");
        assert_eq!(key(&c, &v, &h, b"{}").unwrap(), "billing:msg_2Lh9");
    }

    #[test]
    fn auto_uses_stripes_event_id_from_the_signed_body() {
        let body = br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event"}"#;
        let (v, h) = signed(Stripe::new(), "whsec_test", body, None);
        assert_eq!(
            key(&DedupConfig::new(), &v, &h, body).unwrap(),
            "stripe:evt_1NG8Du2eZvKYlo2CUI79vXWy"
        );
    }

    #[test]
    fn auto_does_not_trust_an_unsigned_id_header() {
        // GitHub signs the body only: a capture replayed with another
        // `X-GitHub-Delivery` (or none) must get the same key.
        let (v, h) = signed(Github::new(), "s", b"payload", Some("guid-1"));
        assert!(
            h.iter()
                .any(|(n, v)| n == "X-GitHub-Delivery" && v == "guid-1")
        );
        let original = key(&DedupConfig::new(), &v, &h, b"payload").unwrap();
        assert!(original.starts_with("github:sig:"), "{original}");
        let replayed: Vec<_> = h
            .iter()
            .map(|(n, val)| {
                let val = if n == "X-GitHub-Delivery" {
                    "guid-attacker"
                } else {
                    val
                };
                (n.clone(), val.to_owned())
            })
            .collect();
        assert_eq!(
            key(&DedupConfig::new(), &v, &replayed, b"payload").unwrap(),
            original
        );
        // Naming the header is a choice to trust it.
        let by_header = DedupConfig::new().with_source(DedupKeySource::Header(
            HeaderKey::new("X-GitHub-Delivery").unwrap(),
        ));
        assert_eq!(
            key(&by_header, &v, &h, b"payload").unwrap(),
            "github:guid-1"
        );
    }

    #[test]
    fn auto_uses_signed_id_headers_and_a_token_schemes_id() {
        use crate::schemes::{GenericHmac, Gitlab, Twitch};
        let (v, h) = signed(Twitch::new(), "s3cret-twitch", b"{}", Some("msg-7"));
        assert_eq!(
            key(&DedupConfig::new(), &v, &h, b"{}").unwrap(),
            "twitch:msg-7"
        );
        // The generic scheme's id header is signed only when the template has `{id}`.
        let signed_id = GenericHmac::builder()
            .signature_header("X-Sig")
            .id_header("X-Id")
            .template("{id}.{body}")
            .build()
            .unwrap();
        let (v, h) = signed(signed_id, "s", b"{}", Some("e1"));
        assert_eq!(
            key(&DedupConfig::new(), &v, &h, b"{}").unwrap(),
            "generic:e1"
        );
        let unsigned_id = GenericHmac::builder()
            .signature_header("X-Sig")
            .id_header("X-Id")
            .build()
            .unwrap();
        let (v, h) = signed(unsigned_id, "s", b"{}", Some("e1"));
        assert!(
            key(&DedupConfig::new(), &v, &h, b"{}")
                .unwrap()
                .starts_with("generic:sig:")
        );
        // An unsigned id with a signed timestamp (Linear: retries are re-stamped, so
        // each has another digest): the id, its replays bounded by the tolerance.
        let body = br#"{"webhookTimestamp":1700000000000,"action":"create"}"#;
        let (v, h) = signed(crate::schemes::Linear::new(), "lin", body, Some("d-1"));
        assert_eq!(
            key(&DedupConfig::new(), &v, &h, body).unwrap(),
            "linear:d-1"
        );
        // GitLab signs nothing (its token is the same for every delivery): the id.
        let (v, h) = signed(Gitlab::new(), "tok", b"{}", Some("idem-9"));
        assert_eq!(
            key(&DedupConfig::new(), &v, &h, b"{}").unwrap(),
            "gitlab:idem-9"
        );
    }

    #[test]
    fn auto_falls_back_to_the_signature_digest() {
        let (v, h) = signed(Github::new(), "s", b"payload", None);
        let h: Vec<_> = h
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("x-github-delivery"))
            .collect();
        let k = key(&DedupConfig::new(), &v, &h, b"payload").unwrap();
        assert!(k.starts_with("github:sig:"), "{k}");
        assert_eq!(k.len(), "github:sig:".len() + 64);
        let explicit = DedupConfig::new().with_source(DedupKeySource::SignatureDigest);
        assert_eq!(key(&explicit, &v, &h, b"payload").unwrap(), k);
        // Another body, another signature, another key.
        let (v2, h2) = signed(Github::new(), "s", b"payload2", None);
        assert_ne!(key(&explicit, &v2, &h2, b"payload2").unwrap(), k);
    }

    #[test]
    fn header_source() {
        let (v, mut h) = signed(Github::new(), "s", b"x", None);
        h.push((
            "X-Shopify-Event-Id".into(),
            "  98880550-7158-44d4-b7cd-2c97c8a091b5 ".into(),
        ));
        let c = DedupConfig::new()
            .with_namespace("shop")
            .with_source(DedupKeySource::Header(
                HeaderKey::new("x-shopify-event-id").unwrap(),
            ));
        assert_eq!(
            key(&c, &v, &h, b"x").unwrap(),
            "shop:98880550-7158-44d4-b7cd-2c97c8a091b5"
        );
        // Missing header: the signature digest.
        let c = c.with_source(DedupKeySource::Header(HeaderKey::new("x-absent").unwrap()));
        assert!(key(&c, &v, &h, b"x").unwrap().starts_with("shop:sig:"));
    }

    #[test]
    fn json_pointer_source() {
        let body = br#"{"event_id":"evt_01h","data":{"n":42,"o":{}}}"#;
        let (v, h) = signed(Github::new(), "s", body, None);
        let c = |p: &str| DedupConfig::new().with_source(DedupKeySource::JsonPointer(p.into()));
        assert_eq!(
            key(&c("/event_id"), &v, &h, body).unwrap(),
            "github:evt_01h"
        );
        assert_eq!(key(&c("/data/n"), &v, &h, body).unwrap(), "github:42");
        assert!(
            key(&c("/data/o"), &v, &h, body)
                .unwrap()
                .starts_with("github:sig:")
        );
        assert!(
            key(&c("/nope"), &v, &h, body)
                .unwrap()
                .starts_with("github:sig:")
        );
        let (v, h) = signed(Github::new(), "s", b"not json", None);
        assert!(
            key(&c("/event_id"), &v, &h, b"not json")
                .unwrap()
                .starts_with("github:sig:")
        );
    }

    /// A sender rotating its secret signs each delivery with both (Standard
    /// Webhooks, Stripe, a generic scheme with a separator), and the receiver accepts
    /// both. The signature header is not signed: a replay that keeps only the new
    /// secret's signature matches under the second key. It must get the original's key.
    #[test]
    fn a_replay_without_one_rotation_signature_keeps_its_key() {
        use crate::schemes::GenericHmac;
        let scheme = GenericHmac::builder()
            .signature_header("X-Sig")
            .separator(',')
            .build()
            .unwrap();
        let body = b"payload";
        let sig = |secret: &str| {
            let input = SignInput {
                body,
                timestamp: NOW,
                id: None,
                url: None,
            };
            sign(&scheme, &secret.into(), &input).unwrap()[0].1.clone()
        };
        let (old, new) = (sig("old-secret"), sig("new-secret"));
        let v = Verifier::builder(scheme.clone())
            .secrets(["old-secret", "new-secret"])
            .build()
            .unwrap();
        let header = |value: String| vec![("X-Sig".to_owned(), value)];
        let original = key(
            &DedupConfig::new(),
            &v,
            &header(format!("{old},{new}")),
            body,
        )
        .unwrap();
        assert!(original.starts_with("generic:sig:"), "{original}");
        let replayed = key(&DedupConfig::new(), &v, &header(new.clone()), body).unwrap();
        assert_eq!(
            replayed, original,
            "the replay got another key: the handler runs twice"
        );
        // The explicit source on a scheme with a signed id alike (Stripe's `v1` list).
        let stripe_body = br#"{"id":"evt_1","object":"event"}"#;
        let stripe_sig = |secret: &str| {
            let input = SignInput {
                body: stripe_body,
                timestamp: NOW,
                id: None,
                url: None,
            };
            let h = sign(&Stripe::new(), &secret.into(), &input).unwrap();
            h[0].1.rsplit_once("v1=").unwrap().1.to_owned()
        };
        let (old, new) = (stripe_sig("whsec_old"), stripe_sig("whsec_new"));
        let v = Verifier::builder(Stripe::new())
            .secrets(["whsec_old", "whsec_new"])
            .clock(crate::ManualClock::new(NOW))
            .build()
            .unwrap();
        let digest = DedupConfig::new().with_source(DedupKeySource::SignatureDigest);
        let h = |sigs: &str| vec![("Stripe-Signature".to_owned(), format!("t={NOW},{sigs}"))];
        assert_eq!(
            key(&digest, &v, &h(&format!("v1={old},v1={new}")), stripe_body).unwrap(),
            key(&digest, &v, &h(&format!("v1={new}")), stripe_body).unwrap()
        );
    }

    /// Two deliveries whose ids are distinct integers beyond `u64` (or decimals that
    /// round to one `f64`) are two deliveries: they must not share a key.
    #[test]
    fn json_pointer_numbers_are_never_rounded_into_one_key() {
        let c = DedupConfig::new().with_source(DedupKeySource::JsonPointer("/event_id".into()));
        let keyed = |body: &[u8]| {
            let (v, h) = signed(Github::new(), "s", body, None);
            key(&c, &v, &h, body).unwrap()
        };
        for (a, b) in [
            (
                &br#"{"event_id":100000000000000000001}"#[..],
                &br#"{"event_id":100000000000000000000}"#[..],
            ),
            (
                br#"{"event_id":0.1}"#,
                br#"{"event_id":0.10000000000000001}"#,
            ),
        ] {
            assert_ne!(keyed(a), keyed(b));
        }
        // Integers in range are the id, as before.
        assert_eq!(
            keyed(br#"{"event_id":18446744073709551615}"#),
            "github:18446744073709551615"
        );
        assert_eq!(keyed(br#"{"event_id":-42}"#), "github:-42");
    }

    #[test]
    fn long_ids_are_hashed() {
        let id = "i".repeat(300);
        let (v, h) = signed(StandardWebhooks::new(), WHSEC, b"{}", Some(&id));
        let k = key(&DedupConfig::new(), &v, &h, b"{}").unwrap();
        assert!(k.starts_with("standard:sha256:") && k.len() <= 255, "{k}");
    }

    #[test]
    fn defaults() {
        let c = DedupConfig::default();
        assert_eq!(c.lease(), Duration::from_secs(60));
        assert!(c.retention() >= Duration::from_secs(3 * 86_400));
        assert_eq!(c.source(), &DedupKeySource::Auto);
        assert_eq!(c.namespace(), None);
        c.validate(Some(Tolerance::FIVE_MINUTES)).unwrap();
        c.validate(None).unwrap();
    }

    #[test]
    fn retention_is_at_least_twice_the_tolerance() {
        let t = Tolerance::new(time::Duration::minutes(10), time::Duration::minutes(1));
        assert_eq!(
            DedupConfig::min_retention(Some(t)),
            Duration::from_secs(1201)
        );
        assert_eq!(DedupConfig::min_retention(None), Duration::ZERO);
        let c = DedupConfig::new()
            .with_retention(Duration::from_secs(1200))
            .with_lease(Duration::from_secs(1));
        assert_eq!(
            c.validate(Some(t)).unwrap_err().message(),
            "dedup retention (1200 s) must be at least twice the timestamp tolerance plus a second (1201 s)"
        );
        assert_eq!(c.retention_for(Some(t)), Duration::from_secs(1201));
        assert!(c.validate(None).is_ok());
        assert_eq!(c.retention_for(None), Duration::from_secs(1200));
        let huge = Tolerance::symmetric(time::Duration::MAX);
        assert!(DedupConfig::new().validate(Some(huge)).is_err());
    }

    /// The tolerance's bounds are inclusive and its clock counts whole seconds: a
    /// delivery first seen when the clock reads `ts - future` (a sender's clock that far
    /// ahead) passes again until the clock leaves `ts + past`, almost `past + future +
    /// 1` s later. The shortest retention allowed must outlast that.
    #[test]
    fn the_minimum_retention_outlasts_every_replay_the_tolerance_accepts() {
        use crate::dedup::{Claim, DedupStore as _, ManualTime, MemoryStore};
        fn block_on<F: std::future::Future>(f: F) -> F::Output {
            let mut f = std::pin::pin!(f);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            loop {
                if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                    return v;
                }
            }
        }
        let body = br#"{"id":"evt_1"}"#;
        let (_, headers) = signed(Stripe, "whsec_x", body, None);
        let clock = crate::ManualClock::new(NOW - 300);
        let verifier = Verifier::builder(Stripe)
            .secret("whsec_x")
            .clock(clock.clone())
            .build()
            .unwrap();
        let tolerance = verifier.tolerance();
        // The shortest retention the configuration accepts.
        let config = DedupConfig::new()
            .with_retention(DedupConfig::min_retention(tolerance))
            .with_lease(Duration::from_secs(1));
        config.validate(tolerance).unwrap();
        let time = ManualTime::new();
        let store = MemoryStore::builder()
            .with_time(time.clone())
            .build()
            .unwrap();
        // First delivery, at the very start of the second the clock reads `ts - 300`.
        let req = Request {
            headers: &headers,
            body,
            url: None,
        };
        let first = verifier.verify_request(&req).unwrap();
        let key = config.key_for(&first, &req).unwrap();
        let Claim::New(token) = block_on(store.claim(&key, config.lease())).unwrap() else {
            panic!("first claim");
        };
        assert!(block_on(store.complete(&key, &token, config.retention_for(tolerance))).unwrap());
        // A replay 600.5 s later: the clock reads `ts + 300`, still inside the tolerance.
        time.advance(Duration::from_millis(600_500));
        clock.set(NOW + 300);
        let replay = verifier.verify_request(&req).unwrap();
        assert_eq!(config.key_for(&replay, &req), Some(key.clone()));
        assert_eq!(
            block_on(store.claim(&key, config.lease())).unwrap(),
            Claim::Completed,
            "a replay the tolerance accepts must still be a duplicate"
        );
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let length = "dedup namespace must be 1 to 64 bytes";
        let chars = "dedup namespace must be printable ASCII without `:` or spaces";
        let bad = [
            (DedupConfig::new().with_namespace(""), length),
            (DedupConfig::new().with_namespace("n".repeat(65)), length),
            (DedupConfig::new().with_namespace("a:b"), chars),
            (DedupConfig::new().with_namespace("a b"), chars),
            (DedupConfig::new().with_namespace("caf\u{e9}"), chars),
            (
                DedupConfig::new().with_lease(Duration::ZERO),
                "dedup lease must be between 1 ms and 365 days",
            ),
            (
                DedupConfig::new().with_retention(Duration::from_secs(400 * 86_400)),
                "dedup retention must be between 1 ms and 365 days",
            ),
            (
                DedupConfig::new().with_retention(Duration::from_micros(999)),
                "dedup retention must be between 1 ms and 365 days",
            ),
            (
                DedupConfig::new()
                    .with_lease(Duration::from_secs(10))
                    .with_retention(Duration::from_secs(5)),
                "dedup retention must not be shorter than the lease",
            ),
            (
                DedupConfig::new().with_source(DedupKeySource::JsonPointer("event_id".into())),
                "dedup JSON pointer must be empty or start with `/`",
            ),
        ];
        for (c, why) in bad {
            assert_eq!(c.validate(None).unwrap_err().message(), why, "{c:?}");
        }
        assert!(
            DedupConfig::new()
                .with_namespace("n".repeat(64))
                .validate(None)
                .is_ok()
        );
        assert_eq!(
            DedupKeySource::JsonPointer("/a".into()).to_string(),
            "JSON pointer \"/a\""
        );
    }
}
