//! [`Secret`]: a signing secret or key, redacted in `Debug` and zeroized on drop.

use std::fmt;

use zeroize::Zeroizing;

/// A webhook secret exactly as the provider shows it (for example `whsec_...` for
/// Standard Webhooks, `whsec_...` for Stripe, any string for GitHub).
///
/// How the string becomes key bytes is the scheme's business
/// ([`Scheme::key_bytes`](crate::Scheme::key_bytes)): Standard Webhooks strips `whsec_`
/// and base64-decodes the rest, Stripe uses the whole string, prefix included.
///
/// # Security
///
/// `Debug` prints `Secret(<redacted>)`; there is no `Display`; the bytes are zeroized
/// when the secret is dropped.
///
/// ```
/// use hookwarden_core::Secret;
/// let s = Secret::new("whsec_c2VjcmV0");
/// assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

/// Equal secrets, compared in constant time (the lengths are not hidden).
///
/// ```
/// use hookwarden_core::Secret;
/// assert_eq!(Secret::new("s3cret"), Secret::from_bytes(*b"s3cret"));
/// assert_ne!(Secret::new("s3cret"), Secret::new("s3creT"));
/// ```
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl Eq for Secret {}

impl Secret {
    /// A secret from its string form.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into().into_bytes()))
    }

    /// A secret given as raw bytes.
    #[must_use]
    pub fn from_bytes(secret: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret's bytes. Keep them out of logs and error messages.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Whether the secret is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&String> for Secret {
    fn from(s: &String) -> Self {
        Self::new(s.as_str())
    }
}

impl From<Vec<u8>> for Secret {
    fn from(s: Vec<u8>) -> Self {
        Self::from_bytes(s)
    }
}

impl From<&[u8]> for Secret {
    fn from(s: &[u8]) -> Self {
        Self::from_bytes(s)
    }
}
