//! The receive pipeline shared by every adapter: [`Guard`].
//!
//! One delivery goes through, in this order:
//!
//! 1. [`Guard::precheck`], before the body is read: client address against the
//!    allowlist (403), declared `Content-Length` against the body limit (413), the
//!    scheme's signature headers present and well formed (400). The parsed headers
//!    ([`Prechecked`]) are kept for step 3, which does not parse them again.
//! 2. The adapter feeds the body into a [`BodyBuffer`] ([`Guard::body_buffer`]): a
//!    hard limit counted while streaming, so chunked bodies are bounded too (413);
//!    with a [body timeout](GuardBuilder::with_body_timeout), a body still incomplete
//!    when it ends gets 408.
//! 3. [`Guard::check`]: the signature and timestamp ([`Verifier::verify_parsed`];
//!    400/401), then an enabled endpoint [`Challenge`] is answered (200, handler not
//!    called), then the dedup key is derived.
//! 4. [`Guard::claim`]: the dedup claim. New → the handler runs with a
//!    [`Delivery`] in the request's extensions; Completed → 200 without calling the
//!    handler; InFlight → 409 + `Retry-After`; store unavailable → 503 + `Retry-After`
//!    (or, with fail-open, the handler runs without dedup).
//! 5. [`Admitted::finish`] with the handler's status: 2xx completes the claim for the
//!    retention; anything else releases it so the sender's retry is processed. If the
//!    handler panics or its future is dropped, the claim guard releases on drop.
//!
//! Every rejection is a [`Reply`] (status, short generic body, `Retry-After` where due)
//! carrying the typed [`Rejection`]; a [`Responder`] can replace it. Each rejection is
//! logged with `tracing` (scheme, reason, status; never a secret): at `info` for a 4xx,
//! which any client can cause on every request, at `error` for a 5xx.
//!
//! | condition | status |
//! |---|---|
//! | peer IP outside the allowlist | 403 |
//! | body over the limit (default 1 MiB) | 413 |
//! | body not complete within the body timeout (when one is set) | 408 |
//! | signature or timestamp header missing or malformed | 400 |
//! | signature does not match any secret | 401 |
//! | timestamp outside tolerance | 401 |
//! | an enabled provider challenge | 200 with its answer, handler not called |
//! | an enabled challenge announced without what answers it, body unreadable | 400 |
//! | duplicate already processed | 200, handler not called |
//! | duplicate still being processed | 409 + `Retry-After` |
//! | dedup store unavailable | 503 + `Retry-After` |

mod body;
mod challenge;
mod client_ip;
mod reply;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipnet::IpNet;

pub use body::BodyBuffer;
pub use challenge::Challenge;
pub use client_ip::ForwardedHeader;
pub use reply::{Outcome, Rejection, Reply, Responder};

use crate::dedup::{Claim, ClaimGuard, DedupConfig, DedupKey, DedupStore, MemoryStore};
use crate::error::ConfigError;
use crate::headers::Headers;
use crate::scheme::{Parsed, Request};
use crate::verifier::{Verified, Verifier};

/// The default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The default `Retry-After` for 409 and 503: 5 seconds.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A verified delivery, as the handler sees it (in the request's extensions).
///
/// Cheap to clone (shared): one pointer moves through the pipeline's steps, not the
/// 280 bytes of what verification found (`the_pipeline_moves_small_values`).
#[derive(Clone)]
pub struct Delivery {
    inner: Arc<DeliveryParts>,
}

struct DeliveryParts {
    verified: Verified<'static>,
    dedup_key: Option<DedupKey>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("verified", &self.inner.verified)
            .field("dedup_key", &self.inner.dedup_key)
            .finish()
    }
}

impl Delivery {
    /// What verification found: scheme, matched secret, timestamp, delivery id.
    #[must_use]
    pub fn verified(&self) -> &Verified<'static> {
        &self.inner.verified
    }

    /// The dedup key derived for this delivery (`None` when dedup is off). It was
    /// claimed in the store before the handler ran, except in report-only mode, which
    /// claims nothing, and with fail-open while the store was unavailable: there the
    /// handler may see the same key more than once.
    #[must_use]
    pub fn dedup_key(&self) -> Option<&DedupKey> {
        self.inner.dedup_key.as_ref()
    }
}

/// Whether a request in report-only mode would have been rejected: in the request's
/// extensions, for the handler ([`GuardBuilder::with_report_only`]).
///
/// Read its fields; fields may be added (`#[non_exhaustive]`):
///
/// ```compile_fail,E0639
/// use hookwarden_core::receive::{Rejection, ReportOnly};
/// let ReportOnly { rejection } = ReportOnly { rejection: Rejection::InFlight };
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReportOnly {
    /// The rejection that was not enforced.
    pub rejection: Rejection,
}

/// Verifies, answers challenges and deduplicates deliveries: the whole pipeline,
/// framework-free. Adapters (tower, actix) only translate their request and response
/// types around it. Cheap to clone.
///
/// ```
/// use hookwarden_core::{receive::Guard, schemes::Github, Verifier};
/// let guard = Guard::builder(Verifier::builder(Github::new()).secret("s").build()?)
///     .with_body_limit(256 * 1024)
///     .build()?;
/// assert_eq!(guard.body_limit(), 256 * 1024);
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
pub struct Guard<S: DedupStore = MemoryStore> {
    inner: Arc<Inner<S>>,
}

impl<S: DedupStore> Clone for Guard<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S> {
    verifier: Verifier,
    store: Option<Arc<S>>,
    dedup: DedupConfig,
    body_limit: usize,
    body_timeout: Option<Duration>,
    allow: Vec<IpNet>,
    trusted_proxies: Vec<IpNet>,
    forwarded_header: ForwardedHeader,
    challenges: Vec<Challenge>,
    report_only: bool,
    fail_open: bool,
    retry_after: Duration,
    public_url: Option<String>,
    responder: Option<Box<dyn Responder>>,
    /// Whether a request without a known peer address met the allowlist yet (said
    /// once, as a configuration hint).
    unknown_peer_seen: AtomicBool,
}

impl<S: DedupStore> fmt::Debug for Guard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Guard")
            .field("verifier", &i.verifier)
            .field("dedup", &i.store.as_ref().map(|_| &i.dedup))
            .field("body_limit", &i.body_limit)
            .field("body_timeout", &i.body_timeout)
            .field("allow", &i.allow)
            .field("trusted_proxies", &i.trusted_proxies)
            .field("forwarded_header", &i.forwarded_header)
            .field("challenges", &i.challenges)
            .field("report_only", &i.report_only)
            .field("fail_open", &i.fail_open)
            .field("retry_after", &i.retry_after)
            .field("public_url", &i.public_url.as_deref().map(shown_url))
            .finish_non_exhaustive()
    }
}

/// `url` with the password of its user information, if any, replaced by `***`: a
/// public URL may carry basic-auth credentials (Twilio signs them with the URL).
fn shown_url(url: &str) -> Cow<'_, str> {
    let Some((scheme_end, authority)) = url_authority(url) else {
        return Cow::Borrowed(url);
    };
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    match authority[..at].find(':') {
        Some(colon) => Cow::Owned(format!(
            "{}***{}",
            &url[..=scheme_end + colon],
            &url[scheme_end + at..]
        )),
        None => Cow::Borrowed(url),
    }
}

/// Where `url`'s authority starts (after `scheme://`), and the authority itself (up to
/// the path, query or fragment). `None` without a `://`.
fn url_authority(url: &str) -> Option<(usize, &str)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    Some((
        start,
        &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())],
    ))
}

impl Guard<MemoryStore> {
    /// Start configuring a guard around `verifier`, with the embedded
    /// [`MemoryStore`] for dedup (replace it with [`GuardBuilder::with_store`], or turn
    /// dedup off with [`GuardBuilder::without_dedup`]).
    pub fn builder(verifier: Verifier) -> GuardBuilder<MemoryStore> {
        GuardBuilder {
            verifier,
            store: Some(Arc::new(MemoryStore::default())),
            dedup: DedupConfig::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: None,
            allow: Vec::new(),
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            challenges: Vec::new(),
            report_only: false,
            fail_open: false,
            retry_after: DEFAULT_RETRY_AFTER,
            public_url: None,
            responder: None,
        }
    }
}

/// What an admitted delivery's handler runs with; [`finish`](Self::finish) it with the
/// handler's status. Dropping it unfinished releases the claim.
#[must_use = "finish the admission with the handler's status"]
pub struct Admitted<S: DedupStore> {
    delivery: Option<Delivery>,
    /// Boxed: report-only is the rare mode, and the admission moves on every request.
    report: Option<Box<ReportOnly>>,
    claim: Option<ClaimGuard<S>>,
    retention: Duration,
}

impl<S: DedupStore> fmt::Debug for Admitted<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted")
            .field("delivery", &self.delivery)
            .field("report", &self.report)
            .field("claim", &self.claim)
            .finish_non_exhaustive()
    }
}

impl<S: DedupStore> Drop for Admitted<S> {
    fn drop(&mut self) {
        // Unfinished: a handler that panicked, a request abandoned by its client, or an
        // adapter that never calls `finish`. The claim guard releases the key.
        if let Some(claim) = &self.claim
            && !std::thread::panicking()
        {
            tracing::warn!(
                key = claim.key().as_str(),
                "webhook delivery dropped before its handler finished (client gone, or \
                 `Admitted::finish` not called): claim released, a retry runs the handler again"
            );
        }
    }
}

impl<S: DedupStore> Admitted<S> {
    /// The verified delivery (absent only in report-only mode when verification
    /// failed).
    #[must_use]
    pub fn delivery(&self) -> Option<&Delivery> {
        self.delivery.as_ref()
    }

    /// In report-only mode, the rejection that was not enforced.
    #[must_use]
    pub fn report(&self) -> Option<&ReportOnly> {
        self.report.as_deref()
    }

    /// Take the delivery out, to put it in the request's extensions.
    pub fn take_delivery(&mut self) -> Option<Delivery> {
        self.delivery.take()
    }

    /// Take the report-only finding out, to put it in the request's extensions.
    pub fn take_report(&mut self) -> Option<ReportOnly> {
        self.report.take().map(|r| *r)
    }

    /// Record the handler's outcome: a 2xx `status` completes the claim (later
    /// retries get 200 without running the handler); anything else releases it so
    /// the sender's retry is processed.
    ///
    /// The returned future holds only the claim: the rest of the admission is dropped
    /// before it starts (an adapter keeps this future in its own, once per request).
    /// Await it: dropped unpolled, it releases the claim (as dropping the `Admitted`
    /// does, without its warning); dropped while the store answers, it settles the
    /// claim from the claim guard's destructor.
    pub fn finish(mut self, status: u16) -> impl Future<Output = ()> + Send + 'static {
        let claim = self.claim.take();
        let retention = self.retention;
        async move {
            let Some(claim) = claim else {
                return;
            };
            let key = claim.key().clone();
            let result = if (200..300).contains(&status) {
                claim.complete(retention).await
            } else {
                claim.release().await
            };
            match result {
                Ok(true) => {
                    tracing::debug!(key = key.as_str(), status, "webhook dedup claim settled");
                }
                Ok(false) => tracing::warn!(
                    key = key.as_str(),
                    status,
                    "webhook dedup claim was lost before the handler finished (lease too short?)"
                ),
                Err(e) => tracing::error!(key = key.as_str(), status, error = %e,
                    "webhook dedup store failed to settle a claim; its lease will expire"),
            }
        }
    }
}

/// The result of [`Guard::check`]: go on to [`Guard::claim`], or answer now.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per request and matched at once: moving it is cheaper than boxing it"
)]
pub enum Checked {
    /// Verified (or report-only): claim it next.
    Verified(CheckedDelivery),
    /// Answer with this reply (a rejection or a challenge), without the handler.
    Respond(Reply),
}

/// A checked delivery waiting for its dedup claim.
#[derive(Debug)]
pub struct CheckedDelivery {
    delivery: Option<Delivery>,
    report: Option<Box<ReportOnly>>,
}

/// The result of [`Guard::claim`].
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per request and matched at once: moving it is cheaper than boxing it"
)]
pub enum Admission<S: DedupStore> {
    /// Run the handler, then [`Admitted::finish`].
    Proceed(Admitted<S>),
    /// Answer with this reply (duplicate, in flight, store unavailable).
    Respond(Reply),
}

/// What [`Guard::precheck`] read from the head (the parsed signature headers), for
/// [`Guard::check`]: the headers are parsed once per request. Start from
/// `Prechecked::default()` where the request's state lives (an adapter's future):
/// the precheck fills it in place.
#[derive(Debug, Default)]
pub struct Prechecked<'h> {
    parsed: Parsed<'h>,
    /// Whether `parsed` holds this request's headers.
    done: bool,
}

/// What [`Guard::precheck`] needs from the request head.
///
/// `headers` is a `&dyn Headers`, which is not `Sync`: an adapter whose futures must be
/// `Send` builds a `Head` for each step (precheck, then check) rather than holding one
/// across the body's `.await`, as the tower layer does.
#[derive(Clone, Copy)]
pub struct Head<'a> {
    /// The request headers.
    pub headers: &'a dyn Headers,
    /// The connection's peer address, when known.
    pub peer: Option<IpAddr>,
    /// The declared `Content-Length`, when present.
    pub content_length: Option<u64>,
}

impl fmt::Debug for Head<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Head")
            .field("peer", &self.peer)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl<S: DedupStore> Guard<S> {
    /// The verifier.
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The body limit in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// How long the body may take to arrive ([`GuardBuilder::with_body_timeout`]); the
    /// adapters time it, and answer [`Rejection::BodyTimeout`] past it.
    #[must_use]
    pub fn body_timeout(&self) -> Option<Duration> {
        self.inner.body_timeout
    }

    /// An empty [`BodyBuffer`] with this guard's body limit, for an adapter to feed
    /// the request body into, chunk by chunk.
    #[must_use]
    pub fn body_buffer(&self) -> BodyBuffer {
        BodyBuffer::new(self.inner.body_limit)
    }

    /// Whether report-only mode is on.
    #[must_use]
    pub fn report_only(&self) -> bool {
        self.inner.report_only
    }

    /// The reply for `rejection`: the default one, or the responder's. Logs it.
    #[must_use]
    pub fn reject(&self, rejection: Rejection) -> Reply {
        // Logged as enforced in report-only mode too: the reply is sent (the body
        // limit, an unreadable or late body); the findings report-only does not
        // enforce are logged where they are found, in `check`.
        log_rejection(self.inner.verifier.scheme().name(), &rejection, false);
        let default = Reply::rejected(rejection.clone(), self.inner.retry_after);
        self.responder_or(default, |r, default| r.respond(&rejection, default))
    }

    /// The reply to a delivery already processed: 200, or the responder's.
    fn duplicate(&self) -> Reply {
        self.responder_or(Reply::duplicate(), |r, default| {
            r.respond_duplicate(default)
        })
    }

    /// `default`, or what the responder makes of it, made safe to send.
    fn responder_or(
        &self,
        default: Reply,
        respond: impl FnOnce(&dyn Responder, Reply) -> Reply,
    ) -> Reply {
        match &self.inner.responder {
            Some(r) => respond(&**r, default).sanitized(),
            None => default,
        }
    }

    /// Checks made from the request head alone, before the body is read: client
    /// address, declared length, signature headers. The parsed headers are written
    /// into `prechecked` (in place: they are a few hundred bytes), to hand to
    /// [`check`](Self::check) with the body.
    ///
    /// In report-only mode only the body limit is enforced here; the other findings
    /// are reported by [`check`](Self::check).
    ///
    /// # Errors
    ///
    /// The [`Reply`] to send instead (403, 413 or 400).
    #[allow(
        clippy::result_large_err,
        reason = "the reply is consumed at once by the adapter; boxing would allocate per rejection"
    )]
    pub fn precheck<'h>(
        &self,
        head: &Head<'h>,
        prechecked: &mut Prechecked<'h>,
    ) -> Result<(), Reply> {
        prechecked.done = false;
        let i = &self.inner;
        // The allowlist first: a refused peer learns nothing else, not even the limit.
        if !i.report_only && !self.ip_allowed(head) {
            return Err(self.reject(Rejection::IpNotAllowed));
        }
        if let Some(len) = head.content_length
            && len > u64::try_from(i.body_limit).unwrap_or(u64::MAX)
        {
            return Err(self.reject(Rejection::BodyTooLarge {
                limit: i.body_limit,
            }));
        }
        if i.report_only {
            return Ok(());
        }
        match i
            .verifier
            .precheck_into(head.headers, &mut prechecked.parsed)
        {
            Ok(()) => {
                prechecked.done = true;
                Ok(())
            }
            Err(e) => Err(self.reject(Rejection::Verify(e))),
        }
    }

    fn ip_allowed(&self, head: &Head<'_>) -> bool {
        let i = &self.inner;
        if i.allow.is_empty() {
            return true;
        }
        // With an allowlist, an unknown peer is not allowed.
        if head.peer.is_none() && !i.unknown_peer_seen.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "webhook IP allowlist: the request carries no peer address, so it is refused; \
                 give the adapter the connection's address (axum: serve with \
                 `into_make_service_with_connect_info::<SocketAddr>()`; other tower stacks: \
                 insert `PeerAddr` or `SocketAddr` into the request extensions). Said once"
            );
        }
        head.peer.is_some_and(|peer| {
            client_ip::allowed(
                &i.allow,
                client_ip::client_ip(peer, head.headers, &i.trusted_proxies, i.forwarded_header),
            )
        })
    }

    /// Verify the buffered body, answer challenges, derive the dedup key.
    /// `prechecked` is what [`precheck`](Self::precheck) returned for this request's
    /// head (its headers are not parsed again). `path_and_query` is the request target
    /// (`/hooks?x=1`), used with the configured public URL for URL-signing schemes.
    pub fn check(
        &self,
        head: &Head<'_>,
        prechecked: &Prechecked<'_>,
        body: &[u8],
        path_and_query: Option<&str>,
    ) -> Checked {
        let i = &self.inner;
        // The body limit holds however the adapter read the body (`body_buffer`
        // enforces it while reading; this is for one that did not).
        if body.len() > i.body_limit {
            return Checked::Respond(self.reject(Rejection::BodyTooLarge {
                limit: i.body_limit,
            }));
        }
        let url = match (&i.public_url, path_and_query) {
            (Some(base), Some(pq)) => Some(format!("{}{}", base.trim_end_matches('/'), pq)),
            (Some(base), None) => Some(base.clone()),
            (None, _) => None,
        };
        let req = Request {
            headers: head.headers,
            body,
            url: url.as_deref(),
        };
        let scheme = i.verifier.scheme().name();
        // A successful precheck (never made in report-only mode) checked the allowlist.
        let verified = if prechecked.done || self.ip_allowed(head) {
            if prechecked.done {
                i.verifier.verify_parsed(&req, &prechecked.parsed)
            } else {
                i.verifier.verify_request(&req)
            }
            .map_err(Rejection::Verify)
        } else {
            Err(Rejection::IpNotAllowed)
        };
        let verified = match verified {
            Ok(v) => v,
            Err(rejection) if i.report_only => {
                log_rejection(scheme, &rejection, true);
                // The allowlist is not enforced either: a challenge whose signature
                // verifies is answered, or the provider's endpoint check fails.
                if rejection == Rejection::IpNotAllowed
                    && !i.challenges.is_empty()
                    && let Ok(v) = i.verifier.verify_request(&req)
                    && let Some((challenge, Ok(reply))) = i.challenges.iter().find_map(|c| {
                        c.answer(head.headers, body, &i.verifier, v.key_index())
                            .map(|answer| (c, answer))
                    })
                {
                    tracing::info!(
                        scheme,
                        challenge = challenge.name(),
                        "webhook challenge answered"
                    );
                    return Checked::Respond(reply);
                }
                return Checked::Verified(CheckedDelivery {
                    delivery: None,
                    report: Some(Box::new(ReportOnly { rejection })),
                });
            }
            Err(rejection) => return Checked::Respond(self.reject(rejection)),
        };
        tracing::debug!(
            scheme,
            key_index = verified.key_index(),
            delivery_id = verified.delivery_id(),
            "webhook verified"
        );
        let mut report = None;
        for challenge in &i.challenges {
            match challenge.answer(head.headers, body, &i.verifier, verified.key_index()) {
                Some(Ok(reply)) => {
                    tracing::info!(
                        scheme,
                        challenge = challenge.name(),
                        "webhook challenge answered"
                    );
                    return Checked::Respond(reply);
                }
                // Report-only refuses nothing: the handler runs, told why it would not.
                Some(Err(rejection)) if i.report_only => {
                    log_rejection(scheme, &rejection, true);
                    report = Some(Box::new(ReportOnly { rejection }));
                    break;
                }
                Some(Err(rejection)) => return Checked::Respond(self.reject(rejection)),
                None => {}
            }
        }
        // Owned first: the key is derived from the owned id (a header id is not read
        // and checked twice).
        let verified = verified.into_owned();
        let dedup_key = i
            .store
            .as_ref()
            .and_then(|_| i.dedup.key_for(&verified, &req));
        Checked::Verified(CheckedDelivery {
            delivery: Some(Delivery {
                inner: Arc::new(DeliveryParts {
                    verified,
                    dedup_key,
                }),
            }),
            report,
        })
    }

    /// Claim the checked delivery in the dedup store.
    ///
    /// The returned future holds the delivery once (an `async fn` would keep both its
    /// argument and the parts taken from it: an adapter keeps this future in its own).
    pub fn claim(
        &self,
        checked: CheckedDelivery,
    ) -> impl Future<Output = Admission<S>> + Send + '_ {
        let i = &self.inner;
        let CheckedDelivery { delivery, report } = checked;
        let retention = i.dedup.retention_for(i.verifier.tolerance());
        let store = match (
            &i.store,
            delivery.as_ref().and_then(|d| d.inner.dedup_key.clone()),
        ) {
            (Some(store), Some(key)) if !i.report_only => Some((store, key)),
            _ => None,
        };
        async move {
            let claim = match store {
                Some((store, key)) => match store.claim(&key, i.dedup.lease()).await {
                    Ok(Claim::New(token)) => Some(ClaimGuard::new(Arc::clone(store), key, token)),
                    Ok(Claim::Completed) => {
                        tracing::info!(
                            key = key.as_str(),
                            "webhook duplicate acknowledged without calling the handler"
                        );
                        return Admission::Respond(self.duplicate());
                    }
                    Ok(Claim::InFlight) => {
                        return Admission::Respond(self.reject(Rejection::InFlight));
                    }
                    Err(e) if i.fail_open => {
                        tracing::error!(
                            error = %e,
                            "webhook dedup store unavailable; fail-open: handler runs without dedup"
                        );
                        None
                    }
                    Err(e) => {
                        return Admission::Respond(self.reject(Rejection::StoreUnavailable(e)));
                    }
                },
                None => None,
            };
            Admission::Proceed(Admitted {
                delivery,
                report,
                claim,
                retention,
            })
        }
    }
}

/// Log why an adapter's `Webhook<T>` extractor refused a verified delivery's JSON
/// body: a warning (the claim is released and the sender retries, for days) that
/// says where, not what: serde's message quotes the body's values, so it is logged at
/// debug level only.
pub fn log_json_rejection(status: u16, error: &serde_json::Error) {
    tracing::warn!(
        status,
        category = ?error.classify(),
        line = error.line(),
        column = error.column(),
        "verified webhook body refused by Webhook<T> (the body's values are logged at debug level only)"
    );
    // As a string, which subscribers quote and escape: serde quotes the body's values
    // raw (`unknown variant `...``), and a `Display` field is written as it is (line
    // breaks and escape sequences included) by the fmt subscriber.
    tracing::debug!(
        status,
        error = error.to_string(),
        "verified webhook body refused by Webhook<T>"
    );
}

/// A 4xx rejection is logged at info: any client can cause one per request (no
/// signature, a bad one, a large body), which must not raise a warning each. A 5xx is
/// the receiver's or its store's fault: error.
fn log_rejection(scheme: &str, rejection: &Rejection, report_only: bool) {
    let status = rejection.status();
    let reason = rejection.reason();
    if status >= 500 {
        tracing::error!(scheme, reason, status, detail = %rejection, "webhook rejected");
    } else if report_only {
        tracing::info!(scheme, reason, status, detail = %rejection, "webhook would be rejected (report-only)");
    } else {
        tracing::info!(scheme, reason, status, detail = %rejection, "webhook rejected");
    }
}

/// Configures a [`Guard`]; see [`Guard::builder`]. Every option has a default.
#[must_use]
pub struct GuardBuilder<S> {
    verifier: Verifier,
    store: Option<Arc<S>>,
    dedup: DedupConfig,
    body_limit: usize,
    body_timeout: Option<Duration>,
    allow: Vec<String>,
    trusted_proxies: Vec<String>,
    forwarded_header: ForwardedHeader,
    challenges: Vec<Challenge>,
    report_only: bool,
    fail_open: bool,
    retry_after: Duration,
    public_url: Option<String>,
    responder: Option<Box<dyn Responder>>,
}

impl<S> fmt::Debug for GuardBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardBuilder")
            .field("verifier", &self.verifier)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl<S: DedupStore> GuardBuilder<S> {
    /// Use `store` for dedup (for example a `hookwarden_redis::RedisStore` shared by
    /// several instances). Defaults to an embedded [`MemoryStore`].
    pub fn with_store<T: DedupStore>(self, store: T) -> GuardBuilder<T> {
        GuardBuilder {
            verifier: self.verifier,
            store: Some(Arc::new(store)),
            dedup: self.dedup,
            body_limit: self.body_limit,
            body_timeout: self.body_timeout,
            allow: self.allow,
            trusted_proxies: self.trusted_proxies,
            forwarded_header: self.forwarded_header,
            challenges: self.challenges,
            report_only: self.report_only,
            fail_open: self.fail_open,
            retry_after: self.retry_after,
            public_url: self.public_url,
            responder: self.responder,
        }
    }

    /// Turn deduplication off: every verified delivery reaches the handler.
    /// Defaults to on.
    pub fn without_dedup(mut self) -> Self {
        self.store = None;
        self
    }

    /// Dedup options: key source, namespace, lease, retention. Defaults to
    /// [`DedupConfig::default`].
    pub fn with_dedup(mut self, config: DedupConfig) -> Self {
        self.dedup = config;
        self
    }

    /// The largest body accepted, in bytes, declared or streamed. Defaults to
    /// [`DEFAULT_BODY_LIMIT`] (1 MiB).
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The longest the whole body may take to arrive, counted from when the adapter
    /// starts reading it: past it the request gets 408 ([`Rejection::BodyTimeout`]),
    /// its connection is closed, and no claim was taken. Defaults to none: the body
    /// limit bounds the memory a slow client holds, not for how long (neither axum's
    /// `serve` nor actix-web bounds the body phase by itself).
    ///
    /// # Panics
    ///
    /// The adapters time it on Tokio's timer: actix-web always has one, and so do
    /// `axum::serve` and `#[tokio::main]`. A tower stack polled outside a Tokio runtime,
    /// or on one built without `enable_time`, panics on each request when a body
    /// timeout is set (Tokio's own panic); without one, nothing needs a timer.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = Some(timeout);
        self
    }

    /// Only accept requests from these addresses or CIDR blocks (the providers
    /// publish theirs); others get 403. Defaults to everyone.
    ///
    /// # Security
    ///
    /// A second line behind the signature, never a replacement for it. The client
    /// address is the connection's peer unless it is a trusted proxy
    /// ([`with_trusted_proxies`](Self::with_trusted_proxies)); when the adapter does
    /// not know the peer (axum served without `ConnectInfo`), every request is
    /// refused, and the first such request logs a warning saying so.
    pub fn with_allowed_ips<I, T>(mut self, cidrs: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.allow.extend(cidrs.into_iter().map(Into::into));
        self
    }

    /// Proxies whose forwarding header ([`with_forwarded_header`](Self::with_forwarded_header),
    /// `X-Forwarded-For` unless set) is believed when finding the client's address.
    /// Defaults to none: the connection's peer is the client.
    ///
    /// # Security
    ///
    /// List only your own proxies and load balancers, as narrowly as possible: any
    /// peer in these blocks can claim to forward for any address and so pass the
    /// allowlist. The client is the right-most forwarded address that is not itself
    /// a trusted proxy.
    pub fn with_trusted_proxies<I, T>(mut self, cidrs: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.trusted_proxies
            .extend(cidrs.into_iter().map(Into::into));
        self
    }

    /// The forwarding header your trusted proxies write: the only one read. Defaults
    /// to [`ForwardedHeader::XForwardedFor`].
    ///
    /// ```
    /// use hookwarden_core::{receive::{ForwardedHeader, Guard}, schemes::Github, Verifier};
    /// let verifier = Verifier::builder(Github::new()).secret("s").build()?;
    /// let guard = Guard::builder(verifier)
    ///     .with_allowed_ips(["192.30.252.0/22"])
    ///     .with_trusted_proxies(["10.0.0.0/8"])
    ///     .with_forwarded_header(ForwardedHeader::Forwarded)
    ///     .build()?;
    /// # Ok::<(), hookwarden_core::ConfigError>(())
    /// ```
    ///
    /// # Security
    ///
    /// Name the header the proxy *writes*: a proxy passes the other one through as
    /// the client sent it.
    pub fn with_forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.forwarded_header = header;
        self
    }

    /// Answer this provider challenge after verification. Defaults to none.
    pub fn with_challenge(mut self, challenge: Challenge) -> Self {
        if !self.challenges.contains(&challenge) {
            self.challenges.push(challenge);
        }
        self
    }

    /// Report-only: verify and log, but never reject or deduplicate; the handler
    /// runs, with the unenforced rejection in its extensions (a [`ReportOnly`]: axum's
    /// `Option<Extension<ReportOnly>>`, actix-web's `Option<web::ReqData<ReportOnly>>`;
    /// the verified delivery, when there is one, as usual). For rollouts. The body
    /// limit is still enforced, and an enabled challenge whose signature verified is
    /// still answered, from any address (the provider's endpoint check passes).
    /// Defaults to off.
    ///
    /// # Security
    ///
    /// Unverified requests reach the handler: use it only while the handler does not
    /// yet rely on the webhook being authentic, and turn it off once the logs show no
    /// would-be rejections of genuine deliveries.
    pub fn with_report_only(mut self, on: bool) -> Self {
        self.report_only = on;
        self
    }

    /// When the dedup store is unavailable, run the handler without dedup instead of
    /// answering 503. Defaults to off (fail closed: the sender retries later).
    ///
    /// # Security
    ///
    /// While the store is down, retries and replays within the tolerance (and, for
    /// schemes that sign no timestamp, any replay) run the handler again. Choose it
    /// only for handlers that are idempotent by themselves.
    pub fn with_fail_open(mut self, on: bool) -> Self {
        self.fail_open = on;
        self
    }

    /// The `Retry-After` sent with 409 and 503. Defaults to [`DEFAULT_RETRY_AFTER`].
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }

    /// The public base URL the sender calls (`https://api.example.com`, or with a path
    /// prefix), for schemes that sign the URL (Twilio, Square): the request's path and
    /// query are appended. Required for those schemes; defaults to none. It must have a
    /// host and no query, fragment, space or control character ([`build`](Self::build)
    /// refuses it otherwise).
    ///
    /// # Security
    ///
    /// The path and query come from the request, so the verified URL is the one the
    /// sender called, not necessarily the one configured at the provider. For Twilio
    /// this leaves the re-reading its scheme's Security section describes: a form
    /// delivery whose last parameter in sort order an attacker chooses can be replayed
    /// as a JSON delivery to a longer URL. Mount a Twilio receiver on its exact path
    /// (an axum or actix route, not a catch-all), and do not accept JSON deliveries
    /// on a form endpoint whose last parameter senders choose.
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Replace the default rejection replies. Defaults to short generic text bodies.
    pub fn with_responder(mut self, responder: impl Responder) -> Self {
        self.responder = Some(Box::new(responder));
        self
    }

    /// Validate the configuration and build the guard.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid address or CIDR block, a zero body limit, a
    /// zero body timeout, the Zoom challenge on a scheme that is not HMAC-SHA256, a
    /// URL-signing scheme without a public URL, a public URL that is not absolute
    /// `http(s)` with a host or that holds a query, a fragment, a space or a control
    /// character, or an invalid dedup configuration.
    pub fn build(self) -> Result<Guard<S>, ConfigError> {
        if self.body_limit == 0 {
            return Err(ConfigError::new("the body limit must be at least 1 byte"));
        }
        if self.body_timeout == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "the body timeout must be longer than zero",
            ));
        }
        let scheme = self.verifier.scheme();
        if self.challenges.contains(&Challenge::Zoom)
            && scheme.algorithm() != crate::Algorithm::HmacSha256
        {
            return Err(ConfigError::new(
                "the Zoom challenge is answered with an HMAC-SHA256 of the secret: \
                 the scheme must use HMAC-SHA256 (schemes::Zoom does)",
            ));
        }
        if scheme.signs_url() && self.public_url.is_none() {
            return Err(ConfigError::new(format!(
                "scheme {} signs the request URL: set with_public_url",
                scheme.name()
            )));
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError::new(
                    "the public URL must start with https:// or http://",
                ));
            }
            let authority = url_authority(url).map_or("", |(_, authority)| authority);
            // The request's path and query are appended: the base has neither a
            // query nor a fragment of its own, and has a host (not only user
            // information or a port).
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if host_port.is_empty() || host_port.starts_with(':') {
                return Err(ConfigError::new("the public URL has no host"));
            }
            if url.contains(['?', '#'])
                || url.contains(|c: char| c.is_whitespace() || c.is_control())
            {
                return Err(ConfigError::new(
                    "the public URL must not hold a query, a fragment, a space or a control \
                     character (the request's path and query are appended to it)",
                ));
            }
        }
        // Without dedup nothing is retained: no retention has to cover the tolerance.
        let tolerance = self.store.as_ref().and(self.verifier.tolerance());
        self.dedup.validate(tolerance)?;
        Ok(Guard {
            inner: Arc::new(Inner {
                verifier: self.verifier,
                store: self.store,
                dedup: self.dedup,
                body_limit: self.body_limit,
                body_timeout: self.body_timeout,
                allow: client_ip::parse_nets(&self.allow)?,
                trusted_proxies: client_ip::parse_nets(&self.trusted_proxies)?,
                forwarded_header: self.forwarded_header,
                challenges: self.challenges,
                report_only: self.report_only,
                fail_open: self.fail_open,
                retry_after: self.retry_after,
                public_url: self.public_url,
                responder: self.responder,
                unknown_peer_seen: AtomicBool::new(false),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::SignInput;
    use crate::schemes::Github;
    use crate::sign;

    /// A basic-auth password in the public URL is a credential: not in `Debug`.
    #[test]
    fn debug_hides_a_password_in_the_public_url() {
        let verifier = Verifier::builder(crate::schemes::Twilio::new())
            .secret("tok")
            .build()
            .unwrap();
        let guard = Guard::builder(verifier)
            .with_public_url("https://user:TOPSECRET@hooks.example.com/x")
            .build()
            .unwrap();
        let debug = format!("{guard:?}");
        assert!(!debug.contains("TOPSECRET"), "{debug}");
        assert!(
            debug.contains("https://user:***@hooks.example.com/x"),
            "{debug}"
        );
        // Only the authority's `@` counts (a public URL cannot hold a query, but the
        // helper does not rely on it).
        assert_eq!(
            shown_url("https://u:p@h/x?a=b@c"),
            "https://u:***@h/x?a=b@c"
        );
        for same in [
            "https://h.example/x",
            "https://user@h.example/",
            "http://h/p@q:r",
        ] {
            assert_eq!(shown_url(same), same);
        }
    }

    #[test]
    fn precheck_and_check_parse_the_headers_once() {
        let counting = crate::counting::Counting::new(Github::new());
        let verifier = Verifier::builder(counting.clone())
            .secret("It's a Secret to Everybody")
            .build()
            .unwrap();
        let guard = Guard::builder(verifier).build().unwrap();
        let head = Head {
            headers: &SIGNED,
            peer: None,
            content_length: None,
        };
        let mut prechecked = Prechecked::default();
        guard.precheck(&head, &mut prechecked).unwrap();
        assert_eq!(counting.parses(), 1);
        let checked = guard.check(&head, &prechecked, b"Hello, World!", Some("/hooks"));
        assert!(matches!(checked, Checked::Verified(_)), "{checked:?}");
        assert_eq!(counting.parses(), 1, "check parsed the headers again");

        // Report-only mode skips the precheck's parse: check parses, once.
        let verifier = Verifier::builder(counting.clone())
            .secret("It's a Secret to Everybody")
            .build()
            .unwrap();
        let guard = Guard::builder(verifier)
            .with_report_only(true)
            .build()
            .unwrap();
        let mut prechecked = Prechecked::default();
        guard.precheck(&head, &mut prechecked).unwrap();
        let checked = guard.check(&head, &prechecked, b"Hello, World!", Some("/hooks"));
        assert!(matches!(checked, Checked::Verified(_)), "{checked:?}");
        assert_eq!(counting.parses(), 2);
    }

    #[test]
    fn a_twilio_form_delivery_is_not_replayed_as_a_json_body_through_the_query() {
        // Twilio signs `https://h.example/hook?tenant=1` + its form parameters; the
        // attacker wrote the SMS text (`Body`, followed in sort order by `From`).
        let secret = "twilio-auth-token";
        let verifier = Verifier::builder(crate::schemes::Twilio::new())
            .secret(secret)
            .build()
            .unwrap();
        let guard = Guard::builder(verifier)
            .with_public_url("https://h.example")
            .without_dedup()
            .build()
            .unwrap();
        let text = " {\"admin\":true,\"pad\":\"\"}";
        let form = format!(
            "AccountSid=AC1&Body={}&From=%2B15551",
            form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        );
        let input = SignInput {
            body: form.as_bytes(),
            timestamp: 0,
            id: None,
            url: Some("https://h.example/hook?tenant=1"),
        };
        let headers = sign(&crate::schemes::Twilio::new(), &secret.into(), &input).unwrap();
        let head = Head {
            headers: &headers,
            peer: None,
            content_length: None,
        };
        let check = |body: &[u8], target: &str| {
            let mut prechecked = Prechecked::default();
            guard.precheck(&head, &mut prechecked).unwrap();
            guard.check(&head, &prechecked, body, Some(target))
        };
        let checked = check(form.as_bytes(), "/hook?tenant=1");
        assert!(matches!(checked, Checked::Verified(_)), "{checked:?}");
        // Same route, a longer query, and a JSON body the handler would read as
        // `{"admin":true,...}`: Twilio sent no such request.
        let json = br#" {"admin":true,"pad":"&From=%2B15551&"}"#;
        let checked = check(json, "/hook?tenant=1AccountSidAC1Body");
        assert!(
            matches!(checked, Checked::Respond(_)),
            "a JSON body accepted under a form delivery's signature: {checked:?}"
        );
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// The verifiers' clock in these tests.
    const NOW: i64 = 1_700_000_000;

    /// `scheme`'s headers for `body` signed with `secret` at [`NOW`].
    fn signed_at_now(
        scheme: &dyn crate::Scheme,
        secret: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let input = SignInput {
            body,
            timestamp: NOW,
            id: None,
            url: None,
        };
        sign(scheme, &secret.into(), &input).unwrap()
    }

    fn github() -> Verifier {
        Verifier::builder(Github::new())
            .secret("It's a Secret to Everybody")
            .build()
            .unwrap()
    }

    #[test]
    fn a_tolerance_set_for_a_scheme_without_timestamps_is_ignored() {
        // GitHub signs no timestamp: a tolerance has nothing to apply to, and must not
        // make the dedup retention check refuse the guard (200 days × 2 > 7 days).
        let verifier = Verifier::builder(Github::new())
            .secret("It's a Secret to Everybody")
            .tolerance(crate::Tolerance::symmetric(crate::time::Duration::days(
                200,
            )))
            .build()
            .unwrap();
        assert_eq!(verifier.tolerance(), None);
        assert!(Guard::builder(verifier).build().is_ok());
    }

    #[test]
    fn without_dedup_a_wide_tolerance_needs_no_retention() {
        // Dedup off: no retention applies, and none needs to cover the tolerance.
        let verifier = Verifier::builder(crate::schemes::StandardWebhooks::new())
            .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .tolerance(crate::Tolerance::symmetric(crate::time::Duration::days(3)))
            .build()
            .unwrap();
        let built = Guard::builder(verifier.clone()).without_dedup().build();
        assert!(built.is_ok(), "{:?}", built.map(|_| ()));
        // With dedup, the default retention (4 days) is still refused.
        let err = Guard::builder(verifier).build().map(|_| ()).unwrap_err();
        assert!(
            err.to_string().contains("twice the timestamp tolerance"),
            "{err}"
        );
    }

    const SIGNED: [(&str, &str); 1] = [(
        "X-Hub-Signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )];

    /// GitHub's published delivery (`SIGNED`, "Hello, World!") through `precheck` and
    /// `check`, verified.
    fn checked_delivery(guard: &Guard) -> CheckedDelivery {
        let head = Head {
            headers: &SIGNED,
            peer: None,
            content_length: None,
        };
        let mut prechecked = Prechecked::default();
        guard.precheck(&head, &mut prechecked).unwrap();
        match guard.check(&head, &prechecked, b"Hello, World!", None) {
            Checked::Verified(checked) => checked,
            Checked::Respond(reply) => panic!("not verified: {reply:?}"),
        }
    }

    #[test]
    fn check_holds_the_body_limit_whatever_read_the_body() {
        let guard = Guard::builder(github()).with_body_limit(4).build().unwrap();
        let head = Head {
            headers: &SIGNED,
            peer: None,
            content_length: None,
        };
        let checked = guard.check(&head, &Prechecked::default(), b"Hello, World!", None);
        let Checked::Respond(reply) = checked else {
            panic!("an oversized body was checked: {checked:?}");
        };
        assert_eq!(reply.status, 413);
    }

    #[test]
    fn a_body_timeout_is_408_without_retry_after() {
        let guard = Guard::builder(github())
            .with_body_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        assert_eq!(guard.body_timeout(), Some(Duration::from_secs(10)));
        let reply = guard.reject(Rejection::BodyTimeout);
        assert_eq!(
            (reply.status, reply.retry_after_secs(), &reply.body[..]),
            (408, None, &b"request timeout\n"[..])
        );
        assert_eq!(Rejection::BodyTimeout.reason(), "body_timeout");
        assert_eq!(
            Guard::builder(github()).build().unwrap().body_timeout(),
            None
        );
    }

    /// `Retry-After` is whole seconds: a fraction rounds up, so the sender never comes
    /// back before the configured time (1.5 s was sent as 1).
    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        for (configured, sent) in [
            (Duration::from_millis(1_500), 2),
            (Duration::from_secs(5), 5),
            (Duration::from_nanos(1), 1),
            (Duration::ZERO, 1),
            (Duration::MAX, u64::MAX),
        ] {
            let guard = Guard::builder(github())
                .with_retry_after(configured)
                .build()
                .unwrap();
            for rejection in [
                Rejection::InFlight,
                Rejection::StoreUnavailable(crate::dedup::StoreError::new("down")),
            ] {
                let reply = guard.reject(rejection);
                assert_eq!(reply.retry_after_secs(), Some(sent), "{configured:?}");
            }
        }
    }

    /// What moves from step to step on every request is small: the delivery is one
    /// shared pointer, the rare report-only finding is boxed. (The delivery was 280
    /// bytes, the checked delivery 344, the admission 464: copied about 20 times per
    /// request between the pipeline's steps and an adapter's future, by a `perf
    /// probe` on `memcpy`.)
    #[test]
    fn the_pipeline_moves_small_values() {
        use std::mem::size_of;
        eprintln!(
            "Delivery {} CheckedDelivery {} Checked {} Admitted {} Admission {} Reply {}",
            size_of::<Delivery>(),
            size_of::<CheckedDelivery>(),
            size_of::<Checked>(),
            size_of::<Admitted<MemoryStore>>(),
            size_of::<Admission<MemoryStore>>(),
            size_of::<Reply>()
        );
        assert_eq!(size_of::<Delivery>(), size_of::<usize>());
        assert!(size_of::<CheckedDelivery>() <= 2 * size_of::<usize>());
        assert!(size_of::<Checked>() <= size_of::<Reply>() + size_of::<usize>());
        assert!(size_of::<Admitted<MemoryStore>>() <= 160);
        assert!(size_of::<Admission<MemoryStore>>() <= 168);
    }

    /// The adapters keep these futures in theirs, one per request in flight. As
    /// `async fn`s they held their argument twice (the argument and the parts taken
    /// from it): 728 and 1,216 bytes; then 440 and 432 (`-Zprint-type-sizes`); the
    /// claim future is 176 since the delivery is shared.
    #[test]
    fn the_claim_and_finish_futures_do_not_hold_their_input_twice() {
        let guard = Guard::builder(github()).build().unwrap();
        let checked = checked_delivery(&guard);
        let claim = guard.claim(checked);
        let size = std::mem::size_of_val(&claim);
        // The delivery, the key and the store's claim future (176 bytes; 440 when the
        // delivery was held inline, 728 as an `async fn`).
        assert!(size <= 192, "claim future: {size} bytes");
        let Admission::Proceed(admitted) = block_on(claim) else {
            panic!("not admitted");
        };
        let finish = admitted.finish(200);
        let size = std::mem::size_of_val(&finish);
        // The claim and the store's future, not the admission (432 bytes).
        assert!(size <= 448, "finish future: {size} bytes");
        block_on(finish);
    }

    #[test]
    fn a_responders_reply_is_made_safe_and_can_replace_the_duplicate_reply() {
        struct Custom;
        impl Responder for Custom {
            fn respond(&self, _: &Rejection, mut default: Reply) -> Reply {
                default.status = 1000;
                default.content_type = "bad\nvalue";
                default
            }
            fn respond_duplicate(&self, mut default: Reply) -> Reply {
                default.content_type = "application/json";
                default.body = r#"{"type":1}"#.into();
                default
            }
        }
        let guard = Guard::builder(github())
            .with_responder(Custom)
            .build()
            .unwrap();
        let reply = guard.reject(Rejection::IpNotAllowed);
        assert_eq!(
            (reply.status, reply.content_type),
            (500, "text/plain; charset=utf-8")
        );
        // The same delivery twice: the second is the responder's duplicate reply.
        let run = || block_on(guard.claim(checked_delivery(&guard)));
        match run() {
            Admission::Proceed(admitted) => block_on(admitted.finish(200)),
            Admission::Respond(reply) => panic!("first delivery answered: {reply:?}"),
        }
        let Admission::Respond(reply) = run() else {
            panic!("the duplicate ran the handler");
        };
        assert_eq!(reply.outcome, Outcome::Duplicate);
        assert_eq!(
            (reply.status, reply.content_type),
            (200, "application/json")
        );
        assert_eq!(&reply.body[..], br#"{"type":1}"#);
    }

    #[test]
    fn a_responders_status_must_end_the_request_and_frame_the_body() {
        // (status the responder sets, status sent, body kept)
        for (set, sent, body) in [
            (100, 500, true),
            (101, 500, true),
            (199, 500, true),
            (200, 200, true),
            (204, 204, false),
            (205, 205, false),
            (304, 304, false),
            (418, 418, true),
        ] {
            let guard = Guard::builder(github())
                .with_responder(move |_: &Rejection, mut r: Reply| {
                    r.status = set;
                    r
                })
                .build()
                .unwrap();
            let reply = guard.reject(Rejection::IpNotAllowed);
            assert_eq!(
                (reply.status, !reply.body.is_empty()),
                (sent, body),
                "responder status {set}"
            );
        }
    }

    #[test]
    fn report_only_lets_a_malformed_challenge_reach_the_handler() {
        use crate::schemes::Slack;
        let body = br#"{"type":"url_verification"}"#;
        let headers = signed_at_now(&Slack::new(), "slack-signing", body);
        let verifier = Verifier::builder(Slack::new())
            .secret("slack-signing")
            .clock(crate::ManualClock::new(NOW))
            .build()
            .unwrap();
        let head = Head {
            headers: &headers,
            peer: None,
            content_length: None,
        };
        for report_only in [false, true] {
            let guard = Guard::builder(verifier.clone())
                .with_challenge(Challenge::Slack)
                .with_report_only(report_only)
                .build()
                .unwrap();
            let checked = guard.check(&head, &Prechecked::default(), body, None);
            match (report_only, checked) {
                (false, Checked::Respond(reply)) => assert_eq!(reply.status, 400),
                (true, Checked::Verified(c)) => {
                    assert!(c.delivery.is_some());
                    assert_eq!(
                        c.report.map(|r| r.rejection),
                        Some(Rejection::ChallengeMalformed(Challenge::Slack))
                    );
                }
                (mode, other) => panic!("report-only {mode}: {other:?}"),
            }
        }
    }

    /// Report-only enforces no allowlist: a challenge whose signature verifies is
    /// answered from any address (else the provider's endpoint check fails during the
    /// rollout), and an unsigned one is still not.
    #[test]
    fn report_only_answers_a_verified_challenge_from_outside_the_allowlist() {
        use crate::schemes::Slack;
        let body = br#"{"token":"x","challenge":"c-123","type":"url_verification"}"#;
        let verifier = Verifier::builder(Slack::new())
            .secret("slack-signing")
            .clock(crate::ManualClock::new(NOW))
            .build()
            .unwrap();
        let guard = Guard::builder(verifier)
            .with_challenge(Challenge::Slack)
            .with_allowed_ips(["192.0.2.0/24"])
            .with_report_only(true)
            .build()
            .unwrap();
        let check = |headers: &Vec<(String, String)>, peer: Option<IpAddr>| {
            let head = Head {
                headers,
                peer,
                content_length: None,
            };
            let mut prechecked = Prechecked::default();
            guard.precheck(&head, &mut prechecked).unwrap();
            guard.check(&head, &prechecked, body, None)
        };
        let signed = signed_at_now(&Slack::new(), "slack-signing", body);
        for peer in [Some("198.51.100.7".parse().unwrap()), None] {
            match check(&signed, peer) {
                Checked::Respond(reply) => assert_eq!(
                    (reply.status, &reply.body[..], reply.outcome),
                    (200, &b"c-123"[..], Outcome::Challenge(Challenge::Slack)),
                    "peer {peer:?}"
                ),
                other => panic!("peer {peer:?}: challenge not answered: {other:?}"),
            }
        }
        // Signed with another secret: reported, never answered.
        let forged = signed_at_now(&Slack::new(), "not-the-secret", body);
        match check(&forged, Some("198.51.100.7".parse().unwrap())) {
            Checked::Verified(c) => {
                assert!(c.delivery.is_none());
                assert_eq!(c.report.map(|r| r.rejection), Some(Rejection::IpNotAllowed));
            }
            other => panic!("a forged challenge was answered: {other:?}"),
        }
    }

    #[test]
    fn the_zoom_challenge_is_answered_with_the_secret_that_verified() {
        use crate::schemes::Zoom;
        use hmac::{KeyInit, Mac};
        let body = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1700000000000}"#;
        // Signed with the second secret (a rotation under way).
        let headers = signed_at_now(&Zoom::new(), "new-secret", body);
        let verifier = Verifier::builder(Zoom::new())
            .secrets(["old-secret", "new-secret"])
            .clock(crate::ManualClock::new(NOW))
            .build()
            .unwrap();
        let guard = Guard::builder(verifier)
            .with_challenge(Challenge::Zoom)
            .build()
            .unwrap();
        let head = Head {
            headers: &headers,
            peer: None,
            content_length: None,
        };
        let Checked::Respond(reply) = guard.check(&head, &Prechecked::default(), body, None) else {
            panic!("the challenge was not answered");
        };
        // Zoom's documented answer: hex(HMAC-SHA256(secret, plainToken)).
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"new-secret").unwrap();
        mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
        let expected = hex::encode(mac.finalize().into_bytes());
        let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            (reply.status, reply.content_type, answer),
            (
                200,
                "application/json",
                serde_json::json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected})
            )
        );
    }

    #[test]
    fn build_names_each_configuration_error() {
        let square = || {
            Verifier::builder(crate::schemes::Square::new())
                .secret("sq-key")
                .build()
                .unwrap()
        };
        let scheme = "the public URL must start with https:// or http://";
        for (builder, why) in [
            (
                Guard::builder(github()).with_body_limit(0),
                "the body limit must be at least 1 byte",
            ),
            (
                Guard::builder(github()).with_body_timeout(Duration::ZERO),
                "the body timeout must be longer than zero",
            ),
            (
                Guard::builder(square()),
                "scheme square signs the request URL: set with_public_url",
            ),
            (
                Guard::builder(square()).with_public_url("ftp://hooks.example.com"),
                scheme,
            ),
            (
                Guard::builder(square()).with_public_url("hooks.example.com"),
                scheme,
            ),
            // The allowlist and the trusted proxies are parsed at build, each entry
            // named.
            (
                Guard::builder(github()).with_allowed_ips(["192.0.2.0/24", "192.0.2.1/24"]),
                "\"192.0.2.1/24\" has bits set after its /24 prefix: write 192.0.2.0/24",
            ),
            (
                Guard::builder(github()).with_trusted_proxies(["proxy.internal"]),
                "\"proxy.internal\" is not an IP address or CIDR block",
            ),
            // The dedup configuration too, against the verifier's tolerance.
            (
                Guard::builder(github()).with_dedup(DedupConfig::new().with_namespace("a b")),
                "dedup namespace must be printable ASCII without `:` or spaces",
            ),
        ] {
            let err = builder.build().map(|_| ()).unwrap_err();
            assert_eq!(err.message(), why);
        }
        assert!(
            Guard::builder(square())
                .with_public_url("https://hooks.example.com")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn a_public_url_the_request_target_cannot_extend_is_refused() {
        // The request's path and query are appended to the public URL: a query, a
        // fragment, no host or a space in it makes every URL verified a wrong one.
        let square = || {
            Verifier::builder(crate::schemes::Square::new())
                .secret("sq-key")
                .build()
                .unwrap()
        };
        let no_host = "the public URL has no host";
        let extended = "the public URL must not hold a query, a fragment, a space or a control \
                        character (the request's path and query are appended to it)";
        for (url, why) in [
            ("https://", no_host),
            ("http:///hooks", no_host),
            ("https://:8443/hooks", no_host),
            ("https://user@/hooks", no_host),
            ("https://user:pw@:443", no_host),
            ("https://hooks.example.com?k=1", extended),
            ("https://hooks.example.com/base?k=1", extended),
            ("https://hooks.example.com/#top", extended),
            ("https://hooks.example.com /", extended),
            ("https://hooks.example.com/\n", extended),
        ] {
            let err = Guard::builder(square())
                .with_public_url(url)
                .build()
                .map(|_| ())
                .unwrap_err();
            assert_eq!(err.message(), why, "{url:?}");
        }
        for url in [
            "https://hooks.example.com",
            "https://hooks.example.com/",
            "http://127.0.0.1:8080/base",
            "https://user@[::1]:443",
        ] {
            let built = Guard::builder(square()).with_public_url(url).build();
            assert!(built.is_ok(), "{url}: {:?}", built.map(|_| ()));
        }
    }

    #[test]
    fn the_zoom_challenge_needs_an_hmac_sha256_scheme() {
        let err = Guard::builder(github())
            .with_challenge(Challenge::Zoom)
            .build()
            .map(|_| ());
        assert!(err.is_ok(), "GitHub is HMAC-SHA256: {err:?}");
        let gitlab = Verifier::builder(crate::schemes::Gitlab::new())
            .secret("token")
            .build()
            .unwrap();
        let err = Guard::builder(gitlab)
            .with_challenge(Challenge::Zoom)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("HMAC-SHA256"), "{err}");
    }

    #[test]
    fn check_without_a_precheck_still_applies_the_allowlist() {
        let verifier = Verifier::builder(Github::new())
            .secret("It's a Secret to Everybody")
            .build()
            .unwrap();
        let guard = Guard::builder(verifier)
            .with_allowed_ips(["192.0.2.0/24"])
            .build()
            .unwrap();
        let headers = [(
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )];
        let head = |peer: &str| Head {
            headers: &headers,
            peer: Some(peer.parse().unwrap()),
            content_length: None,
        };
        // An adapter that skipped `precheck`: the check refuses the peer itself.
        let checked = guard.check(
            &head("198.51.100.7"),
            &Prechecked::default(),
            b"Hello, World!",
            None,
        );
        let Checked::Respond(reply) = checked else {
            panic!("a refused peer was verified: {checked:?}");
        };
        assert_eq!(reply.status, 403);
        assert_eq!(reply.rejection(), Some(&Rejection::IpNotAllowed));
        let checked = guard.check(
            &head("192.0.2.7"),
            &Prechecked::default(),
            b"Hello, World!",
            None,
        );
        assert!(matches!(checked, Checked::Verified(_)), "{checked:?}");
    }
}
