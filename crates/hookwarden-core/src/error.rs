//! Errors: why a delivery was rejected ([`VerifyError`]) and why a configuration was
//! refused ([`ConfigError`]).
//!
//! Messages name what is wrong (which header, which field, by how much the timestamp
//! is off) and never contain a secret or a computed signature.

use std::borrow::Cow;
use std::fmt;

use crate::headers::Name;

/// What kind of problem rejected a delivery. Each kind maps to one HTTP status
/// ([`ErrorKind::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A header the scheme requires is absent. Status 400.
    MissingHeader,
    /// A header is present but cannot be parsed (bad encoding, bad length, missing
    /// field). Status 400.
    MalformedHeader,
    /// The signature header only carries signature versions this scheme does not
    /// support (for example Standard Webhooks `v2,...`). Status 400.
    UnsupportedSignatureVersion,
    /// A part of the body the scheme needs (for example Linear's `webhookTimestamp`)
    /// is missing or malformed. Status 400.
    MalformedBody,
    /// The signed timestamp is older than the tolerance allows. Status 401.
    TimestampTooOld,
    /// The signed timestamp is further in the future than the tolerance allows.
    /// Status 401.
    TimestampTooNew,
    /// No signature matched any configured secret. Status 401.
    SignatureMismatch,
    /// The scheme signs the request URL, but none was given to `verify`. This is a
    /// mistake in the receiver, not in the request. Status 500.
    UrlRequired,
}

impl ErrorKind {
    /// The HTTP status code this kind of rejection maps to.
    ///
    /// ```
    /// use hookwarden_core::ErrorKind;
    /// assert_eq!(ErrorKind::SignatureMismatch.status(), 401);
    /// assert_eq!(ErrorKind::MissingHeader.status(), 400);
    /// ```
    #[must_use]
    pub const fn status(self) -> u16 {
        match self {
            Self::MissingHeader
            | Self::MalformedHeader
            | Self::UnsupportedSignatureVersion
            | Self::MalformedBody => 400,
            Self::TimestampTooOld | Self::TimestampTooNew | Self::SignatureMismatch => 401,
            Self::UrlRequired => 500,
        }
    }

    /// A short, stable, snake_case name for logs and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::MalformedHeader => "malformed_header",
            Self::UnsupportedSignatureVersion => "unsupported_signature_version",
            Self::MalformedBody => "malformed_body",
            Self::TimestampTooOld => "timestamp_too_old",
            Self::TimestampTooNew => "timestamp_too_new",
            Self::SignatureMismatch => "signature_mismatch",
            Self::UrlRequired => "url_required",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a delivery was rejected.
///
/// Opaque: inspect it with [`kind`](Self::kind), [`status`](Self::status),
/// [`header`](Self::header) and [`skew`](Self::skew). Its `Display` names what is wrong
/// and never reveals a secret or a computed signature.
///
/// ```
/// use hookwarden_core::{schemes::Github, ErrorKind, Verifier};
///
/// let verifier = Verifier::builder(Github::new()).secret("s3cret").build()?;
/// let err = verifier.verify(&[("x-other", "1")], b"{}", None).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingHeader);
/// assert_eq!(err.status(), 400);
/// assert_eq!(err.header(), Some("x-hub-signature-256"));
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyError {
    kind: ErrorKind,
    header: Option<Name>,
    detail: &'static str,
    skew: Option<time::Duration>,
}

impl VerifyError {
    /// A new error of `kind` with a short static detail.
    #[must_use]
    pub const fn new(kind: ErrorKind, detail: &'static str) -> Self {
        Self {
            kind,
            header: None,
            detail,
            skew: None,
        }
    }

    /// A required header is missing.
    #[must_use]
    pub fn missing(header: &crate::HeaderKey) -> Self {
        Self::new(ErrorKind::MissingHeader, "required header is missing").with_header(header)
    }

    /// A header is malformed; `detail` says how.
    #[must_use]
    pub fn malformed(header: &crate::HeaderKey, detail: &'static str) -> Self {
        Self::new(ErrorKind::MalformedHeader, detail).with_header(header)
    }

    /// Attach the name of the header concerned.
    #[must_use]
    pub fn with_header(mut self, header: &crate::HeaderKey) -> Self {
        self.header = Some(header.name());
        self
    }

    pub(crate) const fn with_skew(mut self, skew: time::Duration) -> Self {
        self.skew = Some(skew);
        self
    }

    /// The kind of rejection.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status this rejection maps to (see [`ErrorKind::status`]).
    #[must_use]
    pub const fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The header concerned, lowercase, when the problem is with one header.
    #[must_use]
    pub fn header(&self) -> Option<&str> {
        self.header.as_deref()
    }

    /// A short description of the problem (no secret, no signature).
    #[must_use]
    pub const fn detail(&self) -> &'static str {
        self.detail
    }

    /// For a timestamp out of tolerance: how far the timestamp is from now
    /// (negative: in the past).
    #[must_use]
    pub const fn skew(&self) -> Option<time::Duration> {
        self.skew
    }
}

impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyError")
            .field("kind", &self.kind)
            .field("header", &self.header)
            .field("detail", &self.detail)
            .field("skew", &self.skew)
            .finish()
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        if let Some(h) = &self.header {
            write!(f, " ({})", &**h)?;
        }
        write!(f, ": {}", self.detail)?;
        if let Some(skew) = self.skew {
            write!(f, " (timestamp is {}s from now)", skew.whole_seconds())?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

/// A configuration was refused: a bad secret, an invalid header name, an empty set
/// of secrets, a scheme name that does not exist... The message says what is wrong
/// and never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: Cow<'static, str>,
}

impl ConfigError {
    /// A configuration error with `message`. The message must not contain a secret.
    #[must_use]
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// What is wrong.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderKey;

    /// Every kind's status and name, as the adapters answer and the logs report them:
    /// a kind moved to another status (a 401 answered 400, say) changes what senders
    /// retry.
    #[test]
    fn each_kind_has_its_status_and_name() {
        let table = [
            (ErrorKind::MissingHeader, 400, "missing_header"),
            (ErrorKind::MalformedHeader, 400, "malformed_header"),
            (
                ErrorKind::UnsupportedSignatureVersion,
                400,
                "unsupported_signature_version",
            ),
            (ErrorKind::MalformedBody, 400, "malformed_body"),
            (ErrorKind::TimestampTooOld, 401, "timestamp_too_old"),
            (ErrorKind::TimestampTooNew, 401, "timestamp_too_new"),
            (ErrorKind::SignatureMismatch, 401, "signature_mismatch"),
            (ErrorKind::UrlRequired, 500, "url_required"),
        ];
        for (kind, status, name) in table {
            assert_eq!((kind.status(), kind.as_str()), (status, name), "{kind:?}");
            assert_eq!(kind.to_string(), name);
            let err = VerifyError::new(kind, "d");
            assert_eq!((err.kind(), err.status()), (kind, status));
        }
    }

    #[test]
    fn display_names_the_header_and_the_skew() {
        let key = HeaderKey::from_static("webhook-timestamp");
        assert_eq!(
            VerifyError::missing(&key).to_string(),
            "missing_header (webhook-timestamp): required header is missing"
        );
        let err = VerifyError::malformed(&key, "not a unix timestamp in seconds");
        assert_eq!(
            (err.kind(), err.header(), err.detail()),
            (
                ErrorKind::MalformedHeader,
                Some("webhook-timestamp"),
                "not a unix timestamp in seconds"
            )
        );
        let stale = VerifyError::new(ErrorKind::TimestampTooOld, "too old")
            .with_skew(time::Duration::seconds(-301));
        assert_eq!(
            stale.to_string(),
            "timestamp_too_old: too old (timestamp is -301s from now)"
        );
        assert_eq!(ConfigError::new("bad").to_string(), "bad");
    }
}
