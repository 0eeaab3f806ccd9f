//! Arbitrary `GenericHmac` builder inputs: `build` returns Ok or a `ConfigError`,
//! never panics; when it builds, a signed delivery verifies and a changed body does
//! not.
#![no_main]

use arbitrary::Arbitrary;
use hookwarden_core::schemes::{GenericHmac, HmacHash, SignatureEncoding};
use hookwarden_core::{ManualClock, SignInput, Tolerance, Verifier, sign, time::Duration};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Config {
    signature_header: Option<String>,
    prefix: Option<String>,
    base64: bool,
    hash: u8,
    separator: Option<char>,
    timestamp_header: Option<String>,
    tolerance: Option<(i32, i32)>,
    id_header: Option<String>,
    template: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    config: Config,
    secret: Vec<u8>,
    body: Vec<u8>,
    id: String,
    url: String,
    flip: u16,
}

fuzz_target!(|input: Input| {
    let c = input.config;
    let mut b = GenericHmac::builder();
    if let Some(h) = c.signature_header {
        b = b.signature_header(h);
    }
    if let Some(p) = c.prefix {
        b = b.prefix(p);
    }
    b = b.encoding(if c.base64 {
        SignatureEncoding::Base64
    } else {
        SignatureEncoding::Hex
    });
    b = b.hash(match c.hash % 3 {
        0 => HmacHash::Sha1,
        1 => HmacHash::Sha256,
        _ => HmacHash::Sha512,
    });
    if let Some(s) = c.separator {
        b = b.separator(s);
    }
    if let Some(t) = c.timestamp_header {
        b = b.timestamp_header(t);
    }
    if let Some((past, future)) = c.tolerance {
        b = b.tolerance(Tolerance::new(
            Duration::seconds(past.into()),
            Duration::seconds(future.into()),
        ));
    }
    if let Some(i) = c.id_header {
        b = b.id_header(i);
    }
    if let Some(t) = c.template {
        b = b.template(t);
    }
    let scheme = match b.build() {
        Ok(s) => s,
        Err(e) => {
            assert!(!e.message().is_empty());
            return;
        }
    };
    let _ = format!("{scheme:?}");
    if input.secret.is_empty() {
        return;
    }
    let now = 1_700_000_000;
    let url = format!("https://example.com/{}", input.url);
    let id = if input.id.is_empty() {
        "msg_1"
    } else {
        input.id.as_str()
    };
    let sign_input = SignInput {
        body: &input.body,
        timestamp: now,
        id: Some(id),
        url: Some(&url),
    };
    let headers = match sign(&scheme, &input.secret.as_slice().into(), &sign_input) {
        Ok(h) => h,
        Err(e) => panic!("a built generic scheme cannot sign: {e}"),
    };
    let verifier = match Verifier::builder(scheme)
        .secret(input.secret.as_slice())
        .clock(ManualClock::new(now))
        .build()
    {
        Ok(v) => v,
        Err(e) => panic!("verifier: {e}"),
    };
    // Whatever builds round-trips: a configuration whose signatures could not be read
    // back (a separator in the prefix or the encoding, a prefix starting with a space,
    // one header for two roles) is a `ConfigError`.
    match verifier.verify(&headers, &input.body, Some(&url)) {
        Ok(v) => assert_eq!(v.scheme(), "generic"),
        Err(e) => panic!("round trip failed: {e:?}\n{headers:?}"),
    }
    if input.body.is_empty() {
        return;
    }
    let mut body = input.body.clone();
    let i = usize::from(input.flip) % body.len();
    body[i] ^= 0x01;
    assert!(
        verifier.verify(&headers, &body, Some(&url)).is_err(),
        "a changed body verified"
    );
});
