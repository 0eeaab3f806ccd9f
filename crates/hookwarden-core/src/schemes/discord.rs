//! Discord interactions (needs the `ed25519` feature).

use zeroize::Zeroizing;

use crate::error::{ConfigError, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::unix_seconds;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::secret::Secret;
use crate::tag::Tag;
use crate::tolerance::Tolerance;

const SIGNATURE: HeaderKey = HeaderKey::from_static("x-signature-ed25519");
const TIMESTAMP: HeaderKey = HeaderKey::from_static("x-signature-timestamp");
static REQUIRED: [HeaderKey; 2] = [SIGNATURE, TIMESTAMP];

/// The length of an Ed25519 signature, in bytes.
const SIGNATURE_LEN: usize = 64;

/// [Discord interactions](https://discord.com/developers/docs/interactions/receiving-and-responding#security-and-authorization),
/// received over HTTP. Needs the `ed25519` feature.
///
/// | | |
/// |---|---|
/// | headers | `X-Signature-Ed25519` (signature), `X-Signature-Timestamp` (timestamp) |
/// | signed content | `{X-Signature-Timestamp}{body}`, no separator |
/// | signature | hex Ed25519 signature (128 hex digits) |
/// | secret | the application's *Public Key* from the developer portal: 64 hex digits (32 bytes); to [`sign`](crate::sign()), the 32-byte private seed as 64 hex digits |
/// | timestamp | `X-Signature-Timestamp`, unix seconds |
/// | default tolerance | 5 minutes each way: Discord documents no window, this is hookwarden's choice |
/// | delivery id | the interaction's top-level `id` (a snowflake) in the signed JSON body |
///
/// Discord periodically sends requests with invalid signatures and removes endpoints
/// that accept them: always verify. The `PING` (`{"type":1}`) is answered by the
/// receive pipeline (`Challenge::Discord`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Discord;

impl Discord {
    /// The Discord interactions scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

/// Decode 64 hex digits (surrounding spaces ignored) into 32 key bytes.
fn hex_key(secret: &Secret, what: &str) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let raw = secret.expose().trim_ascii();
    if raw.is_empty() {
        return Err(ConfigError::new(format!("{what} is empty")));
    }
    let mut key = Zeroizing::new(vec![0u8; 32]);
    if raw.len() != 64 || hex::decode_to_slice(raw, &mut key[..]).is_err() {
        return Err(ConfigError::new(format!(
            "{what} must be 64 hex digits (32 bytes)"
        )));
    }
    Ok(key)
}

impl Scheme for Discord {
    fn name(&self) -> &'static str {
        "discord"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::Ed25519
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        Some(Tolerance::FIVE_MINUTES)
    }

    fn required_headers(&self) -> &[HeaderKey] {
        &REQUIRED
    }

    fn key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        hex_key(secret, "Discord public key")
    }

    fn signing_key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        hex_key(secret, "Ed25519 private key seed")
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let sig = headers
            .first(&SIGNATURE)
            .ok_or_else(|| VerifyError::missing(&SIGNATURE))?;
        let ts_raw = headers
            .first(&TIMESTAMP)
            .ok_or_else(|| VerifyError::missing(&TIMESTAMP))?;
        let timestamp = unix_seconds(ts_raw.trim_ascii())
            .ok_or_else(|| VerifyError::malformed(&TIMESTAMP, "not a unix timestamp in seconds"))?;
        let tag = Tag::from_hex(sig.trim_ascii())
            .ok_or_else(|| VerifyError::malformed(&SIGNATURE, "signature is not valid hex"))?;
        if tag.as_bytes().len() != SIGNATURE_LEN {
            return Err(VerifyError::malformed(
                &SIGNATURE,
                "an Ed25519 signature is 64 bytes (128 hex digits)",
            ));
        }
        parsed.timestamp = Some(timestamp);
        parsed.timestamp_raw = ts_raw;
        parsed.add_signature(tag, &SIGNATURE)
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        sink(parsed.timestamp_raw);
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
        vec![
            ("X-Signature-Ed25519".into(), hex::encode(signature)),
            ("X-Signature-Timestamp".into(), timestamp.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::test_headers::{with, without};
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const NOW: i64 = 1_700_000_000;

    /// A key pair from a fixed seed: (private seed hex, public key hex).
    fn pair(seed: u8) -> (String, String) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        (
            hex::encode(key.to_bytes()),
            hex::encode(key.verifying_key().to_bytes()),
        )
    }

    fn signed(body: &[u8], ts: i64, seed_hex: &str) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: None,
            url: None,
        };
        sign(&Discord, &seed_hex.into(), &input).unwrap()
    }

    fn verifier(public_hex: &str) -> Verifier {
        Verifier::builder(Discord)
            .secret(public_hex)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_with_the_interaction_id() {
        let (sk, pk) = pair(3);
        let body = br#"{"app_permissions":"0","id":"1175962391025926144","type":2}"#;
        let headers = signed(body, NOW, &sk);
        let ok = verifier(&pk).verify(&headers, body, None).unwrap();
        assert_eq!(ok.scheme(), "discord");
        assert_eq!(ok.delivery_id(), Some("1175962391025926144"));
        assert_eq!(ok.timestamp().map(|t| t.unix_timestamp()), Some(NOW));
        assert_eq!(ok.matched_signature().map(<[u8]>::len), Some(64));
        // Upper-case hex keys and signatures are accepted too.
        let upper = with(
            &headers,
            "x-signature-ed25519",
            &headers[0].1.to_ascii_uppercase(),
        );
        verifier(&pk.to_ascii_uppercase())
            .verify(&upper, body, None)
            .unwrap();
    }

    #[test]
    fn known_answer_computed_with_python_cryptography() {
        // from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        // sk = Ed25519PrivateKey.from_private_bytes(bytes([0x11] * 32))
        // sk.public_key().public_bytes(Raw, Raw).hex()
        // sk.sign(b'1700000000{"id":"1234567890","type":1}').hex()
        let public = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737";
        let signature = "7e0d03d0241bf0125d6cd42f28c9db825f72e422a00fdeeb93338fc3aae9a1c0\
                         e65e523bfc1a951f742f4820d6dfa028b051001b0035150a1c69bdcde359db04";
        let body = br#"{"id":"1234567890","type":1}"#;
        let headers = [
            ("X-Signature-Ed25519", signature),
            ("X-Signature-Timestamp", "1700000000"),
        ];
        let ok = verifier(public).verify(&headers, body, None).unwrap();
        assert_eq!(ok.delivery_id(), Some("1234567890"));
        assert_eq!(pair(0x11).1, public);
        let ours = signed(body, NOW, &pair(0x11).0);
        assert_eq!(ours[0].1, signature, "Ed25519 is deterministic");
    }

    #[test]
    fn tampered_body_timestamp_and_wrong_key_mismatch() {
        let (sk, pk) = pair(4);
        let (_, other) = pair(5);
        let body = br#"{"id":"1","type":2}"#;
        let headers = signed(body, NOW, &sk);
        let err = verifier(&pk)
            .verify(&headers, br#"{"id":"1","type":3}"#, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let moved = with(&headers, "x-signature-timestamp", "1700000001");
        let err = verifier(&pk).verify(&moved, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = verifier(&other).verify(&headers, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn malformed_and_missing_headers() {
        let (sk, pk) = pair(6);
        let body = b"{}";
        let headers = signed(body, NOW, &sk);
        let v = verifier(&pk);
        let sig = "x-signature-ed25519";
        let ts = "x-signature-timestamp";
        let short = "ab".repeat(32);
        let cases: [(&str, Option<&str>, ErrorKind); 6] = [
            (sig, None, ErrorKind::MissingHeader),
            (ts, None, ErrorKind::MissingHeader),
            (sig, Some("not hex"), ErrorKind::MalformedHeader),
            (sig, Some(&short), ErrorKind::MalformedHeader),
            (ts, Some("-1700000000"), ErrorKind::MalformedHeader),
            (ts, Some(""), ErrorKind::MalformedHeader),
        ];
        for (name, value, kind) in cases {
            let h = match value {
                Some(value) => with(&headers, name, value),
                None => without(&headers, name),
            };
            let err = v.verify(&h, body, None).unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {value:?}");
            assert_eq!(err.header(), Some(name), "{name}: {value:?}");
        }
    }

    #[test]
    fn stale_and_future_timestamps() {
        let (sk, pk) = pair(7);
        let body = b"{}";
        let v = verifier(&pk);
        v.verify(&signed(body, NOW - 300, &sk), body, None).unwrap();
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
        let (sk, pk) = pair(8);
        let body = [0xff, 0x00, 0xfe, b'}'];
        let headers = signed(&body, NOW, &sk);
        let v = verifier(&pk);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            let ok = v.verify(&h, &body, None).unwrap();
            assert_eq!(ok.delivery_id(), None);
        }
    }

    #[test]
    fn keys_must_be_64_hex_digits() {
        let (_, pk) = pair(9);
        let digits = "Discord public key must be 64 hex digits (32 bytes)";
        // 64 hex digits, but no point of the curve (y = 2 has no x).
        let not_a_point = format!("02{}", "00".repeat(31));
        for (bad, why) in [
            ("", "Discord public key is empty"),
            ("   ", "Discord public key is empty"),
            ("abcd", digits),
            (&pk[..62], digits),
            (&format!("{pk}00"), digits),
            (&format!("{}zz", &pk[..62]), digits),
            (&not_a_point, "invalid Ed25519 public key"),
        ] {
            let err = Verifier::builder(Discord).secret(bad).build().unwrap_err();
            assert_eq!(
                err.message(),
                format!("secret at index 0 (value not shown): {why}"),
                "{bad:?}"
            );
            if bad.len() > 4 {
                assert!(!err.message().contains(bad.trim()), "{err}");
            }
        }
        let err = sign(
            &Discord,
            &"not a seed".into(),
            &SignInput {
                body: b"",
                timestamp: NOW,
                id: None,
                url: None,
            },
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "Ed25519 private key seed must be 64 hex digits (32 bytes)"
        );
        // Surrounding spaces (a pasted key) are ignored.
        Verifier::builder(Discord)
            .secret(format!(" {pk}\n"))
            .build()
            .unwrap();
    }
}
