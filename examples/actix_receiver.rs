//! A webhook receiver on actix-web: verified, replay-protected, deduplicated.
//!
//! Run it (embedded in-memory dedup store, Standard Webhooks, a demo secret):
//!
//! ```text
//! cargo run --example actix_receiver --features actix
//! ```
//!
//! Then, from another terminal, send it a signed delivery twice with the `hookwarden`
//! CLI (`send` signs the body the way the scheme's provider does, then POSTs it; the
//! same delivery id sent twice is processed once):
//!
//! ```text
//! printf '%s' '{"type":"invoice.paid"}' > /tmp/body.json
//! cargo run -q -p hookwarden-cli -- send --scheme standard \
//!     --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
//!     --url http://127.0.0.1:3000/webhooks --id msg_1 --repeat 2 /tmp/body.json
//! ```
//!
//! `send` prints the first answer (`HTTP 200 OK` ... `ok`) and `summary: 2 requests,
//! 200: 2`; the receiver logs `webhook processed ... delivery_id="msg_1"` once, then
//! `webhook duplicate acknowledged without calling the handler` (add `--json` to
//! `send` to see the second answer's body, `already processed`). Then try what must
//! fail, each answered `401 Unauthorized` and logged with its reason:
//!
//! ```text
//! cargo run -q -p hookwarden-cli -- send --scheme standard \
//!     --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
//!     --url http://127.0.0.1:3000/webhooks --tamper /tmp/body.json           # signature_mismatch
//! cargo run -q -p hookwarden-cli -- send --scheme standard \
//!     --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
//!     --url http://127.0.0.1:3000/webhooks --timestamp now-3600 /tmp/body.json # timestamp_too_old
//! ```
//!
//! (`hookwarden sign` prints a delivery's headers without sending it, for `curl -H ...`;
//! its `--timestamp` takes UNIX seconds.)
//!
//! Configuration, by environment (the same as `examples/axum_receiver.rs`):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HOOKWARDEN_SCHEME` | scheme name (`standard`, `stripe`, `github`, ...; `standard-ed25519` for Standard Webhooks `v1a` with a `whpk_` key) | `standard` |
//! | `HOOKWARDEN_SECRET` | the secret; several separated by spaces (rotation) | a demo `whsec_` secret |
//! | `HOOKWARDEN_ADDR` | listen address | `127.0.0.1:3000` |
//! | `HOOKWARDEN_PUBLIC_URL` | public base URL, for URL-signing schemes (Twilio, Square) | none |
//! | `REDIS_URL` | use the Redis dedup store (build with `--features actix,redis`) | in-memory store |
//! | `RUST_LOG` | log filter | `info,hookwarden_core=debug` |

#[path = "support/receiver_env.rs"]
mod receiver_env;

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;

use actix_web::{App, HttpServer, web};
use hookwarden::actix::{VerifiedWebhook, WebhookMiddleware};
use hookwarden::dedup::DedupStore;
use hookwarden::receive::GuardBuilder;

async fn handle(VerifiedWebhook(delivery): VerifiedWebhook, body: web::Bytes) -> &'static str {
    let v = delivery.verified();
    let event_type = hookwarden::parse::json_top_level_str(&body, "type");
    tracing::info!(
        scheme = v.scheme(),
        delivery_id = v.delivery_id().unwrap_or("-"),
        event_type = event_type.as_deref().unwrap_or("-"),
        secret_index = v.key_index(),
        bytes = body.len(),
        "webhook processed"
    );
    "ok\n"
}

async fn serve<D: DedupStore>(
    builder: GuardBuilder<D>,
    addr: SocketAddr,
) -> Result<(), Box<dyn Error>> {
    let guard = builder.build()?;
    // Handlers read the body with `web::Bytes`: the middleware lets it be as large as
    // the guard allows (no `PayloadConfig` needed).
    let scheme = guard.verifier().scheme().name();
    let server = HttpServer::new(move || {
        App::new().service(
            web::resource("/webhooks")
                .wrap(WebhookMiddleware::new(guard.clone()))
                .route(web::post().to(handle)),
        )
    })
    .bind(addr)
    .map_err(|e| format!("cannot listen on {addr} (HOOKWARDEN_ADDR): {e}"))?;
    tracing::info!(%addr, scheme, "listening on http://{addr}/webhooks");
    server.run().await?;
    Ok(())
}

#[actix_web::main]
async fn main() -> ExitCode {
    receiver_env::init_logging();
    receiver_env::exit_on_error("actix_receiver", run().await)
}

async fn run() -> Result<(), Box<dyn Error>> {
    let receiver = receiver_env::from_env()?;
    let (addr, builder) = (receiver.addr, receiver.guard);
    match receiver.redis_url {
        #[cfg(feature = "redis")]
        Some(url) => {
            let store = hookwarden::redis::RedisStore::builder(&url)?
                .connect()
                .await
                .map_err(|e| format!("REDIS_URL: {e}"))?;
            tracing::info!("dedup store: redis");
            serve(builder.with_store(store), addr).await
        }
        #[cfg(not(feature = "redis"))]
        Some(_) => Err("REDIS_URL is set: build with `--features actix,redis`".into()),
        None => {
            tracing::info!("dedup store: in memory");
            serve(builder, addr).await
        }
    }
}
