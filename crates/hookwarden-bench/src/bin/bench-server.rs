//! An axum app for throughput comparisons: `--mode bare` (a `Bytes` handler) or
//! `--mode layer` (the same handler behind hookwarden's layer).

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use hookwarden_bench::{SECRET, arg};
use hookwarden_core::Verifier;
use hookwarden_core::receive::Guard;
use hookwarden_core::schemes::StandardWebhooks;
use hookwarden_tower::WebhookLayer;

async fn handler(body: Bytes) -> &'static str {
    std::hint::black_box(body.len());
    "ok"
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = arg("--mode").unwrap_or_else(|| "layer".into());
    let addr = arg("--addr").unwrap_or_else(|| "127.0.0.1:3900".into());
    let threads: usize = arg("--threads").map_or(Ok(1), |t| t.parse())?;
    let router = Router::new().route("/hooks", post(handler));
    let router = match mode.as_str() {
        "bare" => router,
        "layer" => {
            let verifier = Verifier::builder(StandardWebhooks::new())
                .secret(SECRET)
                .build()?;
            router.layer(WebhookLayer::new(Guard::builder(verifier).build()?))
        }
        other => return Err(format!("unknown mode {other}: bare or layer").into()),
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            eprintln!("bench-server: mode={mode} threads={threads} on http://{addr}/hooks");
            axum::serve(listener, router).await?;
            Ok(())
        })
}
