//! A real axum server on a loopback port, driven by a real HTTP client.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use tokio::net::TcpListener;

const BODY: &[u8] = br#"{"type":"invoice.paid","n":1}"#;

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_deliveries_run_the_handler_once() {
    let h = Handler::default();
    let addr = serve(app(guard().build().unwrap(), h.clone())).await;
    let c = client();
    let headers = Arc::new(signed("msg_concurrent", BODY, NOW));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (c, headers) = (c.clone(), headers.clone());
            tokio::spawn(async move {
                post(&c, addr, &headers, BODY)
                    .await
                    .expect("response")
                    .status()
            })
        })
        .collect();
    let mut ok = 0;
    let mut conflict = 0;
    for t in tasks {
        match t.await.unwrap() {
            reqwest::StatusCode::OK => ok += 1,
            reqwest::StatusCode::CONFLICT => conflict += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok + conflict, 64);
    assert_eq!(h.successes(), 1, "the handler succeeded more than once");
    assert_eq!(h.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_refused_before_it_is_all_sent() {
    let h = Handler::default();
    let addr = serve(app(
        guard().with_body_limit(16 * 1024).build().unwrap(),
        h.clone(),
    ))
    .await;
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
    let status = match req.send().await {
        Ok(res) => Some(res.status()),
        // The server may close the connection while the client is still sending.
        Err(e) => {
            assert!(!e.is_timeout(), "{e}");
            None
        }
    };
    if let Some(status) = status {
        assert_eq!(status, reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    }
    let chunks = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        chunks < 8192,
        "the whole body was sent before the server answered ({chunks} chunks)"
    );
    assert_eq!(h.calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_handler_leaves_the_retry_to_be_processed() {
    let h = Handler::default();
    h.script
        .lock()
        .unwrap()
        .push(StatusCode::INTERNAL_SERVER_ERROR);
    let addr = serve(app(guard().build().unwrap(), h.clone())).await;
    let c = client();
    let headers = signed("msg_500", BODY, NOW);
    assert_eq!(post(&c, addr, &headers, BODY).await.unwrap().status(), 500);
    assert_eq!(post(&c, addr, &headers, BODY).await.unwrap().status(), 200);
    let third = post(&c, addr, &headers, BODY).await.unwrap();
    assert_eq!(third.status(), 200);
    assert_eq!(third.text().await.unwrap(), "already processed\n");
    assert_eq!((h.calls(), h.successes()), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_releases_the_delivery() {
    let h = Handler::default();
    h.script.lock().unwrap().push(StatusCode::IM_A_TEAPOT); // panics
    let addr = serve(app(guard().build().unwrap(), h.clone())).await;
    let c = client();
    let headers = signed("msg_panic", BODY, NOW);
    let first = post(&c, addr, &headers, BODY).await;
    assert!(first.is_err() || first.unwrap().status().is_server_error());
    // The retry is processed (not 409: the claim was released when the handler panicked).
    let retry = post(&c, addr, &headers, BODY).await.unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!((h.calls(), h.successes()), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_disconnecting_mid_handler_releases_the_delivery() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let h = Handler {
        gate: Some(gate.clone()),
        ..Handler::default()
    };
    let addr = serve(app(guard().build().unwrap(), h.clone())).await;
    let headers = signed("msg_gone", BODY, NOW);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let first = post(&impatient, addr, &headers, BODY).await;
    assert!(first.unwrap_err().is_timeout());
    assert_eq!(h.calls(), 1);
    // The server notices the closed connection, drops the handler's future, and the
    // claim is released: the retry runs the handler again instead of getting 409.
    // Permits are only added once the retry's own handler call has started, so the
    // abandoned first call can never be the one that completes.
    let c = client();
    let mut status = reqwest::StatusCode::CONFLICT;
    for _ in 0..100 {
        let retry = tokio::spawn({
            let (c, headers) = (c.clone(), headers.clone());
            async move { post(&c, addr, &headers, BODY).await.unwrap().status() }
        });
        for _ in 0..100 {
            if h.calls() == 2 || retry.is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if h.calls() == 2 {
            gate.add_permits(1);
        }
        status = retry.await.unwrap();
        if status != reqwest::StatusCode::CONFLICT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, reqwest::StatusCode::OK);
    // The retry ran the handler itself (not answered as a duplicate of the first).
    assert_eq!((h.calls(), h.successes()), (2, 1));
}
