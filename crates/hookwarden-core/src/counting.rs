//! A test scheme that counts the verifier's calls into another scheme.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use zeroize::Zeroizing;

use crate::error::{ConfigError, VerifyError};
use crate::headers::{HeaderKey, Headers};
use crate::key::Algorithm;
use crate::scheme::{IdSource, Parsed, Request, Scheme, SignInput};
use crate::secret::Secret;
use crate::tolerance::Tolerance;

/// `inner`, counting header parses, signed-content feeds (one per MAC computed) and
/// body timestamp reads.
#[derive(Debug, Clone)]
pub(crate) struct Counting<S> {
    inner: S,
    parses: Arc<AtomicUsize>,
    macs: Arc<AtomicUsize>,
    body_reads: Arc<AtomicUsize>,
}

impl<S> Counting<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            parses: Arc::default(),
            macs: Arc::default(),
            body_reads: Arc::default(),
        }
    }

    /// Header parses so far.
    pub(crate) fn parses(&self) -> usize {
        self.parses.load(Ordering::SeqCst)
    }

    /// Signed-content feeds (MACs) since the last call; resets the count.
    pub(crate) fn take_macs(&self) -> usize {
        self.macs.swap(0, Ordering::SeqCst)
    }

    /// Body timestamp reads since the last call; resets the count.
    pub(crate) fn take_body_reads(&self) -> usize {
        self.body_reads.swap(0, Ordering::SeqCst)
    }
}

impl<S: Scheme> Scheme for Counting<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn algorithm(&self) -> Algorithm {
        self.inner.algorithm()
    }
    fn default_tolerance(&self) -> Option<Tolerance> {
        self.inner.default_tolerance()
    }
    fn required_headers(&self) -> &[HeaderKey] {
        self.inner.required_headers()
    }
    fn key_bytes(&self, secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        self.inner.key_bytes(secret)
    }
    fn parse_into<'r>(
        &self,
        headers: &'r dyn Headers,
        parsed: &mut Parsed<'r>,
    ) -> Result<(), VerifyError> {
        self.parses.fetch_add(1, Ordering::SeqCst);
        self.inner.parse_into(headers, parsed)
    }
    fn signed_content(
        &self,
        req: &Request<'_>,
        parsed: &Parsed<'_>,
        variant: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) {
        self.macs.fetch_add(1, Ordering::SeqCst);
        self.inner.signed_content(req, parsed, variant, sink);
    }
    fn timestamp_from_body(&self, body: &[u8]) -> Result<Option<i64>, VerifyError> {
        self.body_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.timestamp_from_body(body)
    }
    fn signs_id_header(&self) -> bool {
        self.inner.signs_id_header()
    }
    fn delivery_id<'r>(&self, req: &Request<'r>, parsed: &Parsed<'r>) -> IdSource<'r> {
        self.inner.delivery_id(req, parsed)
    }
    fn sign_headers(
        &self,
        tag: &[u8],
        input: &SignInput<'_>,
        timestamp: &str,
        id: &str,
    ) -> Vec<(String, String)> {
        self.inner.sign_headers(tag, input, timestamp, id)
    }
}
