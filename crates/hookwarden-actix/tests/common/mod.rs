//! Shared test fixtures: a Standard Webhooks delivery and an actix app that counts
//! handler calls.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    missing_debug_implementations,
    clippy::unwrap_used
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use hookwarden_actix::{VerifiedWebhook, WebhookMiddleware};
use hookwarden_core::dedup::{DedupStore, MemoryStore};
use hookwarden_core::receive::{Guard, GuardBuilder};
use hookwarden_core::schemes::StandardWebhooks;
use hookwarden_core::{ManualClock, SignInput, Verifier, sign};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const NOW: i64 = 1_700_000_000;

pub fn verifier() -> Verifier {
    Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier")
}

pub fn guard() -> GuardBuilder<MemoryStore> {
    Guard::builder(verifier())
}

/// Headers of a delivery with id `id`, signed at `ts`.
pub fn signed(id: &str, body: &[u8], ts: i64) -> Vec<(String, String)> {
    let input = SignInput {
        body,
        timestamp: ts,
        id: Some(id),
        url: None,
    };
    sign(&StandardWebhooks::new(), &SECRET.into(), &input).expect("sign")
}

/// What the handler does.
#[derive(Clone, Default)]
pub struct Handler {
    pub calls: Arc<AtomicUsize>,
    pub successes: Arc<AtomicUsize>,
    /// Statuses to return, one per call (then 200); 418 panics.
    pub script: Arc<std::sync::Mutex<Vec<u16>>>,
    /// When set, each call waits for a permit before answering.
    pub gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl Handler {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn successes(&self) -> usize {
        self.successes.load(Ordering::SeqCst)
    }
}

async fn handle(
    h: web::Data<Handler>,
    VerifiedWebhook(delivery): VerifiedWebhook,
    body: web::Bytes,
) -> HttpResponse {
    h.calls.fetch_add(1, Ordering::SeqCst);
    // Long enough for concurrent duplicates to overlap.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    if let Some(gate) = &h.gate {
        gate.acquire().await.unwrap().forget();
    }
    let status = {
        let mut script = h.script.lock().unwrap();
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    assert!(status != 418, "handler panics on purpose");
    let status = StatusCode::from_u16(status).unwrap();
    if status.is_success() {
        h.successes.fetch_add(1, Ordering::SeqCst);
    }
    let id = delivery.verified().delivery_id().unwrap_or("-").to_owned();
    HttpResponse::build(status).body(format!("{id} {}", body.len()))
}

/// `/hooks` behind the middleware, for `App::configure`.
pub fn routes<D: DedupStore>(
    guard: Guard<D>,
    handler: Handler,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(
            web::resource("/hooks")
                .app_data(web::Data::new(handler))
                .wrap(WebhookMiddleware::new(guard))
                .route(web::post().to(handle)),
        );
    }
}
