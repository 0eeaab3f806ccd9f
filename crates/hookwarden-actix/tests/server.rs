//! A real actix-web server on a loopback port, driven by a real HTTP client.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use common::*;
use hookwarden_core::dedup::DedupStore;
use hookwarden_core::receive::{Guard, Rejection, Reply, Responder};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BODY: &[u8] = br#"{"type":"invoice.paid","n":1}"#;

/// Serve `/hooks` (two workers) on a free loopback port.
fn serve<D: DedupStore>(guard: Guard<D>, h: Handler) -> (SocketAddr, ServerHandle) {
    let server = HttpServer::new(move || App::new().configure(routes(guard.clone(), h.clone())))
        .workers(2)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn post(
    c: &reqwest::Client,
    addr: SocketAddr,
    headers: &[(String, String)],
    body: &[u8],
) -> reqwest::Result<reqwest::Response> {
    let mut req = c.post(format!("http://{addr}/hooks")).body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await
}

#[actix_web::test]
async fn concurrent_identical_deliveries_run_the_handler_once() {
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone());
    let c = client();
    let headers = Arc::new(signed("msg_concurrent", BODY, NOW));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (c, headers) = (c.clone(), headers.clone());
            actix_web::rt::spawn(async move {
                let res = post(&c, addr, &headers, BODY).await.unwrap();
                let status = res.status();
                let retry_after = res.headers().get("retry-after").cloned();
                (status, retry_after, res.text().await.unwrap())
            })
        })
        .collect();
    let (mut ok, mut dup, mut conflict) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (reqwest::StatusCode::OK, None, body) if body == "already processed\n" => dup += 1,
            (reqwest::StatusCode::OK, None, body) => {
                assert_eq!(body, format!("msg_concurrent {}", BODY.len()));
                ok += 1;
            }
            (reqwest::StatusCode::CONFLICT, Some(ra), _) => {
                assert_eq!(ra, "5");
                conflict += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(
        ok, 1,
        "{ok} handler answers, {dup} duplicates, {conflict} conflicts"
    );
    assert_eq!(ok + dup + conflict, 64);
    assert_eq!(h.successes(), 1, "the handler succeeded more than once");
    assert_eq!(h.calls(), 1);
    server.stop(false).await;
}

#[actix_web::test]
async fn a_chunked_body_over_the_limit_is_refused_before_it_is_all_sent() {
    let h = Handler::default();
    let (addr, server) = serve(
        guard().with_body_limit(16 * 1024).build().unwrap(),
        h.clone(),
    );
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Up to 64 MiB in 8 KiB chunks, slowly: a server buffering it all would answer late.
    let stream = futures_util::stream::unfold(0usize, {
        let sent = sent.clone();
        move |i| {
            let sent = sent.clone();
            async move {
                if i == 8192 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Some((Ok::<_, std::io::Error>(vec![b'x'; 8192]), i + 1))
            }
        }
    });
    let mut req = client()
        .post(format!("http://{addr}/hooks"))
        .body(reqwest::Body::wrap_stream(stream));
    for (k, v) in signed("msg_big", b"irrelevant", NOW) {
        req = req.header(k, v);
    }
    match req.send().await {
        Ok(res) => {
            assert_eq!(res.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(res.text().await.unwrap(), "payload too large\n");
        }
        // The server may close the connection while the client is still sending.
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    let chunks = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        chunks < 8192,
        "the whole body was sent before the server answered ({chunks} chunks)"
    );
    assert_eq!(h.calls(), 0);
    server.stop(false).await;
}

/// Rejections of requests with nothing left unread keep the connection: two refused
/// body-less requests, then a delivery, on one connection.
#[actix_web::test]
async fn rejections_of_bodiless_requests_keep_the_connection() {
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone());
    let request = |headers: &[(String, String)], body: &[u8]| {
        let mut one = format!(
            "POST /hooks HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
            body.len()
        )
        .into_bytes();
        for (k, v) in headers {
            one.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        one.extend_from_slice(b"\r\n");
        one.extend_from_slice(body);
        one
    };
    let mut bytes = request(&[], b"");
    bytes.extend(request(&[], b""));
    bytes.extend(request(&signed("msg_kept", BODY, NOW), BODY));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let mut closed = false;
    while String::from_utf8_lossy(&raw).matches("HTTP/1.1 ").count() < 3 {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    assert_eq!(raw.matches("HTTP/1.1 400").count(), 2, "{raw}");
    assert_eq!(raw.matches("HTTP/1.1 200").count(), 1, "{raw}");
    assert!(!closed, "{raw}");
    assert_eq!(h.successes(), 1);
    server.stop(false).await;
}

#[actix_web::test]
async fn a_failed_handler_leaves_the_retry_to_be_processed() {
    let h = Handler::default();
    h.script.lock().unwrap().push(500);
    let (addr, server) = serve(guard().build().unwrap(), h.clone());
    let c = client();
    let headers = signed("msg_500", BODY, NOW);
    assert_eq!(post(&c, addr, &headers, BODY).await.unwrap().status(), 500);
    assert_eq!(post(&c, addr, &headers, BODY).await.unwrap().status(), 200);
    let third = post(&c, addr, &headers, BODY).await.unwrap();
    assert_eq!(third.status(), 200);
    assert_eq!(third.text().await.unwrap(), "already processed\n");
    assert_eq!((h.calls(), h.successes()), (2, 1));
    server.stop(false).await;
}

#[actix_web::test]
async fn a_panicking_handler_releases_the_delivery() {
    let h = Handler::default();
    h.script.lock().unwrap().push(418); // panics
    let (addr, server) = serve(guard().build().unwrap(), h.clone());
    let c = client();
    let headers = signed("msg_panic", BODY, NOW);
    // The connection dies with the handler's task: no response, or a 500.
    if let Ok(res) = post(&c, addr, &headers, BODY).await {
        assert_eq!(res.status(), 500);
    }
    assert_eq!(h.calls(), 1);
    // The claim was released: the retry is processed, then acknowledged.
    let retry = post(&client(), addr, &headers, BODY).await.unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry.text().await.unwrap(),
        format!("msg_panic {}", BODY.len())
    );
    let again = post(&client(), addr, &headers, BODY).await.unwrap();
    assert_eq!(again.text().await.unwrap(), "already processed\n");
    assert_eq!((h.calls(), h.successes()), (2, 1));
    server.stop(false).await;
}

#[actix_web::test]
async fn a_dropped_request_future_releases_the_delivery() {
    use actix_web::dev::Service as _;
    // The first call waits for a permit that never comes.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let h = Handler {
        gate: Some(gate.clone()),
        ..Handler::default()
    };
    let app = actix_web::test::init_service(
        App::new().configure(routes(guard().build().unwrap(), h.clone())),
    )
    .await;
    let headers = signed("msg_dropped", BODY, NOW);
    let request = || {
        let mut r = actix_web::test::TestRequest::post().uri("/hooks");
        for (k, v) in &headers {
            r = r.insert_header((k.as_str(), v.as_str()));
        }
        r.set_payload(BODY).to_request()
    };
    // Polled until the handler waits, then dropped (a server dropping the request).
    let first = app.call(request());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), first)
            .await
            .is_err()
    );
    assert_eq!(h.calls(), 1);
    // The claim was released: the retry runs the handler itself, not a 409.
    gate.add_permits(1);
    let retry = actix_web::test::call_service(&app, request()).await;
    assert_eq!(retry.status(), 200);
    assert_eq!((h.calls(), h.successes()), (2, 1));
}

#[actix_web::test]
async fn a_client_that_hangs_up_is_not_stuck_in_flight() {
    // actix-web keeps running a handler after its client hung up (it does not drop
    // the request's future; `a_dropped_request_future_releases_the_delivery` covers a
    // dropped one): the retry gets 409 until it completes, then its outcome.
    // The handler takes 20 ms; the client gives up after 5 ms.
    let h = Handler::default();
    let (addr, server) = serve(guard().build().unwrap(), h.clone());
    let headers = signed("msg_gone", BODY, NOW);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(5))
        .build()
        .unwrap();
    assert!(post(&impatient, addr, &headers, BODY).await.is_err());
    // Wait until the server has noticed (the handler future is dropped with the
    // connection, or it completes): then a retry is never stuck as in flight.
    let c = client();
    let mut last = None;
    for _ in 0..100 {
        let res = post(&c, addr, &headers, BODY).await.unwrap();
        let status = res.status();
        last = Some((status, res.text().await.unwrap()));
        if status != reqwest::StatusCode::CONFLICT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = last.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body == "already processed\n" || body == format!("msg_gone {}", BODY.len()),
        "{body}"
    );
    assert_eq!(h.successes(), 1);
    server.stop(false).await;
}

/// A provider that wants `204 No Content` as its acknowledgement gets it through
/// `Responder::respond_duplicate`. The same delivery three times on one keep-alive
/// connection: three framed responses. (The default duplicate body written after a
/// 204 head was read by the client as the start of the next response.)
#[actix_web::test]
async fn a_204_duplicate_acknowledgement_keeps_the_connection_framed() {
    struct NoContent;
    impl Responder for NoContent {
        fn respond(&self, _: &Rejection, default: Reply) -> Reply {
            default
        }
        fn respond_duplicate(&self, mut default: Reply) -> Reply {
            default.status = 204;
            default
        }
    }
    let h = Handler::default();
    let (addr, server) = serve(
        guard().with_responder(NoContent).build().unwrap(),
        h.clone(),
    );
    let mut one = format!(
        "POST /hooks HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        BODY.len()
    )
    .into_bytes();
    for (k, v) in signed("msg_204", BODY, NOW) {
        one.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    one.extend_from_slice(b"\r\n");
    one.extend_from_slice(BODY);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&one.repeat(3)).await.unwrap();
    // Everything the server sends until it has been quiet for half a second.
    let (mut raw, mut buf) = (Vec::new(), [0u8; 4096]);
    while let Ok(Ok(n @ 1..)) =
        tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await
    {
        raw.extend_from_slice(&buf[..n]);
    }
    server.stop(false).await;
    let raw = String::from_utf8_lossy(&raw);
    assert_eq!((h.calls(), h.successes()), (1, 1));
    assert_eq!(
        (
            raw.matches("HTTP/1.1 200").count(),
            raw.matches("HTTP/1.1 204").count()
        ),
        (1, 2),
        "{raw}"
    );
    assert!(!raw.contains("already processed"), "{raw}");
}
