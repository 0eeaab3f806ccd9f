//! Two "replicas" (two routers, two layers, two `RedisStore` connections) sharing one
//! redis-server: 64 concurrent identical deliveries spread over both run the handler
//! exactly once.

mod common;
#[path = "../../hookwarden-redis/tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hookwarden_core::dedup::DedupConfig;
use hookwarden_redis::RedisStore;
use tokio::net::TcpListener;

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_run_the_handler_once() {
    let Some(redis) = support::redis() else {
        return;
    };
    let prefix = support::unique_prefix("tower_replicas");
    let h = Handler::default();
    let mut addrs = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::builder(redis.url())
            .expect("url")
            .with_prefix(prefix.clone())
            .connect()
            .await
            .expect("connect");
        let guard = guard()
            .with_store(store)
            .with_dedup(DedupConfig::new().with_namespace("replicas"))
            .build()
            .expect("guard");
        addrs.push(serve(app(guard, h.clone())).await);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let body = br#"{"type":"order.created"}"#;
    let headers = Arc::new(signed("msg_replicated", body, NOW));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (client, headers, addr) = (client.clone(), headers.clone(), addrs[i % 2]);
            tokio::spawn(async move {
                let mut req = client
                    .post(format!("http://{addr}/hooks"))
                    .body(body.to_vec());
                for (k, v) in headers.iter() {
                    req = req.header(k, v);
                }
                req.send().await.expect("response").status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 409)),
        "{statuses:?}"
    );
    assert_eq!(h.successes(), 1, "{statuses:?}");
    assert_eq!(h.calls(), 1);
    // After the first success, both replicas answer the retry as a duplicate.
    for addr in &addrs {
        let mut req = client
            .post(format!("http://{addr}/hooks"))
            .body(body.to_vec());
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "already processed\n");
    }
    assert_eq!(h.calls(), 1);
}
