//! A configurable HMAC scheme, for providers hookwarden has no built-in scheme for.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{ConfigError, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::parse::unix_seconds;
use crate::scheme::{Parsed, Request, Scheme, SignInput};
use crate::tag::Tag;
use crate::tolerance::Tolerance;

/// How the signature is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureEncoding {
    /// Hexadecimal, either case. The default.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl SignatureEncoding {
    /// Decode a signature written in this encoding.
    pub(crate) fn decode(self, encoded: &[u8]) -> Option<Tag> {
        match self {
            Self::Hex => Tag::from_hex(encoded),
            Self::Base64 => Tag::from_base64(encoded),
        }
    }

    /// The error detail for a signature that does not decode.
    pub(crate) const fn invalid(self) -> &'static str {
        match self {
            Self::Hex => "signature is not valid hex",
            Self::Base64 => "signature is not valid base64",
        }
    }
}

/// The hash function of the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HmacHash {
    /// HMAC-SHA1.
    Sha1,
    /// HMAC-SHA256. The default.
    #[default]
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl HmacHash {
    fn algorithm(self) -> Algorithm {
        match self {
            Self::Sha1 => Algorithm::HmacSha1,
            Self::Sha256 => Algorithm::HmacSha256,
            Self::Sha512 => Algorithm::HmacSha512,
        }
    }
}

/// One piece of the signed content, parsed from the template once, at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Box<[u8]>),
    Id,
    Timestamp,
    Url,
    Body,
}

/// A configurable HMAC scheme: signature header, optional prefix, hex or base64,
/// SHA-1/256/512, optional timestamp and id headers, and a template of the signed
/// content. Build it with [`GenericHmac::builder`].
///
/// | | |
/// |---|---|
/// | headers | the signature header; the timestamp and id headers when configured |
/// | signed content | the template, `{body}` by default: literal text with `{id}`, `{timestamp}`, `{url}` and `{body}` placeholders (`{{` and `}}` for literal braces) |
/// | signature | [`SignatureEncoding`] of an [`HmacHash`] HMAC, after the optional prefix; several separated by an optional separator |
/// | secret | the configured string's bytes |
/// | timestamp | the timestamp header, unix seconds, when configured (it must then be signed) |
/// | default tolerance | 5 minutes each way, or [`GenericHmacBuilder::tolerance`]; none without a timestamp header |
/// | delivery id | the id header, when configured |
///
/// ```
/// use hookwarden_core::schemes::{GenericHmac, SignatureEncoding};
/// use hookwarden_core::{sign, ManualClock, SignInput, Verifier};
///
/// // "X-Acme-Signature: sha256=<base64 of HMAC-SHA256(id.timestamp.body)>"
/// let scheme = GenericHmac::builder()
///     .signature_header("X-Acme-Signature")
///     .prefix("sha256=")
///     .encoding(SignatureEncoding::Base64)
///     .timestamp_header("X-Acme-Timestamp")
///     .id_header("X-Acme-Id")
///     .template("{id}.{timestamp}.{body}")
///     .build()?;
///
/// let input = SignInput { body: b"{}", timestamp: 1_700_000_000, id: Some("evt_1"), url: None };
/// let headers = sign(&scheme, &"s3cret".into(), &input)?;
/// let verifier = Verifier::builder(scheme)
///     .secret("s3cret")
///     .clock(ManualClock::new(1_700_000_000))
///     .build()?;
/// let verified = verifier.verify(&headers, b"{}", None).expect("valid");
/// assert_eq!(verified.delivery_id(), Some("evt_1"));
///
/// let err = GenericHmac::builder()
///     .signature_header("X-Sig")
///     .template("{timestamp}.{body}")
///     .build()
///     .unwrap_err();
/// assert!(err.message().contains("timestamp header"));
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct GenericHmac {
    name: &'static str,
    signature: HeaderKey,
    prefix: Box<[u8]>,
    encoding: SignatureEncoding,
    hash: HmacHash,
    separator: Option<u8>,
    timestamp: Option<HeaderKey>,
    tolerance: Tolerance,
    id: Option<HeaderKey>,
    id_required: bool,
    parts: Vec<Part>,
    signs_url: bool,
    required: Vec<HeaderKey>,
}

impl GenericHmac {
    /// Start configuring a generic HMAC scheme.
    pub fn builder() -> GenericHmacBuilder {
        GenericHmacBuilder::default()
    }

    fn decode(&self, encoded: &[u8]) -> Option<Tag> {
        self.encoding.decode(encoded)
    }

    fn encode(&self, tag: &[u8]) -> String {
        match self.encoding {
            SignatureEncoding::Hex => hex::encode(tag),
            SignatureEncoding::Base64 => B64.encode(tag),
        }
    }
}

/// Configures a [`GenericHmac`]; see [`GenericHmac::builder`]. Every setter replaces
/// the previous value; [`build`](Self::build) checks the whole.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct GenericHmacBuilder {
    name: Option<&'static str>,
    signature_header: Option<String>,
    prefix: String,
    encoding: SignatureEncoding,
    hash: HmacHash,
    separator: Option<char>,
    timestamp_header: Option<String>,
    tolerance: Option<Tolerance>,
    id_header: Option<String>,
    template: Option<String>,
}

impl GenericHmacBuilder {
    /// The scheme's name, for the provider it verifies (`"calendly"`): it is what
    /// [`Verified::scheme`](crate::Verified::scheme) and the logs report, and the
    /// default dedup namespace. Lowercase ASCII letters, digits, `-` and `_`, at most
    /// 32 bytes. Defaults to `"generic"`.
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// The header carrying the signature (any case). Required.
    pub fn signature_header(mut self, name: impl Into<String>) -> Self {
        self.signature_header = Some(name.into());
        self
    }

    /// Text before the encoded signature, such as `sha256=` or `v1=`: it cannot start
    /// with a space or hold a control character (a tab inside is fine). Defaults to none.
    /// A signature without it is refused as malformed (or skipped, among several).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How the signature is encoded. Defaults to [`SignatureEncoding::Hex`].
    pub fn encoding(mut self, encoding: SignatureEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The HMAC's hash function. Defaults to [`HmacHash::Sha256`].
    pub fn hash(mut self, hash: HmacHash) -> Self {
        self.hash = hash;
        self
    }

    /// The signature header may carry several signatures (a sender rotating its
    /// secret) separated by this ASCII character, such as `,` or a space; each is
    /// trimmed and carries the prefix. It cannot be a digit of the encoding (hex, or
    /// base64 with `+`, `/` and `=`) nor a character of the prefix. Defaults to one
    /// signature.
    pub fn separator(mut self, separator: char) -> Self {
        self.separator = Some(separator);
        self
    }

    /// The header carrying the signing time, unix seconds. Defaults to none (no replay
    /// window: dedup alone stops replays). When set, the template must sign
    /// `{timestamp}`, or the tolerance would rest on a value anyone can change.
    pub fn timestamp_header(mut self, name: impl Into<String>) -> Self {
        self.timestamp_header = Some(name.into());
        self
    }

    /// The default replay tolerance (a [`Verifier`](crate::Verifier) may override it).
    /// Defaults to five minutes each way; only meaningful with a timestamp header.
    pub fn tolerance(mut self, tolerance: Tolerance) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// The header carrying the delivery id, used for dedup. Defaults to none. It is
    /// required in requests when the template signs `{id}`, optional otherwise.
    pub fn id_header(mut self, name: impl Into<String>) -> Self {
        self.id_header = Some(name.into());
        self
    }

    /// The signed content: literal text and the placeholders `{id}`, `{timestamp}`,
    /// `{url}` and `{body}`, for example `"{id}.{timestamp}.{body}"`. `{{` and `}}`
    /// stand for literal braces. Defaults to `"{body}"`.
    pub fn template(mut self, template: impl Into<String>) -> Self {
        self.template = Some(template.into());
        self
    }

    /// Check the configuration and build the scheme. The template is parsed here, once.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the problem: an invalid name, no or an invalid header name,
    /// one header named for two of the signature, timestamp and id, a prefix that
    /// starts with a space or holds a control character, a separator that is not
    /// ASCII, is a digit of the encoding or is in the prefix, a template with an
    /// unknown placeholder, an unclosed `{`, a stray `}` or no `{body}`, `{timestamp}` without a timestamp header (or a
    /// timestamp header the template does not sign), `{id}` without an id header.
    pub fn build(self) -> Result<GenericHmac, ConfigError> {
        let name = self.name.unwrap_or("generic");
        if name.is_empty()
            || name.len() > 32
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(ConfigError::new(
                "generic scheme: the name must be 1 to 32 lowercase ASCII letters, digits, `-` or `_`",
            ));
        }
        let signature =
            HeaderKey::new(self.signature_header.as_deref().ok_or_else(|| {
                ConfigError::new("generic scheme: a signature header is required")
            })?)?;
        let timestamp = self
            .timestamp_header
            .as_deref()
            .map(HeaderKey::new)
            .transpose()?;
        let id = self.id_header.as_deref().map(HeaderKey::new).transpose()?;
        // One header cannot carry two of the signature, the timestamp and the id: the
        // scheme would send two headers of one name and read only the first.
        let roles = [
            ("signature", Some(&signature)),
            ("timestamp", timestamp.as_ref()),
            ("id", id.as_ref()),
        ];
        for (i, (first, a)) in roles.iter().enumerate() {
            for (second, b) in &roles[i + 1..] {
                if let (Some(a), Some(b)) = (a, b)
                    && a == b
                {
                    return Err(ConfigError::new(format!(
                        "generic scheme: the {first} and {second} headers are the same header {a}"
                    )));
                }
            }
        }
        let separator = match self.separator {
            None => None,
            Some(c) => Some(u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
                ConfigError::new(format!(
                    "generic scheme: the separator {c:?} is not an ASCII character"
                ))
            })?),
        };
        // Header values are trimmed before the prefix is looked for, and cannot hold
        // control characters: such a prefix would never be found.
        if self.prefix.starts_with(|c: char| c.is_ascii_whitespace())
            || self
                .prefix
                .chars()
                .any(|c| c.is_ascii_control() && c != '\t')
        {
            return Err(ConfigError::new(format!(
                "generic scheme: the prefix {:?} cannot start with a space or hold a control character",
                self.prefix
            )));
        }
        if let Some(sep) = separator {
            let (in_encoding, encoding) = match self.encoding {
                SignatureEncoding::Hex => (sep.is_ascii_hexdigit(), "hex"),
                SignatureEncoding::Base64 => (
                    sep.is_ascii_alphanumeric() || matches!(sep, b'+' | b'/' | b'='),
                    "base64",
                ),
            };
            // Split there, a signature or its prefix could never be read back whole.
            if in_encoding {
                return Err(ConfigError::new(format!(
                    "generic scheme: the separator {:?} is a {encoding} digit, part of the signatures it would separate",
                    char::from(sep)
                )));
            }
            if self.prefix.as_bytes().contains(&sep) {
                return Err(ConfigError::new(format!(
                    "generic scheme: the separator {:?} is in the prefix {:?}",
                    char::from(sep),
                    self.prefix
                )));
            }
        }
        let parts = parse_template(self.template.as_deref().unwrap_or("{body}"))?;
        let uses = |p: &Part| parts.contains(p);
        if uses(&Part::Timestamp) && timestamp.is_none() {
            return Err(ConfigError::new(
                "generic scheme: the template signs {timestamp} but no timestamp header is set",
            ));
        }
        if timestamp.is_some() && !uses(&Part::Timestamp) {
            return Err(ConfigError::new(
                "generic scheme: a timestamp header is set but the template does not sign {timestamp}",
            ));
        }
        if uses(&Part::Id) && id.is_none() {
            return Err(ConfigError::new(
                "generic scheme: the template signs {id} but no id header is set",
            ));
        }
        let id_required = uses(&Part::Id);
        let mut required = vec![signature.clone()];
        required.extend(timestamp.iter().cloned());
        if id_required {
            required.extend(id.iter().cloned());
        }
        Ok(GenericHmac {
            name,
            signature,
            prefix: self.prefix.into_bytes().into_boxed_slice(),
            encoding: self.encoding,
            hash: self.hash,
            separator,
            timestamp,
            tolerance: self.tolerance.unwrap_or_default(),
            id,
            id_required,
            signs_url: uses(&Part::Url),
            parts,
            required,
        })
    }
}

/// Parse a signed-content template into parts, merging adjacent literal text.
fn parse_template(template: &str) -> Result<Vec<Part>, ConfigError> {
    let mut parts = Vec::new();
    let mut literal = Vec::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        let offset = template.len() - rest.len();
        if let Some(after) = rest.strip_prefix("{{") {
            literal.push(b'{');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("}}") {
            literal.push(b'}');
            rest = after;
        } else if c == '{' {
            let close = rest.find('}').ok_or_else(|| {
                ConfigError::new(format!(
                    "generic scheme: unclosed `{{` at byte {offset} of the template"
                ))
            })?;
            let name = rest.get(1..close).unwrap_or_default();
            let part = match name {
                "id" => Part::Id,
                "timestamp" => Part::Timestamp,
                "url" => Part::Url,
                "body" => Part::Body,
                _ if name.contains('{') => {
                    return Err(ConfigError::new(format!(
                        "generic scheme: unclosed `{{` at byte {offset} of the template"
                    )));
                }
                _ => {
                    return Err(ConfigError::new(format!(
                        "generic scheme: unknown placeholder {{{name}}} in the template \
                         (expected {{id}}, {{timestamp}}, {{url}} or {{body}})"
                    )));
                }
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(
                    std::mem::take(&mut literal).into_boxed_slice(),
                ));
            }
            parts.push(part);
            rest = rest.get(close + 1..).unwrap_or_default();
        } else if c == '}' {
            return Err(ConfigError::new(format!(
                "generic scheme: unmatched `}}` at byte {offset} of the template (write `}}}}` for a literal brace)"
            )));
        } else {
            let mut buf = [0; 4];
            literal.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal.into_boxed_slice()));
    }
    if !parts.contains(&Part::Body) {
        return Err(ConfigError::new(
            "generic scheme: the template must sign the body: add {body}",
        ));
    }
    Ok(parts)
}

impl Scheme for GenericHmac {
    fn name(&self) -> &'static str {
        self.name
    }

    // The id header is signed when the template has `{id}`.
    fn signs_id_header(&self) -> bool {
        self.id_required
    }

    fn algorithm(&self) -> Algorithm {
        self.hash.algorithm()
    }

    fn default_tolerance(&self) -> Option<Tolerance> {
        self.timestamp.as_ref().map(|_| self.tolerance)
    }

    fn required_headers(&self) -> &[HeaderKey] {
        &self.required
    }

    fn signs_url(&self) -> bool {
        self.signs_url
    }

    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        let sig = &self.signature;
        let raw = headers
            .first(sig)
            .ok_or_else(|| VerifyError::missing(sig))?;
        if let Some(key) = &self.timestamp {
            let ts = headers
                .first(key)
                .ok_or_else(|| VerifyError::missing(key))?
                .trim_ascii();
            parsed.timestamp =
                Some(unix_seconds(ts).ok_or_else(|| {
                    VerifyError::malformed(key, "not a unix timestamp in seconds")
                })?);
            parsed.timestamp_raw = ts;
        }
        if let Some(key) = &self.id {
            parsed.id = headers.first(key);
            if self.id_required && parsed.id.is_none() {
                return Err(VerifyError::missing(key));
            }
        }
        let items = raw.split(|&b| Some(b) == self.separator);
        let (mut prefixed, mut decoded_any) = (0usize, false);
        for item in items.map(<[u8]>::trim_ascii).filter(|i| !i.is_empty()) {
            let Some(encoded) = item.strip_prefix(&*self.prefix) else {
                continue;
            };
            prefixed += 1;
            if let Some(tag) = self.decode(encoded) {
                decoded_any = true;
                parsed.add_signature(tag, sig)?;
            }
        }
        if !decoded_any {
            return Err(if prefixed == 0 && !self.prefix.is_empty() {
                VerifyError::malformed(sig, "signature lacks the configured prefix")
            } else {
                VerifyError::malformed(sig, self.encoding.invalid())
            });
        }
        Ok(())
    }

    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        _variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        for part in &self.parts {
            match part {
                Part::Literal(text) => sink(text),
                Part::Id => sink(parsed.id.unwrap_or_default()),
                Part::Timestamp => sink(parsed.timestamp_raw),
                Part::Url => sink(req.url.unwrap_or_default().as_bytes()),
                Part::Body => sink(req.body),
            }
        }
    }

    fn sign_headers(
        &self,
        signature: &[u8],
        _input: &SignInput<'_>,
        timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        let prefix = String::from_utf8_lossy(&self.prefix);
        let mut headers = vec![(
            self.signature.to_string(),
            format!("{prefix}{}", self.encode(signature)),
        )];
        if let Some(key) = &self.timestamp {
            headers.push((key.to_string(), timestamp.to_owned()));
        }
        if let Some(key) = &self.id {
            headers.push((key.to_string(), id.to_owned()));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::test_headers::with;
    use crate::{ErrorKind, ManualClock, Verifier, sign};

    const NOW: i64 = 1_700_000_000;
    const SECRET: &str = "It's a Secret to Everybody";

    fn verifier(scheme: GenericHmac, secret: &str) -> Verifier {
        Verifier::builder(scheme)
            .secret(secret)
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    fn signed(
        scheme: &GenericHmac,
        body: &[u8],
        ts: i64,
        url: Option<&str>,
    ) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: ts,
            id: Some("msg_1"),
            url,
        };
        sign(scheme, &SECRET.into(), &input).unwrap()
    }

    fn full() -> GenericHmac {
        GenericHmac::builder()
            .signature_header("X-Acme-Signature")
            .prefix("v1=")
            .encoding(SignatureEncoding::Base64)
            .hash(HmacHash::Sha512)
            .separator(',')
            .timestamp_header("X-Acme-Timestamp")
            .id_header("X-Acme-Id")
            .template("{id}.{timestamp}.{url}.{body}")
            .build()
            .unwrap()
    }

    /// GitHub docs, "Validating webhook deliveries": the signature of "Hello, World!".
    const GITHUB_EXAMPLE: [(&str, &str); 1] = [(
        "X-Hub-Signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )];

    /// A generic scheme configured as GitHub signs.
    fn github_shaped() -> GenericHmacBuilder {
        GenericHmac::builder()
            .signature_header("X-Hub-Signature-256")
            .prefix("sha256=")
    }

    #[test]
    fn github_shaped_config_matches_githubs_published_example() {
        // The same bytes as the GitHub scheme, through the generic one.
        let scheme = github_shaped().build().unwrap();
        let headers = GITHUB_EXAMPLE;
        let v = verifier(scheme, SECRET);
        assert_eq!(
            v.verify(&headers, b"Hello, World!", None).unwrap().scheme(),
            "generic"
        );
        let err = v.verify(&headers, b"Hello, World?", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        assert_eq!(v.tolerance(), None);
    }

    #[test]
    fn a_named_scheme_reports_its_name_and_keys_dedup_under_it() {
        let scheme = github_shaped().name("acme-hooks").build().unwrap();
        let headers = GITHUB_EXAMPLE;
        let v = verifier(scheme, SECRET);
        let verified = v.verify(&headers, b"Hello, World!", None).unwrap();
        assert_eq!(verified.scheme(), "acme-hooks");
        let req = crate::Request {
            headers: &headers,
            body: b"Hello, World!",
            url: None,
        };
        let key = crate::dedup::DedupConfig::new()
            .key_for(&verified, &req)
            .unwrap();
        assert!(key.as_str().starts_with("acme-hooks:"), "{key:?}");
        for bad in ["", "Acme", "a:b", "a b", &"x".repeat(33)] {
            let bad: &'static str = Box::leak(bad.to_owned().into_boxed_str());
            let err = GenericHmac::builder()
                .name(bad)
                .signature_header("x-sig")
                .build()
                .unwrap_err();
            assert!(err.message().contains("the name"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn template_with_literals_known_answer_from_python() {
        // Computed independently: hmac.new(b"It's a Secret to Everybody",
        // b"v0:msg_1:1700000000:{}", hashlib.sha1).hexdigest()
        let scheme = GenericHmac::builder()
            .signature_header("x-sig")
            .hash(HmacHash::Sha1)
            .timestamp_header("x-ts")
            .id_header("x-id")
            .template("v0:{id}:{timestamp}:{body}")
            .build()
            .unwrap();
        let headers = [
            ("x-sig", "da1dbb15c2609d3a0db5c0059acf762dcf0bdfd7"),
            ("x-ts", "1700000000"),
            ("x-id", "msg_1"),
        ];
        assert!(
            verifier(scheme, SECRET)
                .verify(&headers, b"{}", None)
                .is_ok()
        );
    }

    #[test]
    fn full_config_round_trip_tamper_wrong_secret_and_signed_parts() {
        let url = "https://example.com/hook";
        let body = br#"{"a":1}"#;
        let headers = signed(&full(), body, NOW, Some(url));
        let v = verifier(full(), SECRET);
        let ok = v.verify(&headers, body, Some(url)).unwrap();
        assert_eq!(ok.delivery_id(), Some("msg_1"));
        assert_eq!(v.scheme().algorithm(), Algorithm::HmacSha512);

        let cases = [
            (with(&headers, "X-Acme-Id", "msg_2"), &body[..], url),
            (with(&headers, "X-Acme-Timestamp", "1700000001"), body, url),
            (headers.clone(), br#"{"a":2}"#, url),
            (headers.clone(), body, "https://example.com/other"),
        ];
        for (h, b, u) in cases {
            let err = v.verify(&h, b, Some(u)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        }
        let err = verifier(full(), "other")
            .verify(&headers, body, Some(url))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
        let err = v.verify(&headers, body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UrlRequired);
    }

    #[test]
    fn several_signatures_with_a_separator() {
        let url = "https://example.com/hook";
        let headers = signed(&full(), b"x", NOW, Some(url));
        let good = headers[0].1.clone();
        let other = format!("v1={}", B64.encode([7u8; 64]));
        let v = verifier(full(), SECRET);
        for value in [
            format!("{other}, {good}"),
            format!("v2=abc,{good},{other}"),
            format!("{good},"),
        ] {
            let h = with(&headers, "X-Acme-Signature", &value);
            assert!(v.verify(&h, b"x", Some(url)).is_ok(), "{value}");
        }
        let h = with(&headers, "X-Acme-Signature", &format!("{other},{other}"));
        let err = v.verify(&h, b"x", Some(url)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
    }

    #[test]
    fn stale_and_future_timestamps_and_custom_tolerance() {
        let url = Some("u");
        let v = verifier(full(), SECRET);
        let err = v
            .verify(&signed(&full(), b"x", NOW - 301, url), b"x", url)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
        let err = v
            .verify(&signed(&full(), b"x", NOW + 301, url), b"x", url)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew);

        let strict = GenericHmac::builder()
            .signature_header("x-sig")
            .timestamp_header("x-ts")
            .template("{timestamp}.{body}")
            .tolerance(Tolerance::symmetric(time::Duration::seconds(10)))
            .build()
            .unwrap();
        let headers = signed(&strict, b"x", NOW - 11, None);
        let err = verifier(strict, SECRET)
            .verify(&headers, b"x", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld);
    }

    #[test]
    fn malformed_and_missing_headers_name_the_header() {
        let url = Some("u");
        let headers = signed(&full(), b"x", NOW, url);
        let v = verifier(full(), SECRET);
        let cases = [
            ("x-acme-signature", "nope", ErrorKind::MalformedHeader),
            ("x-acme-signature", "v1=!!!", ErrorKind::MalformedHeader),
            ("x-acme-signature", "v1=", ErrorKind::MalformedHeader),
            ("x-acme-signature", ",,", ErrorKind::MalformedHeader),
            ("x-acme-timestamp", "soon", ErrorKind::MalformedHeader),
            ("x-acme-timestamp", "1.5", ErrorKind::MalformedHeader),
        ];
        for (name, value, kind) in cases {
            let err = v
                .verify(&with(&headers, name, value), b"x", url)
                .unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {value}");
            assert_eq!(err.header(), Some(name));
        }
        let too_many = [headers[0].1.as_str(); 9].join(",");
        let err = v
            .verify(&with(&headers, "x-acme-signature", &too_many), b"x", url)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedHeader);
        for name in ["x-acme-signature", "x-acme-timestamp", "x-acme-id"] {
            assert!(full().required_headers().iter().any(|k| k.as_str() == name));
            let without: Vec<_> = headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
                .cloned()
                .collect();
            let err = v.verify(&without, b"x", url).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MissingHeader);
            assert_eq!(err.header(), Some(name));
        }
    }

    #[test]
    fn an_unsigned_id_header_is_optional() {
        let scheme = || {
            GenericHmac::builder()
                .signature_header("x-sig")
                .id_header("x-delivery")
                .build()
                .unwrap()
        };
        let headers = signed(&scheme(), b"x", NOW, None);
        let v = verifier(scheme(), SECRET);
        assert_eq!(
            v.verify(&headers, b"x", None).unwrap().delivery_id(),
            Some("msg_1")
        );
        let without = vec![headers[0].clone()];
        assert_eq!(v.verify(&without, b"x", None).unwrap().delivery_id(), None);
        assert_eq!(scheme().required_headers().len(), 1);
    }

    #[test]
    fn header_case_and_non_utf8_body() {
        let url = Some("https://example.com/é");
        let body = [0xff, 0xfe, 0x00, b'}', 0xc3];
        let headers: Vec<_> = signed(&full(), &body, NOW, url)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        assert!(
            verifier(full(), SECRET)
                .verify(&headers, &body, url)
                .is_ok()
        );
    }

    #[test]
    fn template_parsing() {
        let parts = parse_template("{{{id}}}-é{body}").unwrap();
        assert_eq!(
            parts,
            [
                Part::Literal(Box::from(&b"{"[..])),
                Part::Id,
                Part::Literal(Box::from("}-é".as_bytes())),
                Part::Body,
            ]
        );
        assert_eq!(parse_template("{body}").unwrap(), [Part::Body]);
    }

    #[test]
    fn configuration_errors_name_the_problem() {
        let base = || GenericHmac::builder().signature_header("x-sig");
        let cases: [(GenericHmacBuilder, &str); 12] = [
            (GenericHmac::builder(), "signature header is required"),
            (
                GenericHmac::builder().signature_header("bad name"),
                "invalid header name",
            ),
            (
                base()
                    .timestamp_header("x:ts")
                    .template("{timestamp}{body}"),
                "invalid header name",
            ),
            (
                base().template("{nonce}.{body}"),
                "unknown placeholder {nonce}",
            ),
            (base().template("{body"), "unclosed `{` at byte 0"),
            (base().template("{body}.{id"), "unclosed `{` at byte 7"),
            (base().template("{id{body}"), "unclosed `{`"),
            (base().template("a}{body}"), "unmatched `}` at byte 1"),
            (base().template("{timestamp}.{body}"), "no timestamp header"),
            (base().timestamp_header("x-ts"), "does not sign {timestamp}"),
            (base().template("{id}.{body}"), "no id header"),
            (base().template("{id}.{url}"), "must sign the body"),
        ];
        for (builder, expected) in cases {
            let err = builder.build().unwrap_err();
            assert!(err.message().contains(expected), "{expected}: {err}");
        }
        let err = base().template("").build().unwrap_err();
        assert!(err.message().contains("{body}"), "{err}");
        let err = base().separator('é').build().unwrap_err();
        assert!(err.message().contains("ASCII"), "{err}");
    }

    #[test]
    fn a_separator_that_splits_a_signature_or_the_prefix_is_a_configuration_error() {
        // Each of these built, and then refused every delivery it signed itself.
        let base = || GenericHmac::builder().signature_header("x-sig");
        let b64 = || base().encoding(SignatureEncoding::Base64);
        for (builder, needle) in [
            (b64().separator('='), "base64"),
            (b64().separator('+'), "base64"),
            (b64().separator('/'), "base64"),
            (b64().separator('Q'), "base64"),
            (base().separator('a'), "hex"),
            (base().separator('F'), "hex"),
            (base().separator('0'), "hex"),
            (base().prefix("v1,").separator(','), "prefix"),
            (base().prefix("v1 ").separator(' '), "prefix"),
        ] {
            let err = builder.build().unwrap_err();
            assert!(err.message().contains("separator"), "{needle}: {err}");
            assert!(err.message().contains(needle), "{needle}: {err}");
        }
        // What stays allowed round-trips.
        for builder in [
            b64().separator('-'),
            b64().separator(',').prefix("v1="),
            base().separator(' ').prefix("sha256="),
            base().separator('g'),
        ] {
            let scheme = builder.build().unwrap();
            let headers = signed(&scheme, b"x", NOW, None);
            assert!(
                verifier(scheme, SECRET)
                    .verify(&headers, b"x", None)
                    .is_ok()
            );
        }
    }

    #[test]
    fn a_prefix_no_header_value_can_carry_is_a_configuration_error() {
        // A leading space or tab is trimmed off the header value before the prefix is
        // looked for; a line break or other control character cannot be sent at all.
        // Each of these built, and refused every delivery it signed itself.
        for prefix in [" v1=", "\tv1=", " ", "v1=\r\n", "v1\0=", "\x7f"] {
            let err = GenericHmac::builder()
                .signature_header("x-sig")
                .prefix(prefix)
                .build()
                .unwrap_err();
            assert!(err.message().contains("prefix"), "{prefix:?}: {err}");
        }
        // A space or tab inside, or at the end, is carried.
        for prefix in ["v1= ", "sha256 =", "é=", "=\t"] {
            let scheme = GenericHmac::builder()
                .signature_header("x-sig")
                .prefix(prefix)
                .build()
                .unwrap();
            let headers = signed(&scheme, b"x", NOW, None);
            assert!(
                verifier(scheme, SECRET)
                    .verify(&headers, b"x", None)
                    .is_ok(),
                "{prefix:?}"
            );
        }
    }

    #[test]
    fn one_header_for_two_roles_is_a_configuration_error() {
        // Signed, such a scheme sends two headers of one name and refuses its own
        // deliveries (or reads the signature as the delivery id).
        let base = || GenericHmac::builder().signature_header("X-Sig");
        for builder in [
            base()
                .timestamp_header("x-sig")
                .template("{timestamp}.{body}"),
            base().id_header("x-SIG"),
            base().id_header("x-sig").template("{id}.{body}"),
            base()
                .timestamp_header("x-t")
                .id_header("X-T")
                .template("{id}.{timestamp}.{body}"),
        ] {
            let err = builder.build().unwrap_err();
            assert!(err.message().contains("same header"), "{err}");
        }
    }
}
