//! GitLab.

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

static TOKEN: HeaderKey = HeaderKey::from_static("x-gitlab-token");
static IDEMPOTENCY_KEY: HeaderKey = HeaderKey::from_static("idempotency-key");
static EVENT_UUID: HeaderKey = HeaderKey::from_static("x-gitlab-event-uuid");

/// [GitLab](https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers)
/// project, group and system hooks.
///
/// | | |
/// |---|---|
/// | headers | `X-Gitlab-Token` (the secret token itself), `Idempotency-Key` / `X-Gitlab-Event-UUID` (id, not signed) |
/// | signed content | nothing: GitLab signs nothing, it sends the shared token as is |
/// | signature | none; the token is compared with the secret through their SHA-256 digests, in constant time ([`Algorithm::Token`]) |
/// | secret | the hook's *Secret token*, its bytes |
/// | timestamp | none: GitLab sends no timestamp and signs nothing (the token is the proof): TLS is what stops a replay |
/// | delivery id | `Idempotency-Key` (GitLab 17.4+, kept across retries and manual resends), else `X-Gitlab-Event-UUID` |
///
/// # Security
///
/// The token authenticates the sender only: the body is not signed, so anyone who can
/// read or alter the traffic can alter a delivery. Use HTTPS end to end.
/// `X-Gitlab-Event-UUID` is shared by a hook and the recursive hooks it triggers, and is
/// not documented as stable across retries, which is why `Idempotency-Key` comes first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gitlab;

impl Gitlab {
    /// The GitLab scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::Token
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        None
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&TOKEN)
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let token = headers
            .first(&TOKEN)
            .ok_or_else(|| VerifyError::missing(&TOKEN))?;
        if token.is_empty() {
            return Err(VerifyError::malformed(&TOKEN, "token is empty"));
        }
        let id = headers
            .first(&IDEMPOTENCY_KEY)
            .filter(|id| !id.is_empty())
            .or_else(|| headers.first(&EVENT_UUID).filter(|id| !id.is_empty()));
        parsed.id = id;
        parsed.token = token;
        Ok(())
    }

    fn signed_content(
        &self,
        _req: &Request<'_>,
        _parsed: &Parsed<'_>,
        _variant: usize,
        _sink: &mut dyn FnMut(&[u8]),
    ) {
        // Nothing is signed: the token is the proof.
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        _timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        vec![
            (
                "X-Gitlab-Token".into(),
                String::from_utf8_lossy(signature).into_owned(),
            ),
            ("X-Gitlab-Event-UUID".into(), id.to_owned()),
            ("Idempotency-Key".into(), id.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const SECRET: &str = "gitlab-hook-secret-token";

    fn signed(body: &[u8], secret: &str, id: Option<&str>) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: 1_700_000_000,
            id,
            url: None,
        };
        sign(&Gitlab, &secret.into(), &input).unwrap()
    }

    fn verifier(secret: &str) -> Verifier {
        Verifier::builder(Gitlab)
            .secret(secret)
            .clock(ManualClock::new(1_700_000_000))
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_prefers_the_idempotency_key() {
        let body = br#"{"object_kind":"push"}"#;
        let headers = signed(body, SECRET, Some("f5e5f430-f57b-4e6e-9fac-d9128cd7232f"));
        assert_eq!(headers[0], ("X-Gitlab-Token".into(), SECRET.into()));
        let v = verifier(SECRET);
        let ok = v.verify(&headers, body, None).unwrap();
        assert_eq!(ok.scheme(), "gitlab");
        assert_eq!(ok.timestamp(), None);
        assert_eq!(
            ok.delivery_id(),
            Some("f5e5f430-f57b-4e6e-9fac-d9128cd7232f")
        );
        assert_eq!(ok.matched_signature(), None);

        // Headers as documented by GitLab: the idempotency key wins over the event UUID.
        let documented = [
            ("X-Gitlab-Event", "Push Hook"),
            ("X-Gitlab-Token", SECRET),
            (
                "X-Gitlab-Event-UUID",
                "13792a34-cac6-4fda-95a8-c58e00a3954e",
            ),
            ("Idempotency-Key", "f5e5f430-f57b-4e6e-9fac-d9128cd7232f"),
        ];
        let ok = v.verify(&documented, body, None).unwrap();
        assert_eq!(
            ok.delivery_id(),
            Some("f5e5f430-f57b-4e6e-9fac-d9128cd7232f")
        );
        // Before GitLab 17.4 there is no idempotency key: the event UUID is used.
        let older = [
            ("X-Gitlab-Token", SECRET),
            (
                "X-Gitlab-Event-UUID",
                "13792a34-cac6-4fda-95a8-c58e00a3954e",
            ),
            ("Idempotency-Key", ""),
        ];
        let ok = v.verify(&older, body, None).unwrap();
        assert_eq!(
            ok.delivery_id(),
            Some("13792a34-cac6-4fda-95a8-c58e00a3954e")
        );
        let bare = [("X-Gitlab-Token", SECRET)];
        assert_eq!(v.verify(&bare, body, None).unwrap().delivery_id(), None);
    }

    #[test]
    fn any_body_passes_with_the_token_but_a_wrong_token_does_not() {
        let body = br#"{"object_kind":"push"}"#;
        let headers = signed(body, SECRET, None);
        let v = verifier(SECRET);
        // The body is not signed: GitLab's token authenticates the sender only.
        v.verify(&headers, b"{\"object_kind\":\"tag_push\"}", None)
            .unwrap();
        for token in [
            "gitlab-hook-secret-tokeN",
            "gitlab-hook-secret-token ",
            "gitlab-hook-secret-toke",
            "x",
        ] {
            let err = v
                .verify(&[("X-Gitlab-Token", token)], body, None)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SignatureMismatch, "{token:?}");
            assert!(!format!("{err} {err:?}").contains(token.trim()), "{err}");
        }
        let err = verifier("another-secret")
            .verify(&headers, body, None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn rotation_reports_the_matching_secret() {
        let v = Verifier::builder(Gitlab)
            .secret("old-token")
            .secret(SECRET)
            .build()
            .unwrap();
        let ok = v
            .verify(&[("X-Gitlab-Token", SECRET)], b"{}", None)
            .unwrap();
        assert_eq!(ok.key_index(), 1);
        let ok = v
            .verify(&[("X-Gitlab-Token", "old-token")], b"{}", None)
            .unwrap();
        assert_eq!(ok.key_index(), 0);
    }

    #[test]
    fn missing_and_empty_token() {
        let v = verifier(SECRET);
        let err = v
            .verify(&[("X-Gitlab-Event-UUID", "u")], b"{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("x-gitlab-token"));
        let err = v
            .verify(&[("X-Gitlab-Token", "")], b"{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedHeader);
        assert_eq!(err.header(), Some("x-gitlab-token"));
        assert_eq!(
            v.precheck(&[("X-Gitlab-Token", "")]).unwrap_err().kind(),
            ErrorKind::MalformedHeader
        );
    }

    #[test]
    fn header_names_in_any_case_and_non_utf8_body_and_token() {
        let body = [0xff, 0xfe, 0x00];
        let headers = signed(&body, SECRET, Some("id-1"));
        let v = verifier(SECRET);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let h: Vec<_> = headers.iter().map(|(k, x)| (case(k), x.clone())).collect();
            assert_eq!(
                v.verify(&h, &body, None).unwrap().delivery_id(),
                Some("id-1")
            );
        }
        // A token of arbitrary bytes is compared as bytes.
        let raw = vec![0xc3u8, 0x28, b'k'];
        let v = Verifier::builder(Gitlab)
            .secret(crate::Secret::from_bytes(raw.clone()))
            .build()
            .unwrap();
        let h: [(&str, &[u8]); 1] = [("x-gitlab-token", &raw)];
        v.verify(&h, &body, None).unwrap();
    }
}
