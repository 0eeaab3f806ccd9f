//! A tower [`Layer`](tower_layer::Layer) that receives webhooks: verifies them, refuses
//! replays, answers provider challenges and deduplicates deliveries, before your
//! handler runs. Works with axum, hyper and any tower stack over `http` 1.x.
//!
//! The layer is a thin adapter over [`hookwarden_core::receive::Guard`], which holds
//! every option and rule (the actix-web middleware uses the same guard):
//!
//! ```
//! # #[cfg(feature = "axum")]
//! # fn main() -> Result<(), hookwarden_core::ConfigError> {
//! use axum::{Router, routing::post};
//! use hookwarden_core::{receive::Guard, schemes::Github, Verifier};
//! use hookwarden_tower::{VerifiedWebhook, WebhookLayer};
//!
//! async fn handler(VerifiedWebhook(delivery): VerifiedWebhook, body: axum::body::Bytes) -> &'static str {
//!     println!("{:?}: {} bytes", delivery.verified().delivery_id(), body.len());
//!     "ok"
//! }
//!
//! let verifier = Verifier::builder(Github::new()).secret("It's a Secret to Everybody").build()?;
//! let guard = Guard::builder(verifier).build()?; // in-memory dedup, 1 MiB body limit
//! let app: Router = Router::new().route("/hooks/github", post(handler)).layer(WebhookLayer::new(guard));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "axum"))] fn main() {}
//! ```
//!
//! Order of work per request: peer IP allowlist → `Content-Length` over the limit →
//! signature headers present → body buffered with a hard limit (holds for chunked
//! bodies) → verify → challenge → dedup claim → inner service with the body
//! re-injected and a [`Delivery`](hookwarden_core::receive::Delivery) in the request
//! extensions → claim completed on 2xx, released on anything else, on a panic and when
//! the response future is dropped. The claim is settled when the inner service returns
//! its response head, before a streamed response body is sent: what happens to the
//! body afterwards (an error, a client that hangs up) no longer changes it. With
//! feature `axum`, a guard whose body limit is above axum's 2 MB default sets it as
//! the re-injected request's `DefaultBodyLimit`, replacing any `DefaultBodyLimit` set
//! outside the layer: axum's own body extractors (`Bytes`, `Json`, ...) take what the
//! layer accepted. Under 2 MB the layer sets nothing, so a smaller `DefaultBodyLimit`
//! of your own, outside the layer, still applies to them: keep it at least the guard's
//! limit, or a delivery between the two is verified, then refused (413) on every
//! retry. A `DefaultBodyLimit` inside the layer (on the route) always applies.
//!
//! The body is bounded in size by the guard's body limit, and in time only by its
//! body timeout ([`GuardBuilder::with_body_timeout`](hookwarden_core::receive::GuardBuilder::with_body_timeout),
//! 408; off by default, timed on Tokio's timer, so set it only on a Tokio runtime with
//! timers, as `axum::serve` has): without one, a client trickling its body holds up to
//! the limit in memory for as long as the server lets it.
//!
//! Rejections are responses (never service errors) with short generic bodies; the
//! typed [`Outcome`](hookwarden_core::receive::Outcome) is in the response's
//! extensions. The peer address is read from the request extensions: a
//! [`PeerAddr`], a `std::net::SocketAddr`, or (feature `axum`) axum's
//! `ConnectInfo<SocketAddr>`.
#![forbid(unsafe_code)]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod layer;
mod response;
mod service;

#[cfg(feature = "axum")]
pub use extract::{VerifiedWebhook, Webhook, WebhookRejection};
pub use future::ResponseFuture;
pub use layer::WebhookLayer;
pub use response::ResponseBody;
pub use service::{PeerAddr, WebhookService};
