//! Proof that key material does not outlive its owner in freed heap memory: after a
//! verifier is dropped (or `sign` returned), the process heap is read back through
//! `/proc/self/mem` and searched for the secret, its decoded key bytes, its
//! prekeyed HMAC state and (for token schemes) its digest.
//!
//! `harness = false`: everything runs on the main thread, whose allocations come
//! from glibc's main arena, the `[heap]` mapping that is scanned. The scan buffers are
//! allocated first and are large enough to be `mmap`ed outside that mapping; the
//! needles live on the stack, never on the heap.
//!
//! Linux only (`/proc`); elsewhere the test does nothing.
//!
//! Run: `cargo test -p hookwarden-core --test zeroize`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[cfg(target_os = "linux")]
mod scan {
    use std::fs::File;
    use std::io::{Read as _, Seek as _, SeekFrom};

    /// Reads the `[heap]` mapping of this process.
    pub(crate) struct Heap {
        maps: String,
        buf: Vec<u8>,
    }

    impl Heap {
        pub(crate) fn new() -> Self {
            // Both above glibc's mmap threshold: outside the scanned mapping.
            Self {
                maps: String::with_capacity(1 << 20),
                buf: vec![0; 1 << 20],
            }
        }

        /// Whether `needle` occurs anywhere in the heap.
        pub(crate) fn contains(&mut self, needle: &[u8]) -> bool {
            self.maps.clear();
            File::open("/proc/self/maps")
                .and_then(|mut f| f.read_to_string(&mut self.maps))
                .expect("read /proc/self/maps");
            let Some((start, end)) = self
                .maps
                .lines()
                .find(|l| l.ends_with("[heap]"))
                .and_then(|l| l.split(' ').next())
                .and_then(|range| range.split_once('-'))
                .map(|(s, e)| {
                    (
                        u64::from_str_radix(s, 16).unwrap(),
                        u64::from_str_radix(e, 16).unwrap(),
                    )
                })
            else {
                return false;
            };
            let mut mem = File::open("/proc/self/mem").expect("open /proc/self/mem");
            let step = (self.buf.len() - needle.len()) as u64;
            let mut at = start;
            while at < end {
                let len = usize::try_from((end - at).min(self.buf.len() as u64)).unwrap();
                mem.seek(SeekFrom::Start(at)).unwrap();
                mem.read_exact(&mut self.buf[..len]).unwrap();
                if memchr::memmem::find(&self.buf[..len], needle).is_some() {
                    return true;
                }
                at += step;
            }
            false
        }
    }
}

/// The test key: made at run time (not a literal of the binary), on the stack.
#[cfg(target_os = "linux")]
fn test_key() -> [u8; 48] {
    let mut key = [0u8; 48];
    let seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
    for (i, b) in key.iter_mut().enumerate() {
        let x = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .rotate_left(u32::try_from(i).unwrap() + 7);
        *b = b'a' + u8::try_from(x % 26).unwrap();
    }
    key
}

/// The secret holding `key`: the moved `Vec` becomes its buffer, so that the test
/// keeps no copy of its own on the heap.
#[cfg(target_os = "linux")]
fn secret(key: &[u8; 48]) -> hookwarden_core::Secret {
    hookwarden_core::Secret::from_bytes(key.to_vec())
}

/// glibc reuses the first 16 bytes of a freed small block for its free lists: what is
/// searched for is what comes after them.
#[cfg(target_os = "linux")]
fn tail(key: &[u8; 48]) -> &[u8] {
    &key[16..]
}

/// The prekeyed HMAC-SHA256 state of a dropped verifier: the state after compressing
/// `key ^ ipad` (a forger needs nothing more).
#[cfg(target_os = "linux")]
fn prekeyed_hmac_state(heap: &mut scan::Heap, key: &[u8; 48]) -> Result<(), &'static str> {
    use hookwarden_core::{Verifier, schemes::Github};
    let mut state: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let mut block = [0x36u8; 64];
    for (b, k) in block.iter_mut().zip(key) {
        *b ^= k;
    }
    sha2::block_api::compress256(&mut state, &[block]);
    let mut ipad = [0u8; 32];
    for (chunk, word) in ipad.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    // Five secrets: more than the first allocation of a collected `Vec` holds.
    let verifier = Verifier::builder(Github::new())
        .secrets([
            secret(key),
            secret(key),
            secret(key),
            secret(key),
            secret(key),
        ])
        .build()
        .unwrap();
    // While the verifier lives, its state is found: the scan works.
    assert!(heap.contains(&ipad), "the live prekeyed state is found");
    drop(verifier);
    if heap.contains(&ipad) {
        return Err("a dropped verifier left its prekeyed HMAC state in freed memory");
    }
    Ok(())
}

/// A token scheme's digest of the token (GitLab), after the verifier is dropped.
#[cfg(target_os = "linux")]
fn token_digest(heap: &mut scan::Heap, key: &[u8; 48]) -> Result<(), &'static str> {
    use hookwarden_core::{Verifier, schemes::Gitlab};
    use sha2::Digest as _;
    let digest: [u8; 32] = sha2::Sha256::digest(key).into();
    let verifier = Verifier::builder(Gitlab::new())
        .secret(secret(key))
        .build()
        .unwrap();
    assert!(heap.contains(&digest), "the live token digest is found");
    drop(verifier);
    // Its end: the start of a freed block is overwritten by glibc's free lists.
    if heap.contains(&digest[16..]) {
        return Err("a dropped GitLab verifier left the token's digest in freed memory");
    }
    Ok(())
}

/// `sign` for a token scheme: the token goes into the returned header, and nowhere
/// else once that header is wiped.
#[cfg(target_os = "linux")]
fn sign_token_copy(heap: &mut scan::Heap, key: &[u8; 48]) -> Result<(), &'static str> {
    use hookwarden_core::{SignInput, schemes::Gitlab, sign};
    assert!(!heap.contains(tail(key)), "no key bytes before signing");
    let input = SignInput {
        body: b"{}",
        timestamp: 1_700_000_000,
        id: Some("evt_1"),
        url: None,
    };
    let mut headers = sign(&Gitlab::new(), &secret(key), &input).unwrap();
    assert!(
        heap.contains(tail(key)),
        "the token in the signed header is found"
    );
    for (_, value) in &mut headers {
        zeroize::Zeroize::zeroize(value);
    }
    drop(headers);
    if heap.contains(tail(key)) {
        return Err("sign() left a copy of the GitLab token in freed memory");
    }
    Ok(())
}

/// A `whsec_` secret refused for bad characters at its end (a CRLF line end from a
/// file or an environment variable): the bytes decoded before the error.
#[cfg(target_os = "linux")]
fn refused_whsec_decode(heap: &mut scan::Heap, key: &[u8; 48]) -> Result<(), &'static str> {
    use base64::Engine as _;
    use hookwarden_core::{Scheme as _, Secret, schemes::StandardWebhooks};
    assert!(!heap.contains(tail(key)), "no key bytes before decoding");
    let mut encoded = [0u8; 6 + 64 + 2];
    encoded[..6].copy_from_slice(b"whsec_");
    base64::engine::general_purpose::STANDARD
        .encode_slice(key, &mut encoded[6..70])
        .unwrap();
    encoded[70..].copy_from_slice(b"\r\n");
    let err = StandardWebhooks::new()
        .key_bytes(&Secret::from_bytes(encoded.to_vec()))
        .unwrap_err();
    drop(err);
    if heap.contains(tail(key)) {
        return Err("a refused whsec_ secret left its decoded key bytes in freed memory");
    }
    Ok(())
}

#[cfg(target_os = "linux")]
type Check = fn(&mut scan::Heap, &[u8; 48]) -> Result<(), &'static str>;

/// Runs every check, or those whose name contains the first argument.
#[cfg(target_os = "linux")]
fn main() {
    let checks: &[(&str, Check)] = &[
        ("prekeyed_hmac_state", prekeyed_hmac_state),
        ("token_digest", token_digest),
        ("sign_token_copy", sign_token_copy),
        ("refused_whsec_decode", refused_whsec_decode),
    ];
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let mut heap = scan::Heap::new();
    let key = test_key();
    assert!(
        !heap.contains(tail(&key)),
        "the scan sees no key before the test"
    );
    let mut failed = 0;
    for &(name, check) in checks {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        match check(&mut heap, &key) {
            Ok(()) => eprintln!("test {name} ... ok"),
            Err(why) => {
                eprintln!("test {name} ... FAILED: {why}");
                failed += 1;
            }
        }
    }
    assert_eq!(failed, 0, "{failed} key residue(s) found in the heap");
}

#[cfg(not(target_os = "linux"))]
fn main() {}
