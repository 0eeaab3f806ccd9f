//! A receiver for throughput comparisons: `--framework axum|actix` and `--mode bare`
//! (a bytes handler), `--mode layer` (the same handler behind hookwarden: Standard
//! Webhooks verification + in-memory dedup) or `--mode verify` (behind hookwarden
//! without dedup: what the dedup step costs is the difference with `layer`) or
//! `--mode hmac` (the bare handler computing a raw prekeyed HMAC-SHA256 of the body,
//! nothing else: the floor for any receiver that verifies signatures) or `--mode floor`
//! (the bare handler behind a hand-written middleware that reads the body, checks the
//! signature and puts the body back: what any verifying middleware pays) or
//! `--mode nullstore` (`layer` with a store that remembers nothing: what the dedup
//! steps cost beyond the memory store's own work) or `--mode floordedup` (`floor`
//! that also lets each delivery id through once: the least verification plus an
//! in-memory dedup can cost).

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

/// A store that answers every claim `New` and remembers nothing: what the dedup
/// steps cost beyond the store itself (`--mode nullstore`).
struct NullStore;

impl hookwarden_core::dedup::DedupStore for NullStore {
    async fn claim(
        &self,
        _: &hookwarden_core::dedup::DedupKey,
        _: std::time::Duration,
    ) -> Result<hookwarden_core::dedup::Claim, hookwarden_core::dedup::StoreError> {
        Ok(hookwarden_core::dedup::Claim::New(
            hookwarden_core::dedup::ClaimToken::from_u128(1),
        ))
    }
    async fn complete(
        &self,
        _: &hookwarden_core::dedup::DedupKey,
        _: &hookwarden_core::dedup::ClaimToken,
        _: std::time::Duration,
    ) -> Result<bool, hookwarden_core::dedup::StoreError> {
        Ok(true)
    }
    async fn release(
        &self,
        _: &hookwarden_core::dedup::DedupKey,
        _: &hookwarden_core::dedup::ClaimToken,
    ) -> Result<bool, hookwarden_core::dedup::StoreError> {
        Ok(true)
    }
    fn release_detached(
        &self,
        _: hookwarden_core::dedup::DedupKey,
        _: hookwarden_core::dedup::ClaimToken,
    ) {
    }
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

fn null_guard() -> Result<Guard<NullStore>, hookwarden_core::ConfigError> {
    let verifier = Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .build()?;
    Guard::builder(verifier).with_store(NullStore).build()
}

fn axum(mode: &str, addr: &str, threads: usize) -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::new().route("/hooks", post(handler));
    let router = match mode {
        "bare" => router,
        "hmac" => Router::new()
            .route("/hooks", post(hmac_handler))
            .with_state(prekeyed()),
        "nullstore" => router.layer(hookwarden_tower::WebhookLayer::new(null_guard()?)),
        "floor" => router.layer(hookwarden_bench::floor::axum::FloorLayer(
            hookwarden_bench::floor::prekeyed(),
            None,
        )),
        "floordedup" => router.layer(hookwarden_bench::floor::axum::FloorLayer(
            hookwarden_bench::floor::prekeyed(),
            Some(std::sync::Arc::default()),
        )),
        "layer" | "verify" => router.layer(hookwarden_tower::WebhookLayer::new(guard(mode)?)),
        other => {
            return Err(format!(
                "unknown mode {other}: bare, hmac, floor, floordedup, verify, nullstore or layer"
            )
            .into());
        }
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
        "bare" | "hmac" | "floor" | "floordedup" | "nullstore" => false,
        "layer" | "verify" => true,
        other => {
            return Err(format!(
                "unknown mode {other}: bare, hmac, floor, floordedup, verify, nullstore or layer"
            )
            .into());
        }
    };
    let guard = guard(mode)?;
    let hmac = mode == "hmac";
    let floor = mode == "floor" || mode == "floordedup";
    // One set for every worker, as one store serves a multi-threaded server.
    let seen = (mode == "floordedup").then(std::sync::Arc::default);
    let nullstore = mode == "nullstore";
    let null_guard = null_guard()?;
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
                        nullstore,
                        hookwarden_actix::WebhookMiddleware::new(null_guard.clone()),
                    ))
                    .wrap(Condition::new(
                        floor,
                        hookwarden_bench::floor::actix::FloorMiddleware(
                            hookwarden_bench::floor::prekeyed(),
                            seen.clone(),
                        ),
                    ))
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
