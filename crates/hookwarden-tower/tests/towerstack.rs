//! The layer in plain tower stacks (no axum router): request body types, cancellation
//! at each await point, timeouts and limits around and inside the layer.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use hookwarden_core::dedup::{Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError};
use hookwarden_core::receive::{Guard, Outcome};
use hookwarden_tower::WebhookLayer;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use tower::{Layer, Service, ServiceExt};

const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;

/// A memory store whose steps can be held (never answered, as a remote store slower
/// than the client's patience); the detached steps reach the memory store.
#[derive(Default)]
struct Gated {
    memory: MemoryStore,
    hold_claim: AtomicBool,
    hold_complete: AtomicBool,
    hold_release: AtomicBool,
    last_key: Mutex<Option<DedupKey>>,
}

impl Gated {
    /// What the memory store says of the last key claimed, now.
    fn state(&self) -> Claim {
        let key = self
            .last_key
            .lock()
            .expect("test")
            .clone()
            .expect("a key was claimed");
        let mut f = std::pin::pin!(self.memory.claim(&key, Duration::from_secs(60)));
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(c) => c.expect("test"),
            Poll::Pending => unreachable!(),
        }
    }
}

impl DedupStore for Gated {
    async fn claim(&self, key: &DedupKey, lease: Duration) -> Result<Claim, StoreError> {
        *self.last_key.lock().expect("test") = Some(key.clone());
        if self.hold_claim.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.memory.claim(key, lease).await
    }
    async fn complete(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        if self.hold_complete.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.memory.complete(key, token, retention).await
    }
    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<bool, StoreError> {
        if self.hold_release.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.memory.release(key, token).await
    }
    fn release_detached(&self, key: DedupKey, token: ClaimToken) {
        self.memory.release_detached(key, token);
    }
    fn complete_detached(&self, key: DedupKey, token: ClaimToken, retention: Duration) {
        self.memory.complete_detached(key, token, retention);
    }
}

fn req<B>(id: &str, body: B) -> Request<B> {
    let mut b = Request::post("/hooks");
    for (k, v) in signed(id, BODY, NOW) {
        b = b.header(k, v);
    }
    b.body(body).expect("test")
}

fn full(id: &str) -> Request<Full<Bytes>> {
    req(id, Full::new(Bytes::from_static(BODY)))
}

/// A handler that counts calls, answers `status`, and waits while `hold` is set.
#[derive(Clone, Default)]
struct Inner {
    calls: Arc<AtomicUsize>,
    hold: Arc<AtomicBool>,
    status: Arc<Mutex<Vec<StatusCode>>>,
}

impl Service<Request<Full<Bytes>>> for Inner {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let hold = self.hold.load(Ordering::SeqCst);
        let status = self
            .status
            .lock()
            .expect("test")
            .pop()
            .unwrap_or(StatusCode::OK);
        Box::pin(async move {
            let body = req.into_body().collect().await.unwrap().to_bytes();
            if hold {
                std::future::pending::<()>().await;
            }
            let mut res = Response::new(Full::new(body));
            *res.status_mut() = status;
            Ok(res)
        })
    }
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

fn setup() -> (Arc<Gated>, Inner, Guard<Arc<Gated>>) {
    let store = Arc::new(Gated::default());
    let guard = guard()
        .with_store(Arc::clone(&store))
        .build()
        .expect("test");
    (store, Inner::default(), guard)
}

async fn status_of<S>(svc: S, r: Request<Full<Bytes>>) -> (StatusCode, Option<Outcome>)
where
    S: Service<
            Request<Full<Bytes>>,
            Response = Response<hookwarden_tower::ResponseBody<Full<Bytes>>>,
        >,
    S::Error: std::fmt::Debug,
{
    let res = svc.oneshot(r).await.expect("test");
    (res.status(), res.extensions().get::<Outcome>().cloned())
}

#[tokio::test]
async fn dropped_during_the_body_read_claims_nothing() {
    let (store, inner, guard) = setup();
    let mut svc = WebhookLayer::new(guard).layer(inner.clone());
    let frames = futures_util::stream::iter([Ok::<_, Infallible>(Frame::data(
        Bytes::from_static(&BODY[..4]),
    ))])
    .chain(futures_util::stream::pending());
    use futures_util::StreamExt as _;
    let mut fut = svc.call(req("m1", StreamBody::new(frames)));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    assert!(store.last_key.lock().unwrap().is_none());
    assert_eq!(status_of(svc, full("m1")).await.0, StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn dropped_during_the_claim_leaves_the_retry_to_be_processed() {
    let (store, inner, guard) = setup();
    let mut svc = WebhookLayer::new(guard).layer(inner.clone());
    store.hold_claim.store(true, Ordering::SeqCst);
    let mut fut = svc.call(full("m1"));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    store.hold_claim.store(false, Ordering::SeqCst);
    assert_eq!(status_of(svc.clone(), full("m1")).await.0, StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.state(), Claim::Completed);
}

#[tokio::test]
async fn dropped_during_the_handler_releases_the_claim() {
    let (store, inner, guard) = setup();
    let mut svc = WebhookLayer::new(guard).layer(inner.clone());
    inner.hold.store(true, Ordering::SeqCst);
    let mut fut = svc.call(full("m1"));
    assert!(poll_once(&mut fut).is_pending());
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    drop(fut);
    assert!(matches!(store.state(), Claim::New(_)), "claim released");
    // `state` claimed it: a fresh store for the retry.
    let (store, inner, guard) = setup();
    let mut svc = WebhookLayer::new(guard).layer(inner.clone());
    inner.hold.store(true, Ordering::SeqCst);
    let mut fut = svc.call(full("m1"));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    inner.hold.store(false, Ordering::SeqCst);
    assert_eq!(status_of(svc.clone(), full("m1")).await.0, StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    assert_eq!(store.state(), Claim::Completed);
}

#[tokio::test]
async fn dropped_during_finish_settles_the_claim_by_the_handlers_status() {
    // 2xx: completed from the destructor.
    let (store, inner, guard) = setup();
    let mut svc = WebhookLayer::new(guard).layer(inner.clone());
    store.hold_complete.store(true, Ordering::SeqCst);
    let mut fut = svc.call(full("m1"));
    assert!(poll_once(&mut fut).is_pending());
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    drop(fut);
    let (status, outcome) = status_of(svc.clone(), full("m1")).await;
    assert_eq!(
        (status, outcome),
        (StatusCode::OK, Some(Outcome::Duplicate))
    );
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    // 5xx: released from the destructor.
    let (store, inner, guard) = setup();
    let mut svc = WebhookLayer::new(guard).layer(inner.clone());
    store.hold_release.store(true, Ordering::SeqCst);
    inner
        .status
        .lock()
        .unwrap()
        .push(StatusCode::INTERNAL_SERVER_ERROR);
    let mut fut = svc.call(full("m1"));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    store.hold_release.store(false, Ordering::SeqCst);
    assert_eq!(status_of(svc.clone(), full("m1")).await.0, StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_timeout_outside_or_inside_the_layer_releases_the_claim() {
    use tower::timeout::TimeoutLayer;
    // Outside: the response future is dropped during the handler.
    let (store, inner, guard) = setup();
    inner.hold.store(true, Ordering::SeqCst);
    let svc = tower::ServiceBuilder::new()
        .layer(TimeoutLayer::new(Duration::from_millis(50)))
        .layer(WebhookLayer::new(guard))
        .service(inner.clone());
    assert!(svc.clone().oneshot(full("m1")).await.is_err());
    inner.hold.store(false, Ordering::SeqCst);
    let res = svc.oneshot(full("m1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    assert_eq!(store.state(), Claim::Completed);
    // Inside: the handler's error is passed on and releases the claim.
    let (store, inner, guard) = setup();
    inner.hold.store(true, Ordering::SeqCst);
    let svc = tower::ServiceBuilder::new()
        .layer(WebhookLayer::new(guard))
        .layer(TimeoutLayer::new(Duration::from_millis(50)))
        .service(inner.clone());
    let err = svc.clone().oneshot(full("m1")).await.unwrap_err();
    assert!(err.is::<tower::timeout::error::Elapsed>());
    inner.hold.store(false, Ordering::SeqCst);
    let res = svc.oneshot(full("m1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    assert_eq!(store.state(), Claim::Completed);
}

#[tokio::test]
async fn a_buffer_and_a_concurrency_limit_inside_the_layer() {
    let (store, inner, guard) = setup();
    let svc = tower::ServiceBuilder::new()
        .layer(WebhookLayer::new(guard))
        .buffer(4)
        .concurrency_limit(1)
        .service(inner.clone());
    for id in ["a", "b", "c"] {
        let res = svc.clone().oneshot(full(id)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // A rejection drops the ready buffer slot without calling it.
    let mut bad = full("d");
    bad.headers_mut().remove("webhook-signature");
    let res = svc.clone().oneshot(bad).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = svc.clone().oneshot(full("d")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 4);
    assert_eq!(store.state(), Claim::Completed);
}

#[tokio::test]
async fn body_types_other_than_axums() {
    let (_store, inner, guard) = setup();
    let svc = WebhookLayer::new(guard).layer(inner.clone());
    // Frames with trailers in between, no Content-Length (HTTP/2 style).
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
        Ok(Frame::data(Bytes::from_static(&BODY[..5]))),
        Ok(Frame::data(Bytes::from_static(&BODY[5..]))),
        Ok(Frame::trailers(http::HeaderMap::new())),
    ];
    let res = svc
        .clone()
        .oneshot(req(
            "s1",
            StreamBody::new(futures_util::stream::iter(frames)),
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], BODY);
    // An erroring body: 400, nothing claimed.
    let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
        Ok(Frame::data(Bytes::from_static(&BODY[..5]))),
        Err(std::io::Error::other("reset")),
    ];
    let res = svc
        .clone()
        .oneshot(req(
            "s2",
            StreamBody::new(futures_util::stream::iter(frames)),
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Limited.
    let res = svc
        .clone()
        .oneshot(req(
            "s3",
            http_body_util::Limited::new(Full::new(Bytes::from_static(BODY)), 1024),
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
}

/// A plain hyper HTTP/1 server (no axum) with the layer, the peer's `SocketAddr` in
/// the request extensions; answers over raw TCP.
async fn hyper_server(guard: Guard<Arc<Gated>>, inner: Inner) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test");
    let addr = listener.local_addr().expect("test");
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.expect("test");
            let svc = tower::ServiceBuilder::new()
                .map_request(move |mut r: Request<hyper::body::Incoming>| {
                    r.extensions_mut().insert(peer);
                    r
                })
                .layer(WebhookLayer::new(guard.clone()))
                .service(inner.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper_util::service::TowerToHyperService::new(svc),
                    )
                    .await;
            });
        }
    });
    addr
}

fn head(id: &str, extra: &str, len: usize) -> String {
    let mut s = format!("POST /hooks HTTP/1.1\r\nhost: x\r\ncontent-length: {len}\r\n{extra}");
    for (k, v) in signed(id, BODY, NOW) {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("test")
        .expect("test");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_without_axum_expect_continue_and_disconnects() {
    use tokio::io::AsyncWriteExt;
    let store = Arc::new(Gated::default());
    let guard = guard()
        .with_store(Arc::clone(&store))
        .with_body_limit(64)
        .with_allowed_ips(["127.0.0.1"])
        .build()
        .unwrap();
    let inner = Inner::default();
    let addr = hyper_server(guard, inner.clone()).await;
    // Over the limit with Expect: 413 at once, no 100 Continue.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("e1", "expect: 100-continue\r\n", 1000).as_bytes())
        .await
        .unwrap();
    let got = read_head(&mut s).await;
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    // Within the limit: 100 Continue, then the body, then 200.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("e2", "expect: 100-continue\r\n", BODY.len()).as_bytes())
        .await
        .unwrap();
    let got = read_head(&mut s).await;
    assert!(got.starts_with("HTTP/1.1 100"), "{got}");
    s.write_all(BODY).await.unwrap();
    let got = read_head(&mut s).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    // The client hangs up mid-body: nothing claimed, the retry is processed.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("e3", "", BODY.len()).as_bytes())
        .await
        .unwrap();
    s.write_all(&BODY[..5]).await.unwrap();
    drop(s);
    // The client hangs up mid-handler: released, the retry is processed.
    inner.hold.store(true, Ordering::SeqCst);
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("e4", "", BODY.len()).as_bytes())
        .await
        .unwrap();
    s.write_all(BODY).await.unwrap();
    while inner.calls.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(s);
    tokio::time::sleep(Duration::from_millis(100)).await;
    inner.hold.store(false, Ordering::SeqCst);
    for id in ["e3", "e4"] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(head(id, "", BODY.len()).as_bytes())
            .await
            .unwrap();
        s.write_all(BODY).await.unwrap();
        let got = read_head(&mut s).await;
        assert!(got.starts_with("HTTP/1.1 200"), "{id}: {got}");
    }
    assert_eq!(inner.calls.load(Ordering::SeqCst), 4);
}
