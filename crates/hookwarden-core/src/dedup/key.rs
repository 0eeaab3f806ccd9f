//! [`DedupKey`]: the namespaced, length-bounded key a delivery is claimed under.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The longest key kept as it is, in bytes. A longer one is replaced by the SHA-256
/// of the whole namespaced key (never truncated, so two long keys never collide by
/// sharing a prefix).
pub const MAX_KEY_LEN: usize = 255;

/// The key a delivery is claimed under: `"{namespace}:{key}"`.
///
/// Cheap to clone (an `Arc<str>`). At most [`MAX_KEY_LEN`] bytes: a longer namespaced
/// key becomes `"{namespace}:sha256:{hex}"`, the hex SHA-256 of the whole namespaced
/// key (just `"sha256:{hex}"` when the namespace alone is too long to fit).
///
/// ```
/// use hookwarden_core::dedup::DedupKey;
///
/// let key = DedupKey::new("stripe-billing", "evt_1NG8Du2eZvKYlo2CUI79vXWy");
/// assert_eq!(key.as_str(), "stripe-billing:evt_1NG8Du2eZvKYlo2CUI79vXWy");
///
/// let long = DedupKey::new("ns", &"x".repeat(300));
/// assert!(long.as_str().starts_with("ns:sha256:"));
/// assert_eq!(long.as_str().len(), "ns:sha256:".len() + 64);
/// assert_ne!(long, DedupKey::new("ns", &"x".repeat(301)));
/// ```
#[derive(Clone)]
pub struct DedupKey {
    key: Arc<str>,
    /// The first 128 bits of the key's SHA-256, computed with the key (one SHA-256
    /// block for a key of up to 55 bytes): the memory store looks the key up by it at
    /// claim and again at completion.
    digest: [u8; 16],
}

impl PartialEq for DedupKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for DedupKey {}

impl std::hash::Hash for DedupKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialOrd for DedupKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DedupKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl DedupKey {
    fn from_arc(key: Arc<str>) -> Self {
        let d = Sha256::digest(key.as_bytes());
        let mut digest = [0; 16];
        digest.copy_from_slice(&d[..16]);
        Self { key, digest }
    }

    /// The first 128 bits of the key's SHA-256.
    pub(crate) fn digest(&self) -> [u8; 16] {
        self.digest
    }

    /// `"{namespace}:{key}"`, hashed when longer than [`MAX_KEY_LEN`] bytes.
    #[must_use]
    pub fn new(namespace: &str, key: &str) -> Self {
        let len = namespace.len() + 1 + key.len();
        if len <= MAX_KEY_LEN {
            // Assembled on the stack: the `Arc<str>` is the only allocation.
            let mut s = arrayvec::ArrayString::<MAX_KEY_LEN>::new();
            if s.try_push_str(namespace).is_ok()
                && s.try_push(':').is_ok()
                && s.try_push_str(key).is_ok()
            {
                return Self::from_arc(Arc::from(s.as_str()));
            }
        }
        let digest = Sha256::new()
            .chain_update(namespace.as_bytes())
            .chain_update(b":")
            .chain_update(key.as_bytes())
            .finalize();
        let mut s = String::with_capacity(namespace.len() + 8 + 64);
        if namespace.len() + 8 + 64 <= MAX_KEY_LEN {
            s.push_str(namespace);
            s.push(':');
        }
        s.push_str("sha256:");
        push_hex(&mut s, &digest);
        Self::from_arc(s.into())
    }

    /// A key taken as it is, already namespaced (for example read back from a log).
    /// Hashed like [`new`](Self::new) (as `"sha256:{hex}"`) when longer than
    /// [`MAX_KEY_LEN`] bytes.
    #[must_use]
    pub fn from_namespaced(key: &str) -> Self {
        if key.len() <= MAX_KEY_LEN {
            return Self::from_arc(key.into());
        }
        let mut s = String::with_capacity(7 + 64);
        s.push_str("sha256:");
        push_hex(&mut s, &Sha256::digest(key.as_bytes()));
        Self::from_arc(s.into())
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The key's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.key.as_bytes()
    }
}

/// Append the lowercase hex of `bytes` to `s`.
pub(crate) fn push_hex(s: &mut String, bytes: &[u8]) {
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
}

impl fmt::Debug for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.key, f)
    }
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

impl AsRef<str> for DedupKey {
    fn as_ref(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_sha256_prefix_of_the_stored_key() {
        let key = DedupKey::new("ns", "evt_1");
        assert_eq!(&key.digest()[..], &Sha256::digest(b"ns:evt_1")[..16]);
        assert_eq!(key.clone().digest(), key.digest());
        let long = DedupKey::new("ns", &"x".repeat(300));
        assert_eq!(&long.digest()[..], &Sha256::digest(long.as_bytes())[..16]);
        let raw = DedupKey::from_namespaced("ns:evt_1");
        assert_eq!(raw.digest(), key.digest());
        assert_ne!(DedupKey::new("ns", "evt_2").digest(), key.digest());
    }

    #[test]
    fn short_keys_are_namespaced_verbatim() {
        let k = DedupKey::new("ns", "msg_1");
        assert_eq!(k.as_str(), "ns:msg_1");
        assert_eq!(k.to_string(), "ns:msg_1");
        assert_eq!(format!("{k:?}"), "\"ns:msg_1\"");
        assert_ne!(DedupKey::new("a", "x"), DedupKey::new("b", "x"));
    }

    #[test]
    fn the_limit_is_inclusive() {
        let key = "k".repeat(MAX_KEY_LEN - 3);
        let k = DedupKey::new("ns", &key);
        assert_eq!(k.as_str().len(), MAX_KEY_LEN);
        assert_eq!(k.as_str(), format!("ns:{key}"));
        let k = DedupKey::new("ns", &format!("{key}k"));
        assert!(k.as_str().starts_with("ns:sha256:"));
    }

    #[test]
    fn long_keys_are_hashed_whole_never_truncated() {
        let prefix = "p".repeat(400);
        let a = DedupKey::new("ns", &format!("{prefix}a"));
        let b = DedupKey::new("ns", &format!("{prefix}b"));
        assert_ne!(a, b);
        assert!(a.as_str().len() <= MAX_KEY_LEN);
        // The digest covers the namespace too.
        assert_ne!(
            DedupKey::new("n1", &prefix).as_str()[3..],
            DedupKey::new("n2", &prefix).as_str()[3..]
        );
        let expected = {
            let mut s = String::from("ns:sha256:");
            push_hex(&mut s, &Sha256::digest(format!("ns:{prefix}a").as_bytes()));
            s
        };
        assert_eq!(a.as_str(), expected);
    }

    #[test]
    fn long_namespaces_still_fit() {
        let ns = "n".repeat(250);
        let k = DedupKey::new(&ns, "some-delivery-id");
        assert!(k.as_str().starts_with("sha256:"));
        assert_eq!(k.as_str().len(), 7 + 64);
        let raw = DedupKey::from_namespaced(&"z".repeat(256));
        assert_eq!(raw.as_str().len(), 7 + 64);
        assert_eq!(DedupKey::from_namespaced("ns:k").as_str(), "ns:k");
    }
}
