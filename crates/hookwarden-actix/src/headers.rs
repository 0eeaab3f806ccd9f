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
        // `HeaderKey` names are validated lowercase tokens, so the look-up by `&str`
        // cannot fail to parse; a name that did would simply not be found.
        if nth == 0 {
            return self.0.get(key.as_str()).map(|v| v.as_bytes());
        }
        self.0.get_all(key.as_str()).nth(nth).map(|v| v.as_bytes())
    }
}
