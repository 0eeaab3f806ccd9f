//! Standard Webhooks (<https://www.standardwebhooks.com>) and Svix.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::error::{ConfigError, ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::{split, unix_seconds};
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::secret::Secret;
use crate::tag::Tag;
use crate::tolerance::Tolerance;

#[derive(Debug)]
struct Names {
    id: HeaderKey,
    timestamp: HeaderKey,
    signature: HeaderKey,
}

const WEBHOOK_ID: HeaderKey = HeaderKey::from_static("webhook-id");
const WEBHOOK_TIMESTAMP: HeaderKey = HeaderKey::from_static("webhook-timestamp");
const WEBHOOK_SIGNATURE: HeaderKey = HeaderKey::from_static("webhook-signature");
const SVIX_ID: HeaderKey = HeaderKey::from_static("svix-id");
const SVIX_TIMESTAMP: HeaderKey = HeaderKey::from_static("svix-timestamp");
const SVIX_SIGNATURE: HeaderKey = HeaderKey::from_static("svix-signature");

static WEBHOOK: Names = Names {
    id: WEBHOOK_ID,
    timestamp: WEBHOOK_TIMESTAMP,
    signature: WEBHOOK_SIGNATURE,
};
static SVIX: Names = Names {
    id: SVIX_ID,
    timestamp: SVIX_TIMESTAMP,
    signature: SVIX_SIGNATURE,
};
static WEBHOOK_REQUIRED: [HeaderKey; 3] = [WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE];
static SVIX_REQUIRED: [HeaderKey; 3] = [SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE];

/// [Standard Webhooks](https://www.standardwebhooks.com): symmetric `v1` (HMAC-SHA256)
/// by default, asymmetric `v1a` (Ed25519) with [`StandardWebhooks::ed25519`].
///
/// | | |
/// |---|---|
/// | headers | `webhook-id`, `webhook-timestamp`, `webhook-signature` |
/// | signed content | `{webhook-id}.{webhook-timestamp}.{body}` |
/// | signature | space-separated `v1,<base64>` (or `v1a,<base64>`); other versions are skipped |
/// | secret | `whsec_` + base64 of the key (the prefix is optional); `v1a`: `whpk_` + base64 public key, `whsk_` + base64 private key to sign |
/// | timestamp | `webhook-timestamp`, unix seconds |
/// | default tolerance | 5 minutes each way |
/// | delivery id | `webhook-id` (signed) |
///
/// ```
/// use hookwarden_core::{schemes::StandardWebhooks, Verifier};
/// let v = Verifier::builder(StandardWebhooks::new())
///     .secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
///     .build()?;
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StandardWebhooks {
    svix: bool,
    asymmetric: bool,
}

impl StandardWebhooks {
    /// The symmetric `v1` scheme (HMAC-SHA256, `whsec_` secrets).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            svix: false,
            asymmetric: false,
        }
    }

    /// The asymmetric `v1a` scheme (Ed25519): verify with `whpk_` public keys, sign with
    /// `whsk_` private keys.
    ///
    /// # Cost
    ///
    /// An Ed25519 signature is checked over the whole signed content once per candidate
    /// and public key (an HMAC secret's MAC is computed once, however many candidates
    /// a request carries). A request with the most `v1a` candidates a header may hold
    /// ([`MAX_SIGNATURES`](crate::MAX_SIGNATURES)) makes the receiver hash its body that
    /// many times per key before any candidate is known to be genuine: keep the guard's
    /// [body limit](crate::receive::GuardBuilder::with_body_limit) near your largest
    /// real delivery.
    #[must_use]
    pub const fn ed25519() -> Self {
        Self {
            svix: false,
            asymmetric: true,
        }
    }

    fn names(&self) -> &'static Names {
        if self.svix { &SVIX } else { &WEBHOOK }
    }

    fn version(&self) -> &'static [u8] {
        if self.asymmetric { b"v1a" } else { b"v1" }
    }
}

impl Default for StandardWebhooks {
    fn default() -> Self {
        Self::new()
    }
}

/// [Svix](https://docs.svix.com/receiving/verifying-payloads/how-manual): Standard
/// Webhooks with `svix-id`, `svix-timestamp` and `svix-signature` headers, falling back
/// to the `webhook-*` names when the `svix-*` ones are absent. Everything else as
/// [`StandardWebhooks`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Svix;

impl Svix {
    /// The Svix scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

fn decode_prefixed(
    secret: &Secret,
    prefix: &str,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let raw = secret.expose();
    // Another kind of Standard Webhooks key than this one takes: say which it is.
    const KINDS: [(&str, &str); 3] = [
        ("whsec_", "a `whsec_` secret is for `v1` (HMAC)"),
        (
            "whpk_",
            "a `whpk_` public key verifies `v1a` (Ed25519: `StandardWebhooks::ed25519`, scheme name `standard-ed25519`)",
        ),
        (
            "whsk_",
            "a `whsk_` private key signs `v1a` (Ed25519); verifying takes its `whpk_` public key",
        ),
    ];
    if let Some((_, kind)) = KINDS
        .iter()
        .find(|(p, _)| *p != prefix && raw.starts_with(p.as_bytes()))
    {
        return Err(ConfigError::new(format!(
            "{what}: {kind}; this one takes `{prefix}`"
        )));
    }
    let (raw, after) = match raw.strip_prefix(prefix.as_bytes()) {
        Some(rest) => (rest, format!(" after `{prefix}`")),
        None => (raw, String::new()),
    };
    if raw.is_empty() {
        return Err(ConfigError::new(format!("{what} is empty")));
    }
    // Decoded into a buffer that is wiped however decoding ends: `decode` drops its
    // own, partly filled with key bytes, when it meets a bad character (a CRLF line
    // end, say). Sized for the decoder's estimate, so that it never reallocates.
    let mut bytes = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(raw.len())));
    B64.decode_vec(raw, &mut bytes)
        .map_err(|_| ConfigError::new(format!("{what} is not valid base64{after}")))?;
    if bytes.is_empty() {
        return Err(ConfigError::new(format!("{what} is empty")));
    }
    Ok(bytes)
}

fn parse_standard<'r>(
    names: &Names,
    version: &[u8],
    headers: &'r dyn Headers,
    parsed: &mut Parsed<'r>,
) -> Result<(), VerifyError> {
    let id = headers
        .first(&names.id)
        .ok_or_else(|| VerifyError::missing(&names.id))?;
    let ts_raw = headers
        .first(&names.timestamp)
        .ok_or_else(|| VerifyError::missing(&names.timestamp))?;
    let sig = headers
        .first(&names.signature)
        .ok_or_else(|| VerifyError::missing(&names.signature))?;
    let timestamp = unix_seconds(ts_raw.trim_ascii()).ok_or_else(|| {
        VerifyError::malformed(&names.timestamp, "not a unix timestamp in seconds")
    })?;
    parsed.timestamp = Some(timestamp);
    parsed.timestamp_raw = ts_raw;
    parsed.id = Some(id);
    let mut ours = 0usize;
    for item in split(sig, b' ').filter(|i| !i.is_empty()) {
        // `version,signature`: the version is a few bytes, checked in place.
        let Some(signature) = item
            .strip_prefix(version)
            .and_then(|rest| rest.strip_prefix(b","))
        else {
            continue;
        };
        ours += 1;
        if let Some(tag) = Tag::from_base64(signature) {
            parsed.add_signature(tag, &names.signature)?;
        }
    }
    if parsed.signatures.is_empty() {
        return Err(if ours == 0 {
            VerifyError::new(
                ErrorKind::UnsupportedSignatureVersion,
                "no signature of a supported version",
            )
            .with_header(&names.signature)
        } else {
            VerifyError::malformed(&names.signature, "signature is not valid base64")
        });
    }
    Ok(())
}

/// The signed content, `id.timestamp.body`: the short `id.timestamp.` prefix is
/// assembled on the stack (one MAC update instead of four), the body is fed as is.
fn content(req: &Request<'_>, parsed: &Parsed<'_>, sink: &mut dyn FnMut(&[u8])) {
    let (id, ts) = (parsed.id.unwrap_or_default(), parsed.timestamp_raw);
    let mut prefix = arrayvec::ArrayVec::<u8, 128>::new();
    if prefix.try_extend_from_slice(id).is_ok()
        && prefix.try_push(b'.').is_ok()
        && prefix.try_extend_from_slice(ts).is_ok()
        && prefix.try_push(b'.').is_ok()
    {
        sink(&prefix);
    } else {
        sink(id);
        sink(b".");
        sink(ts);
        sink(b".");
    }
    sink(req.body);
}

impl Scheme for StandardWebhooks {
    fn name(&self) -> &'static str {
        "standard"
    }

    // `webhook-id` (`svix-id`) is part of the signed content.
    fn signs_id_header(&self) -> bool {
        true
    }

    fn algorithm(&self) -> Algorithm {
        if self.asymmetric {
            Algorithm::Ed25519
        } else {
            Algorithm::HmacSha256
        }
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::FIVE_MINUTES)
    }

    fn required_headers(&self) -> &[HeaderKey] {
        if self.svix {
            &SVIX_REQUIRED
        } else {
            &WEBHOOK_REQUIRED
        }
    }

    fn key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        if self.asymmetric {
            decode_prefixed(secret, "whpk_", "public key")
        } else {
            decode_prefixed(secret, "whsec_", "secret")
        }
    }

    fn signing_key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        if !self.asymmetric {
            return self.key_bytes(secret);
        }
        let mut key = decode_prefixed(secret, "whsk_", "private key")?;
        // Accept a 32-byte seed or a 64-byte seed+public keypair, whose public half
        // must be the seed's (else the key is corrupt: refused, not half used).
        if key.len() == 64 {
            #[cfg(feature = "ed25519")]
            if let Ok(pair) = <&[u8; 64]>::try_from(key.as_slice())
                && ed25519_dalek::SigningKey::from_keypair_bytes(pair).is_err()
            {
                return Err(ConfigError::new(
                    "private key: the public half of a 64-byte `whsk_` key does not match its seed",
                ));
            }
            key.truncate(32);
        }
        Ok(key)
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        parse_standard(self.names(), self.version(), headers, parsed)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        content(req, parsed, sink);
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        let n = self.names();
        let version = if self.asymmetric { "v1a" } else { "v1" };
        vec![
            (n.id.to_string(), id.to_owned()),
            (n.timestamp.to_string(), timestamp.to_owned()),
            (
                n.signature.to_string(),
                format!("{version},{}", B64.encode(signature)),
            ),
        ]
    }
}

impl Scheme for Svix {
    fn name(&self) -> &'static str {
        "svix"
    }

    // `webhook-id` (`svix-id`) is part of the signed content.
    fn signs_id_header(&self) -> bool {
        true
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha256
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::FIVE_MINUTES)
    }

    fn required_headers(&self) -> &[HeaderKey] {
        // Either header family satisfies the scheme; `parse` decides.
        &[]
    }

    fn key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        decode_prefixed(secret, "whsec_", "secret")
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let names = if headers.first(&SVIX.id).is_some() || headers.first(&WEBHOOK.id).is_none() {
            &SVIX
        } else {
            &WEBHOOK
        };
        parse_standard(names, b"v1", headers, parsed)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        content(req, parsed, sink);
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        input: &SignInput<'_>,
        timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        StandardWebhooks {
            svix: true,
            asymmetric: false,
        }
        .sign_headers(signature, input, timestamp, id)
    }
}

#[cfg(test)]
#[cfg(feature = "ed25519")]
mod v1a_tests {
    use super::*;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const NOW: i64 = 1_700_000_000;

    /// A generated key pair as Standard Webhooks encodes it: (`whsk_` seed, `whpk_` key).
    fn pair(seed: u8) -> (String, String) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        (
            format!("whsk_{}", B64.encode(key.to_bytes())),
            format!("whpk_{}", B64.encode(key.verifying_key().to_bytes())),
        )
    }

    fn signed(body: &[u8], ts: i64, private: &str) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
            url: None,
        };
        sign(&StandardWebhooks::ed25519(), &private.into(), &input).unwrap()
    }

    fn verifier(public: &str) -> Verifier {
        Verifier::builder(StandardWebhooks::ed25519())
            .secret(public)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    fn with_signature(headers: &[(String, String)], value: &str) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                if k == "webhook-signature" {
                    (k.clone(), value.to_owned())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    }

    #[test]
    fn round_trip_with_a_generated_key_pair() {
        let (sk, pk) = pair(1);
        let body = br#"{"type":"invoice.paid"}"#;
        let headers = signed(body, NOW, &sk);
        let sig = &headers[2].1;
        assert!(sig.starts_with("v1a,"), "{sig}");
        assert_eq!(sig.len(), 4 + 88, "64-byte signature in padded base64");
        let ok = verifier(&pk).verify(&headers, body, None).unwrap();
        assert_eq!(ok.delivery_id(), Some("msg_p5jXN8AQM9LWM0D4loKWxJek"));
        assert_eq!(ok.matched_signature().map(<[u8]>::len), Some(64));
        // The prefixes are optional, and a 64-byte `whsk_` (seed then public key) signs too.
        let bare_pk = pk.trim_start_matches("whpk_");
        verifier(bare_pk).verify(&headers, body, None).unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let keypair = format!("whsk_{}", B64.encode(key.to_keypair_bytes()));
        assert_eq!(signed(body, NOW, &keypair), headers);
    }

    /// A 64-byte `whsk_` is a seed then its public key: when the halves belong to
    /// different keys the key is corrupt (two keys pasted together, say), and signing
    /// with the seed alone would make signatures its stated public key rejects.
    #[test]
    fn a_keypair_whose_public_half_is_another_key_is_refused() {
        let seed = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let other = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        let mixed = [seed.to_bytes(), other.verifying_key().to_bytes()].concat();
        let result = sign(
            &StandardWebhooks::ed25519(),
            &format!("whsk_{}", B64.encode(&mixed)).into(),
            &SignInput {
                body: b"{}",
                timestamp: NOW,
                id: Some("msg_1"),
                url: None,
            },
        );
        let err = result.expect_err("signed with a whsk_ whose public half is another key's");
        assert!(err.message().contains("does not match"), "{err}");
    }

    #[test]
    fn known_answer_computed_with_python_cryptography() {
        // sk = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        // "whpk_" + b64encode(sk.public_key().public_bytes(Raw, Raw))
        // "v1a," + b64encode(sk.sign(b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}'))
        let public = "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
        let private = "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let signature = "v1a,yoUrgEkc12aGqm0n4Sydmdz55xJfTz4AsAgieHFjmkR7LJtqVCZOQYzvvHjI5kAey+r4iaBGxTFRrl2iBQxtDQ==";
        let body = br#"{"test": 2432232314}"#;
        let headers = [
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", signature),
        ];
        let v = Verifier::builder(StandardWebhooks::ed25519())
            .secret(public)
            .clock(ManualClock::new(1_614_265_330))
            .build()
            .unwrap();
        v.verify(&headers, body, None).unwrap();
        assert_eq!(signed(body, 1_614_265_330, private)[2].1, signature);
    }

    #[test]
    fn tampered_body_and_wrong_key_mismatch() {
        let (sk, pk) = pair(2);
        let (_, other) = pair(3);
        let body = br#"{"type":"invoice.paid"}"#;
        let headers = signed(body, NOW, &sk);
        let err = verifier(&pk)
            .verify(&headers, br#"{"type":"invoice.paiD"}"#, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier(&other).verify(&headers, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        // Rotation: either public key verifies, and the index says which.
        let v = Verifier::builder(StandardWebhooks::ed25519())
            .secret(other)
            .secret(pk)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap();
        assert_eq!(v.verify(&headers, body, None).unwrap().key_index(), 1);
    }

    #[test]
    fn v1_entries_are_ignored_when_verifying_v1a() {
        let (sk, pk) = pair(4);
        let body = b"{}";
        let headers = signed(body, NOW, &sk);
        let v1a = headers[2].1.clone();
        // A v1 (HMAC) signature alone is not a v1a one.
        let v1 = sign(
            &StandardWebhooks::new(),
            &"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            &SignInput {
                body,
                timestamp: NOW,
                id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                url: None,
            },
        )
        .unwrap()
        .remove(2)
        .1;
        let err = verifier(&pk)
            .verify(&with_signature(&headers, &v1), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedSignatureVersion);
        assert_eq!(err.header(), Some("webhook-signature"));
        // Mixed with v1a: the v1 entries (even invalid base64) are skipped.
        for mixed in [
            format!("{v1} {v1a}"),
            format!("v1,!!notbase64!! {v1a} v2,abc"),
            format!("{v1a} {v1}"),
        ] {
            verifier(&pk)
                .verify(&with_signature(&headers, &mixed), body, None)
                .unwrap();
        }
        // And the symmetric scheme skips v1a entries.
        let err = Verifier::builder(StandardWebhooks::new())
            .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
            .verify(&headers, body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedSignatureVersion);
    }

    #[test]
    fn malformed_v1a_signatures_and_timestamps() {
        let (sk, pk) = pair(5);
        let body = b"{}";
        let headers = signed(body, NOW, &sk);
        let v = verifier(&pk);
        let err = v
            .verify(&with_signature(&headers, "v1a,!!!"), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedHeader);
        assert_eq!(err.header(), Some("webhook-signature"));
        // A well-formed signature of the wrong length never matches.
        let short = format!("v1a,{}", B64.encode([7u8; 32]));
        let err = v
            .verify(&with_signature(&headers, &short), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = v
            .verify(&signed(body, NOW - 301, &sk), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
        let err = v
            .verify(&signed(body, NOW + 301, &sk), body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew);
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_body() {
        let (sk, pk) = pair(6);
        let body = [0xff, 0xfe, 0x00, b'.', 0x80];
        let headers = signed(&body, NOW, &sk);
        let v = verifier(&pk);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            v.verify(&h, &body, None).unwrap();
        }
    }

    #[test]
    fn a_key_of_another_kind_is_named() {
        let err = |scheme: StandardWebhooks, secret: &str| {
            scheme.key_bytes(&secret.into()).unwrap_err().to_string()
        };
        let hmac = StandardWebhooks::new();
        let ed = StandardWebhooks::ed25519();
        let e = err(hmac, "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert!(e.contains("`whsk_` private key signs `v1a`"), "{e}");
        let e = err(hmac, "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
        assert!(e.contains("`whpk_` public key verifies `v1a`"), "{e}");
        let e = err(ed, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert!(e.contains("`whsec_` secret is for `v1`"), "{e}");
        let e = err(ed, "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert!(e.contains("verifying takes its `whpk_` public key"), "{e}");
        // No prefix: no claim that one was there.
        let e = err(hmac, "notprefixed!!");
        assert!(e.ends_with("is not valid base64"), "{e}");
        let e = err(hmac, "whsec_not*base64");
        assert!(e.ends_with("is not valid base64 after `whsec_`"), "{e}");
    }

    #[test]
    fn malformed_public_keys_are_config_errors() {
        let (_, pk) = pair(7);
        let (sk, _) = pair(7);
        let not_a_point = format!("whpk_{}", B64.encode([2u8; 32]));
        for (bad, why) in [
            (
                "whpk_not base64!",
                "public key is not valid base64 after `whpk_`",
            ),
            ("whpk_", "public key is empty"),
            ("", "public key is empty"),
            ("whpk_AAEC", "an Ed25519 public key must be 32 bytes"),
            (
                &format!("{pk}AAAA"),
                "public key is not valid base64 after `whpk_`",
            ),
            (
                &format!("whpk_{}", B64.encode([1u8; 33])),
                "an Ed25519 public key must be 32 bytes",
            ),
            (&not_a_point, "invalid Ed25519 public key"),
            (
                sk.as_str(),
                "public key: a `whsk_` private key signs `v1a` (Ed25519); verifying takes its `whpk_` public key; this one takes `whpk_`",
            ),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "public key: a `whsec_` secret is for `v1` (HMAC); this one takes `whpk_`",
            ),
        ] {
            let err = Verifier::builder(StandardWebhooks::ed25519())
                .secret(bad)
                .build()
                .unwrap_err();
            assert_eq!(
                err.message(),
                format!("secret at index 0 (value not shown): {why}"),
                "{bad}"
            );
            let body = bad.trim_start_matches("whpk_").trim_start_matches("whsk_");
            if body.len() > 4 {
                assert!(!err.message().contains(body), "{err}");
            }
        }
        // A private key that is not 32 (or 64) bytes cannot sign.
        let err = sign(
            &StandardWebhooks::ed25519(),
            &format!("whsk_{}", B64.encode([1u8; 16])).into(),
            &SignInput {
                body: b"",
                timestamp: NOW,
                id: None,
                url: None,
            },
        )
        .unwrap_err();
        assert!(err.message().contains("32 bytes"), "{err}");
        let err = sign(
            &StandardWebhooks::ed25519(),
            &pk.as_str().into(),
            &SignInput {
                body: b"",
                timestamp: NOW,
                id: None,
                url: None,
            },
        )
        .unwrap_err();
        assert!(err.message().contains("whsk_"), "{err}");
    }
}

#[cfg(test)]
mod v1_tests {
    use super::*;
    use crate::schemes::test_headers::with;
    use crate::{ErrorKind, MAX_SIGNATURES, ManualClock, Verifier, sign};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;

    fn verifier<S: Scheme + 'static>(scheme: S) -> Verifier {
        Verifier::builder(scheme)
            .secret(SECRET)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    fn signed(scheme: &dyn Scheme) -> Vec<(String, String)> {
        let input = SignInput {
            body: BODY,
            timestamp: NOW,
            id: Some("msg_1"),
            url: None,
        };
        sign(scheme, &SECRET.into(), &input).unwrap()
    }

    #[test]
    fn malformed_headers_name_the_header_and_the_problem() {
        let v = verifier(StandardWebhooks::new());
        let headers = signed(&StandardWebhooks::new());
        let good = headers[2].1.clone();
        let cases = [
            (
                "webhook-timestamp",
                "yesterday".to_owned(),
                ErrorKind::MalformedHeader,
                "not a unix timestamp in seconds",
            ),
            (
                "webhook-timestamp",
                "-1700000000".to_owned(),
                ErrorKind::MalformedHeader,
                "not a unix timestamp in seconds",
            ),
            (
                "webhook-timestamp",
                "99999999999999999999".to_owned(),
                ErrorKind::MalformedHeader,
                "not a unix timestamp in seconds",
            ),
            (
                "webhook-signature",
                "v1,!!!notbase64".to_owned(),
                ErrorKind::MalformedHeader,
                "signature is not valid base64",
            ),
            (
                "webhook-signature",
                "v2,AAAA v1a,AAAA".to_owned(),
                ErrorKind::UnsupportedSignatureVersion,
                "no signature of a supported version",
            ),
            // Nothing of a known version either.
            (
                "webhook-signature",
                String::new(),
                ErrorKind::UnsupportedSignatureVersion,
                "no signature of a supported version",
            ),
            // One more candidate than a request may carry, each well formed.
            (
                "webhook-signature",
                [good.as_str(); MAX_SIGNATURES + 1].join(" "),
                ErrorKind::MalformedHeader,
                "too many signatures",
            ),
        ];
        for (name, value, kind, detail) in cases {
            let bad = with(&headers, name, &value);
            for err in [
                v.precheck(&bad).unwrap_err(),
                v.verify(&bad, BODY, None).unwrap_err(),
            ] {
                assert_eq!(
                    (err.kind(), err.header(), err.detail()),
                    (kind, Some(name), detail),
                    "{name}: {value:?}"
                );
            }
        }
        // As many as allowed: the last one, the valid one, still verifies.
        let mut most = vec!["v1,AAAA"; MAX_SIGNATURES - 1];
        most.push(&good);
        v.verify(
            &with(&headers, "webhook-signature", &most.join(" ")),
            BODY,
            None,
        )
        .unwrap();
    }

    /// The limit on candidates is the parser's, in every scheme that reads several.
    #[test]
    fn too_many_signatures_in_a_stripe_or_generic_header_are_malformed() {
        let stripe = crate::schemes::Stripe::new();
        let hex = "00".repeat(32);
        let value = format!("t={NOW},{}", vec![format!("v1={hex}"); 9].join(","));
        let err = verifier(stripe)
            .precheck(&[("Stripe-Signature", value.as_str())])
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.header(), err.detail()),
            (
                ErrorKind::MalformedHeader,
                Some("stripe-signature"),
                "too many signatures"
            )
        );
        let generic = crate::schemes::GenericHmac::builder()
            .signature_header("X-Sig")
            .separator(',')
            .build()
            .unwrap();
        let value = [hex.as_str(); 9].join(",");
        let err = verifier(generic)
            .precheck(&[("X-Sig", value.as_str())])
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.header(), err.detail()),
            (
                ErrorKind::MalformedHeader,
                Some("x-sig"),
                "too many signatures"
            )
        );
    }

    /// Svix lists no required header (either family does), so the shared table never
    /// removes one: a missing header is named here, in the family the request uses.
    #[test]
    fn svix_names_the_missing_header_of_the_family_in_use() {
        let v = verifier(Svix::new());
        let svix = signed(&Svix::new());
        let webhook = signed(&StandardWebhooks::new());
        for (headers, family) in [(&svix, "svix"), (&webhook, "webhook")] {
            v.verify(headers, BODY, None).unwrap();
            for part in ["timestamp", "signature"] {
                let name = format!("{family}-{part}");
                let without: Vec<_> = headers.iter().filter(|(k, _)| *k != name).collect();
                let without: Vec<(&str, &str)> = without
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let err = v.verify(&without, BODY, None).unwrap_err();
                assert_eq!(
                    (err.kind(), err.header()),
                    (ErrorKind::MissingHeader, Some(name.as_str())),
                    "{family}"
                );
            }
        }
        // No id of either family: the `svix-` names are the ones asked for.
        let err = v
            .verify(&[("webhook-timestamp", "1")], BODY, None)
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.header()),
            (ErrorKind::MissingHeader, Some("svix-id"))
        );
    }
}
