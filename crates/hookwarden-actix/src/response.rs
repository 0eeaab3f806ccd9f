//! Turning the guard's [`Reply`] into an actix-web response.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use hookwarden_core::receive::Reply;

/// The response for `reply`: its status, `Content-Type`, `Retry-After` when set, and
/// body; the [`Outcome`](hookwarden_core::receive::Outcome) goes into the response's
/// extensions for outer middleware (logging, metrics).
pub(crate) fn reply_to_response(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::with_body(status, reply.body.clone());
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
