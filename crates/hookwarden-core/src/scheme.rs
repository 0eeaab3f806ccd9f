//! The [`Scheme`] trait: how one provider signs its webhooks.

use std::borrow::Cow;
use std::fmt;

use zeroize::Zeroizing;

use crate::HeaderKey;
use crate::error::{ConfigError, VerifyError};
use crate::headers::Headers;
use crate::key::Algorithm;
use crate::secret::Secret;
use crate::tag::{Signatures, Tag};
use crate::tolerance::Tolerance;

/// One request as the verifier sees it: headers, the raw body bytes and, for schemes
/// that sign it, the public URL the sender called.
#[derive(Clone, Copy)]
pub struct Request<'r> {
    /// The request headers.
    pub headers: &'r dyn Headers,
    /// The raw body bytes, exactly as received.
    pub body: &'r [u8],
    /// The full public URL the sender called (scheme, host, path and query), for
    /// URL-signing schemes (Twilio, Square).
    pub url: Option<&'r str>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("body_len", &self.body.len())
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What [`Scheme::parse_into`] found in the headers.
///
/// The verifier keeps it on its stack and lends it to the scheme to fill in: it holds
/// up to [`MAX_SIGNATURES`](crate::MAX_SIGNATURES) decoded signatures, too large to
/// move around on every request.
///
/// `Debug` leaves out the token, which is the secret itself (GitLab):
///
/// ```
/// use hookwarden_core::Parsed;
/// let mut parsed = Parsed::default();
/// parsed.token = b"gitlab-secret-token";
/// assert!(!format!("{parsed:?}").contains("103, 105, 116"));
/// assert!(format!("{parsed:?}").contains("token: \"<redacted>\""));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Parsed<'r> {
    /// The signed timestamp, unix seconds, when the scheme has one in a header.
    pub timestamp: Option<i64>,
    /// The timestamp exactly as sent, when it is part of the signed content.
    pub timestamp_raw: &'r [u8],
    /// The delivery id from a header, when the scheme has one.
    pub id: Option<&'r [u8]>,
    /// The candidate signatures, decoded.
    pub signatures: Signatures,
    /// For [`Algorithm::Token`] schemes: the token as sent.
    pub token: &'r [u8],
}

impl fmt::Debug for Parsed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parsed")
            .field("timestamp", &self.timestamp)
            .field("timestamp_raw", &self.timestamp_raw)
            .field("id", &self.id)
            .field("signatures", &self.signatures)
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

impl Parsed<'_> {
    /// Back to empty, as `Parsed::default()`, without rewriting the signatures' space.
    ///
    /// ```
    /// use hookwarden_core::{HeaderKey, Parsed, Tag};
    /// let mut parsed = Parsed::default();
    /// parsed.timestamp = Some(1);
    /// parsed.add_signature(Tag::from_slice(b"sig").unwrap(), &HeaderKey::from_static("x-sig"))?;
    /// parsed.clear();
    /// assert!(parsed.signatures.is_empty() && parsed.timestamp.is_none());
    /// # Ok::<(), hookwarden_core::VerifyError>(())
    /// ```
    pub fn clear(&mut self) {
        self.timestamp = None;
        self.timestamp_raw = &[];
        self.id = None;
        self.signatures.clear();
        self.token = &[];
    }

    /// Add a decoded candidate signature found in `header`.
    ///
    /// # Errors
    ///
    /// `MalformedHeader` when the request carries more than
    /// [`MAX_SIGNATURES`](crate::MAX_SIGNATURES) candidates.
    pub fn add_signature(&mut self, tag: Tag, header: &HeaderKey) -> Result<(), VerifyError> {
        if self.signatures.push(tag) {
            Ok(())
        } else {
            Err(VerifyError::malformed(header, "too many signatures"))
        }
    }
}

/// Where a delivery's id is ([`Scheme::delivery_id`]), read only when it is needed.
///
/// ```
/// use hookwarden_core::IdSource;
/// let body = br#"{"id":"evt_1","object":"event"}"#;
/// assert_eq!(IdSource::BodyField(body, "id").resolve().as_deref(), Some("evt_1"));
/// assert_eq!(IdSource::Bytes(b"msg_1").resolve().as_deref(), Some("msg_1"));
/// assert_eq!(IdSource::Bytes(b"\xff").resolve(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdSource<'r> {
    /// The delivery has no id.
    None,
    /// The id's bytes, found already (a header value); an id that is not UTF-8 counts
    /// as none.
    Bytes(&'r [u8]),
    /// A string field of the body's top-level JSON object (the body is signed, so the
    /// id is too): `BodyField(body, "id")`.
    BodyField(&'r [u8], &'static str),
}

impl<'r> IdSource<'r> {
    /// Read the id.
    #[must_use]
    pub fn resolve(self) -> Option<Cow<'r, str>> {
        match self {
            Self::None => None,
            Self::Bytes(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Self::BodyField(body, field) => crate::parse::json_top_level_str(body, field),
        }
    }
}

/// The inputs of a signature made with [`sign`](crate::sign()): what a sender knows.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// The exact body bytes to send.
    pub body: &'a [u8],
    /// The signing time, unix seconds.
    pub timestamp: i64,
    /// The delivery id (schemes that sign one; one is derived from the body and
    /// timestamp when absent).
    pub id: Option<&'a str>,
    /// The URL the request will be sent to (URL-signing schemes).
    pub url: Option<&'a str>,
}

/// How a provider signs its webhooks. Implement it to support a provider hookwarden
/// does not know.
///
/// A scheme is split in phases so that the [`Verifier`](crate::Verifier) can hold every
/// rule that is common to all providers (tolerance, rotation, constant-time comparison,
/// computing each key's MAC once):
///
/// 1. [`parse_into`](Scheme::parse_into) reads the headers only: the signed timestamp, the
///    delivery id and the candidate signatures, decoded onto the stack. It runs before
///    the body is buffered, so a request without a well-formed signature is refused
///    early.
/// 2. The verifier checks a header timestamp against the tolerance *before* any
///    hashing.
/// 3. [`signed_content`](Scheme::signed_content) feeds the exact signed bytes (for
///    example `id.timestamp.body`) into the MAC, chunk by chunk: the body is never
///    copied or re-serialised.
/// 4. [`timestamp_from_body`](Scheme::timestamp_from_body), for the rare scheme that
///    signs a timestamp inside the body (Linear), once a MAC matched: an unsigned body
///    is never scanned (scanning can cost more than the MAC), then the tolerance.
/// 5. [`sign_headers`](Scheme::sign_headers) formats a signature the way the provider
///    sends it, which makes every scheme able to sign test deliveries.
///
/// # Security
///
/// A scheme never compares signatures itself: it only says what was signed and which
/// candidates the request carries. Comparison is the verifier's, in constant time.
/// A scheme's `Debug` must not print key material (schemes hold none).
///
/// A timestamp the scheme reports (in [`Parsed`], or from
/// [`timestamp_from_body`](Self::timestamp_from_body)) must be part of what
/// [`signed_content`](Self::signed_content) feeds: the tolerance is only a replay
/// window if the sender's signature fixes the timestamp, and the default dedup key
/// relies on it too (an unsigned delivery id is used as the key only when a signed
/// timestamp bounds its replays; see
/// [`DedupKeySource::Auto`](crate::dedup::DedupKeySource::Auto)). A scheme whose
/// timestamp is not signed must not report one.
///
/// ```
/// use hookwarden_core::{Algorithm, HeaderKey, Headers, Parsed, Request, Scheme,
///     SignInput, Tag, Tolerance, Verifier, VerifyError, sign};
///
/// /// Signs the body with HMAC-SHA256, hex in `x-acme-signature`.
/// #[derive(Debug)]
/// struct Acme;
/// static SIG: HeaderKey = HeaderKey::from_static("x-acme-signature");
///
/// impl Scheme for Acme {
///     fn name(&self) -> &'static str { "acme" }
///     fn algorithm(&self) -> Algorithm { Algorithm::HmacSha256 }
///     fn default_tolerance(&self) -> Option<Tolerance> { None }
///     fn required_headers(&self) -> &[HeaderKey] { std::slice::from_ref(&SIG) }
///     fn parse_into<'r>(&self, headers: &'r dyn Headers, parsed: &mut Parsed<'r>)
///         -> Result<(), VerifyError> {
///         let raw = headers.first(&SIG).ok_or_else(|| VerifyError::missing(&SIG))?;
///         let tag = Tag::from_hex(raw).ok_or_else(|| VerifyError::malformed(&SIG, "not hex"))?;
///         parsed.add_signature(tag, &SIG)
///     }
///     fn signed_content(&self, req: &Request<'_>, _: &Parsed<'_>, _: usize,
///                       sink: &mut dyn FnMut(&[u8])) {
///         sink(req.body);
///     }
///     fn sign_headers(&self, tag: &[u8], _: &SignInput<'_>, _: &str, _: &str)
///         -> Vec<(String, String)> {
///         vec![(SIG.to_string(), hex::encode(tag))]
///     }
/// }
///
/// let headers = sign(&Acme, &"k".into(), &SignInput { body: b"hi", timestamp: 0, id: None, url: None })?;
/// let verifier = Verifier::builder(Acme).secret("k").build()?;
/// assert!(verifier.verify(&headers, b"hi", None).is_ok());
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
pub trait Scheme: Send + Sync + fmt::Debug {
    /// The lowercase name (`"standard"`, `"stripe"`...), used in logs and by
    /// [`schemes::by_name`](crate::schemes::by_name).
    fn name(&self) -> &'static str;

    /// The algorithm the keys are used with.
    fn algorithm(&self) -> Algorithm;

    /// The provider's documented replay tolerance; `None` when the scheme signs no
    /// timestamp (replays are then stopped by dedup only).
    fn default_tolerance(&self) -> Option<Tolerance>;

    /// The headers the scheme reads, for tools and reports (the CLI's `--explain`
    /// lists which are present). Listing a header here does not make it required:
    /// [`parse_into`](Self::parse_into) is what rejects a request without it (with
    /// `MissingHeader`), before the body is read.
    fn required_headers(&self) -> &[HeaderKey];

    /// Turn a configured secret into key bytes (for [`Algorithm::Ed25519`]: the
    /// 32-byte public key). Defaults to the secret's bytes, which must not be empty.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the secret is empty or not in the scheme's format.
    fn key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        if secret.is_empty() {
            return Err(ConfigError::new("secret is empty"));
        }
        Ok(Zeroizing::new(secret.expose().to_vec()))
    }

    /// For [`Algorithm::Ed25519`] schemes: turn a private signing secret into its
    /// 32-byte seed. Other schemes sign with [`key_bytes`](Self::key_bytes).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the secret is not a private key in the scheme's format.
    fn signing_key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        self.key_bytes(secret)
    }

    /// Read the timestamp, id and candidate signatures from the headers into `parsed`
    /// (which starts as [`Parsed::default`]).
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] of kind `MissingHeader`, `MalformedHeader` or
    /// `UnsupportedSignatureVersion`, naming the header.
    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError>;

    /// [`parse_into`](Self::parse_into) a fresh [`Parsed`] and return it: for tools
    /// that inspect a request. Not meant to be overridden.
    ///
    /// # Errors
    ///
    /// As [`parse_into`](Self::parse_into).
    fn parse<'r>(&self, headers: &'r dyn Headers) -> Result<Parsed<'r>, VerifyError> {
        let mut parsed = Parsed::default();
        self.parse_into(headers, &mut parsed)?;
        Ok(parsed)
    }

    /// The signed timestamp when it is inside the body. Defaults to `None`. The
    /// verifier calls it only once a MAC matched (the body is authentic).
    ///
    /// # Errors
    ///
    /// `MalformedBody` when the body lacks it.
    fn timestamp_from_body(&self, body: &[u8]) -> Result<Option<i64>, VerifyError> {
        let _ = body;
        Ok(None)
    }

    /// How many alternative signed contents to try (Twilio: the URL with and without
    /// the default port). Defaults to 1.
    fn content_variants(&self, req: &Request<'_>) -> usize {
        let _ = req;
        1
    }

    /// Whether the scheme signs the URL (then `verify` needs one).
    fn signs_url(&self) -> bool {
        false
    }

    /// Feed the signed content of `variant` into `sink`, in order.
    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    );

    /// A check of the request made before any MAC is computed (after the headers and
    /// the timestamp), for a scheme whose signed content costs work to derive from
    /// the body (Twilio decodes and sorts form parameters for each MAC): refuse what
    /// the sender never sends before doing that work for each secret. Defaults to
    /// `Ok(())`.
    ///
    /// # Errors
    ///
    /// The rejection to return without computing a MAC (`MalformedBody`, say).
    fn check_before_mac(&self, req: &Request<'_>) -> Result<(), VerifyError> {
        let _ = req;
        Ok(())
    }

    /// A last check once a signature matched, for schemes that authenticate part of
    /// the request indirectly (Twilio's JSON bodies: the signed URL carries
    /// `bodySHA256`, which must be the body's digest). Defaults to `Ok(())`.
    ///
    /// # Errors
    ///
    /// The rejection to return despite the matching signature.
    fn check_after_match(&self, req: &Request<'_>, parsed: &Parsed<'_>) -> Result<(), VerifyError> {
        let _ = (req, parsed);
        Ok(())
    }

    /// Whether the signature covers the id header [`parse_into`](Self::parse_into)
    /// finds (`Parsed::id`): `webhook-id`, signed as part of the content, yes;
    /// `X-GitHub-Delivery`, sent beside the signature, no. Defaults to `false`. An id in
    /// the body ([`IdSource::BodyField`]) is always signed. The default dedup key uses
    /// only a signed id, else the signature's digest
    /// ([`DedupKeySource::Auto`](crate::dedup::DedupKeySource::Auto)).
    fn signs_id_header(&self) -> bool {
        false
    }

    /// Where the delivery id is, for deduplication: by default the header id found by
    /// [`parse_into`](Self::parse_into); schemes with the id in the signed body
    /// override it. Nothing is read here: the id is resolved only when asked for
    /// ([`Verified::delivery_id`](crate::Verified::delivery_id)).
    fn delivery_id<'r>(&self, req: &Request<'r>, parsed: &Parsed<'r>) -> IdSource<'r> {
        let _ = req;
        parsed.id.map_or(IdSource::None, IdSource::Bytes)
    }

    /// Format the timestamp the way the scheme signs and sends it. Defaults to unix
    /// seconds in decimal.
    fn format_timestamp(&self, unix_seconds: i64) -> String {
        unix_seconds.to_string()
    }

    /// The headers to send for `signature` (a MAC, an Ed25519 signature or, for
    /// [`Algorithm::Token`], the token), given the formatted `timestamp` and `id`.
    fn sign_headers(
        &self,
        signature: &[u8],
        input: &SignInput<'_>,
        timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)>;
}
