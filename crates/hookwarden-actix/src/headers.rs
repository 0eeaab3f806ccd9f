//! [`ActixHeaders`]: the core's [`Headers`] trait over actix-web's header map.

use actix_web::http::header::HeaderMap;
use hookwarden_core::{HeaderKey, Headers};

/// actix-web's [`HeaderMap`] (`http` 0.2 types) seen through the core's [`Headers`]
/// trait, without converting to `http` 1.x. A newtype because neither the trait nor
/// the map belongs to this crate.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use hookwarden_actix::ActixHeaders;
/// use hookwarden_core::{HeaderKey, Headers};
///
/// let mut map = HeaderMap::new();
/// map.append(HeaderName::from_static("x-sig"), HeaderValue::from_static("a"));
/// map.append(HeaderName::from_static("x-sig"), HeaderValue::from_static("b"));
/// let key = HeaderKey::new("X-Sig")?;
/// let headers = ActixHeaders(&map);
/// assert_eq!(headers.get(&key, 0), Some(&b"a"[..]));
/// assert_eq!(headers.get(&key, 1), Some(&b"b"[..]));
/// assert_eq!(headers.get(&key, 2), None);
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        // actix's `get(&str)` parses the name into an `http` 0.2 `HeaderName`, which
        // allocates for every non-standard name (all the signature headers): walk the
        // few headers instead. Names are stored lowercase, as `HeaderKey`s are, and a
        // name's repeated values come in the order they were received.
        let key = key.as_str();
        self.0
            .iter()
            .filter(|(name, _)| name.as_str() == key)
            .nth(nth)
            .map(|(_, value)| value.as_bytes())
    }
}
