//! Header shapes several schemes share, parsed in one place.

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::parse::{pairs, unix_seconds};
use crate::scheme::Parsed;
use crate::tag::Tag;

use super::SignatureEncoding;

/// One signature in `key`: optional `prefix` (`sha256=`), then hex or base64 (GitHub,
/// Shopify, WooCommerce, Linear).
pub(crate) fn one_signature<'r>(
    headers: &'r dyn Headers,
    key: &HeaderKey,
    prefix: &[u8],
    encoding: SignatureEncoding,
    parsed: &mut Parsed<'r>,
) -> Result<(), VerifyError> {
    let raw = headers
        .first(key)
        .ok_or_else(|| VerifyError::missing(key))?
        .trim_ascii();
    let encoded = raw
        .strip_prefix(prefix)
        .ok_or_else(|| VerifyError::malformed(key, "signature lacks its expected prefix"))?;
    let tag = encoding
        .decode(encoded)
        .ok_or_else(|| VerifyError::malformed(key, encoding.invalid()))?;
    parsed.add_signature(tag, key)
}

/// A `key=value` list carrying a timestamp and one or more hex signatures (Stripe
/// `t=..,v1=..,v1=..`; Paddle `ts=..;h1=..`). Other fields are ignored.
pub(crate) fn timestamp_and_signatures<'r>(
    headers: &'r dyn Headers,
    key: &HeaderKey,
    separator: u8,
    timestamp_field: &[u8],
    signature_field: &[u8],
    parsed: &mut Parsed<'r>,
) -> Result<(), VerifyError> {
    let raw = headers
        .first(key)
        .ok_or_else(|| VerifyError::missing(key))?;
    let mut seen = false;
    for (k, v) in pairs(raw, separator) {
        if k == timestamp_field {
            parsed.timestamp_raw = v;
            parsed.timestamp =
                Some(unix_seconds(v).ok_or_else(|| {
                    VerifyError::malformed(key, "timestamp is not a unix timestamp")
                })?);
        } else if k == signature_field {
            seen = true;
            if let Some(tag) = Tag::from_hex(v) {
                parsed.add_signature(tag, key)?;
            }
        }
    }
    if parsed.timestamp.is_none() {
        return Err(VerifyError::malformed(key, "no timestamp field"));
    }
    if parsed.signatures.is_empty() {
        return Err(if seen {
            VerifyError::malformed(key, "signature is not valid hex")
        } else {
            VerifyError::new(
                ErrorKind::UnsupportedSignatureVersion,
                "no signature of the supported version",
            )
            .with_header(key)
        });
    }
    Ok(())
}
