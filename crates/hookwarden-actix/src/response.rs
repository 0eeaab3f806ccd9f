//! Turning the guard's [`Reply`] into an actix-web response.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use hookwarden_core::receive::Reply;

/// The response for `reply`: its status, `Content-Type`, `Retry-After` when set, and
/// body; the [`Outcome`](hookwarden_core::receive::Outcome) goes into the response's
/// extensions for outer middleware (logging, metrics).
///
/// `unread` is the request's payload when the reply is sent before the body was read
/// to its end: it is kept alive by the response body until the response is written,
/// so that actix-http closes the connection after it (lingering for the server's
/// `client_disconnect_timeout`). Dropped earlier, actix-http would instead drain a
/// chunked body for as long as the client sends it, however large.
pub(crate) fn reply_to_response(reply: Reply, unread: Option<Payload>) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match unread {
        Some(payload) => BoxBody::new(HoldPayload {
            len: reply.body.len() as u64,
            body: Some(reply.body.clone()),
            _payload: payload,
        }),
        None => BoxBody::new(reply.body.clone()),
    };
    let mut res = HttpResponse::with_body(status, body);
    // A responder may set any string: an invalid header value is left out, not a panic.
    match HeaderValue::from_str(reply.content_type) {
        Ok(v) => {
            res.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        Err(_) => tracing::error!(
            content_type = reply.content_type,
            "webhook reply has an invalid Content-Type; sent without one"
        ),
    }
    if let Some(secs) = reply.retry_after_secs() {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res.extensions_mut().insert(reply.outcome);
    res.map_into_boxed_body()
}

/// A reply's body that holds the request's unread payload until it is dropped.
struct HoldPayload {
    len: u64,
    body: Option<Bytes>,
    _payload: Payload,
}

impl MessageBody for HoldPayload {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.len)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().body.take().filter(|b| !b.is_empty()).map(Ok))
    }
}
