//! Turning the guard's [`Reply`] into an `http::Response`.

use bytes::Bytes;
use hookwarden_core::receive::Reply;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{Either, Full};

/// The response body: the inner service's, or the guard's own reply.
pub type ResponseBody<B> = Either<B, Full<Bytes>>;

pub(crate) fn reply_to_response<B>(reply: Reply) -> Response<ResponseBody<B>> {
    let mut res = Response::new(Either::Right(Full::new(reply.body.clone())));
    *res.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // A responder may set any string: an invalid header value is left out, not a panic
    // (`HeaderValue::from_static` would panic).
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
    res
}
