//! Standard Webhooks (<https://www.standardwebhooks.com>) and Svix.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::error::{ConfigError, ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::unix_seconds;
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
    let raw = raw.strip_prefix(prefix.as_bytes()).unwrap_or(raw);
    if raw.is_empty() {
        return Err(ConfigError::new(format!("{what} is empty")));
    }
    let bytes =
        Zeroizing::new(B64.decode(raw).map_err(|_| {
            ConfigError::new(format!("{what} is not valid base64 after `{prefix}`"))
        })?);
    if bytes.is_empty() {
        return Err(ConfigError::new(format!("{what} is empty")));
    }
    Ok(bytes)
}

fn parse_standard<'r>(
    names: &Names,
    version: &[u8],
    headers: &'r dyn Headers,
) -> Result<Parsed<'r>, VerifyError> {
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
    let mut parsed = Parsed {
        timestamp: Some(timestamp),
        timestamp_raw: ts_raw,
        id: Some(id),
        ..Parsed::default()
    };
    let mut ours = 0usize;
    for item in sig.split(|&b| b == b' ').filter(|i| !i.is_empty()) {
        let Some(comma) = item.iter().position(|&b| b == b',') else {
            continue;
        };
        if &item[..comma] != version {
            continue;
        }
        ours += 1;
        if let Some(tag) = Tag::from_base64(&item[comma + 1..]) {
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
    Ok(parsed)
}

fn content(req: &Request<'_>, parsed: &Parsed<'_>, sink: &mut dyn FnMut(&[u8])) {
    sink(parsed.id.unwrap_or_default());
    sink(b".");
    sink(parsed.timestamp_raw);
    sink(b".");
    sink(req.body);
}

impl Scheme for StandardWebhooks {
    fn name(&self) -> &'static str {
        "standard"
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
        // Accept a 32-byte seed or a 64-byte seed+public keypair.
        if key.len() == 64 {
            key.truncate(32);
        }
        Ok(key)
    }

    fn parse<'r>(&self, headers: &'r dyn Headers) -> Result<Parsed<'r>, VerifyError> {
        parse_standard(self.names(), self.version(), headers)
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

    fn parse<'r>(&self, headers: &'r dyn Headers) -> Result<Parsed<'r>, VerifyError> {
        let names = if headers.first(&SVIX.id).is_some() || headers.first(&WEBHOOK.id).is_none() {
            &SVIX
        } else {
            &WEBHOOK
        };
        parse_standard(names, b"v1", headers)
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
