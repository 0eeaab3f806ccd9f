//! A receiver for throughput comparisons: `--framework axum|actix` and `--mode bare`
//! (a bytes handler), `--mode layer` (the same handler behind hookwarden: Standard
//! Webhooks verification + in-memory dedup) or `--mode verify` (behind hookwarden
//! without dedup: what the dedup step costs is the difference with `layer`) or
//! `--mode hmac` (the bare handler computing a raw prekeyed HMAC-SHA256 of the body,
//! nothing else: the floor for any receiver that verifies signatures).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use hookwarden_bench::{SECRET, arg};
use hookwarden_core::Verifier;
use hookwarden_core::receive::Guard;
use hookwarden_core::schemes::StandardWebhooks;
use sha2::Sha256;

async fn handler(body: Bytes) -> &'static str {
    std::hint::black_box(body.len());
    "ok"
}

/// The raw HMAC's key, prepared once (as a verifier does).
fn prekeyed() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("HMAC takes any key length")
}

async fn hmac_handler(State(mac): State<Hmac<Sha256>>, body: Bytes) -> &'static str {
    std::hint::black_box(mac.chain_update(&body).finalize().into_bytes());
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
        "hmac" => Router::new()
            .route("/hooks", post(hmac_handler))
            .with_state(prekeyed()),
        "layer" | "verify" => router.layer(hookwarden_tower::WebhookLayer::new(guard(mode)?)),
        other => return Err(format!("unknown mode {other}: bare, hmac, layer or verify").into()),
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

async fn actix_hmac_handler(
    mac: actix_web::web::Data<Hmac<Sha256>>,
    body: actix_web::web::Bytes,
) -> &'static str {
    let mac = Hmac::clone(&mac);
    std::hint::black_box(mac.chain_update(&body).finalize().into_bytes());
    "ok"
}

fn actix(mode: &str, addr: &str, threads: usize) -> Result<(), Box<dyn std::error::Error>> {
    use actix_web::{App, HttpServer, middleware::Condition, web};
    let layer = match mode {
        "bare" | "hmac" => false,
        "layer" | "verify" => true,
        other => return Err(format!("unknown mode {other}: bare, hmac, layer or verify").into()),
    };
    let guard = guard(mode)?;
    let hmac = mode == "hmac";
    let mac = web::Data::new(prekeyed());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            let route = if hmac {
                web::post().to(actix_hmac_handler)
            } else {
                web::post().to(actix_handler)
            };
            App::new().app_data(mac.clone()).service(
                web::resource("/hooks")
                    .wrap(Condition::new(
                        layer,
                        hookwarden_actix::WebhookMiddleware::new(guard.clone()),
                    ))
                    .route(route),
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
