//! Sign a random body with a random secret, per scheme; the signed delivery verifies;
//! then apply one mutation and assert it is rejected: any change to the body, a
//! signature made with another secret or over another body, a header spliced from a
//! delivery signed at another time or with another id, another URL, a changed byte in
//! a header value. Changes that do not change what is signed are allowed to pass:
//! header name case (must pass), whitespace in header values and case in a hex signature, unsigned
//! id headers, headers no signed input changes (Twitch's message type), Twilio form bodies with the same signed parameter string, and the
//! body of GitLab (a token scheme: it signs nothing).
#![no_main]

use arbitrary::Arbitrary;
use hookwarden_core::{Algorithm, ErrorKind, ManualClock, Scheme, SignInput, Verifier, sign};
use hookwarden_fuzz::{NOW, keys_for, scheme, scheme_names, twilio_form_content, url_for};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Mutation {
    BodyFlip { index: u16, xor: u8 },
    BodyInsert { index: u16, byte: u8 },
    BodyRemove { index: u16 },
    BodyTruncate { len: u16 },
    BodyAppend { bytes: Vec<u8> },
    OtherSecret { extra: u8, header: u8 },
    OtherBody { body: Vec<u8>, header: u8 },
    OtherTimestamp { delta: i16, header: u8 },
    OtherId { id: u32, header: u8 },
    OtherUrl { seed: u16 },
    HeaderValueFlip { header: u8, index: u16, xor: u8 },
    HeaderNameCase { header: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: u8,
    seed: Vec<u8>,
    body: Vec<u8>,
    ts_offset: u16,
    id: u32,
    url_seed: u16,
    twilio_json: bool,
    mutation: Mutation,
}

struct Case<'a> {
    name: &'a str,
    scheme: &'a dyn Scheme,
    verifier: Verifier,
    body: Vec<u8>,
    url: Option<String>,
    headers: Vec<(String, String)>,
}

/// Linear signs its timestamp inside the body: give every body one.
fn body_for(name: &str, raw: &[u8], ts: i64) -> Vec<u8> {
    if name == "linear" {
        let mut b = format!(r#"{{"webhookTimestamp":{},"data":"#, ts * 1000).into_bytes();
        b.extend_from_slice(raw);
        b
    } else {
        raw.to_vec()
    }
}

fn sign_with(
    case: &Case<'_>,
    secret_seed: &[u8],
    body: &[u8],
    ts: i64,
    id: &str,
    url: Option<&str>,
) -> Vec<(String, String)> {
    let keys = keys_for(case.name, secret_seed);
    let input = SignInput {
        body,
        timestamp: ts,
        id: Some(id),
        url,
    };
    match sign(case.scheme, &keys.sign, &input) {
        Ok(h) => h,
        Err(e) => panic!("{}: sign failed: {e}", case.name),
    }
}

/// The headers of `x` with the `pick`-th header that differs from `y` replaced by
/// `y`'s, and whether that made them equal to `y` (a genuine delivery of `y`).
fn splice(
    x: &[(String, String)],
    y: &[(String, String)],
    pick: u8,
) -> Option<(Vec<(String, String)>, bool)> {
    assert_eq!(x.len(), y.len());
    let differing: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
    if differing.is_empty() {
        return None;
    }
    let i = differing[usize::from(pick) % differing.len()];
    let mut out = x.to_vec();
    out[i] = y[i].clone();
    Some((out, differing.len() == 1))
}

fn must_reject(
    case: &Case<'_>,
    headers: &[(String, String)],
    body: &[u8],
    url: Option<&str>,
    what: &str,
) {
    if let Ok(v) = case.verifier.verify(&headers, body, url) {
        panic!(
            "{}: {what} was accepted: {v:?}\nheaders {headers:?}\noriginal {:?}",
            case.name, case.headers
        );
    }
}

/// A signature within the tolerance that is not the one signed: only the signature
/// check can refuse it.
fn must_mismatch(
    case: &Case<'_>,
    headers: &[(String, String)],
    body: &[u8],
    url: Option<&str>,
    what: &str,
) {
    match case.verifier.verify(&headers, body, url) {
        Err(e) if e.kind() == ErrorKind::SignatureMismatch => {}
        other => panic!(
            "{}: {what}: expected a signature mismatch, got {other:?}\nheaders {headers:?}\noriginal {:?}",
            case.name, case.headers
        ),
    }
}

/// Whether a signature header's value carries its signature in hex (read in either
/// case): its longest token is all hex digits. A base64 MAC of 20 bytes or more is all
/// hex digits with a probability below 10⁻²⁰.
fn hex_signature(value: &str) -> bool {
    value
        .split(|c: char| matches!(c, '=' | ',' | ';' | ' '))
        .max_by_key(|t| t.len())
        .is_some_and(|t| t.len() >= 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A header value with what does not change its meaning taken out: whitespace, and
/// the case of a hex signature (`fold_case`). Anything else, case included, counts.
fn normalized(v: &str, fold_case: bool) -> String {
    let v: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if fold_case { v.to_ascii_lowercase() } else { v }
}

fuzz_target!(|input: Input| {
    let names = scheme_names();
    let name = names[usize::from(input.scheme) % names.len()];
    let Some(scheme) = scheme(name) else {
        panic!("scheme {name} does not build");
    };
    let ts = NOW + i64::from(input.ts_offset);
    let body = body_for(name, &input.body, ts);
    let twilio_json = name == "twilio" && input.twilio_json;
    // Twilio refuses form bodies of 1024 parameters or more before any MAC (never
    // Twilio's): such a body cannot make a signed delivery that verifies.
    if name == "twilio" && !twilio_json && body.iter().filter(|&&b| b == b'&').count() >= 1000 {
        return;
    }
    // Nor a form body that opens as JSON (`{`, `[` or `"` after whitespace, which a form
    // encoder escapes): refused as malformed before any MAC.
    if name == "twilio"
        && !twilio_json
        && matches!(body.trim_ascii_start().first(), Some(b'{' | b'[' | b'"'))
    {
        return;
    }
    let url = scheme
        .signs_url()
        .then(|| url_for(input.url_seed, twilio_json.then_some(body.as_slice())));
    let id = format!("msg_{}", input.id);
    let keys = keys_for(name, &input.seed);
    let verifier = Verifier::builder_arc(scheme.clone())
        .secret(keys.verify.clone())
        .clock(ManualClock::new(ts))
        .build();
    let verifier = match verifier {
        Ok(v) => v,
        Err(e) => panic!("{name}: verifier does not build: {e}"),
    };
    let mut case = Case {
        name,
        scheme: &*scheme,
        verifier,
        body,
        url,
        headers: Vec::new(),
    };
    case.headers = sign_with(&case, &input.seed, &case.body, ts, &id, case.url.as_deref());
    if let Err(e) = case
        .verifier
        .verify(&case.headers, &case.body, case.url.as_deref())
    {
        panic!(
            "{name}: a signed delivery does not verify: {e:?}\n{:?}",
            case.headers
        );
    }
    let url = case.url.as_deref();
    let same_content = |a: &[u8], b: &[u8]| {
        a == b
            || (name == "twilio"
                && !twilio_json
                && twilio_form_content(a) == twilio_form_content(b))
    };

    // A token scheme (GitLab) authenticates the sender, not the body: only its
    // secret and header values are bound.
    let body_signed = scheme.algorithm() != Algorithm::Token;
    let mut body = case.body.clone();
    let n = body.len();
    if !body_signed
        && !matches!(
            input.mutation,
            Mutation::OtherSecret { .. }
                | Mutation::HeaderValueFlip { .. }
                | Mutation::HeaderNameCase { .. }
        )
    {
        return;
    }
    match input.mutation {
        Mutation::BodyFlip { index, xor } => {
            if n == 0 {
                return;
            }
            body[usize::from(index) % n] ^= xor.max(1);
        }
        Mutation::BodyInsert { index, byte } => body.insert(usize::from(index) % (n + 1), byte),
        Mutation::BodyRemove { index } => {
            if n == 0 {
                return;
            }
            body.remove(usize::from(index) % n);
        }
        Mutation::BodyTruncate { len } => {
            if n == 0 {
                return;
            }
            body.truncate(usize::from(len) % n);
        }
        Mutation::BodyAppend { bytes } => {
            if bytes.is_empty() {
                return;
            }
            body.extend_from_slice(&bytes);
        }
        Mutation::OtherSecret { extra, header } => {
            let mut seed = input.seed.clone();
            seed.push(extra);
            let other = sign_with(&case, &seed, &case.body, ts, &id, url);
            if let Some((h, _)) = splice(&case.headers, &other, header) {
                must_reject(
                    &case,
                    &h,
                    &case.body,
                    url,
                    "a signature made with another secret",
                );
            }
            must_reject(
                &case,
                &other,
                &case.body,
                url,
                "a delivery signed with another secret",
            );
            return;
        }
        Mutation::OtherBody { body: raw, header } => {
            let other_body = body_for(name, &raw, ts);
            if same_content(&other_body, &case.body) {
                return;
            }
            // A Twilio JSON body's digest is in the URL: sign the other body's URL.
            let other_url =
                url.map(|_| url_for(input.url_seed, twilio_json.then_some(other_body.as_slice())));
            let other = sign_with(
                &case,
                &input.seed,
                &other_body,
                ts,
                &id,
                other_url.as_deref(),
            );
            if let Some((h, _)) = splice(&case.headers, &other, header) {
                must_reject(&case, &h, &case.body, url, "a signature over another body");
            }
            must_reject(
                &case,
                &other,
                &case.body,
                url,
                "the headers of another body",
            );
            return;
        }
        Mutation::OtherTimestamp { delta, header } => {
            // Linear's timestamp is in the (mutated-body) tests; without a tolerance
            // (GitHub...) no timestamp is signed.
            let Some(tolerance) = case.verifier.tolerance().filter(|_| name != "linear") else {
                return;
            };
            // Within the tolerance, so that the clock cannot be what refuses it.
            let (past, future) = (
                tolerance.past().whole_seconds().min(3600),
                tolerance.future().whole_seconds().min(3600),
            );
            let delta = i64::from(delta).rem_euclid(past + future + 1) - past;
            if delta == 0 {
                return;
            }
            let other = sign_with(&case, &input.seed, &case.body, ts + delta, &id, url);
            match splice(&case.headers, &other, header) {
                Some((h, false)) => must_mismatch(
                    &case,
                    &h,
                    &case.body,
                    url,
                    "a header from another timestamp",
                ),
                // The timestamp travels with the signature (Stripe's `t=`, Paddle's
                // `ts=`): change it in place, keep the signature.
                _ => {
                    let (old, new) = (ts.to_string(), (ts + delta).to_string());
                    let h: Vec<(String, String)> = case
                        .headers
                        .iter()
                        .map(|(n, v)| (n.clone(), v.replace(&old, &new)))
                        .collect();
                    if h != case.headers {
                        must_mismatch(
                            &case,
                            &h,
                            &case.body,
                            url,
                            "another timestamp, same signature",
                        );
                    }
                }
            }
            return;
        }
        Mutation::OtherId {
            id: other_id,
            header,
        } => {
            let other_id = format!("msg_{other_id}");
            if other_id == id {
                return;
            }
            let other = sign_with(&case, &input.seed, &case.body, ts, &other_id, url);
            if let Some((h, genuine)) = splice(&case.headers, &other, header)
                && !genuine
            {
                must_reject(&case, &h, &case.body, url, "a header from another id");
            }
            return;
        }
        Mutation::OtherUrl { seed } => {
            if url.is_none() || seed == input.url_seed {
                return;
            }
            let other_url = url_for(seed, twilio_json.then_some(case.body.as_slice()));
            must_reject(
                &case,
                &case.headers,
                &case.body,
                Some(&other_url),
                "another URL",
            );
            return;
        }
        Mutation::HeaderValueFlip { header, index, xor } => {
            let i = usize::from(header) % case.headers.len();
            let (hname, value) = &case.headers[i];
            let mut bytes = value.clone().into_bytes();
            if bytes.is_empty() {
                return;
            }
            let j = usize::from(index) % bytes.len();
            bytes[j] ^= xor.max(1);
            let Ok(mutated) = String::from_utf8(bytes) else {
                return;
            };
            // An unsigned id header: changing it changes nothing signed. Signature
            // headers are those another secret changes; the id is signed when
            // another id changes one of them.
            let other_secret = sign_with(
                &case,
                &[input.seed.as_slice(), b"x"].concat(),
                &case.body,
                ts,
                &id,
                url,
            );
            let other_id = sign_with(&case, &input.seed, &case.body, ts, "msg_other", url);
            let differs = |other: &[(String, String)], n: &str| {
                case.headers
                    .iter()
                    .zip(other)
                    .any(|(a, b)| a.0 == n && a != b)
            };
            let signature_headers: Vec<&str> = case
                .headers
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| differs(&other_secret, n))
                .collect();
            let id_signed = signature_headers.iter().any(|n| differs(&other_id, n));
            let unsigned_id = !id_signed
                && differs(&other_id, hname)
                && !signature_headers.contains(&hname.as_str());
            // A header no signed input changes (Twitch's message type) is not signed.
            let other_ts = sign_with(&case, &input.seed, &case.body, ts + 1, &id, url);
            let constant = !differs(&other_secret, hname)
                && !differs(&other_id, hname)
                && !differs(&other_ts, hname);
            let fold_case = signature_headers.contains(&hname.as_str()) && hex_signature(value);
            if unsigned_id
                || constant
                || normalized(&mutated, fold_case) == normalized(value, fold_case)
            {
                return;
            }
            let mut h = case.headers.clone();
            h[i].1 = mutated;
            must_reject(&case, &h, &case.body, url, "a changed header value");
            return;
        }
        Mutation::HeaderNameCase { header } => {
            let i = usize::from(header) % case.headers.len();
            let mut h = case.headers.clone();
            h[i].0 = h[i]
                .0
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            if let Err(e) = case.verifier.verify(&h, &case.body, url) {
                panic!("{name}: a header name's case changed the outcome: {e:?}");
            }
            return;
        }
    }
    if same_content(&body, &case.body) {
        return;
    }
    must_reject(&case, &case.headers, &body, url, "a changed body");
});
