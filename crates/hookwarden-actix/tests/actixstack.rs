//! The middleware outside the happy path: cancellation at each await point (body,
//! claim, handler, finish), handler errors, actix middleware around it, and a real
//! server (disconnects, `Expect: 100-continue`, pipelining after a rejection).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, fn_service};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::{App, Error, HttpMessage as _, HttpResponse, HttpServer, web};
use common::*;
use hookwarden_actix::{VerifiedWebhook, WebhookMiddleware};
use hookwarden_core::dedup::{Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError};
use hookwarden_core::receive::Guard;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;

/// A memory store whose steps can be held (never answered); the detached steps reach
/// the memory store.
#[derive(Default)]
struct Gated {
    memory: MemoryStore,
    hold_claim: AtomicBool,
    hold_complete: AtomicBool,
    hold_release: AtomicBool,
    last_key: Mutex<Option<DedupKey>>,
}

impl Gated {
    fn state(&self) -> Claim {
        let key = self
            .last_key
            .lock()
            .unwrap()
            .clone()
            .expect("a key was claimed");
        let mut f = std::pin::pin!(self.memory.claim(&key, Duration::from_secs(60)));
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(c) => c.unwrap(),
            Poll::Pending => unreachable!(),
        }
    }
}

impl DedupStore for Gated {
    async fn claim(&self, key: &DedupKey, lease: Duration) -> Result<Claim, StoreError> {
        *self.last_key.lock().unwrap() = Some(key.clone());
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

/// What the inner service does on its next call.
#[derive(Clone, Copy, PartialEq)]
enum Next {
    Status(u16),
    Hold,
    Error,
}

#[derive(Clone, Default)]
struct Inner {
    calls: Rc<Cell<usize>>,
    script: Rc<RefCell<Vec<Next>>>,
}

type Mw = Rc<
    dyn Fn(
        ServiceRequest,
    ) -> Pin<
        Box<
            dyn Future<
                Output = Result<
                    ServiceResponse<actix_web::body::EitherBody<actix_web::body::BoxBody>>,
                    Error,
                >,
            >,
        >,
    >,
>;

async fn middleware(guard: Guard<Arc<Gated>>, inner: Inner) -> Mw {
    let svc = fn_service(move |mut req: ServiceRequest| {
        let inner = inner.clone();
        async move {
            inner.calls.set(inner.calls.get() + 1);
            let next = {
                let mut s = inner.script.borrow_mut();
                if s.is_empty() {
                    Next::Status(200)
                } else {
                    s.remove(0)
                }
            };
            let body =
                actix_web::body::to_bytes(actix_web::body::BodyStream::new(req.take_payload()))
                    .await
                    .unwrap();
            assert_eq!(&body[..], BODY);
            match next {
                Next::Hold => std::future::pending::<()>().await,
                Next::Error => return Err(actix_web::error::ErrorServiceUnavailable("down")),
                Next::Status(_) => {}
            }
            let Next::Status(s) = next else {
                unreachable!()
            };
            Ok::<_, Error>(
                req.into_response(HttpResponse::build(StatusCode::from_u16(s).unwrap()).finish()),
            )
        }
    });
    let svc = Rc::new(
        WebhookMiddleware::new(guard)
            .new_transform(svc)
            .await
            .unwrap(),
    );
    Rc::new(move |req| {
        let svc = Rc::clone(&svc);
        Box::pin(async move { svc.call(req).await })
    })
}

fn setup() -> (Arc<Gated>, Inner, Guard<Arc<Gated>>) {
    let store = Arc::new(Gated::default());
    let guard = guard().with_store(Arc::clone(&store)).build().unwrap();
    (store, Inner::default(), guard)
}

fn request(id: &str) -> ServiceRequest {
    let mut r = TestRequest::post().uri("/hooks");
    for (k, v) in signed(id, BODY, NOW) {
        r = r.insert_header((k, v));
    }
    r.set_payload(BODY).to_srv_request()
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

async fn status(mw: &Mw, id: &str) -> StatusCode {
    mw(request(id)).await.unwrap().status()
}

#[actix_web::test]
async fn dropped_during_the_body_read_claims_nothing() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    let mut req = request("m1");
    let chunks = futures_util::stream::iter([Ok(web::Bytes::from_static(&BODY[..4]))])
        .chain(futures_util::stream::pending());
    use futures_util::StreamExt as _;
    req.set_payload(Payload::Stream {
        payload: Box::pin(chunks),
    });
    let mut fut = mw(req);
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    assert!(store.last_key.lock().unwrap().is_none());
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 1);
    assert_eq!(store.state(), Claim::Completed);
}

#[actix_web::test]
async fn dropped_during_the_claim_leaves_the_retry_to_be_processed() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    store.hold_claim.store(true, Ordering::SeqCst);
    let mut fut = mw(request("m1"));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    store.hold_claim.store(false, Ordering::SeqCst);
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 1);
    assert_eq!(store.state(), Claim::Completed);
}

#[actix_web::test]
async fn dropped_during_the_handler_releases_the_claim() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    inner.script.borrow_mut().push(Next::Hold);
    let mut fut = mw(request("m1"));
    assert!(poll_once(&mut fut).is_pending());
    assert_eq!(inner.calls.get(), 1);
    // In flight while the handler runs.
    assert_eq!(status(&mw, "m1").await, StatusCode::CONFLICT);
    drop(fut);
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 2);
    assert_eq!(store.state(), Claim::Completed);
}

#[actix_web::test]
async fn dropped_while_completing_after_a_2xx_completes() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    store.hold_complete.store(true, Ordering::SeqCst);
    let mut fut = mw(request("m1"));
    assert!(poll_once(&mut fut).is_pending());
    assert_eq!(inner.calls.get(), 1);
    drop(fut);
    assert_eq!(store.state(), Claim::Completed);
    store.hold_complete.store(false, Ordering::SeqCst);
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 1, "the retry is acknowledged, not run");
}

#[actix_web::test]
async fn dropped_while_releasing_after_a_5xx_releases() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    inner.script.borrow_mut().push(Next::Status(500));
    store.hold_release.store(true, Ordering::SeqCst);
    let mut fut = mw(request("m1"));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    store.hold_release.store(false, Ordering::SeqCst);
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 2);
    assert_eq!(store.state(), Claim::Completed);
}

#[actix_web::test]
async fn dropped_while_releasing_after_an_error_releases() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    inner.script.borrow_mut().push(Next::Error);
    store.hold_release.store(true, Ordering::SeqCst);
    let mut fut = mw(request("m1"));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    store.hold_release.store(false, Ordering::SeqCst);
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 2);
}

#[actix_web::test]
async fn an_inner_error_releases_the_claim() {
    let (store, inner, guard) = setup();
    let mw = middleware(guard, inner.clone()).await;
    inner.script.borrow_mut().push(Next::Error);
    let Err(err) = mw(request("m1")).await else {
        panic!("the inner error")
    };
    assert_eq!(err.as_response_error().status_code(), 503);
    drop(store);
    assert_eq!(status(&mw, "m1").await, StatusCode::OK);
    assert_eq!(inner.calls.get(), 2);
}

// ---- handlers and actix middleware in a real App ----

fn app_request(path: &str, id: &str, body: &[u8]) -> TestRequest {
    let mut r = TestRequest::post().uri(path);
    for (k, v) in signed(id, body, NOW) {
        r = r.insert_header((k, v));
    }
    r.set_payload(body.to_vec())
}

#[actix_web::test]
async fn a_handler_error_releases_the_claim() {
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let app = actix_web::test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(guard().build().unwrap()))
                .route(web::post().to(move |_: VerifiedWebhook| {
                    let c = Rc::clone(&c);
                    async move {
                        c.set(c.get() + 1);
                        if c.get() == 1 {
                            Err(actix_web::error::ErrorBadGateway("upstream"))
                        } else {
                            Ok(HttpResponse::Ok().body("done"))
                        }
                    }
                })),
        ),
    )
    .await;
    let first =
        actix_web::test::call_service(&app, app_request("/hooks", "e1", BODY).to_request()).await;
    assert_eq!(first.status(), 502);
    let retry =
        actix_web::test::call_service(&app, app_request("/hooks", "e1", BODY).to_request()).await;
    assert_eq!(retry.status(), 200);
    let body = actix_web::test::read_body(retry).await;
    assert_eq!(&body[..], b"done");
    let again =
        actix_web::test::call_service(&app, app_request("/hooks", "e1", BODY).to_request()).await;
    assert_eq!(
        actix_web::test::read_body(again).await,
        "already processed\n"
    );
    assert_eq!(calls.get(), 2);
}

#[actix_web::test]
async fn a_streaming_2xx_body_is_settled_on_its_status() {
    let app = actix_web::test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(guard().build().unwrap()))
                .route(web::post().to(|| async {
                    HttpResponse::Ok().streaming(futures_util::stream::iter([
                        Ok::<_, Error>(web::Bytes::from_static(b"a")),
                        Ok(web::Bytes::from_static(b"b")),
                    ]))
                })),
        ),
    )
    .await;
    let res =
        actix_web::test::call_service(&app, app_request("/hooks", "s1", BODY).to_request()).await;
    assert_eq!(actix_web::test::read_body(res).await, "ab");
    let res =
        actix_web::test::call_service(&app, app_request("/hooks", "s1", BODY).to_request()).await;
    assert_eq!(actix_web::test::read_body(res).await, "already processed\n");
}

async fn echo(body: web::Bytes, json: Option<VerifiedWebhook>) -> HttpResponse {
    HttpResponse::Ok().body(format!("{} {}", body.len(), json.is_some()))
}

#[actix_web::test]
async fn with_other_middleware_around_and_inside_at_each_level() {
    use actix_web::middleware::{Condition, DefaultHeaders, Logger, NormalizePath};
    let g = guard().build().unwrap();
    let app = actix_web::test::init_service(
        App::new()
            .wrap(Logger::default())
            .wrap(NormalizePath::trim())
            .service(
                web::scope("/s")
                    .wrap(DefaultHeaders::new().add(("x-outer", "1")))
                    .wrap(Condition::new(true, WebhookMiddleware::new(g.clone())))
                    .wrap(Logger::default())
                    .route("/hooks", web::post().to(echo)),
            )
            .service(
                web::resource("/r")
                    .wrap(WebhookMiddleware::new(g.clone()))
                    .wrap(DefaultHeaders::new().add(("x-outer", "1")))
                    .route(web::post().to(echo)),
            )
            .service(
                web::scope("/off")
                    .wrap(Condition::new(false, WebhookMiddleware::new(g.clone())))
                    .route("/hooks", web::post().to(echo)),
            ),
    )
    .await;
    for (path, id) in [("/s/hooks", "w1"), ("/r", "w2"), ("/s/hooks/", "w3")] {
        let res =
            actix_web::test::call_service(&app, app_request(path, id, BODY).to_request()).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers().get("x-outer").unwrap(), "1", "{path}");
        let body = actix_web::test::read_body(res).await;
        assert_eq!(body, format!("{} true", BODY.len()), "{path}");
        let res =
            actix_web::test::call_service(&app, app_request(path, id, BODY).to_request()).await;
        assert_eq!(
            actix_web::test::read_body(res).await,
            "already processed\n",
            "{path}"
        );
        // Unsigned: refused before the handler.
        let res = actix_web::test::call_service(
            &app,
            TestRequest::post().uri(path).set_payload(BODY).to_request(),
        )
        .await;
        assert_eq!(res.status(), 400, "{path}");
        // DefaultHeaders outside the middleware (on `/r`) adds to its rejections too;
        // inside it (on `/s`), a rejection never reaches it.
        assert_eq!(
            res.headers().contains_key("x-outer"),
            path == "/r",
            "{path}"
        );
    }
    let res = actix_web::test::call_service(
        &app,
        TestRequest::post()
            .uri("/off/hooks")
            .set_payload(BODY)
            .to_request(),
    )
    .await;
    assert_eq!(
        actix_web::test::read_body(res).await,
        format!("{} false", BODY.len())
    );
}

#[actix_web::test]
async fn report_only_lets_extractors_take_an_unverified_body() {
    let app = actix_web::test::init_service(
        App::new()
            .wrap(WebhookMiddleware::new(
                guard().with_report_only(true).build().unwrap(),
            ))
            .route("/hooks", web::post().to(echo))
            .route(
                "/json",
                web::post().to(|v: web::Json<serde_json::Value>| async move {
                    HttpResponse::Ok().body(v["type"].as_str().unwrap().to_owned())
                }),
            )
            .route(
                "/webhook",
                web::post().to(
                    |v: hookwarden_actix::Webhook<serde_json::Value>| async move {
                        HttpResponse::Ok().body(v.0["type"].as_str().unwrap().to_owned())
                    },
                ),
            ),
    )
    .await;
    let unsigned = |p: &str| {
        TestRequest::post()
            .uri(p)
            .insert_header(("content-type", "application/json"))
            .set_payload(BODY)
            .to_request()
    };
    let res = actix_web::test::call_service(&app, unsigned("/hooks")).await;
    assert_eq!(
        actix_web::test::read_body(res).await,
        format!("{} false", BODY.len())
    );
    let res = actix_web::test::call_service(&app, unsigned("/json")).await;
    assert_eq!(actix_web::test::read_body(res).await, "invoice.paid");
    let res = actix_web::test::call_service(&app, unsigned("/webhook")).await;
    assert_eq!(res.status(), 500);
    // Signed in report-only: verified, not deduplicated (as documented), twice.
    for _ in 0..2 {
        let res =
            actix_web::test::call_service(&app, app_request("/hooks", "r1", BODY).to_request())
                .await;
        assert_eq!(
            actix_web::test::read_body(res).await,
            format!("{} true", BODY.len())
        );
    }
}

// ---- a real server over loopback ----

async fn serve(guard: Guard, h: Handler) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let server = HttpServer::new(move || App::new().configure(routes(guard.clone(), h.clone())))
        .workers(1)
        .disable_signals()
        .client_request_timeout(Duration::from_millis(300))
        .keep_alive(Duration::from_millis(300))
        .bind(("127.0.0.1", 0))
        .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

fn head(id: &str, body: &[u8], extra: &str) -> String {
    let mut s = format!(
        "POST /hooks HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n{extra}",
        body.len()
    );
    for (k, v) in signed(id, body, NOW) {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

/// Reads until `n` responses have been seen or the connection closes / 2 s pass.
async fn read_responses(s: &mut tokio::net::TcpStream, n: usize) -> (String, bool) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if text.matches("HTTP/1.1 ").count() >= n && text.ends_with('\n') {
            return (text, false);
        }
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (text, true),
            Ok(Ok(k)) => raw.extend_from_slice(&buf[..k]),
            Err(_) => return (text, false),
        }
    }
}

async fn retry_status(addr: std::net::SocketAddr, id: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head(id, BODY, "").as_bytes()).await.unwrap();
    s.write_all(BODY).await.unwrap();
    read_responses(&mut s, 1).await.0
}

#[actix_web::test]
async fn a_client_gone_mid_body_leaves_nothing_claimed() {
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone()).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("gone_body", BODY, "").as_bytes())
        .await
        .unwrap();
    s.write_all(&BODY[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(s);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = retry_status(addr, "gone_body").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.ends_with(&format!("gone_body {}", BODY.len())), "{res}");
    assert_eq!(h.calls(), 1);
    server.stop(false).await;
}

#[actix_web::test]
async fn a_client_gone_mid_handler_then_the_retry() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let h = Handler {
        gate: Some(gate.clone()),
        ..Handler::default()
    };
    let (addr, server) = serve(guard().build().unwrap(), h.clone()).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("gone_handler", BODY, "").as_bytes())
        .await
        .unwrap();
    s.write_all(BODY).await.unwrap();
    for _ in 0..100 {
        if h.calls() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.calls(), 1);
    drop(s);
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate.add_permits(10);
    // Either the handler ran on (and the retry is acknowledged) or it was dropped
    // (and the retry runs it): never stuck at 409.
    let mut last = String::new();
    for _ in 0..50 {
        last = retry_status(addr, "gone_handler").await;
        if !last.starts_with("HTTP/1.1 409") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(last.starts_with("HTTP/1.1 200"), "{last}");
    assert_eq!(h.successes(), 1, "{last}");
    server.stop(false).await;
}

#[actix_web::test]
async fn a_body_slower_than_keep_alive_and_request_timeout_is_still_read() {
    // The head timer (300 ms) and keep-alive (300 ms) do not cut a body that trickles
    // in for longer; the guard has no body timeout here.
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone()).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("slow", BODY, "").as_bytes())
        .await
        .unwrap();
    for chunk in BODY.chunks(8) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        s.write_all(chunk).await.unwrap();
    }
    let (res, _) = read_responses(&mut s, 1).await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    server.stop(false).await;
}

#[actix_web::test]
async fn the_guards_body_timeout_cuts_a_slow_body_with_408() {
    let h = Handler::default();
    let g = guard()
        .with_body_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (addr, server) = serve(g, h.clone()).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("slow408", BODY, "").as_bytes())
        .await
        .unwrap();
    s.write_all(&BODY[..3]).await.unwrap();
    let (res, _) = read_responses(&mut s, 1).await;
    assert!(res.starts_with("HTTP/1.1 408"), "{res}");
    assert_eq!(h.calls(), 0);
    // The retry is processed.
    let res = retry_status(addr, "slow408").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    server.stop(false).await;
}

#[actix_web::test]
async fn expect_100_continue_then_the_body() {
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone()).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head("expect", BODY, "expect: 100-continue\r\n").as_bytes())
        .await
        .unwrap();
    let (cont, _) = read_responses(&mut s, 1).await;
    assert!(cont.starts_with("HTTP/1.1 100"), "{cont}");
    s.write_all(BODY).await.unwrap();
    let (res, _) = read_responses(&mut s, 1).await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert_eq!(h.calls(), 1);
    server.stop(false).await;
}

#[actix_web::test]
async fn pipelined_requests_after_a_rejection_on_one_connection() {
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone()).await;
    // 401 (bad signature, whole body read), 400 (no signature headers, the whole
    // body already arrived), then a good delivery, all in one write.
    // Signed over another body of the same length: a signature that does not match.
    let other = vec![b'x'; BODY.len()];
    let bad = head("pipe", &other, "");
    let mut all = Vec::new();
    all.extend_from_slice(bad.as_bytes());
    all.extend_from_slice(BODY);
    all.extend_from_slice(
        format!(
            "POST /hooks HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
            BODY.len()
        )
        .as_bytes(),
    );
    all.extend_from_slice(BODY);
    all.extend_from_slice(head("pipe", BODY, "").as_bytes());
    all.extend_from_slice(BODY);
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&all).await.unwrap();
    // The third response proves the connection was kept (it closes later, by the
    // server's 300 ms keep-alive).
    let (raw, _) = read_responses(&mut s, 3).await;
    let statuses: Vec<_> = raw
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &raw[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["401", "400", "200"], "{raw}");
    assert!(raw.ends_with(&format!("pipe {}", BODY.len())), "{raw}");
    assert_eq!(h.calls(), 1);
    server.stop(false).await;
}
