//! Signing deliveries the way each provider does: for tests, local tools and the CLI.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::ConfigError;
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::secret::Secret;

/// Sign `input` with `secret` the way `scheme` does, and return the headers to send.
///
/// For the Ed25519 schemes the secret is the private key (`whsk_...` for Standard
/// Webhooks, 64 hex digits for Discord). When `input.id` is `None` and the scheme
/// signs an id, one is derived from the timestamp and body (`msg_` + 24 hex digits).
///
/// ```
/// use hookwarden_core::{schemes::Github, sign, SignInput};
/// let headers = sign(&Github::new(), &"It's a Secret to Everybody".into(),
///     &SignInput { body: b"Hello, World!", timestamp: 0, id: None, url: None })?;
/// assert_eq!(headers[0], ("X-Hub-Signature-256".to_string(),
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".to_string()));
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
///
/// # Errors
///
/// [`ConfigError`] when the secret is not in the scheme's format, or the scheme signs
/// the URL and none was given.
pub fn sign(
    scheme: &dyn Scheme,
    secret: &Secret,
    input: &SignInput<'_>,
) -> Result<Vec<(String, String)>, ConfigError> {
    if scheme.signs_url() && input.url.is_none() {
        return Err(ConfigError::new(format!(
            "scheme {} signs the URL: give one",
            scheme.name()
        )));
    }
    let timestamp = scheme.format_timestamp(input.timestamp);
    let derived;
    let id = match input.id {
        Some(id) => id,
        None => {
            let mut h = Sha256::new();
            h.update(input.timestamp.to_be_bytes());
            h.update(input.body);
            derived = format!("msg_{}", &hex::encode(h.finalize())[..24]);
            &derived
        }
    };
    let parsed = Parsed {
        timestamp: Some(input.timestamp),
        timestamp_raw: timestamp.as_bytes(),
        id: Some(id.as_bytes()),
        ..Parsed::default()
    };
    let no_headers: [(&str, &str); 0] = [];
    let req = Request {
        headers: &no_headers,
        body: input.body,
        url: input.url,
    };
    let mut content = Vec::new();
    scheme.signed_content(&req, &parsed, 0, &mut |chunk| {
        content.extend_from_slice(chunk)
    });
    let signature = signature_over(scheme, secret, &content)?;
    Ok(scheme.sign_headers(&signature, input, &timestamp, id))
}

/// The signature, wiped when dropped: for a token scheme (GitLab) it is the secret
/// itself.
fn signature_over(
    scheme: &dyn Scheme,
    secret: &Secret,
    content: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    use hmac::{Hmac, KeyInit, Mac};
    fn mac<M: Mac + KeyInit>(
        key: &[u8],
        content: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        let mut m = <M as KeyInit>::new_from_slice(key)
            .map_err(|_| ConfigError::new("secret cannot be used as an HMAC key"))?;
        m.update(content);
        Ok(Zeroizing::new(m.finalize().into_bytes().to_vec()))
    }
    match scheme.algorithm() {
        Algorithm::HmacSha1 => mac::<Hmac<sha1::Sha1>>(&scheme.key_bytes(secret)?, content),
        Algorithm::HmacSha256 => mac::<Hmac<Sha256>>(&scheme.key_bytes(secret)?, content),
        Algorithm::HmacSha512 => mac::<Hmac<sha2::Sha512>>(&scheme.key_bytes(secret)?, content),
        Algorithm::Token => scheme.key_bytes(secret),
        #[cfg(feature = "ed25519")]
        Algorithm::Ed25519 => {
            use ed25519_dalek::Signer as _;
            let seed = scheme.signing_key_bytes(secret)?;
            let seed: &[u8; 32] = seed
                .as_slice()
                .try_into()
                .map_err(|_| ConfigError::new("an Ed25519 private key must be 32 bytes"))?;
            let key = ed25519_dalek::SigningKey::from_bytes(seed);
            Ok(Zeroizing::new(key.sign(content).to_bytes().to_vec()))
        }
        #[cfg(not(feature = "ed25519"))]
        Algorithm::Ed25519 => Err(ConfigError::new(crate::key::NEEDS_ED25519)),
    }
}
