//! Framework-free access to request headers.
//!
//! The core never needs a web framework's types: it reads headers through the small
//! [`Headers`] trait. It is implemented here for slices of `(name, value)` pairs (and
//! `Vec`s of them), and, behind the `http` feature, for [`http::HeaderMap`]. The actix
//! adapter implements it for actix-web's own header map.
//!
//! Header names are looked up with a [`HeaderKey`], built once: on an `http::HeaderMap`
//! this uses a prebuilt `http::HeaderName` and avoids re-parsing the name on every request.

use std::fmt;
use std::sync::Arc;

use crate::error::ConfigError;

/// A header name, lowercased and validated once, for repeated look-ups.
///
/// ```
/// use hookwarden_core::HeaderKey;
///
/// const SIGNATURE: HeaderKey = HeaderKey::from_static("x-hub-signature-256");
/// let custom = HeaderKey::new("X-My-Signature")?;
/// assert_eq!(custom.as_str(), "x-my-signature");
/// assert_eq!(SIGNATURE.as_str(), "x-hub-signature-256");
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HeaderKey {
    name: Name,
    #[cfg(feature = "http")]
    http: http::HeaderName,
}

/// A header name, known at compile time or shared: cloned without a copy (an error
/// naming a run-time header makes no allocation).
#[derive(Clone)]
pub(crate) enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Shared(s) => s,
        }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Name {}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl HeaderKey {
    /// A header name known at compile time. It must already be lowercase and a valid
    /// header token; use it in a `const` so that a bad name fails the build.
    ///
    /// # Panics
    ///
    /// Panics (at compile time in a `const`) when `name` is empty, not lowercase or
    /// contains a character not allowed in a header name.
    #[must_use]
    pub const fn from_static(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        assert!(!bytes.is_empty(), "header name is empty");
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                is_lower_token(bytes[i]),
                "header name must be a lowercase token"
            );
            i += 1;
        }
        Self {
            name: Name::Static(name),
            #[cfg(feature = "http")]
            http: http::HeaderName::from_static(name),
        }
    }

    /// A header name given at run time (any case).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the name is empty or holds a character that a header name
    /// cannot contain.
    pub fn new(name: &str) -> Result<Self, ConfigError> {
        if name.is_empty() || !name.bytes().all(|b| is_lower_token(b.to_ascii_lowercase())) {
            return Err(ConfigError::new(format!("invalid header name {name:?}")));
        }
        let lower = name.to_ascii_lowercase();
        #[cfg(feature = "http")]
        let http = http::HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| ConfigError::new(format!("invalid header name {name:?}")))?;
        Ok(Self {
            name: Name::Shared(Arc::from(lower)),
            #[cfg(feature = "http")]
            http,
        })
    }

    /// The name, when it was known at compile time ([`from_static`](Self::from_static)):
    /// an adapter can build its framework's own header name from it without
    /// allocating.
    ///
    /// ```
    /// use hookwarden_core::HeaderKey;
    /// assert_eq!(HeaderKey::from_static("webhook-id").static_name(), Some("webhook-id"));
    /// assert_eq!(HeaderKey::new("webhook-id")?.static_name(), None);
    /// # Ok::<(), hookwarden_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn static_name(&self) -> Option<&'static str> {
        match self.name {
            Name::Static(s) => Some(s),
            Name::Shared(_) => None,
        }
    }

    /// The lowercase name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The name, shared: for an error that names the header without copying it.
    pub(crate) fn name(&self) -> Name {
        self.name.clone()
    }

    /// The prebuilt `http` header name.
    #[cfg(feature = "http")]
    #[must_use]
    pub fn http_name(&self) -> &http::HeaderName {
        &self.http
    }
}

impl fmt::Debug for HeaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Display for HeaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

const fn is_lower_token(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*'
        | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// Read access to a request's headers: case-insensitive, with repeated headers visible.
///
/// Values are raw bytes: nothing requires them to be UTF-8.
///
/// ```
/// use hookwarden_core::{HeaderKey, Headers};
///
/// let headers = [("X-Sig", "a"), ("x-sig", "b")];
/// let key = HeaderKey::new("x-sig")?;
/// assert_eq!(headers.get(&key, 0), Some(&b"a"[..]));
/// assert_eq!(headers.get(&key, 1), Some(&b"b"[..]));
/// assert_eq!(headers.get(&key, 2), None);
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of headers hookwarden can read",
    note = "`Headers` is implemented for slices, arrays and `Vec`s of `(name, value)` pairs, and for `http::HeaderMap` with the `http` feature (on with hookwarden's `tower` and `axum` features)"
)]
pub trait Headers {
    /// The `nth` value (0-based, in order of appearance) of the header `key`.
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]>;

    /// The first value of `key`.
    fn first(&self, key: &HeaderKey) -> Option<&[u8]> {
        self.get(key, 0)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        self.iter()
            .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(key.as_str()))
            .nth(nth)
            .map(|(_, v)| v.as_ref())
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const L: usize> Headers for [(N, V); L] {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        Headers::get(self.as_slice(), key, nth)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        Headers::get(self.as_slice(), key, nth)
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        (**self).get(key, nth)
    }
}

#[cfg(feature = "http")]
impl Headers for http::HeaderMap {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        if nth == 0 {
            return http::HeaderMap::get(self, key.http_name()).map(http::HeaderValue::as_bytes);
        }
        self.get_all(key.http_name())
            .iter()
            .nth(nth)
            .map(http::HeaderValue::as_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_are_validated_and_lowercased() {
        assert_eq!(
            HeaderKey::new("X-Hub-Signature").unwrap().as_str(),
            "x-hub-signature"
        );
        for bad in ["", "bad name", "bad:name", "x-\u{e9}", "x-sig\n"] {
            assert_eq!(
                HeaderKey::new(bad).unwrap_err().message(),
                format!("invalid header name {bad:?}")
            );
        }
    }

    #[test]
    fn pairs_lookup_is_case_insensitive_and_sees_repeats() {
        let h = vec![
            ("A".to_string(), b"1".to_vec()),
            ("b".into(), b"2".to_vec()),
            ("a".into(), vec![0xff]),
        ];
        let a = HeaderKey::from_static("a");
        assert_eq!(h.get(&a, 0), Some(&b"1"[..]));
        assert_eq!(h.get(&a, 1), Some(&[0xff][..]));
        assert_eq!(h.get(&a, 2), None);
    }

    #[cfg(feature = "http")]
    #[test]
    fn header_map_lookup_sees_repeats() {
        let mut m = http::HeaderMap::new();
        m.append("x-a", http::HeaderValue::from_static("1"));
        m.append("X-A", http::HeaderValue::from_static("2"));
        let a = HeaderKey::new("X-A").unwrap();
        assert_eq!(Headers::get(&m, &a, 0), Some(&b"1"[..]));
        assert_eq!(Headers::get(&m, &a, 1), Some(&b"2"[..]));
        assert_eq!(Headers::get(&m, &a, 2), None);
    }
}
