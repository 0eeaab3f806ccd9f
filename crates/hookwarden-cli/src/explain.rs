//! `hookwarden verify --explain`: what was checked for a rejected delivery, without
//! ever showing a secret or a signature value.

use std::fmt::Write as _;

use hookwarden_core::time::OffsetDateTime;
use hookwarden_core::time::format_description::well_known::Rfc3339;
use hookwarden_core::{Algorithm, ErrorKind, Request, Verifier, VerifyError};
use serde_json::{Value, json};

/// What verification looked at, for one rejected request.
#[derive(Debug)]
pub(crate) struct Explain {
    /// Required headers present in the request, lowercase.
    found: Vec<String>,
    /// Required headers absent from the request, lowercase.
    missing: Vec<String>,
    /// The signed timestamp, unix seconds, when one was found.
    timestamp: Option<i64>,
    /// Whether the scheme signs a timestamp at all (it has a tolerance).
    signs_timestamp: bool,
    /// The verifier's clock, unix seconds.
    now: i64,
    /// The tolerance in seconds, past and future.
    tolerance: Option<(i64, i64)>,
    /// Candidate signatures decoded from the headers (`None`: the headers could not
    /// be parsed).
    signatures: Option<usize>,
    /// Signature version labels seen in the required headers (`v1`, `v1a`, `sha256`).
    versions: Vec<String>,
    /// Secrets whose signature was computed and compared.
    secrets_tried: usize,
    /// Secrets configured.
    secrets: usize,
    /// The body size in bytes.
    body_len: usize,
    /// For a scheme that signs the URL, the URL verified against (a mismatch is most
    /// often the URL: another host, port, scheme or path than the sender called).
    url: Option<String>,
}

impl Explain {
    /// Re-read `req` the way `verifier` did to explain `error`; `secrets` is how many
    /// secrets the verifier holds.
    pub(crate) fn new(
        verifier: &Verifier,
        req: &Request<'_>,
        secrets: usize,
        error: &VerifyError,
    ) -> Self {
        let scheme = verifier.scheme();
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        let mut versions = Vec::new();
        // A token scheme's header (GitLab's) holds the token itself: none of it is
        // read for version labels, which would show parts of it.
        let labelled = scheme.algorithm() != Algorithm::Token;
        for key in scheme.required_headers() {
            match req.headers.first(key) {
                Some(value) => {
                    found.push(key.as_str().to_owned());
                    let labels = if labelled {
                        signature_versions(value)
                    } else {
                        Vec::new()
                    };
                    for v in labels {
                        if !versions.contains(&v) {
                            versions.push(v);
                        }
                    }
                }
                None => missing.push(key.as_str().to_owned()),
            }
        }
        let parsed = scheme.parse(req.headers).ok();
        let timestamp = match parsed.as_ref().and_then(|p| p.timestamp) {
            Some(ts) => Some(ts),
            None => scheme.timestamp_from_body(req.body).ok().flatten(),
        };
        let tolerance = verifier
            .tolerance()
            .map(|t| (t.past().whole_seconds(), t.future().whole_seconds()));
        // The verifier computes signatures only once the headers parsed and the
        // timestamp is within tolerance: a signature mismatch means every secret was
        // tried.
        let secrets_tried = if error.kind() == ErrorKind::SignatureMismatch {
            secrets
        } else {
            0
        };
        Self {
            found,
            missing,
            timestamp,
            signs_timestamp: tolerance.is_some(),
            now: verifier.clock().now_unix(),
            tolerance,
            signatures: parsed.map(|p| p.signatures.len()),
            versions,
            secrets_tried,
            secrets,
            body_len: req.body.len(),
            // A password in it is not shown (see `shown_url_text`).
            url: scheme
                .signs_url()
                .then(|| crate::out::shown_url_text(req.url.unwrap_or_default())),
        }
    }

    /// The skew of the timestamp against now, seconds (negative: in the past).
    fn skew(&self) -> Option<i64> {
        self.timestamp.map(|ts| ts.saturating_sub(self.now))
    }

    /// Whether the timestamp is within the tolerance.
    fn within(&self) -> Option<bool> {
        let skew = self.skew()?;
        let (past, future) = self.tolerance?;
        Some(skew >= -past && skew <= future)
    }

    /// The human lines, `key: value`, each ending with a newline.
    pub(crate) fn to_text(&self) -> String {
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "headers found: {}", list(&self.found));
        let _ = writeln!(out, "headers missing: {}", list(&self.missing));
        match self.timestamp {
            Some(ts) => {
                if let Some(rfc) = rfc3339(ts) {
                    let _ = writeln!(out, "timestamp: {rfc}");
                }
                let _ = writeln!(out, "timestamp unix: {ts}");
            }
            None if self.signs_timestamp && self.signatures.is_none() => {
                let _ = writeln!(
                    out,
                    "timestamp: not checked (the signature headers did not parse)"
                );
            }
            None if self.signs_timestamp => {
                let _ = writeln!(out, "timestamp: not found");
            }
            None => {
                let _ = writeln!(out, "timestamp: none (the scheme signs no timestamp)");
            }
        }
        let _ = writeln!(out, "now unix: {}", self.now);
        if let Some(skew) = self.skew() {
            let _ = write!(out, "skew: {skew:+}s");
            if let (Some((past, future)), Some(within)) = (self.tolerance, self.within()) {
                let verdict = if within { "within" } else { "outside" };
                let _ = write!(
                    out,
                    " (tolerance {past}s past, {future}s future: {verdict})"
                );
            }
            out.push('\n');
        }
        // Schemes whose signatures carry no version label (Discord, Linear...) get none.
        let versions = if self.versions.is_empty() {
            String::new()
        } else {
            format!(" (versions present: {})", self.versions.join(", "))
        };
        match self.signatures {
            Some(n) => {
                let _ = writeln!(out, "signatures: {n} decoded{versions}");
            }
            None => {
                let _ = writeln!(out, "signatures: headers not parsed{versions}");
            }
        }
        let _ = writeln!(
            out,
            "secrets tried: {} of {}",
            self.secrets_tried, self.secrets
        );
        let _ = writeln!(out, "body: {} bytes", self.body_len);
        if let Some(url) = &self.url {
            let _ = writeln!(
                out,
                "url: {url} (signed: it must be the URL the sender called, as it called it)"
            );
        }
        out
    }

    /// The same as a JSON object.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "headers_found": self.found,
            "headers_missing": self.missing,
            "timestamp": self.timestamp.and_then(rfc3339),
            "timestamp_unix": self.timestamp,
            "now_unix": self.now,
            "skew_seconds": self.skew(),
            "tolerance_past_seconds": self.tolerance.map(|t| t.0),
            "tolerance_future_seconds": self.tolerance.map(|t| t.1),
            "within_tolerance": self.within(),
            "signatures_decoded": self.signatures,
            "signature_versions": self.versions,
            "secrets_tried": self.secrets_tried,
            "secrets": self.secrets,
            "body_bytes": self.body_len,
            "url": self.url,
        })
    }
}

/// `unix` as RFC 3339, when representable.
fn rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// The signature version labels in a header value, never the signatures themselves:
/// `v1,SIG v1a,SIG` (Standard Webhooks) gives `v1`, `v1a`; `t=..,v1=..,v0=..`
/// (Stripe) gives `v1`, `v0`; `sha256=..` (GitHub) gives `sha256`; `ts=..;h1=..`
/// (Paddle) gives `h1`. Only short labels of the shape `v<digits>[a-z]`,
/// `h<digits>` or `sha<digits>` are reported.
fn signature_versions(value: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |label: &[u8]| {
        if is_version_label(label) {
            // A label is ASCII by construction.
            let label = String::from_utf8_lossy(label).into_owned();
            if !out.contains(&label) {
                out.push(label);
            }
        }
    };
    for item in value.split(|&b| b == b' ').filter(|i| !i.is_empty()) {
        for part in item.split(|&b| b == b';' || b == b',') {
            if let Some(eq) = part.iter().position(|&b| b == b'=') {
                push(&part[..eq]);
            }
        }
        // `v1,SIG`: the label before the first comma.
        if let Some(comma) = item.iter().position(|&b| b == b',') {
            push(&item[..comma]);
        }
    }
    out
}

/// Whether `label` looks like a signature version: `v1`, `v1a`, `v0`, `h1`, `sha256`.
fn is_version_label(label: &[u8]) -> bool {
    let digits_then = |rest: &[u8], suffix_ok: bool| {
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        n > 0
            && n <= 3
            && match &rest[n..] {
                [] => true,
                [c] => suffix_ok && c.is_ascii_lowercase(),
                _ => false,
            }
    };
    match label {
        [b'v', rest @ ..] => digits_then(rest, true),
        [b'h', rest @ ..] => digits_then(rest, false),
        [b's', b'h', b'a', rest @ ..] => digits_then(rest, false),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_labels_only() {
        assert_eq!(signature_versions(b"v1,abc= v1a,def="), ["v1", "v1a"]);
        assert_eq!(signature_versions(b"t=1,v1=ab,v0=cd"), ["v1", "v0"]);
        assert_eq!(signature_versions(b"sha256=abcdef"), ["sha256"]);
        assert_eq!(signature_versions(b"ts=1;h1=ab"), ["h1"]);
        assert!(signature_versions(b"dGhpcyBpcyBub3Q=").is_empty());
        assert!(signature_versions(b"v2abc=x").is_empty());
    }
}
