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
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        ResponseFuture {
            inner: Box::pin(async move {
                let (mut parts, body) = req.into_parts();
                let peer = peer(&parts.extensions);
                let content_length = parts
                    .headers
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                // `Head` borrows the headers as `&dyn Headers`: keep it out of awaits.
                // The parsed signature headers borrow `parts.headers` across the
                // body's await (plain bytes: the future stays `Send`).
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
                let bytes = match read_limited(body, guard.body_buffer()).await {
                    Ok(bytes) => bytes,
                    Err(rejection) => return Ok(reply_to_response(guard.reject(rejection))),
                };
                let checked = {
                    let head = Head {
                        headers: &parts.headers,
                        peer,
                        content_length,
                    };
                    let target = request_target(&parts);
                    match guard.check(&head, &prechecked, &bytes, target) {
                        Checked::Verified(checked) => checked,
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
                #[cfg_attr(not(feature = "axum"), allow(unused_mut))]
                let mut req = Request::from_parts(parts, Full::new(bytes));
                // The body is in memory and within the guard's limit: axum's body
                // extractors (`Bytes`, `Json`, ...) must not refuse it by their own
                // default after verification (every retry would meet the same 413).
                // Under that default, nothing to do: the extension costs a map
                // insert (≈ 1k instructions per request, by callgrind).
                #[cfg(feature = "axum")]
                if guard.body_limit() > AXUM_DEFAULT_BODY_LIMIT {
                    axum::extract::DefaultBodyLimit::max(guard.body_limit()).apply(&mut req);
                }
                // A panic in the handler unwinds through here and drops `admitted`,
                // whose claim guard releases the key; so does dropping this future
                // (and dropping it while `finish` waits for the store settles the
                // claim from the guard's destructor).
                let res = match inner.call(req).await {
                    Ok(res) => res,
                    Err(e) => {
                        // Never a success: the claim is released for the retry, as for
                        // a failed handler, and the error passed on.
                        admitted.finish(500).await;
                        return Err(e);
                    }
                };
                admitted.finish(res.status().as_u16()).await;
                Ok(res.map(Either::Left))
            }),
        }
    }
}
