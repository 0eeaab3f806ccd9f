//! Twilio.

use std::borrow::Cow;

use arrayvec::ArrayVec;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ErrorKind, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

static SIGNATURE: HeaderKey = HeaderKey::from_static("x-twilio-signature");
static IDEMPOTENCY: HeaderKey = HeaderKey::from_static("i-twilio-idempotency-token");

/// The query parameter that carries a JSON body's digest.
const BODY_SHA256: &str = "bodySHA256";

/// Form bodies of more parameters than this are refused before any MAC is computed:
/// Twilio's carry a few dozen, and each MAC decodes and sorts them all (an attacker's
/// 1 MiB body of 200,000 parameters cost 66 ms of CPU per secret, by a reviewer's
/// measurement).
const MAX_FORM_PARAMS: usize = 1024;

/// [Twilio](https://www.twilio.com/docs/usage/webhooks/webhooks-security).
///
/// | | |
/// |---|---|
/// | headers | `X-Twilio-Signature` (signature), `I-Twilio-Idempotency-Token` (id, not signed) |
/// | signed content | form bodies: the full URL, then every POST parameter sorted by name (then value), each as `name` + `value`, percent-decoded, no separators; JSON bodies: the full URL alone, whose query carries `bodySHA256=<hex SHA-256 of the body>` |
/// | signature | base64 HMAC-SHA1 |
/// | secret | the account's Auth Token, its bytes |
/// | timestamp | none: Twilio signs no timestamp, nor `I-Twilio-Idempotency-Token`: the default dedup key is the signature's digest, which a replay with another token does not change |
/// | delivery id | `I-Twilio-Idempotency-Token` when present |
///
/// **The URL** passed to [`Verifier::verify`](crate::Verifier::verify) is the full
/// public URL Twilio called (scheme, host, path and query), as configured in Twilio.
/// As Twilio's SDKs do, two forms of it are tried: as given, and with the port toggled
/// (the scheme's default port, `:443` or `:80`, added when there is none; the port
/// removed when there is one), because Twilio's signing is inconsistent about ports.
///
/// **Form or JSON** is decided by the URL: a `bodySHA256` query parameter means a JSON
/// body, signed through that digest; once the signature matched, the digest must be
/// the query's last parameter (where Twilio appends it to the configured URL) and
/// equal the body's SHA-256 (either failing is a `SignatureMismatch`). Without it, the
/// body is parsed as `application/x-www-form-urlencoded` (an empty body signs the URL
/// alone), and a body that opens as JSON text does (after whitespace, `{`, `[` or `"`,
/// which a form percent-encodes) is refused as `MalformedBody` (400): the pieces of such
/// a document, sorted, could spell a signed form's parameters.
///
/// **What is authenticated** for form bodies is the signed string Twilio builds from the
/// decoded parameters (sorted names and values, concatenated without separators), not
/// the raw bytes: as with Twilio's SDKs, parameter order and the choice of
/// percent-encoding do not matter, and bytes that are not UTF-8 after decoding are
/// replaced by U+FFFD. Because that string has no separators, the boundary between a
/// name and a value is not authenticated: a signed `Body=hiDebugtrue&From=...` also
/// verifies as `Body=hi&Debug=true&From=...` (`Debug` sorts between them). Every SDK
/// shares this; treat values an outsider can write (an SMS text) accordingly.
/// Identical name/value pairs count once, as in `twilio-node` (`twilio-python` counts
/// each; Twilio does not document which it signs). Parse the body as form parameters after
/// verifying it.
///
/// # Security
///
/// Pass the URL as configured in Twilio (for a JSON delivery, with the `bodySHA256`
/// parameter Twilio appended), rather than one rebuilt from the incoming request's
/// path and query. Twilio's signed string (`URL` + `name` + `value`...) has no
/// separators, so a request Twilio signed with an attacker-influenced form value (an
/// SMS text, say) can be re-read as a longer URL carrying a forged `bodySHA256`: a
/// receiver that trusts the request's own query would then accept a JSON body of the
/// attacker's choosing. With a fixed URL, the query cannot move. JSON deliveries need
/// the request's query (Twilio adds `bodySHA256` per delivery), which is why the
/// digest is accepted only as the query's last parameter, and only once: the re-read
/// string goes on with the parameters that sort after the attacker's value, so it can
/// end in a digest only if the attacker controls the value of the last parameter in
/// sort order.
///
/// **Bounds**: a form body of more than 1,024 parameters (Twilio's carry a few dozen) is
/// refused as `MalformedBody` (400) before any MAC is computed: each MAC decodes and
/// sorts the parameters again, once per secret and URL form.
///
/// **Allocation**: form bodies of up to 4 KiB and 64 parameters (Twilio's are well
/// under) are decoded and sorted on the stack, as are JSON and empty bodies; a larger
/// form body, or one whose decoded names or values are not UTF-8, is decoded into a
/// temporary `Vec` for each MAC computed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Twilio;

impl Twilio {
    /// The Twilio scheme.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

/// A URL cut around its port, to rebuild it with the port toggled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Alternate<'a> {
    /// Everything up to the host, inclusive.
    head: &'a str,
    /// The port to insert (`":443"`), or `None` to drop the one present.
    port: Option<&'static str>,
    /// The path, query and fragment.
    tail: &'a str,
}

/// The other form of `url` Twilio may have signed: with the default port when it has
/// none, without its port when it has one. `None` when there is no such form (no
/// port and a scheme without a known default, or not an absolute URL).
fn alternate(url: &str) -> Option<Alternate<'_>> {
    let scheme_end = url.find("://")?;
    let scheme = url.get(..scheme_end)?;
    let authority_start = scheme_end + 3;
    let rest = url.get(authority_start..)?;
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_len)?;
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_port = authority.get(host_start..).filter(|h| !h.is_empty())?;
    let authority_end = authority_start + authority_len;
    let tail = url.get(authority_end..)?;
    // The port follows the last `:`, unless that colon is inside an IPv6 literal.
    let colon = host_port
        .rfind(':')
        .filter(|&c| !host_port.get(c..).is_some_and(|p| p.contains(']')));
    match colon {
        Some(c) => {
            let digits = host_port.get(c + 1..)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(Alternate {
                head: url.get(..authority_start + host_start + c)?,
                port: None,
                tail,
            })
        }
        None => {
            let port = if scheme.eq_ignore_ascii_case("https") {
                ":443"
            } else if scheme.eq_ignore_ascii_case("http") {
                ":80"
            } else {
                return None;
            };
            Some(Alternate {
                head: url.get(..authority_end)?,
                port: Some(port),
                tail,
            })
        }
    }
}

/// The first `bodySHA256` query parameter of `url`, when present (JSON mode), and
/// whether it is where Twilio appends it: the query's last parameter, and the only one
/// of that name. The query is read as `form_urlencoded::parse` reads it (empty pieces
/// skipped, names and values percent- and `+`-decoded), but only a name that may be
/// `bodySHA256`, and its value, are decoded: escapes elsewhere in the query cost no
/// allocation.
fn body_sha256(url: &str) -> Option<(Cow<'_, str>, bool)> {
    let (_, query) = url.split_once('?')?;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let (mut first, mut count, mut last_is_digest) = (None, 0usize, false);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // Decoding leaves each byte or turns three (`%XX`) into one: only a name of
        // 10 to 30 bytes can decode to `bodySHA256`, and only those are decoded.
        last_is_digest = (BODY_SHA256.len()..=3 * BODY_SHA256.len()).contains(&name.len())
            && form_decoded(name) == BODY_SHA256;
        if last_is_digest {
            count += 1;
            first.get_or_insert_with(|| form_decoded(value));
        }
    }
    first.map(|digest| (digest, count == 1 && last_is_digest))
}

/// One query component decoded as a form name or value; borrowed when it holds no
/// escape (`%`) or `+`.
fn form_decoded(component: &str) -> Cow<'_, str> {
    if !component.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(component);
    }
    // As a value after `x=`: the parser splits at the first `=` only.
    let pair = format!("x={component}");
    let value = form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    Cow::Owned(value)
}

/// Form bodies up to this many bytes are decoded into a buffer on the stack.
const STACK_FORM_BYTES: usize = 4096;
/// ... holding up to this many parameters.
const STACK_FORM_PARAMS: usize = 64;

/// Feed the form parameters of `body` sorted by name then value, duplicates once.
fn feed_params(body: &[u8], sink: &mut dyn FnMut(&[u8])) {
    if body.is_empty() || feed_params_on_stack(body, sink) {
        return;
    }
    feed_params_on_heap(body, sink);
}

/// [`feed_params`] through `form_urlencoded`, into a `Vec`: for any body. The reference
/// the stack path is tested against.
fn feed_params_on_heap(body: &[u8], sink: &mut dyn FnMut(&[u8])) {
    let mut params: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(body).collect();
    params.sort_unstable();
    params.dedup();
    for (name, value) in &params {
        sink(name.as_bytes());
        sink(value.as_bytes());
    }
}

/// [`feed_params`] without allocating, for a body of at most [`STACK_FORM_BYTES`] and
/// [`STACK_FORM_PARAMS`] parameters whose decoded names and values are UTF-8 (a
/// Twilio request's are): the same split and decoding as `form_urlencoded::parse`
/// (`&`-separated, empty ones skipped, the first `=` ends the name, `+` is a space,
/// `%` and two hex digits a byte, any other `%` itself). Returns `false`, having fed
/// nothing, for any other body.
fn feed_params_on_stack(body: &[u8], sink: &mut dyn FnMut(&[u8])) -> bool {
    if body.len() > STACK_FORM_BYTES {
        return false;
    }
    let mut buf = [0u8; STACK_FORM_BYTES];
    let mut len = 0;
    // (start, end of name = start of value, end of value) in `buf`.
    let mut params: ArrayVec<(u16, u16, u16), STACK_FORM_PARAMS> = ArrayVec::new();
    for sequence in body.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (name, value) = match memchr::memchr(b'=', sequence) {
            Some(i) => (&sequence[..i], &sequence[i + 1..]),
            None => (sequence, &[][..]),
        };
        let start = len;
        len = decode_component(name, &mut buf, len);
        let mid = len;
        len = decode_component(value, &mut buf, len);
        if std::str::from_utf8(&buf[start..mid]).is_err()
            || std::str::from_utf8(&buf[mid..len]).is_err()
        {
            return false;
        }
        // `len` <= body.len() <= STACK_FORM_BYTES < u16::MAX: decoding never grows.
        let (Ok(start), Ok(mid), Ok(end)) =
            (u16::try_from(start), u16::try_from(mid), u16::try_from(len))
        else {
            return false;
        };
        if params.try_push((start, mid, end)).is_err() {
            return false;
        }
    }
    let name = |p: &(u16, u16, u16)| &buf[usize::from(p.0)..usize::from(p.1)];
    let value = |p: &(u16, u16, u16)| &buf[usize::from(p.1)..usize::from(p.2)];
    params.sort_unstable_by(|a, b| name(a).cmp(name(b)).then_with(|| value(a).cmp(value(b))));
    let mut previous: Option<&(u16, u16, u16)> = None;
    for p in &params {
        if previous.is_some_and(|q| name(q) == name(p) && value(q) == value(p)) {
            continue;
        }
        sink(name(p));
        sink(value(p));
        previous = Some(p);
    }
    true
}

/// Percent-decode `input` (with `+` as a space) into `buf` from `at`; the new end.
/// Never writes more bytes than `input` has.
fn decode_component(input: &[u8], buf: &mut [u8], mut at: usize) -> usize {
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let byte = match b {
            b'+' => b' ',
            b'%' => match (
                input.get(i + 1).and_then(|&h| hex_digit(h)),
                input.get(i + 2).and_then(|&l| hex_digit(l)),
            ) {
                (Some(h), Some(l)) => {
                    i += 2;
                    h << 4 | l
                }
                _ => b'%',
            },
            other => other,
        };
        if let Some(slot) = buf.get_mut(at) {
            *slot = byte;
            at += 1;
        }
        i += 1;
    }
    at
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Scheme for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn algorithm(&self) -> Algorithm {
        Algorithm::HmacSha1
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        None
    }

    fn required_headers(&self) -> &[HeaderKey] {
        std::slice::from_ref(&SIGNATURE)
    }

    fn signs_url(&self) -> bool {
        true
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let raw = headers
            .first(&SIGNATURE)
            .ok_or_else(|| VerifyError::missing(&SIGNATURE))?;
        let tag = Tag::from_base64(raw.trim_ascii())
            .ok_or_else(|| VerifyError::malformed(&SIGNATURE, "signature is not valid base64"))?;
        parsed.id = headers.first(&IDEMPOTENCY);
        parsed.add_signature(tag, &SIGNATURE)
    }

    fn content_variants(&self, req: &Request<'_>) -> usize {
        match req.url.and_then(alternate) {
            Some(_) => 2,
            None => 1,
        }
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        _parsed: &Parsed<'_>,
        variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        let url = req.url.unwrap_or_default();
        match alternate(url).filter(|_| variant == 1) {
            Some(alt) => {
                sink(alt.head.as_bytes());
                if let Some(port) = alt.port {
                    sink(port.as_bytes());
                }
                sink(alt.tail.as_bytes());
            }
            None => sink(url.as_bytes()),
        }
        if body_sha256(url).is_none() {
            feed_params(req.body, sink);
        }
    }

    fn check_before_mac(&self, req: &Request<'_>) -> Result<(), VerifyError> {
        if req.url.and_then(body_sha256).is_some() {
            return Ok(());
        }
        // A form body never opens as JSON text does (raw whitespace, `{`, `[` and `"` are
        // percent-encoded in a form). Such a body signed as a form is a form delivery
        // re-read: its parameters, split at `&` and sorted, can spell a signed SMS text
        // and the parameters after it, while a JSON parser reads the attacker's document.
        if matches!(
            req.body.trim_ascii_start().first(),
            Some(b'{' | b'[' | b'"')
        ) {
            return Err(VerifyError::new(
                ErrorKind::MalformedBody,
                "a JSON body without `bodySHA256` in the URL: Twilio signs JSON bodies through that digest",
            ));
        }
        // An upper bound (empty pieces count too): found without decoding anything.
        if memchr::memchr_iter(b'&', req.body).count() >= MAX_FORM_PARAMS {
            return Err(VerifyError::new(
                ErrorKind::MalformedBody,
                "more than 1024 form parameters: not a Twilio request",
            ));
        }
        Ok(())
    }

    fn check_after_match(
        &self,
        req: &Request<'_>,
        _parsed: &Parsed<'_>,
    ) -> Result<(), VerifyError> {
        let Some((expected_hex, in_place)) = req.url.and_then(body_sha256) else {
            return Ok(());
        };
        // Twilio appends the digest to the configured URL. Anywhere else, it was not
        // Twilio's doing: a signed form value (an SMS text) re-read as part of a longer
        // URL, since the signed string has no separators (see the scheme's Security).
        if !in_place {
            return Err(VerifyError::new(
                ErrorKind::SignatureMismatch,
                "`bodySHA256` is not the URL's one and last query parameter, where Twilio puts it",
            ));
        }
        let mut expected = [0u8; 32];
        if hex::decode_to_slice(expected_hex.as_bytes(), &mut expected).is_err() {
            return Err(VerifyError::new(
                ErrorKind::SignatureMismatch,
                "the signed `bodySHA256` is not a hex SHA-256 digest",
            ));
        }
        let actual: [u8; 32] = Sha256::digest(req.body).into();
        if bool::from(actual.ct_eq(&expected)) {
            Ok(())
        } else {
            Err(VerifyError::new(
                ErrorKind::SignatureMismatch,
                "the body does not match the signed `bodySHA256`",
            ))
        }
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        _timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        use base64::Engine as _;
        vec![
            (
                "X-Twilio-Signature".into(),
                base64::engine::general_purpose::STANDARD.encode(signature),
            ),
            ("I-Twilio-Idempotency-Token".into(), id.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, Verifier, sign};

    const TOKEN: &str = "12345";

    #[test]
    fn a_form_of_more_parameters_than_twilio_sends_is_refused_before_any_mac() {
        let form = |n: usize| {
            (0..n)
                .map(|i| format!("P{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        };
        let url = "https://example.com/sms";
        for (n, ok) in [(1024, true), (1025, false)] {
            let body = form(n);
            let input = SignInput {
                body: &body,
                timestamp: 0,
                id: None,
                url: Some(url),
            };
            let headers = sign(&Twilio::new(), &TOKEN.into(), &input).unwrap();
            let result = verifier(TOKEN).verify(&headers, &body, Some(url));
            match (ok, result) {
                (true, Ok(_)) => {}
                (false, Err(e)) => assert_eq!(e.kind(), ErrorKind::MalformedBody, "{e}"),
                (_, other) => panic!("{n} parameters: {other:?}"),
            }
        }
    }

    #[test]
    fn the_digest_is_found_as_the_form_parser_reads_the_query() {
        // The reading `form_urlencoded::parse` gives, pair by pair.
        fn reference(url: &str) -> Option<(String, bool)> {
            let (_, query) = url.split_once('?')?;
            let query = query.split_once('#').map_or(query, |(q, _)| q);
            let pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
            let digests: Vec<_> = pairs.iter().filter(|(n, _)| n == BODY_SHA256).collect();
            let first = digests.first()?.1.to_string();
            let last = pairs.last().is_some_and(|(n, _)| n == BODY_SHA256);
            Some((first, digests.len() == 1 && last))
        }
        for url in [
            "https://x/h",
            "https://x/h?a=1",
            "https://x/h?bodySHA256=ab",
            "https://x/h?note=a+b%21&bodySHA256=ab",
            "https://x/h?body%53HA256=a%62&&",
            "https://x/h?bodySHA256=ab&z=1",
            "https://x/h?bodySHA256=ab&bodySHA256=",
            "https://x/h?bodySHA256&x=%ZZ+",
            "https://x/h?a=b=c&bodySHA256=d=e#frag&bodySHA256=f",
            "https://x/h?body+SHA256=ab&bodySHA256%3D=cd",
            "https://x/h?%62%6f%64%79%53%48%41%32%35%36=ab",
            "https://x/h?%62%6f%64%79%53%48%41%32%35%36%00=ab&%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%=1",
        ] {
            let ours = body_sha256(url).map(|(d, last)| (d.into_owned(), last));
            assert_eq!(ours, reference(url), "{url}");
        }
        // Escapes outside the digest's pair are not decoded: nothing is allocated.
        let (digest, last) = body_sha256("https://x/h?note=a+b%21&bodySHA256=ab").unwrap();
        assert!(matches!(digest, Cow::Borrowed("ab")) && last);
    }

    fn verifier(token: &str) -> Verifier {
        Verifier::builder(Twilio::new())
            .secret(token)
            .clock(ManualClock::new(0))
            .build()
            .unwrap()
    }

    /// The headers of a form delivery Twilio signs for `url`: `AccountSid=AC1`, then an
    /// SMS `text` the attacker wrote as `Body`, then `rest` (parameters sorting after
    /// it); checked to verify with `v`.
    fn signed_sms(v: &Verifier, url: &str, text: &str, rest: &str) -> Vec<(String, String)> {
        let form = format!(
            "AccountSid=AC1&Body={}{rest}",
            form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        );
        let input = SignInput {
            body: form.as_bytes(),
            timestamp: 0,
            id: None,
            url: Some(url),
        };
        let headers = sign(&Twilio::new(), &TOKEN.into(), &input).unwrap();
        v.verify(&headers, form.as_bytes(), Some(url)).unwrap();
        headers
    }

    fn sig(value: &str) -> [(&'static str, &str); 1] {
        [("X-Twilio-Signature", value)]
    }

    #[test]
    fn published_docs_vector() {
        // Twilio docs, "Webhooks security" (tests/data/published.json).
        let url = "https://example.com/myapp.php?foo=1&bar=2";
        let body = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212";
        let headers = sig("L/OH5YylLD5NRKLltdqwSvS0BnU=");
        let ok = verifier(TOKEN).verify(&headers, body, Some(url)).unwrap();
        assert_eq!(ok.scheme(), "twilio");
        assert_eq!(ok.delivery_id(), None);
    }

    // twilio/twilio-python, tests/unit/test_request_validator.py.
    const SDK_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const SDK_BODY: &[u8] = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";

    #[test]
    fn sdk_vectors_with_and_without_the_port() {
        let v = verifier(TOKEN);
        let cases = [
            // test_validation: as given.
            (SDK_URL.to_owned(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            // test_validation_removes_port_on_https.
            (
                SDK_URL.replace(".com", ".com:1234"),
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            ),
            // test_validation_adds_port_on_https: signed with `:443`.
            (SDK_URL.to_owned(), "kvajT1Ptam85bY51eRf/AJRuM3w="),
            // test_validation_removes_port_on_http: signed with `:1234` as given.
            (
                SDK_URL
                    .replace(".com", ".com:1234")
                    .replace("https", "http"),
                "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            ),
            // test_validation_adds_port_on_http: signed with `:80`.
            (
                SDK_URL.replace("https", "http"),
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            ),
        ];
        for (url, signature) in cases {
            v.verify(&sig(signature), SDK_BODY, Some(&url))
                .unwrap_or_else(|e| panic!("{url} {signature}: {e}"));
        }
        // The port variant does not reach a different scheme or path.
        let err = v
            .verify(
                &sig("kvajT1Ptam85bY51eRf/AJRuM3w="),
                SDK_BODY,
                Some("https://mycompany.com:8443/myapp.php?foo=1&bar=2"),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn sdk_vector_with_repeated_parameters() {
        // test_compute_signature_duplicate_*: values of a repeated name sorted.
        let v = verifier(TOKEN);
        let signature = sig("IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        for body in [
            &b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"[..],
            b"Digits=1234&Sid=CA123&Digits=5678&SidAccount=AC123",
            // An identical pair counts once, as in twilio-node.
            b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
            // Another spelling of the same values.
            b"Sid=%43A123&SidAccount=AC123&Digits=5678&Digits=1234",
        ] {
            v.verify(&signature, body, Some(SDK_URL)).unwrap();
        }
        let err = v
            .verify(
                &signature,
                b"Sid=CA123&SidAccount=AC123&Digits=5678",
                Some(SDK_URL),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn sdk_vector_for_a_json_body() {
        // test_validation_of_body_succeeds.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        let body = br#"{"property": "value", "boolean": true}"#;
        let signature = sig("a9nBmqA0ju/hNViExpshrM61xv4=");
        let v = verifier(TOKEN);
        v.verify(&signature, body, Some(url)).unwrap();

        // The signature covers the URL only: another body is caught by the digest.
        let err = v
            .verify(
                &signature,
                br#"{"property": "other", "boolean": true}"#,
                Some(url),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        assert!(err.detail().contains("bodySHA256"), "{err}");
        // ...and another digest in the URL by the signature.
        let other_url = url.replace("6620", "6621");
        let err = v.verify(&signature, body, Some(&other_url)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        assert!(!err.detail().contains("bodySHA256"), "{err}");
    }

    #[test]
    fn a_signed_form_value_cannot_pass_for_a_json_digest() {
        let evil = br#"{"evil":true}"#;
        let digest = hex::encode(Sha256::digest(evil));
        let url = "https://h.example/sms?tenant=1";
        let v = verifier(TOKEN);
        // Twilio signs a form delivery whose `Body` (an SMS text) the attacker wrote;
        // the same signed string is then re-read as a URL whose query carries the digest.
        let forge = |text: &str| {
            let headers = signed_sms(&v, url, text, "&From=%2B1555");
            let forged = format!("{url}AccountSidAC1Body{text}From+1555");
            v.verify(&headers, evil, Some(&forged)).unwrap_err()
        };
        let err = forge(&format!("&bodySHA256={digest}&z="));
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        assert!(err.detail().contains("last query parameter"), "{err}");
        // A second, empty `bodySHA256` to end the query with that name: refused too.
        let err = forge(&format!("&bodySHA256={digest}&bodySHA256="));
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn a_signed_form_cannot_be_re_read_as_a_json_body_without_a_digest() {
        // Twilio signs an SMS delivery to a URL with a query; the attacker wrote the
        // SMS text (`Body`), which is NOT the last parameter in sort order (`From`,
        // `To` follow). No `bodySHA256` is involved.
        let url = "https://h.example/hook?tenant=1";
        let text = " {\"evil\":true,\"pad\":\"\"}";
        let v = verifier(TOKEN);
        let headers = signed_sms(&v, url, text, "&From=%2B15551&To=%2B15552");
        // The same signed string, re-read: the parameters before the text move into
        // the query's last value, and the rest becomes a JSON document whose pieces,
        // split at `&` and sorted, spell the text and the parameters after it.
        let forged_url = format!("{url}AccountSidAC1Body");
        let json = br#" {"evil":true,"pad":"&From=%2B15551&To=%2B15552&"}"#;
        let parsed: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(parsed["evil"], true);
        let err = v
            .verify(&headers, json, Some(&forged_url))
            .expect_err("a JSON body Twilio never sent, accepted as a form");
        assert_eq!(err.kind(), ErrorKind::MalformedBody, "{err}");
    }

    #[test]
    fn json_round_trip_and_a_digest_that_is_not_hex() {
        let body = br#"{"CallSid":"CA1"}"#;
        let digest = hex::encode(Sha256::digest(body));
        let v = verifier(TOKEN);
        for url in [
            format!("https://example.com/hook?bodySHA256={digest}"),
            format!(
                "https://example.com/hook?bodySHA256={}#frag",
                digest.to_uppercase()
            ),
        ] {
            let input = SignInput {
                body,
                timestamp: 0,
                id: Some("idem-1"),
                url: Some(&url),
            };
            let headers = sign(&Twilio::new(), &TOKEN.into(), &input).unwrap();
            let ok = v.verify(&headers, body, Some(&url)).unwrap();
            assert_eq!(ok.delivery_id(), Some("idem-1"));
        }
        for bad in ["", "zz", "0a1ff7634d9ab3b9"] {
            let url = format!("https://example.com/hook?bodySHA256={bad}");
            let input = SignInput {
                body,
                timestamp: 0,
                id: None,
                url: Some(&url),
            };
            let headers = sign(&Twilio::new(), &TOKEN.into(), &input).unwrap();
            let err = v.verify(&headers, body, Some(&url)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SignatureMismatch, "{bad:?}");
        }
    }

    #[test]
    fn round_trip_tamper_and_wrong_token() {
        let url = "https://example.com/sms";
        let body = b"From=%2B15005550006&Body=Hello+there";
        let input = SignInput {
            body,
            timestamp: 0,
            id: None,
            url: Some(url),
        };
        let headers = sign(&Twilio::new(), &TOKEN.into(), &input).unwrap();
        let v = verifier(TOKEN);
        v.verify(&headers, body, Some(url)).unwrap();
        for (body, url) in [
            (&b"From=%2B15005550006&Body=Hello+there!"[..], url),
            (b"From=%2B15005550007&Body=Hello+there", url),
            (body, "https://example.com/sms2"),
            (body, "http://example.com/sms"),
        ] {
            let err = v.verify(&headers, body, Some(url)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        }
        let err = verifier("54321")
            .verify(&headers, body, Some(url))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = v.verify(&headers, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UrlRequired);
    }

    #[test]
    fn port_variants_handle_userinfo_ipv6_and_other_schemes() {
        let alt = |u| alternate(u).map(|a| format!("{}{}{}", a.head, a.port.unwrap_or(""), a.tail));
        assert_eq!(
            alt("https://u:p@h.example/x?y=1").as_deref(),
            Some("https://u:p@h.example:443/x?y=1")
        );
        assert_eq!(alt("http://[::1]/x").as_deref(), Some("http://[::1]:80/x"));
        assert_eq!(alt("https://[::1]:8443").as_deref(), Some("https://[::1]"));
        assert_eq!(alt("HTTPS://h:443?q").as_deref(), Some("HTTPS://h?q"));
        assert_eq!(alt("wss://h/x"), None);
        assert_eq!(alt("https://h:/x"), None);
        assert_eq!(alt("https://h:44a3/x"), None);
        assert_eq!(alt("/relative/path"), None);
        assert_eq!(alt(""), None);
        assert_eq!(alt("https://"), None);
        assert_eq!(alt("https://u@/x"), None);

        // One variant only where there is no alternate form.
        let body = b"A=1";
        let url = "wss://h.example/x";
        let input = SignInput {
            body,
            timestamp: 0,
            id: None,
            url: Some(url),
        };
        let headers = sign(&Twilio::new(), &TOKEN.into(), &input).unwrap();
        verifier(TOKEN).verify(&headers, body, Some(url)).unwrap();
        let req = Request {
            headers: &headers,
            body,
            url: Some(url),
        };
        assert_eq!(Twilio::new().content_variants(&req), 1);
    }

    #[test]
    fn malformed_and_missing_header() {
        let v = verifier(TOKEN);
        for bad in ["", "not/base64!", "L/OH5YylLD5NRKLltdqwSvS0BnU"] {
            let err = v.verify(&sig(bad), SDK_BODY, Some(SDK_URL)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedHeader, "{bad:?}");
            assert_eq!(err.header(), Some("x-twilio-signature"));
        }
        let err = v
            .verify(
                &[("I-Twilio-Idempotency-Token", "x")],
                SDK_BODY,
                Some(SDK_URL),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader);
        assert_eq!(err.header(), Some("x-twilio-signature"));
    }

    #[test]
    fn header_case_and_non_utf8_body() {
        let v = verifier(TOKEN);
        let headers = [("x-twilio-signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")];
        v.verify(&headers, SDK_BODY, Some(SDK_URL)).unwrap();
        let body = [0xff, 0xfe, b'=', 0x80, b'&', b'%', b'F', b'F'];
        let input = SignInput {
            body: &body,
            timestamp: 0,
            id: None,
            url: Some(SDK_URL),
        };
        let headers: Vec<_> = sign(&Twilio::new(), &TOKEN.into(), &input)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        v.verify(&headers, &body, Some(SDK_URL)).unwrap();
    }

    type Feed = fn(&[u8], &mut dyn FnMut(&[u8]));

    /// What `feed` passes to the MAC, as one byte string.
    fn fed(body: &[u8], feed: Feed) -> Vec<u8> {
        let mut out = Vec::new();
        feed(body, &mut |chunk: &[u8]| out.extend_from_slice(chunk));
        out
    }

    #[test]
    fn a_twilio_form_is_decoded_on_the_stack() {
        let body = b"ToCountry=US&Body=Hello+there%21&To=%2B15558675310&From=%2B14158675310&NumMedia=0&ToCity=&Body=Hello+there%21";
        let mut on_stack = Vec::new();
        assert!(feed_params_on_stack(body, &mut |c: &[u8]| on_stack.extend_from_slice(c)));
        assert_eq!(on_stack, fed(body, feed_params_on_heap));
        assert_eq!(
            String::from_utf8(on_stack).unwrap(),
            "BodyHello there!From+14158675310NumMedia0To+15558675310ToCityToCountryUS"
        );
    }

    #[test]
    fn the_stack_path_declines_what_it_cannot_hold() {
        let declines = |body: &[u8]| {
            let mut fed_any = false;
            let taken = feed_params_on_stack(body, &mut |_: &[u8]| fed_any = true);
            assert!(taken || !fed_any, "fed before declining");
            !taken
        };
        // Over 4 KiB, over 64 parameters, not UTF-8 once decoded.
        assert!(declines(&vec![b'a'; STACK_FORM_BYTES + 1]));
        assert!(!declines(&vec![b'a'; STACK_FORM_BYTES]));
        let many: Vec<u8> = (0..=STACK_FORM_PARAMS)
            .flat_map(|i| format!("p{i}=v&").into_bytes())
            .collect();
        assert!(declines(&many));
        assert!(declines(b"a=%FF"));
        assert!(declines(b"a=b&c=\xff"));
        // Each of those still feeds the same as the reference through `feed_params`.
        for body in [
            &vec![b'a'; STACK_FORM_BYTES + 1][..],
            &many,
            b"a=%FF&b=%C3%A9",
        ] {
            assert_eq!(fed(body, feed_params), fed(body, feed_params_on_heap));
        }
    }

    /// Pieces of form bodies whose decoding is always UTF-8.
    const FORM_TOKENS: &[&str] = &[
        "x", "y", "=", "&", "+", " ", "%", "%z", "%2B", "%21", "%C3%A9", "é", "%2f", "Sms",
    ];
    /// Bytes for arbitrary bodies, invalid UTF-8 included.
    const FORM_BYTES: &[u8] = b"ab=&+%2Fc3F9 \xc3\xa9\xff";

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn the_stack_decoder_agrees_with_form_urlencoded(
            picks in proptest::collection::vec(0..FORM_TOKENS.len(), 0..60),
        ) {
            let body: Vec<u8> = picks.iter().flat_map(|&i| FORM_TOKENS[i].bytes()).collect();
            let mut on_stack = Vec::new();
            let taken = feed_params_on_stack(&body, &mut |c: &[u8]| on_stack.extend_from_slice(c));
            proptest::prop_assert!(taken, "declined {:?}", String::from_utf8_lossy(&body));
            proptest::prop_assert_eq!(on_stack, fed(&body, feed_params_on_heap));
        }

        #[test]
        fn any_form_body_feeds_as_form_urlencoded_does(
            picks in proptest::collection::vec(0..FORM_BYTES.len(), 0..120),
        ) {
            let body: Vec<u8> = picks.iter().map(|&i| FORM_BYTES[i]).collect();
            proptest::prop_assert_eq!(fed(&body, feed_params), fed(&body, feed_params_on_heap));
        }
    }
}
