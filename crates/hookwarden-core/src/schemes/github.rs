//! GitHub.

use crate::error::VerifyError;
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tolerance::Tolerance;

use super::SignatureEncoding;

static SIGNATURE: HeaderKey = HeaderKey::from_static("x-hub-signature-256");
static DELIVERY: HeaderKey = HeaderKey::from_static("x-github-delivery");

/// [GitHub](https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
///
/// | | |
/// |---|---|
/// | headers | `X-Hub-Signature-256` (signature), `X-GitHub-Delivery` (id, not signed) |
/// | signed content | the body |
/// | signature | `sha256=` + hex HMAC-SHA256 |
/// | secret | the string as configured on GitHub, its bytes |
/// | timestamp | none: GitHub signs no timestamp, nor `X-GitHub-Delivery`: the default dedup key is the signature's digest, which a replay with another id does not change |
/// | delivery id | `X-GitHub-Delivery` (a redelivery keeps the same id) |
#[derive(Debug, Clone, Copy, Default)]
pub struct Github;

impl Github {
    /// The GitHub scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Scheme for Github {
    fn name(&self) -> &'static str {
        "github"
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
        super::fields::one_signature(
            headers,
            &SIGNATURE,
            b"sha256=",
            SignatureEncoding::Hex,
            parsed,
        )?;
        parsed.id = headers.first(&DELIVERY);
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
            (
                "X-Hub-Signature-256".into(),
                format!("sha256={}", hex::encode(signature)),
            ),
            ("X-GitHub-Delivery".into(), id.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Verifier};

    /// GitHub is the one built-in scheme whose single signature carries a prefix
    /// (`sha256=`): without it, or with a digest that is not hex, the header is
    /// malformed (400, header named), before any MAC.
    #[test]
    fn a_malformed_signature_header_names_the_header_and_the_problem() {
        let v = Verifier::builder(Github::new())
            .secret("s")
            .build()
            .unwrap();
        let hex = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let sha1 = format!("sha1={}", &hex[..40]);
        let no_prefix = "signature lacks its expected prefix";
        let not_hex = "signature is not valid hex";
        for (value, detail) in [
            (hex, no_prefix),
            (sha1.as_str(), no_prefix),
            ("", no_prefix),
            ("sha256=", not_hex),
            ("sha256=zz", not_hex),
            ("sha256=abc", not_hex),
        ] {
            let err = v
                .verify(&[("X-Hub-Signature-256", value)], b"x", None)
                .unwrap_err();
            assert_eq!(
                (err.kind(), err.header(), err.detail()),
                (
                    ErrorKind::MalformedHeader,
                    Some("x-hub-signature-256"),
                    detail
                ),
                "{value:?}"
            );
        }
        // The legacy SHA-1 header alone is not the signature GitHub's scheme reads.
        let err = v
            .verify(&[("X-Hub-Signature", sha1.as_str())], b"x", None)
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.header()),
            (ErrorKind::MissingHeader, Some("x-hub-signature-256"))
        );
    }
}
