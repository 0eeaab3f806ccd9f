//! [`Algorithm`] and the precomputed key state used by the [`Verifier`](crate::Verifier).

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::ConfigError;
use crate::tag::Tag;

/// How a scheme authenticates the signed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA1 (Twilio, Intercom's `X-Hub-Signature`).
    HmacSha1,
    /// HMAC-SHA256 (most providers).
    HmacSha256,
    /// HMAC-SHA512.
    HmacSha512,
    /// Ed25519 signatures checked with the sender's public key (Standard Webhooks
    /// `v1a`, Discord). Needs the `ed25519` feature.
    Ed25519,
    /// A shared token sent as is in a header (GitLab), compared in constant time.
    Token,
}

/// Feeds the signed content, chunk by chunk, into the sink it is given.
pub(crate) type Feed<'a> = dyn FnMut(&mut dyn FnMut(&[u8])) + 'a;

/// Precomputed per-secret state: an initialised HMAC (cloned per request), a parsed
/// public key, or a token's digest.
#[derive(Clone)]
pub(crate) enum KeyState {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
    #[cfg(feature = "ed25519")]
    Ed25519(ed25519_dalek::VerifyingKey),
    /// The token's SHA-256: not the token, but a test for guesses of it, so wiped on
    /// drop like the HMAC states.
    Token(Zeroizing<[u8; 32]>),
}

impl std::fmt::Debug for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sha1(_) => "HmacSha1(<redacted>)",
            Self::Sha256(_) => "HmacSha256(<redacted>)",
            Self::Sha512(_) => "HmacSha512(<redacted>)",
            #[cfg(feature = "ed25519")]
            Self::Ed25519(_) => "Ed25519PublicKey",
            Self::Token(_) => "Token(<redacted>)",
        })
    }
}

/// Why an Ed25519 scheme is refused in a build without the `ed25519` feature, by the
/// verifier and by [`sign`](crate::sign()) alike.
#[cfg(not(feature = "ed25519"))]
pub(crate) const NEEDS_ED25519: &str = "Ed25519 schemes need hookwarden's `ed25519` feature";

fn hmac<M: KeyInit>(key: &[u8]) -> Result<M, ConfigError> {
    M::new_from_slice(key).map_err(|_| ConfigError::new("secret cannot be used as an HMAC key"))
}

impl KeyState {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Result<Self, ConfigError> {
        Ok(match algorithm {
            Algorithm::HmacSha1 => Self::Sha1(hmac(key)?),
            Algorithm::HmacSha256 => Self::Sha256(hmac(key)?),
            Algorithm::HmacSha512 => Self::Sha512(hmac(key)?),
            #[cfg(feature = "ed25519")]
            Algorithm::Ed25519 => {
                let bytes: &[u8; 32] = key
                    .try_into()
                    .map_err(|_| ConfigError::new("an Ed25519 public key must be 32 bytes"))?;
                let public = ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map_err(|_| ConfigError::new("invalid Ed25519 public key"))?;
                // A small-order key (the identity, all zeros...) verifies a forged
                // signature (R = identity, S = 0) for one message in at most eight:
                // nobody's key, a placeholder, refused. So is a non-canonical encoding,
                // which no signer produces (its signatures hash the canonical one).
                if public.is_weak() {
                    return Err(ConfigError::new(
                        "invalid Ed25519 public key: a small-order point (all zeros, the identity...) that would accept forged signatures",
                    ));
                }
                if public.to_edwards().compress().as_bytes() != bytes {
                    return Err(ConfigError::new(
                        "invalid Ed25519 public key: not the canonical encoding of a point",
                    ));
                }
                Self::Ed25519(public)
            }
            #[cfg(not(feature = "ed25519"))]
            Algorithm::Ed25519 => {
                return Err(ConfigError::new(NEEDS_ED25519));
            }
            Algorithm::Token => Self::Token(Zeroizing::new(Sha256::digest(key).into())),
        })
    }

    /// HMAC-SHA256 of `message`, when this is an HMAC-SHA256 key.
    pub(crate) fn hmac_sha256(&self, message: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::Sha256(m) => {
                let mut m = m.clone();
                m.update(message);
                Some(m.finalize().into_bytes().to_vec())
            }
            _ => None,
        }
    }

    /// Whether any of `candidates` authenticates the content that `feed` produces.
    /// For a MAC, the content is hashed once whatever the number of candidates.
    /// Returns the index of the matching candidate.
    ///
    /// With `computed`, a MAC key also stores there the MAC it computed (the dedup
    /// identity of a delivery that another key matched; see
    /// [`Verified::identity_tag`](crate::Verified::identity_tag)).
    pub(crate) fn find_match(
        &self,
        candidates: &[Tag],
        token: &[u8],
        feed: &mut Feed<'_>,
        computed: Option<&mut Option<Tag>>,
    ) -> Option<usize> {
        let check = |mac: &[u8]| {
            if let Some(slot) = computed {
                *slot = Tag::from_slice(mac);
            }
            first_equal(mac, candidates)
        };
        match self {
            Self::Sha1(m) => check(&mac(m, feed)),
            Self::Sha256(m) => check(&mac(m, feed)),
            Self::Sha512(m) => check(&mac(m, feed)),
            #[cfg(feature = "ed25519")]
            Self::Ed25519(public) => candidates.iter().position(|c| {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(c.as_bytes()) else {
                    return false;
                };
                let Ok(mut v) = public.verify_stream(&sig) else {
                    return false;
                };
                feed(&mut |chunk| v.update(chunk));
                v.finalize_and_verify().is_ok()
            }),
            Self::Token(expected) => {
                let got: [u8; 32] = Sha256::digest(token).into();
                bool::from(got.ct_eq(&**expected)).then_some(0)
            }
        }
    }
}

fn mac<M: Mac + Clone>(prekeyed: &M, feed: &mut Feed<'_>) -> hmac::digest::Output<M> {
    let mut mac = prekeyed.clone();
    feed(&mut |chunk| mac.update(chunk));
    mac.finalize().into_bytes()
}

/// Index of the first candidate equal to `computed`, each comparison in constant time.
fn first_equal(computed: &[u8], candidates: &[Tag]) -> Option<usize> {
    let mut found = None;
    for (i, c) in candidates.iter().enumerate() {
        if bool::from(ct_eq(c.as_bytes(), computed)) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

/// `subtle`'s slice comparison, eight bytes at a time: one optimisation barrier per
/// word instead of one per byte. Constant time in the contents; lengths are public.
fn ct_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    if a.len() != b.len() {
        return subtle::Choice::from(0);
    }
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = wa.remainder().ct_eq(wb.remainder());
    wa.zip(wb).fold(tail, |acc, (x, y)| {
        let word = |w: &[u8]| u64::from_le_bytes(w.try_into().unwrap_or_default());
        acc & word(x).ct_eq(&word(y))
    })
}

#[cfg(test)]
mod tests {
    use hmac::digest::block_api::CoreProxy;

    use super::*;
    #[cfg(feature = "ed25519")]
    use base64::engine::general_purpose::STANDARD as B64;

    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    /// A prekeyed HMAC holds the hash states of `key ⊕ ipad` and `key ⊕ opad`: worth as
    /// much as the secret to a forger. The hash cores it is made of (and so every
    /// per-request clone) are wiped when dropped: this does not compile without the
    /// `zeroize` features of `hmac`, `sha1` and `sha2`.
    #[test]
    fn key_states_are_wiped_on_drop() {
        wiped_on_drop::<<Sha1 as CoreProxy>::Core>();
        wiped_on_drop::<<Sha256 as CoreProxy>::Core>();
        wiped_on_drop::<<Sha512 as CoreProxy>::Core>();
    }

    /// A small-order public key (the identity `01 00…00`, the all-zero bytes, the
    /// order-2 point, a non-canonical identity) lets anyone forge: with `A` of order
    /// `n`, `[k]A` is the identity for one `k` in `n`, and then `R` = identity, `S` = 0
    /// verifies. Such a key (an all-zero placeholder, say) must be refused at build.
    #[cfg(feature = "ed25519")]
    #[test]
    fn small_order_ed25519_public_keys_are_refused() {
        use crate::schemes::{Discord, StandardWebhooks};
        use crate::{ManualClock, Verifier};
        use base64::Engine as _;

        const NOW: i64 = 1_700_000_000;
        // R = identity (01 00…00), S = 0: no private key involved.
        let forged = format!("01{}", "00".repeat(63));
        let p_plus_1 = format!("ee{}7f", "ff".repeat(30)); // y = p + 1: the identity
        let order_2 = format!("ec{}7f", "ff".repeat(30)); // y = -1
        // y = p + 3: a point of large order, but no signer's encoding of it.
        let non_canonical = format!("f0{}7f", "ff".repeat(30));
        let small = "invalid Ed25519 public key: a small-order point (all zeros, the identity...) that would accept forged signatures";
        let encoding = "invalid Ed25519 public key: not the canonical encoding of a point";
        for (weak, why) in [
            (format!("01{}", "00".repeat(31)), small),
            ("00".repeat(32), small),
            (order_2, small),
            (p_plus_1, small),
            (non_canonical, encoding),
        ] {
            let body = br#"{"id":"1","type":2}"#;
            // Discord: try a few timestamps; one in `n` verifies.
            let accepted = Verifier::builder(Discord)
                .secret(weak.as_str())
                .clock(ManualClock::new(NOW))
                .build()
                .map(|v| {
                    (0..32)
                        .filter(|dt| {
                            let ts = (NOW - dt).to_string();
                            let h = [
                                ("X-Signature-Ed25519", forged.as_str()),
                                ("X-Signature-Timestamp", ts.as_str()),
                            ];
                            v.verify(&h, body, None).is_ok()
                        })
                        .count()
                });
            assert!(
                accepted.is_err(),
                "Discord key {weak} built; forged deliveries accepted: {accepted:?} of 32"
            );
            assert_eq!(
                accepted.unwrap_err().message(),
                format!("secret at index 0 (value not shown): {why}")
            );
            let key_bytes = hex::decode(&weak).unwrap();
            let whpk = format!("whpk_{}", B64.encode(&key_bytes));
            let sig = format!("v1a,{}", B64.encode(hex::decode(&forged).unwrap()));
            let accepted = Verifier::builder(StandardWebhooks::ed25519())
                .secret(whpk.as_str())
                .clock(ManualClock::new(NOW))
                .build()
                .map(|v| {
                    (0..32)
                        .filter(|i| {
                            let id = format!("msg_forged{i}");
                            let ts = NOW.to_string();
                            let h = [
                                ("webhook-id", id.as_str()),
                                ("webhook-timestamp", ts.as_str()),
                                ("webhook-signature", sig.as_str()),
                            ];
                            v.verify(&h, body, None).is_ok()
                        })
                        .count()
                });
            assert!(
                accepted.is_err(),
                "{whpk} built; forged deliveries accepted: {accepted:?} of 32"
            );
            assert_eq!(
                accepted.unwrap_err().message(),
                format!("secret at index 0 (value not shown): {why}")
            );
        }
    }

    /// Without the `ed25519` feature an Ed25519 scheme still exists (Standard
    /// Webhooks' `v1a`): its keys are refused, and so is signing with it, for one
    /// reason said the same way.
    #[cfg(not(feature = "ed25519"))]
    #[test]
    fn without_the_feature_ed25519_keys_are_refused_not_ignored() {
        use crate::schemes::StandardWebhooks;
        use crate::{SignInput, Verifier, sign};
        let err = Verifier::builder(StandardWebhooks::ed25519())
            .secret("whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=")
            .build()
            .unwrap_err();
        assert_eq!(
            err.message(),
            format!("secret at index 0 (value not shown): {NEEDS_ED25519}")
        );
        let input = SignInput {
            body: b"{}",
            timestamp: 0,
            id: None,
            url: None,
        };
        let err = sign(
            &StandardWebhooks::ed25519(),
            &"whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
            &input,
        )
        .unwrap_err();
        assert_eq!(err.message(), NEEDS_ED25519);
    }
}
