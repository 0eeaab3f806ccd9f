//! Shared test fixtures: a GitHub-signed delivery and an axum app that counts handler
//! calls.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    missing_debug_implementations
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use hookwarden_core::dedup::DedupStore;
use hookwarden_core::dedup::MemoryStore;
use hookwarden_core::receive::{Guard, GuardBuilder};
use hookwarden_core::schemes::StandardWebhooks;
use hookwarden_core::{ManualClock, SignInput, Verifier, sign};
use hookwarden_tower::{VerifiedWebhook, WebhookLayer};

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
    /// Statuses to return, one per call (then 200).
    pub script: Arc<std::sync::Mutex<Vec<StatusCode>>>,
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

pub fn app<D: DedupStore>(guard: Guard<D>, handler: Handler) -> Router {
    Router::new()
        .route(
            "/hooks",
            post(
                move |VerifiedWebhook(delivery): VerifiedWebhook, body: Bytes| {
                    let h = handler.clone();
                    async move {
                        h.calls.fetch_add(1, Ordering::SeqCst);
                        if let Some(gate) = &h.gate {
                            let _permit = gate.acquire().await.expect("gate");
                        }
                        let status = {
                            let mut script = h.script.lock().expect("lock");
                            if script.is_empty() {
                                StatusCode::OK
                            } else {
                                script.remove(0)
                            }
                        };
                        if status == StatusCode::IM_A_TEAPOT {
                            panic!("handler panics on purpose");
                        }
                        if status.is_success() {
                            h.successes.fetch_add(1, Ordering::SeqCst);
                        }
                        let id = delivery.verified().delivery_id().unwrap_or("-").to_owned();
                        (status, format!("{id} {}", body.len()))
                    }
                },
            ),
        )
        .layer(WebhookLayer::new(guard))
}
