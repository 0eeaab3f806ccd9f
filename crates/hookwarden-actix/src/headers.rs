//! [`ActixHeaders`]: the core's [`Headers`] trait over actix-web's header map.

use actix_web::http::header::{HeaderMap, HeaderName};
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
/// let headers = ActixHeaders(&map);
/// // A name given at run time, and one known at compile time: the same answers.
/// for key in [HeaderKey::new("X-Sig")?, HeaderKey::from_static("x-sig")] {
///     assert_eq!(headers.get(&key, 0), Some(&b"a"[..]));
///     assert_eq!(headers.get(&key, 1), Some(&b"b"[..]));
///     assert_eq!(headers.get(&key, 2), None);
/// }
/// assert_eq!(headers.get(&HeaderKey::from_static("x-other"), 0), None);
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn get(&self, key: &HeaderKey, nth: usize) -> Option<&[u8]> {
        // actix's `get(&str)` parses the name into an `http` 0.2 `HeaderName`, which
        // allocates for every non-standard name (all the signature headers). A name
        // known at compile time (every built-in scheme's) becomes a `HeaderName` that
        // borrows it, for a hashed look-up; a name configured at run time walks the few
        // headers instead. Names are stored lowercase, as `HeaderKey`s are, and a
        // name's repeated values come in the order they were received.
        if let Some(name) = key.static_name() {
            return self
                .0
                .get_all(HeaderName::from_static(name))
                .nth(nth)
                .map(actix_web::http::header::HeaderValue::as_bytes);
        }
        let key = key.as_str();
        self.0
            .iter()
            .filter(|(name, _)| name.as_str() == key)
            .nth(nth)
            .map(|(_, value)| value.as_bytes())
    }
}
