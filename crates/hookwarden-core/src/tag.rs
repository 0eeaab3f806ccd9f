//! [`Tag`] and [`Signatures`]: decoded signatures held on the stack.

use arrayvec::ArrayVec;

/// The largest signature or MAC the built-in algorithms produce (HMAC-SHA512, Ed25519).
pub const MAX_TAG_LEN: usize = 64;

/// How many candidate signatures one request may carry (senders rotating secrets send
/// two or three). More is rejected as a malformed header.
pub const MAX_SIGNATURES: usize = 8;

/// A decoded signature or MAC, stored inline (no heap).
///
/// Its `Debug` shows only the length: a signature is never printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    bytes: [u8; MAX_TAG_LEN],
    len: u8,
}

impl Tag {
    /// A tag holding `bytes`, or `None` when longer than [`MAX_TAG_LEN`].
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut tag = Self::empty();
        tag.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        tag.len = u8::try_from(bytes.len()).ok()?;
        Some(tag)
    }

    /// Decode standard base64 (with padding) into a tag; `None` when invalid, empty or
    /// too long.
    #[must_use]
    pub fn from_base64(encoded: &[u8]) -> Option<Self> {
        let b64 = base64_simd::STANDARD;
        let n = b64.decoded_length(encoded).ok()?;
        if n == 0 || n > MAX_TAG_LEN {
            return None;
        }
        let mut tag = Self::empty();
        b64.decode(encoded, base64_simd::Out::from_slice(&mut tag.bytes[..n]))
            .ok()?;
        tag.len = u8::try_from(n).ok()?;
        Some(tag)
    }

    /// Decode hexadecimal (either case) into a tag; `None` when invalid, empty or too long.
    #[must_use]
    pub fn from_hex(encoded: &[u8]) -> Option<Self> {
        if encoded.is_empty() || !encoded.len().is_multiple_of(2) || encoded.len() / 2 > MAX_TAG_LEN
        {
            return None;
        }
        let n = encoded.len() / 2;
        let mut tag = Self::empty();
        faster_hex::hex_decode(encoded, &mut tag.bytes[..n]).ok()?;
        tag.len = u8::try_from(n).ok()?;
        Some(tag)
    }

    const fn empty() -> Self {
        Self {
            bytes: [0; MAX_TAG_LEN],
            len: 0,
        }
    }

    /// The tag's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tag(<{} bytes>)", self.len)
    }
}

/// The candidate signatures found in a request, decoded, on the stack.
#[derive(Debug, Clone, Default)]
pub struct Signatures(ArrayVec<Tag, MAX_SIGNATURES>);

impl Signatures {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a candidate. Returns `false` when the list is full.
    #[must_use]
    pub fn push(&mut self, tag: Tag) -> bool {
        self.0.try_push(tag).is_ok()
    }

    /// Remove every candidate.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The candidates, in header order.
    #[must_use]
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    /// Whether there is no candidate.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many candidates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hex decoder as it was (the `hex` crate): the decoder must accept and
    /// produce exactly the same.
    fn reference_hex(encoded: &[u8]) -> Option<Vec<u8>> {
        if encoded.is_empty() || encoded.len() / 2 > MAX_TAG_LEN {
            return None;
        }
        hex::decode(encoded).ok()
    }

    /// The base64 decoder as it was (the `base64` crate, standard alphabet, padding
    /// and canonical trailing bits required).
    fn reference_base64(encoded: &[u8]) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let v = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        (!v.is_empty() && v.len() <= MAX_TAG_LEN).then_some(v)
    }

    const SYMBOLS: &[u8] = b"0123456789abcdefABCDEFgG/:@`\xff\0 ";
    const B64_SYMBOLS: &[u8] = b"AQgwBZaz09+/=-_ \xff\0";

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn hex_decoder_agrees_with_the_hex_crate(
            picks in proptest::collection::vec(0..SYMBOLS.len(), 0..140),
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..70),
        ) {
            let soup: Vec<u8> = picks.iter().map(|&i| SYMBOLS[i]).collect();
            for s in [soup, hex::encode(&bytes).into_bytes(), hex::encode_upper(&bytes).into_bytes()] {
                proptest::prop_assert_eq!(
                    Tag::from_hex(&s).map(|t| t.as_bytes().to_vec()),
                    reference_hex(&s)
                );
            }
        }

        #[test]
        fn base64_decoder_agrees_with_the_base64_crate(
            picks in proptest::collection::vec(0..B64_SYMBOLS.len(), 0..100),
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..70),
        ) {
            use base64::Engine as _;
            let soup: Vec<u8> = picks.iter().map(|&i| B64_SYMBOLS[i]).collect();
            let good = base64::engine::general_purpose::STANDARD.encode(&bytes).into_bytes();
            let mut flipped = good.clone();
            if let Some(last) = flipped.iter().rposition(|&b| b != b'=') {
                flipped[last] ^= 1;
            }
            for s in [soup, good, flipped] {
                proptest::prop_assert_eq!(
                    Tag::from_base64(&s).map(|t| t.as_bytes().to_vec()),
                    reference_base64(&s)
                );
            }
        }
    }

    #[test]
    fn decoders_reject_bad_input_and_overflow() {
        assert_eq!(Tag::from_hex(b"0aFF").unwrap().as_bytes(), &[0x0a, 0xff]);
        assert!(Tag::from_hex(b"0").is_none());
        assert!(Tag::from_hex(b"").is_none());
        assert!(Tag::from_base64(b"").is_none());
        assert!(Tag::from_hex(b"zz").is_none());
        assert!(Tag::from_hex(&[b'a'; 130]).is_none());
        assert_eq!(Tag::from_base64(b"AAE=").unwrap().as_bytes(), &[0, 1]);
        assert!(Tag::from_base64(b"!!!!").is_none());
        assert!(Tag::from_base64(&[b'A'; 100]).is_none());
        assert!(Tag::from_slice(&[0; 65]).is_none());
        assert_eq!(
            format!("{:?}", Tag::from_slice(&[7; 32]).unwrap()),
            "Tag(<32 bytes>)"
        );
    }
}
