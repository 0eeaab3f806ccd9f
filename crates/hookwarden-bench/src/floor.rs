//! The least a signature-checking middleware can do, written by hand and without
//! hookwarden, for `bench-server --mode floor`: read the body, check one Standard
//! Webhooks signature over `id.timestamp.body` with a raw prekeyed HMAC-SHA256, refuse a
//! stale timestamp, put the body back and call the handler. No dedup, no allowlist, no
//! limits beyond a fixed body cap, no typed rejections, no logging.
//!
//! What any verifying layer must pay on a framework (the body collected and put back
//! into the request, three header look-ups, the MAC) is the difference between this
//! mode and `bare`; hookwarden's own cost beyond that is the difference between it and
//! `verify` / `layer`.
//!
//! With a [`Seen`] set (`--mode floordedup`), the floor also remembers each verified
//! delivery id and answers a repeat 200 without calling the handler: the least an
//! in-memory dedup can do (one insert into a growing set under a lock; no in-flight
//! state, no completion, no expiry, no bound), so a lower bound on what verification
//! plus dedup costs, which is what issue #4's and #5's throughput target measures.

use std::collections::HashSet;
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The most a floor middleware buffers.
const BODY_CAP: usize = 1 << 20;
/// The timestamp tolerance, as Standard Webhooks' default.
const TOLERANCE_SECS: i64 = 300;

/// The HMAC keyed with [`SECRET`](crate::SECRET) as Standard Webhooks reads it (the
/// base64 after `whsec_`), prepared once.
///
/// # Panics
///
/// Never: the constant secret is valid base64.
#[must_use]
pub fn prekeyed() -> Hmac<Sha256> {
    let encoded = crate::SECRET.trim_start_matches("whsec_");
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("the bench secret is base64");
    <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&key).expect("HMAC takes any key length")
}

/// `true` when `signatures` (the `webhook-signature` value) holds a `v1,` signature of
/// `id.timestamp.body` under `mac`'s key and the timestamp is within the tolerance.
#[must_use]
pub fn check(
    mac: &Hmac<Sha256>,
    id: &[u8],
    timestamp: &[u8],
    signatures: &[u8],
    body: &[u8],
) -> bool {
    let Some(ts) = std::str::from_utf8(timestamp)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
    else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if (now - ts).abs() > TOLERANCE_SECS {
        return false;
    }
    let mut mac = mac.clone();
    mac.update(id);
    mac.update(b".");
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    let computed = mac.finalize().into_bytes();
    signatures.split(|&b| b == b' ').any(|candidate| {
        let Some(encoded) = candidate.strip_prefix(b"v1,") else {
            return false;
        };
        let mut tag = [0u8; 32];
        matches!(
            base64::engine::general_purpose::STANDARD.decode_slice(encoded, &mut tag),
            Ok(32)
        ) && subtle::ConstantTimeEq::ct_eq(&tag[..], &computed[..]).into()
    })
}

/// [`check`] with the three headers read from an `http::HeaderMap` by prebuilt names,
/// as a middleware on `http` types does.
#[must_use]
pub fn check_headers(mac: &Hmac<Sha256>, headers: &http::HeaderMap, body: &[u8]) -> bool {
    verified_id(mac, headers, body).is_some()
}

/// The delivery id when [`check_headers`] passes.
#[must_use]
pub fn verified_id<'h>(
    mac: &Hmac<Sha256>,
    headers: &'h http::HeaderMap,
    body: &[u8],
) -> Option<&'h [u8]> {
    match look_up(headers) {
        (Some(id), Some(ts), Some(sig)) if check(mac, id, ts, sig, body) => Some(id),
        _ => None,
    }
}

/// Passes a `u64` through as its own hash (the set holds hashes already).
#[derive(Debug, Default, Clone, Copy)]
pub struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The delivery ids a floor has let through: 64-bit hashes in one locked set (the
/// least an in-memory dedup can hold; no expiry, no bound).
#[derive(Debug, Default)]
pub struct Seen {
    ids: Mutex<HashSet<u64, BuildHasherDefault<Identity>>>,
    hasher: std::hash::RandomState,
}

impl Seen {
    /// `true` the first time `id` is offered, `false` after.
    pub fn first(&self, id: &[u8]) -> bool {
        let hash = self.hasher.hash_one(id);
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(hash)
    }

    /// How many ids it holds.
    pub fn len(&self) -> usize {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A header's value, if present.
type Value<'a> = Option<&'a [u8]>;

/// The `webhook-id`, `webhook-timestamp` and `webhook-signature` values, by prebuilt
/// names.
#[must_use]
pub fn look_up(headers: &http::HeaderMap) -> (Value<'_>, Value<'_>, Value<'_>) {
    static ID: http::HeaderName = http::HeaderName::from_static("webhook-id");
    static TIMESTAMP: http::HeaderName = http::HeaderName::from_static("webhook-timestamp");
    static SIGNATURE: http::HeaderName = http::HeaderName::from_static("webhook-signature");
    let get = |name: &http::HeaderName| headers.get(name).map(http::HeaderValue::as_bytes);
    (get(&ID), get(&TIMESTAMP), get(&SIGNATURE))
}

pub mod axum {
    //! The floor as a hand-written tower middleware in front of an axum router.
    use super::{Arc, BODY_CAP, Context, Future, Hmac, Pin, Poll, Seen, Sha256, verified_id};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::response::{IntoResponse, Response};

    /// The layer: the prepared HMAC, and the set of ids seen when it deduplicates.
    #[derive(Clone)]
    pub struct FloorLayer(pub Hmac<Sha256>, pub Option<Arc<Seen>>);

    impl std::fmt::Debug for FloorLayer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("FloorLayer")
        }
    }

    impl<S> tower::Layer<S> for FloorLayer {
        type Service = Floor<S>;
        fn layer(&self, inner: S) -> Floor<S> {
            Floor {
                inner,
                mac: self.0.clone(),
                seen: self.1.clone(),
            }
        }
    }

    /// The service.
    #[derive(Clone)]
    pub struct Floor<S> {
        inner: S,
        mac: Hmac<Sha256>,
        seen: Option<Arc<Seen>>,
    }

    impl<S> std::fmt::Debug for Floor<S> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Floor")
        }
    }

    type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

    impl<S> tower::Service<Request<Body>> for Floor<S>
    where
        S: tower::Service<Request<Body>, Response = Response> + Clone + Send + 'static,
        S::Future: Send,
    {
        type Response = Response;
        type Error = S::Error;
        type Future = BoxFuture<S::Error>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, req: Request<Body>) -> Self::Future {
            let clone = self.inner.clone();
            let mut inner = std::mem::replace(&mut self.inner, clone);
            let mac = self.mac.clone();
            let seen = self.seen.clone();
            Box::pin(async move {
                let (parts, body) = req.into_parts();
                let Ok(bytes) = axum::body::to_bytes(body, BODY_CAP).await else {
                    return Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response());
                };
                let Some(id) = verified_id(&mac, &parts.headers, &bytes) else {
                    return Ok(StatusCode::UNAUTHORIZED.into_response());
                };
                if seen.is_some_and(|seen| !seen.first(id)) {
                    return Ok(StatusCode::OK.into_response());
                }
                inner
                    .call(Request::from_parts(parts, Body::from(bytes)))
                    .await
            })
        }
    }
}

pub mod actix {
    //! The floor as a hand-written actix-web middleware.
    use super::{Arc, BODY_CAP, Future, Hmac, Pin, Rc, Seen, Sha256, check};
    use actix_web::body::EitherBody;
    use actix_web::dev::{
        Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
    };
    use actix_web::{Error, HttpMessage as _, HttpResponse};
    use futures_util::StreamExt as _;

    /// The middleware factory: the prepared HMAC, and the set of ids seen when it
    /// deduplicates.
    #[derive(Clone)]
    pub struct FloorMiddleware(pub Hmac<Sha256>, pub Option<Arc<Seen>>);

    impl std::fmt::Debug for FloorMiddleware {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("FloorMiddleware")
        }
    }

    impl<S, B> Transform<S, ServiceRequest> for FloorMiddleware
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
        B: 'static,
    {
        type Response = ServiceResponse<EitherBody<B>>;
        type Error = Error;
        type Transform = Floor<S>;
        type InitError = ();
        type Future = std::future::Ready<Result<Floor<S>, ()>>;

        fn new_transform(&self, service: S) -> Self::Future {
            std::future::ready(Ok(Floor {
                service: Rc::new(service),
                mac: self.0.clone(),
                seen: self.1.clone(),
            }))
        }
    }

    /// The service.
    pub struct Floor<S> {
        service: Rc<S>,
        mac: Hmac<Sha256>,
        seen: Option<Arc<Seen>>,
    }

    impl<S> std::fmt::Debug for Floor<S> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Floor")
        }
    }

    type LocalFuture<B> =
        Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>>>>;

    impl<S, B> Service<ServiceRequest> for Floor<S>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
        B: 'static,
    {
        type Response = ServiceResponse<EitherBody<B>>;
        type Error = Error;
        type Future = LocalFuture<B>;

        forward_ready!(service);

        fn call(&self, mut req: ServiceRequest) -> Self::Future {
            let service = Rc::clone(&self.service);
            let mac = self.mac.clone();
            let seen = self.seen.clone();
            Box::pin(async move {
                let mut payload = req.take_payload();
                let mut body = actix_web::web::BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk?;
                    if body.len() + chunk.len() > BODY_CAP {
                        let reply = HttpResponse::PayloadTooLarge().finish();
                        return Ok(req.into_response(reply).map_into_right_body());
                    }
                    body.extend_from_slice(&chunk);
                }
                let body = body.freeze();
                let headers = req.headers();
                let get = |name: &str| headers.get(name).map(|v| v.as_bytes());
                let id = match (
                    get("webhook-id"),
                    get("webhook-timestamp"),
                    get("webhook-signature"),
                ) {
                    (Some(id), Some(ts), Some(sig)) if check(&mac, id, ts, sig, &body) => id,
                    _ => {
                        let reply = HttpResponse::Unauthorized().finish();
                        return Ok(req.into_response(reply).map_into_right_body());
                    }
                };
                if seen.is_some_and(|seen| !seen.first(id)) {
                    let reply = HttpResponse::Ok().finish();
                    return Ok(req.into_response(reply).map_into_right_body());
                }
                req.set_payload(Payload::from(body));
                Ok(service.call(req).await?.map_into_left_body())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> (http::HeaderMap, bytes::Bytes) {
        let (pairs, body) = crate::signed_deliveries(1, 64)
            .expect("signed")
            .pop()
            .expect("one");
        let mut headers = http::HeaderMap::new();
        for (n, v) in pairs {
            headers.append(
                http::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                http::HeaderValue::from_str(&v).expect("value"),
            );
        }
        (headers, body)
    }

    /// The floor is a real check: what it measures is a full verification, and it
    /// refuses what a verifier must refuse.
    #[test]
    fn the_floor_accepts_a_signed_delivery_and_refuses_a_changed_or_stale_one() {
        let mac = prekeyed();
        let (headers, body) = delivery();
        assert!(check_headers(&mac, &headers, &body));
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert!(!check_headers(&mac, &headers, &changed));
        let (id, _, sig) = look_up(&headers);
        let (id, sig) = (id.expect("id"), sig.expect("signature"));
        assert!(!check(&mac, id, b"1000000000", sig, &body));
        let mut missing = headers.clone();
        missing.remove("webhook-signature");
        assert!(!check_headers(&mac, &missing, &body));
    }

    /// `floordedup` lets an id through once.
    #[test]
    fn the_seen_set_lets_each_id_through_once() {
        let seen = Seen::default();
        assert!(seen.first(b"msg_1"));
        assert!(seen.first(b"msg_2"));
        assert!(!seen.first(b"msg_1"));
        assert_eq!(seen.len(), 2);
    }
}
