//! Two app instances (two servers, two middlewares, two `RedisStore` connections)
//! sharing one redis-server: 64 concurrent identical deliveries spread over both run
//! the handler exactly once.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "../../hookwarden-redis/tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use common::*;
use hookwarden_core::dedup::{DedupConfig, DedupStore};
use hookwarden_core::receive::Guard;
use hookwarden_redis::RedisStore;

fn serve<D: DedupStore>(guard: Guard<D>, h: Handler) -> (SocketAddr, ServerHandle) {
    let server = HttpServer::new(move || App::new().configure(routes(guard.clone(), h.clone())))
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

#[actix_web::test]
async fn two_instances_sharing_redis_run_the_handler_once() {
    let Some(redis) = support::redis() else {
        return;
    };
    let prefix = support::unique_prefix("actix_replicas");
    let h = Handler::default();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::builder(redis.url())
            .unwrap()
            .with_prefix(prefix.clone())
            .connect()
            .await
            .unwrap();
        let guard = guard()
            .with_store(store)
            .with_dedup(DedupConfig::new().with_namespace("replicas"))
            .build()
            .unwrap();
        servers.push(serve(guard, h.clone()));
    }
    let addrs: Vec<SocketAddr> = servers.iter().map(|(a, _)| *a).collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let body = br#"{"type":"order.created"}"#;
    let headers = Arc::new(signed("msg_replicated", body, NOW));
    let send = {
        let (client, headers) = (client.clone(), headers.clone());
        move |addr: SocketAddr| {
            let (client, headers) = (client.clone(), headers.clone());
            async move {
                let mut req = client
                    .post(format!("http://{addr}/hooks"))
                    .body(body.to_vec());
                for (k, v) in headers.iter() {
                    req = req.header(k, v);
                }
                let res = req.send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        }
    };
    let tasks: Vec<_> = (0..64)
        .map(|i| actix_web::rt::spawn(send(addrs[i % 2])))
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(
        answers.iter().all(|(s, _)| matches!(s, 200 | 409)),
        "{answers:?}"
    );
    let handled = format!("msg_replicated {}", body.len());
    assert_eq!(
        answers.iter().filter(|(_, b)| *b == handled).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(h.successes(), 1, "{answers:?}");
    assert_eq!(h.calls(), 1);
    // After the success, both instances answer the retry as a duplicate.
    for addr in &addrs {
        assert_eq!(send(*addr).await, (200, "already processed\n".to_owned()));
    }
    assert_eq!(h.calls(), 1);
    for (_, server) in servers {
        server.stop(false).await;
    }
}
