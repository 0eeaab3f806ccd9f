//! [`WebhookService`].

use std::net::{IpAddr, SocketAddr};
use std::task::{Context, Poll};

use bytes::Bytes;
use hookwarden_core::dedup::{DedupStore, MemoryStore};
use hookwarden_core::receive::{Admission, Checked, Guard, Head, Prechecked};
use http::{Request, Response, header};
use http_body::Body;
use http_body_util::{Either, Full};
use tower_service::Service;

use crate::body::read_limited;
use crate::future::ResponseFuture;
use crate::response::{ResponseBody, reply_to_response};

/// The connection's peer address, for the IP allowlist. Insert it into the request
/// extensions when your server does not provide `SocketAddr` or axum's `ConnectInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub IpAddr);

/// The service built by [`WebhookLayer`](crate::WebhookLayer).
#[derive(Debug)]
pub struct WebhookService<S, D: DedupStore = MemoryStore> {
    inner: S,
    guard: Guard<D>,
}

impl<S: Clone, D: DedupStore> Clone for WebhookService<S, D> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            guard: self.guard.clone(),
        }
    }
}

impl<S, D: DedupStore> WebhookService<S, D> {
    /// Wrap `inner` with `guard`.
    pub fn new(inner: S, guard: Guard<D>) -> Self {
        Self { inner, guard }
    }
}

/// axum's body limit for extractors when no `DefaultBodyLimit` is set (2 MB; axum
/// does not export it).
#[cfg(feature = "axum")]
const AXUM_DEFAULT_BODY_LIMIT: usize = 2_097_152;

/// The path and query the sender called, for URL-signing schemes: inside an axum
/// `Router::nest`, the URI the layer sees has lost the prefix, and axum keeps the
/// original in `OriginalUri`.
fn request_target(parts: &http::request::Parts) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::OriginalUri(uri)) = parts.extensions.get() {
        return uri.path_and_query().map(http::uri::PathAndQuery::as_str);
    }
    parts
        .uri
        .path_and_query()
        .map(http::uri::PathAndQuery::as_str)
}

fn peer(extensions: &http::Extensions) -> Option<IpAddr> {
    if let Some(PeerAddr(ip)) = extensions.get::<PeerAddr>() {
        return Some(*ip);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    extensions.get::<SocketAddr>().map(SocketAddr::ip)
}

impl<S, D, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookService<S, D>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    D: DedupStore,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    /// The inner service's error (axum's routes: `Infallible`); the layer's own
    /// rejections are responses. An error from the inner service is passed on, and
    /// releases the delivery's claim like a failed handler.
    type Error = S::Error;
    type Future = ResponseFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // Keep the service that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = req.into_parts();
        ResponseFuture {
            inner: Box::pin(handle(self.guard.clone(), inner, parts, body)),
        }
    }
}

/// One delivery through the guard's steps, then the inner service.
///
/// Each step's state lives only as long as the step (the parsed headers until the
/// check, the request until the call): the boxed future is sized by its largest step,
/// not by their sum (test `the_response_future_is_sized_by_its_largest_step`).
///
/// Not an `async fn`: its arguments would be copied into the future twice (as
/// arguments and as locals); the block uses them in place.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` stores its arguments twice in its future"
)]
fn handle<S, D, ReqBody, ResBody>(
    guard: Guard<D>,
    mut inner: S,
    mut parts: http::request::Parts,
    body: ReqBody,
) -> impl Future<Output = Result<Response<ResponseBody<ResBody>>, S::Error>>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>>,
    D: DedupStore,
    ReqBody: Body,
{
    async move {
        let (bytes, checked) = {
            let peer = peer(&parts.extensions);
            let content_length = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            // `Head` borrows the headers as `&dyn Headers`: keep it out of awaits. The
            // parsed signature headers borrow `parts.headers` across the body's await
            // (plain bytes: the future stays `Send`).
            let mut prechecked = Prechecked::default();
            {
                let head = Head {
                    headers: &parts.headers,
                    peer,
                    content_length,
                };
                if let Err(reply) = guard.precheck(&head, &mut prechecked) {
                    return Ok(reply_to_response(reply));
                }
            }
            let bytes = match read_limited(body, guard.body_buffer(), guard.body_timeout()).await {
                Ok(bytes) => bytes,
                Err(rejection) => return Ok(reply_to_response(guard.reject(rejection))),
            };
            let head = Head {
                headers: &parts.headers,
                peer,
                content_length,
            };
            match guard.check(&head, &prechecked, &bytes, request_target(&parts)) {
                Checked::Verified(checked) => (bytes, checked),
                Checked::Respond(reply) => return Ok(reply_to_response(reply)),
            }
        };
        let mut admitted = match guard.claim(checked).await {
            Admission::Proceed(admitted) => admitted,
            Admission::Respond(reply) => return Ok(reply_to_response(reply)),
        };
        if let Some(delivery) = admitted.take_delivery() {
            parts.extensions.insert(delivery);
        }
        if let Some(report) = admitted.take_report() {
            parts.extensions.insert(report);
        }
        // A panic in the handler unwinds through here and drops `admitted`, whose claim
        // guard releases the key; so does dropping this future (and dropping it while
        // `finish` waits for the store settles the claim from the guard's destructor).
        let res = match inner.call(inner_request(parts, bytes, &guard)).await {
            Ok(res) => res,
            Err(e) => {
                // Never a success: the claim is released for the retry, as for a failed
                // handler, and the error passed on.
                admitted.finish(500).await;
                return Err(e);
            }
        };
        admitted.finish(res.status().as_u16()).await;
        Ok(res.map(Either::Left))
    }
}

/// The request the inner service gets: the head with the delivery in its extensions,
/// and the verified body.
fn inner_request<D: DedupStore>(
    parts: http::request::Parts,
    bytes: Bytes,
    guard: &Guard<D>,
) -> Request<Full<Bytes>> {
    #[cfg_attr(not(feature = "axum"), allow(unused_mut))]
    let mut req = Request::from_parts(parts, Full::new(bytes));
    // The body is in memory and within the guard's limit: axum's body extractors
    // (`Bytes`, `Json`, ...) must not refuse it by their own default after
    // verification (every retry would meet the same 413). Under that default, nothing
    // to do: the extension costs a map insert (≈ 1k instructions per request, by
    // callgrind).
    #[cfg(feature = "axum")]
    if guard.body_limit() > AXUM_DEFAULT_BODY_LIMIT {
        axum::extract::DefaultBodyLimit::max(guard.body_limit()).apply(&mut req);
    }
    #[cfg(not(feature = "axum"))]
    let _ = guard;
    req
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use hookwarden_core::Verifier;
    use hookwarden_core::schemes::StandardWebhooks;

    use super::*;

    /// Bytes held per request in flight, and moved into the box on every request:
    /// each step's state is dropped before the next step's (the parsed headers, 600
    /// bytes, before the claim; the admission's future holds the claim only). With
    /// every step's state kept to the end, this future was 3,344 bytes (now 1,680).
    #[test]
    fn the_response_future_is_sized_by_its_largest_step() {
        let verifier = Verifier::builder(StandardWebhooks::new())
            .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .build()
            .expect("verifier");
        let guard = Guard::builder(verifier).build().expect("guard");
        let inner = tower::service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
        let mut service = WebhookService::new(inner, guard);
        let future = service.call(Request::new(Full::new(Bytes::new())));
        let size = std::mem::size_of_val(&*future.inner);
        assert!(size <= 2_048, "response future: {size} bytes");
    }
}
