//! A receiver for throughput comparisons: `--framework axum|actix` and `--mode bare`
//! (a bytes handler), `--mode layer` (the same handler behind hookwarden: Standard
//! Webhooks verification + in-memory dedup) or `--mode verify` (behind hookwarden
//! without dedup: what the dedup step costs is the difference with `layer`).

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use hookwarden_bench::{SECRET, arg};
use hookwarden_core::Verifier;
use hookwarden_core::receive::Guard;
use hookwarden_core::schemes::StandardWebhooks;

async fn handler(body: Bytes) -> &'static str {
    std::hint::black_box(body.len());
    "ok"
}

fn guard(mode: &str) -> Result<Guard, hookwarden_core::ConfigError> {
    let verifier = Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .build()?;
    let builder = Guard::builder(verifier);
    if mode == "verify" {
        builder.without_dedup().build()
    } else {
        builder.build()
    }
}

fn axum(mode: &str, addr: &str, threads: usize) -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::new().route("/hooks", post(handler));
    let router = match mode {
        "bare" => router,
        "layer" | "verify" => router.layer(hookwarden_tower::WebhookLayer::new(guard(mode)?)),
        other => return Err(format!("unknown mode {other}: bare, layer or verify").into()),
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            axum::serve(listener, router).await?;
            Ok(())
        })
}

async fn actix_handler(body: actix_web::web::Bytes) -> &'static str {
    std::hint::black_box(body.len());
    "ok"
}

fn actix(mode: &str, addr: &str, threads: usize) -> Result<(), Box<dyn std::error::Error>> {
    use actix_web::{App, HttpServer, middleware::Condition, web};
    let layer = match mode {
        "bare" => false,
        "layer" | "verify" => true,
        other => return Err(format!("unknown mode {other}: bare, layer or verify").into()),
    };
    let guard = guard(mode)?;
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new().service(
                web::resource("/hooks")
                    .wrap(Condition::new(
                        layer,
                        hookwarden_actix::WebhookMiddleware::new(guard.clone()),
                    ))
                    .route(web::post().to(actix_handler)),
            )
        })
        .workers(threads)
        .bind(addr)?
        .run()
        .await
    })?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let framework = arg("--framework").unwrap_or_else(|| "axum".into());
    let mode = arg("--mode").unwrap_or_else(|| "layer".into());
    let addr = arg("--addr").unwrap_or_else(|| "127.0.0.1:3900".into());
    let threads: usize = arg("--threads").map_or(Ok(1), |t| t.parse())?;
    eprintln!("bench-server: {framework} mode={mode} threads={threads} on http://{addr}/hooks");
    match framework.as_str() {
        "axum" => axum(&mode, &addr, threads),
        "actix" => actix(&mode, &addr, threads),
        other => Err(format!("unknown framework {other}: axum or actix").into()),
    }
}
