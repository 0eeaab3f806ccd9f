//! What both adapters do at the connection level, on real loopback servers driven
//! over raw TCP: with a body they refused before reading it to the end, and with a
//! body that stops arriving. The same scenario runs against the tower layer (axum)
//! and the actix-web middleware.
#![cfg(all(feature = "axum", feature = "actix"))]
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hookwarden::receive::{Guard, GuardBuilder};
use hookwarden::schemes::StandardWebhooks;
use hookwarden::{ManualClock, SignInput, Verifier, sign};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"type":"invoice.paid","n":1}"#;

fn guard() -> GuardBuilder<hookwarden::dedup::MemoryStore> {
    let verifier = Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .clock(ManualClock::new(NOW))
        .build()
        .unwrap();
    Guard::builder(verifier)
}

fn signed(id: &str, body: &[u8]) -> Vec<(String, String)> {
    let input = SignInput {
        body,
        timestamp: NOW,
        id: Some(id),
        url: None,
    };
    sign(&StandardWebhooks::new(), &SECRET.into(), &input).unwrap()
}

/// A server of one adapter, counting its handler's calls.
struct Server {
    name: &'static str,
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
}

async fn axum_server(guard: Guard) -> Server {
    use hookwarden::tower::{VerifiedWebhook, WebhookLayer};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let router = axum::Router::new()
        .route(
            "/hooks",
            axum::routing::post(move |_: VerifiedWebhook| {
                counted.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
        .layer(WebhookLayer::new(guard));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        name: "tower",
        addr,
        calls,
    }
}

fn actix_server(guard: Guard) -> Server {
    use actix_web::{App, HttpServer, web};
    use hookwarden::actix::{VerifiedWebhook, WebhookMiddleware};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = HttpServer::new(move || {
        let counted = counted.clone();
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(guard.clone()))
                .route(web::post().to(move |_: VerifiedWebhook| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { "ok" }
                })),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    Server {
        name: "actix",
        addr,
        calls,
    }
}

/// Both adapters' servers, each with its own guard (and so its own dedup store).
async fn servers(guard: impl Fn() -> Guard) -> [Server; 2] {
    [axum_server(guard()).await, actix_server(guard())]
}

/// A POST head to `addr` with `headers` and the framing line `framing`.
fn head(addr: SocketAddr, framing: &str, headers: &[(String, String)]) -> String {
    let mut head = format!("POST /hooks HTTP/1.1\r\nHost: {addr}\r\n{framing}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// The first read of the server's answer.
async fn read_answer(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A refused request whose chunked body never ends: after the answer, the server must
/// close the connection, not read on for as long as the client sends. actix-web
/// drained such a body for ever (12–16 GB in 3 s on loopback) until the middleware
/// kept the payload alive in its reply; it now lingers for its
/// `client_disconnect_timeout` (1 s), hyper closes at once.
#[actix_web::test]
async fn a_refused_endless_chunked_body_is_not_read_on_after_the_answer() {
    for server in servers(|| guard().with_body_limit(16 * 1024).build().unwrap()).await {
        for (headers, status) in [
            (signed("msg_endless", b"x"), "HTTP/1.1 413"),
            (Vec::new(), "HTTP/1.1 400"),
        ] {
            let (mut rd, mut wr) = TcpStream::connect(server.addr).await.unwrap().into_split();
            let head = head(server.addr, "Transfer-Encoding: chunked", &headers);
            wr.write_all(head.as_bytes()).await.unwrap();
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(vec![b'x'; 64 * 1024]);
            chunk.extend_from_slice(b"\r\n");
            let _ = wr.write_all(&chunk).await;
            let answer = read_answer(&mut rd).await;
            assert!(answer.starts_with(status), "{}: {answer}", server.name);
            if server.name == "actix" {
                // actix says so; hyper just closes.
                assert!(answer.contains("connection: close"), "{answer}");
            }
            let started = Instant::now();
            let mut ended = false;
            while !ended && started.elapsed() < Duration::from_secs(5) {
                ended = !matches!(
                    tokio::time::timeout(Duration::from_millis(500), wr.write_all(&chunk)).await,
                    Ok(Ok(()))
                );
            }
            assert!(ended, "{}: read on for 5 s after {status}", server.name);
            // Closed, not merely no longer read: the read side ends (or resets).
            let mut rest = vec![0u8; 64 * 1024];
            let closed = async {
                loop {
                    match rd.read(&mut rest).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            };
            assert!(
                tokio::time::timeout(Duration::from_secs(5), closed)
                    .await
                    .is_ok(),
                "{}: the connection stayed open after {status}",
                server.name
            );
        }
        assert_eq!(server.calls.load(Ordering::SeqCst), 0, "{}", server.name);
    }
}

/// A body that stops arriving: with a body timeout, 408 when it ends, the connection
/// closed, the handler not called and no claim taken (the whole delivery, sent
/// right after, is processed).
#[actix_web::test]
async fn a_body_not_complete_within_the_body_timeout_gets_408() {
    let timed = || {
        guard()
            .with_body_timeout(Duration::from_millis(300))
            .build()
            .unwrap()
    };
    for server in servers(timed).await {
        let headers = signed("msg_slow", BODY);
        let framing = format!("Content-Length: {}", BODY.len());
        let started = Instant::now();
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = head(server.addr, &framing, &headers);
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&BODY[..5]).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "{}: {answer}",
            server.name
        );
        assert!(
            answer.ends_with("request timeout\n"),
            "{}: {answer}",
            server.name
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        let mut rest = [0u8; 64];
        let after = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut rest)).await;
        assert!(
            matches!(after, Ok(Ok(0) | Err(_))),
            "{}: {after:?}",
            server.name
        );
        assert_eq!(server.calls.load(Ordering::SeqCst), 0, "{}", server.name);
        // The same delivery, whole, on a new connection.
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(BODY).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{}: {answer}",
            server.name
        );
        assert_eq!(
            server.calls.load(Ordering::SeqCst),
            1,
            "{}: {answer}",
            server.name
        );
    }
}
