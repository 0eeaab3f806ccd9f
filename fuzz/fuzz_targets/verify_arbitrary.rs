//! `Verifier::verify` with arbitrary headers, body, URL and secrets: never panics,
//! every error maps to a client status (or 500 for a missing URL), and nothing the
//! fuzzer made up verifies (it cannot compute a MAC; only a GitLab token equal to a
//! configured secret is a legitimate success).
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookwarden_core::{ErrorKind, HeaderKey, Headers, ManualClock, Verifier};
use hookwarden_fuzz::{HEADER_NAMES, NOW, scheme, scheme_names};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum SecretForm {
    Raw(Vec<u8>),
    Whsec(Vec<u8>),
    Whpk(Vec<u8>),
    Hex(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: u8,
    secrets: Vec<SecretForm>,
    headers: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
    url: Option<String>,
    now_offset: i32,
}

fuzz_target!(|input: Input| {
    let names = scheme_names();
    let name = names[usize::from(input.scheme) % names.len()];
    let Some(scheme) = scheme(name) else {
        panic!("scheme {name} does not build");
    };
    let secrets: Vec<Vec<u8>> = input
        .secrets
        .iter()
        .take(4)
        .map(|s| match s {
            SecretForm::Raw(b) => b.clone(),
            SecretForm::Whsec(b) => format!("whsec_{}", B64.encode(b)).into_bytes(),
            SecretForm::Whpk(b) => format!("whpk_{}", B64.encode(b)).into_bytes(),
            SecretForm::Hex(b) => hex::encode(b).into_bytes(),
        })
        .collect();
    let verifier = Verifier::builder_arc(scheme)
        .secrets(secrets.iter().map(|s| s.as_slice()))
        .clock(ManualClock::new(NOW + i64::from(input.now_offset)));
    let Ok(verifier) = verifier.build() else {
        return;
    };
    let headers: Vec<(&str, Vec<u8>)> = input
        .headers
        .into_iter()
        .map(|(n, v)| (HEADER_NAMES[usize::from(n) % HEADER_NAMES.len()], v))
        .collect();
    let _ = verifier.precheck(&headers);
    let _ = verifier.delivery_id(&hookwarden_core::Request {
        headers: &headers,
        body: &input.body,
        url: input.url.as_deref(),
    });
    match verifier.verify(&headers, &input.body, input.url.as_deref()) {
        Ok(verified) => {
            // Only a token scheme can be satisfied without computing a MAC.
            let token = HeaderKey::from_static("x-gitlab-token");
            let sent = headers.first(&token).map(<[u8]>::trim_ascii);
            assert!(
                name == "gitlab"
                    && sent.is_some_and(|t| secrets.iter().any(|s| s.trim_ascii() == t)),
                "{name}: unsigned input verified: {verified:?}"
            );
        }
        Err(e) => {
            let status = e.status();
            assert!(
                matches!(status, 400 | 401)
                    || (status == 500 && e.kind() == ErrorKind::UrlRequired),
                "{name}: {e:?} -> {status}"
            );
            let _ = e.to_string();
        }
    }
});
