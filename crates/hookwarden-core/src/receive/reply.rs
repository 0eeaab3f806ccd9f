//! What the pipeline answers instead of calling the handler: [`Reply`], and why:
//! [`Rejection`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use super::challenge::Challenge;
use crate::dedup::StoreError;
use crate::error::VerifyError;

/// Why a request was not handed to the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The client's address is outside the allowlist. Status 403.
    IpNotAllowed,
    /// The body is larger than the limit (declared or counted while streaming).
    /// Status 413.
    BodyTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// Verification failed: the error says how (400, 401, or 500 for a receiver
    /// misconfiguration).
    Verify(VerifyError),
    /// The same delivery is being processed by another request right now. Status 409
    /// with `Retry-After`.
    InFlight,
    /// The dedup store could not answer: the sender is told to retry. Status 503 with
    /// `Retry-After`.
    StoreUnavailable(StoreError),
    /// The body could not be read from the connection. Status 400.
    BodyUnreadable,
    /// The body did not arrive within the guard's body timeout
    /// ([`GuardBuilder::with_body_timeout`](super::GuardBuilder::with_body_timeout)).
    /// Status 408.
    BodyTimeout,
    /// A verified request announced an enabled endpoint challenge but does not carry
    /// what answers it (a Slack `url_verification` without its `challenge`). Status
    /// 400, without the handler.
    ChallengeMalformed(Challenge),
}

impl Rejection {
    /// The HTTP status of this rejection (see the table in the [`receive`](super) module
    /// docs).
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::IpNotAllowed => 403,
            Self::BodyTooLarge { .. } => 413,
            Self::BodyTimeout => 408,
            Self::Verify(e) => e.status(),
            Self::InFlight => 409,
            Self::StoreUnavailable(_) => 503,
            Self::BodyUnreadable | Self::ChallengeMalformed(_) => 400,
        }
    }

    /// A short, stable, snake_case name for logs and metrics.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::IpNotAllowed => "ip_not_allowed",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::Verify(e) => e.kind().as_str(),
            Self::InFlight => "in_flight",
            Self::StoreUnavailable(_) => "store_unavailable",
            Self::BodyUnreadable => "body_unreadable",
            Self::BodyTimeout => "body_timeout",
            Self::ChallengeMalformed(_) => "challenge_malformed",
        }
    }

    /// The short generic body sent with the default response. The precise reason is
    /// logged and kept in the response's extensions, not sent to the client.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        match self.status() {
            400 => "bad request\n",
            401 => "unauthorized\n",
            403 => "forbidden\n",
            408 => "request timeout\n",
            409 => "delivery in progress, retry later\n",
            413 => "payload too large\n",
            503 => "temporarily unavailable, retry later\n",
            _ => "internal error\n",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IpNotAllowed => f.write_str("client address not allowed"),
            Self::BodyTooLarge { limit } => write!(f, "body larger than {limit} bytes"),
            Self::Verify(e) => write!(f, "{e}"),
            Self::InFlight => f.write_str("delivery is being processed by another request"),
            Self::StoreUnavailable(e) => write!(f, "{e}"),
            Self::BodyUnreadable => f.write_str("body could not be read"),
            Self::BodyTimeout => f.write_str("body not received within the body timeout"),
            Self::ChallengeMalformed(c) => {
                write!(f, "{} challenge without what answers it", c.name())
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// Why the pipeline answered by itself: in the response's extensions, for outer
/// layers (logging, metrics).
///
/// ```
/// use hookwarden_core::receive::{Challenge, Outcome};
///
/// /// A metrics label for a reply the pipeline sent without the handler.
/// fn label(outcome: &Outcome) -> &'static str {
///     match outcome {
///         Outcome::Rejected(rejection) => rejection.reason(),
///         Outcome::Duplicate => "duplicate",
///         Outcome::Challenge(Challenge::Slack) => "slack_url_verification",
///         Outcome::Challenge(challenge) => challenge.name(),
///         _ => "other",
///     }
/// }
/// assert_eq!(label(&Outcome::Duplicate), "duplicate");
/// assert_eq!(label(&Outcome::Challenge(Challenge::Zoom)), "zoom_endpoint_url_validation");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The request was rejected.
    Rejected(Rejection),
    /// The delivery was processed successfully before: acknowledged with 200 without
    /// calling the handler.
    Duplicate,
    /// A provider's endpoint challenge was answered (Slack, Zoom, Twitch, Discord).
    Challenge(Challenge),
}

/// A response decided by the pipeline, in framework-neutral terms; each adapter turns
/// it into its own response type. The [`Outcome`] goes into the response's extensions
/// so outer layers (logging, metrics) can see it.
///
/// Its fields can be read and changed (a [`Responder`] changes the `default` reply it
/// is given), and fields may be added: a reply is not built field by field outside
/// hookwarden (`#[non_exhaustive]`), but from [`Reply::rejected`], [`Reply::duplicate`]
/// or the reply a responder is given.
///
/// ```compile_fail,E0639
/// use hookwarden_core::receive::{Outcome, Reply};
/// let reply = Reply {
///     status: 200,
///     content_type: "text/plain",
///     body: "ok".into(),
///     retry_after: None,
///     outcome: Outcome::Duplicate,
/// };
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` of `body`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
    /// A `Retry-After` header value, when the sender should retry.
    pub retry_after: Option<Duration>,
    /// Why the pipeline answered.
    pub outcome: Outcome,
}

impl Reply {
    /// The default reply for `rejection`: its status, a short generic text body and,
    /// for 409 and 503, `Retry-After: retry_after`.
    #[must_use]
    pub fn rejected(rejection: Rejection, retry_after: Duration) -> Self {
        let status = rejection.status();
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from_static(rejection.public_message().as_bytes()),
            retry_after: matches!(status, 409 | 503).then_some(retry_after),
            outcome: Outcome::Rejected(rejection),
        }
    }

    /// 200 for a delivery already processed.
    #[must_use]
    pub fn duplicate() -> Self {
        Self {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from_static(b"already processed\n"),
            retry_after: None,
            outcome: Outcome::Duplicate,
        }
    }

    /// The rejection, when this reply is one.
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.outcome {
            Outcome::Rejected(r) => Some(r),
            Outcome::Duplicate | Outcome::Challenge(_) => None,
        }
    }

    /// `Retry-After` in whole seconds, rounded up (at least 1), when set.
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|d| {
            d.as_secs()
                .saturating_add(u64::from(d.subsec_nanos() > 0))
                .max(1)
        })
    }

    /// A responder's reply made safe to send: a status that cannot end a request
    /// (outside 200–999: an informational 1xx is not a final response) becomes 500; a
    /// status whose response has no content (204, 205, 304) loses the body, which the
    /// server would otherwise write after the head, where the client reads it as the
    /// start of the next response; a content type that is not a valid header value
    /// (control characters, line breaks, non-ASCII) becomes `text/plain; charset=utf-8`.
    /// Each repair of a mistake is logged.
    #[must_use]
    pub(crate) fn sanitized(mut self) -> Self {
        if !(200..=999).contains(&self.status) {
            tracing::warn!(
                status = self.status,
                "webhook responder returned a status that is not a final response; sending 500"
            );
            self.status = 500;
        }
        if matches!(self.status, 204 | 205 | 304) {
            // A valid choice (a 204 acknowledgement): the default body just goes.
            self.body = Bytes::new();
        }
        if self.content_type.is_empty()
            || !self
                .content_type
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            tracing::warn!(
                "webhook responder returned an invalid content type; sending text/plain"
            );
            self.content_type = "text/plain; charset=utf-8";
        }
        self
    }
}

/// Replaces the default reply to a rejection: return your own status, body and
/// content type. Closures `Fn(&Rejection, Reply) -> Reply` implement it.
///
/// ```
/// use hookwarden_core::receive::{Rejection, Reply, Responder};
/// let json = |r: &Rejection, mut reply: Reply| {
///     reply.content_type = "application/json";
///     reply.body = format!(r#"{{"error":"{}"}}"#, r.reason()).into();
///     reply
/// };
/// fn takes(_: impl Responder) {}
/// takes(json);
/// ```
///
/// # Security
///
/// Keep the statuses that tell the sender to retry: 409 (the delivery is in flight)
/// and 503 (the dedup store is down). Answered 2xx, the sender drops the delivery and
/// it is never processed. Every reply is checked before it is sent: a status that is
/// not a final response (below 200, above 999) becomes 500, a 204, 205 or 304 is sent
/// without a body, an invalid content type becomes `text/plain; charset=utf-8`.
pub trait Responder: Send + Sync + 'static {
    /// The reply to send for `rejection`; `default` is what would be sent otherwise.
    fn respond(&self, rejection: &Rejection, default: Reply) -> Reply;

    /// The reply to a delivery already processed (200 `already processed` by default,
    /// which every provider takes as a success): for a provider that expects its own
    /// acknowledgement body.
    fn respond_duplicate(&self, default: Reply) -> Reply {
        default
    }
}

impl<F> Responder for F
where
    F: Fn(&Rejection, Reply) -> Reply + Send + Sync + 'static,
{
    fn respond(&self, rejection: &Rejection, default: Reply) -> Reply {
        self(rejection, default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::StoreError;
    use crate::error::ErrorKind;

    /// Every rejection's default reply: status, reason, the generic body, and
    /// `Retry-After` only where the sender is told to come back (409, 503).
    #[test]
    fn each_rejection_has_its_status_reason_body_and_retry_after() {
        let verify = |kind| Rejection::Verify(VerifyError::new(kind, "d"));
        let table = [
            (
                Rejection::IpNotAllowed,
                403,
                "ip_not_allowed",
                "forbidden\n",
            ),
            (
                Rejection::BodyTooLarge { limit: 64 },
                413,
                "body_too_large",
                "payload too large\n",
            ),
            (
                verify(ErrorKind::MissingHeader),
                400,
                "missing_header",
                "bad request\n",
            ),
            (
                verify(ErrorKind::SignatureMismatch),
                401,
                "signature_mismatch",
                "unauthorized\n",
            ),
            (
                verify(ErrorKind::UrlRequired),
                500,
                "url_required",
                "internal error\n",
            ),
            (
                Rejection::InFlight,
                409,
                "in_flight",
                "delivery in progress, retry later\n",
            ),
            (
                Rejection::StoreUnavailable(StoreError::unavailable("down")),
                503,
                "store_unavailable",
                "temporarily unavailable, retry later\n",
            ),
            (
                Rejection::BodyUnreadable,
                400,
                "body_unreadable",
                "bad request\n",
            ),
            (
                Rejection::BodyTimeout,
                408,
                "body_timeout",
                "request timeout\n",
            ),
            (
                Rejection::ChallengeMalformed(Challenge::Twitch),
                400,
                "challenge_malformed",
                "bad request\n",
            ),
        ];
        let after = Duration::from_secs(7);
        for (rejection, status, reason, body) in table {
            assert_eq!(
                (rejection.status(), rejection.reason()),
                (status, reason),
                "{rejection:?}"
            );
            let reply = Reply::rejected(rejection.clone(), after);
            assert_eq!(
                (reply.status, reply.content_type, &reply.body[..]),
                (status, "text/plain; charset=utf-8", body.as_bytes()),
                "{rejection:?}"
            );
            let retry = matches!(status, 409 | 503).then_some(after);
            assert_eq!(reply.retry_after, retry, "{rejection:?}");
            assert_eq!(reply.rejection(), Some(&rejection));
        }
    }

    /// The precise reason is for logs: it names the limit, the header, the challenge.
    #[test]
    fn display_says_what_was_wrong() {
        assert_eq!(
            Rejection::BodyTooLarge { limit: 64 }.to_string(),
            "body larger than 64 bytes"
        );
        assert_eq!(
            Rejection::ChallengeMalformed(Challenge::Twitch).to_string(),
            "twitch_webhook_callback_verification challenge without what answers it"
        );
        assert_eq!(
            Rejection::StoreUnavailable(StoreError::timeout("redis claim: no answer")).to_string(),
            "dedup store error: redis claim: no answer"
        );
    }
}
