//! actix-web middleware that receives webhooks: verifies them, refuses replays,
//! answers provider challenges and deduplicates deliveries, before your handler runs.
//!
//! The middleware is a thin adapter over [`hookwarden_core::receive::Guard`], which
//! holds every option and rule; the tower layer (`hookwarden-tower`) uses the same
//! guard, so both answer every request alike. actix-web 4 uses `http` 0.2: headers are
//! read through [`ActixHeaders`], never converted to `http` 1.x.
//!
//! ```
//! use actix_web::{App, HttpServer, web};
//! use hookwarden_actix::{VerifiedWebhook, Webhook, WebhookMiddleware};
//! use hookwarden_core::{receive::Guard, schemes::StandardWebhooks, Verifier};
//!
//! #[derive(serde::Deserialize)]
//! struct Event { r#type: String }
//!
//! async fn handle(Webhook(event, delivery): Webhook<Event>) -> String {
//!     format!("{} {:?}", event.r#type, delivery.verified().delivery_id())
//! }
//!
//! let verifier = Verifier::builder(StandardWebhooks::new())
//!     .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
//!     .build()?;
//! let guard = Guard::builder(verifier).build()?; // in-memory dedup, 1 MiB body limit
//! let server = HttpServer::new(move || {
//!     App::new().service(
//!         web::resource("/webhooks")
//!             .wrap(WebhookMiddleware::new(guard.clone()))
//!             .route(web::post().to(handle)),
//!     )
//! });
//! // server.bind(("127.0.0.1", 3000))?.run().await
//! # drop(server);
//! # Ok::<(), hookwarden_core::ConfigError>(())
//! ```
//!
//! Order of work per request: peer IP allowlist → `Content-Length` over the limit →
//! signature headers present → body buffered with a hard limit (counted while
//! streaming, so it holds for chunked bodies) → verify → challenge → dedup claim →
//! inner service with the body put back (`req.set_payload`, so `web::Bytes`,
//! `web::Json`, ... work) and a [`Delivery`](hookwarden_core::receive::Delivery) in
//! the request extensions → claim completed on 2xx, released on anything else, on an
//! error from the inner service, on a panic and when the response future is dropped.
//! The claim is settled on the response's status, when the inner service returns it: a
//! 2xx response whose streamed body (`HttpResponse::streaming`) fails afterwards still
//! counts as processed, and the sender's retry is acknowledged without the handler.
//!
//! | condition | status |
//! |---|---|
//! | peer IP outside the allowlist | 403 |
//! | body over the limit (default 1 MiB) | 413 |
//! | body not complete within the body timeout (when one is set) | 408 |
//! | signature or timestamp header missing or malformed | 400 |
//! | signature does not match any secret | 401 |
//! | timestamp outside tolerance | 401 |
//! | an enabled provider challenge | 200 with its answer, handler not called |
//! | an enabled challenge announced without what answers it, body unreadable | 400 |
//! | duplicate already processed | 200, handler not called |
//! | duplicate still being processed | 409 + `Retry-After` |
//! | dedup store unavailable | 503 + `Retry-After` |
//!
//! Rejections are responses (the inner body is not boxed: [`EitherBody`]) with short
//! generic bodies; the typed [`Outcome`](hookwarden_core::receive::Outcome) is in the
//! response's extensions. The client address is the connection's peer
//! (`peer_addr`); the forwarding header (`X-Forwarded-For`, or `Forwarded` when the
//! guard says so) counts only when the peer is one of the guard's trusted proxies.
//!
//! The URL-signing schemes (Twilio, Square) verify against the public URL and the
//! request's path and query as the middleware sees them: a `NormalizePath` wrapped
//! around the middleware (on the `App`, with the middleware on a scope or resource)
//! rewrites the path first (`/twilio/` becomes `/twilio`) and every delivery to the
//! URL as configured at the provider fails with 401. Wrap the middleware outside
//! `NormalizePath` (`App::new().wrap(NormalizePath::trim()).wrap(WebhookMiddleware::new(..))`)
//! or route the exact path without it.
//!
//! A request refused before its body was read to the end (403, 413, 400 on the
//! headers) is answered with `Connection: close` (unless the whole body had already
//! arrived), and the connection is closed after the server's
//! `client_disconnect_timeout` (1 s by default). Until then actix-http reads and
//! discards whatever the client still sends, at line rate (3-5 GB in that second on
//! loopback); `HttpServer::client_disconnect_timeout(Duration::ZERO)` closes at once,
//! as hyper does. actix-web answers `Expect: 100-continue`
//! itself before any middleware runs, so a sender that declared a body over the limit
//! is still told to send it; the 413 follows.
//!
//! The body is bounded in size by the guard's body limit, and in time only by its
//! body timeout ([`GuardBuilder::with_body_timeout`](hookwarden_core::receive::GuardBuilder::with_body_timeout),
//! 408; off by default): without one, a client trickling its body holds up to the
//! limit in memory for as long as it likes (actix-web's `client_request_timeout`
//! covers the head only).
//!
//! actix-web's own body extractors have limits of their own: `PayloadConfig` for
//! `web::Bytes` and `String` (256 KiB by default), `JsonConfig` for `web::Json` (2 MB).
//! When the app sets no such config (with `app_data`, as itself or as `web::Data`) and
//! the guard's body limit is above the extractor's default, the middleware gives the
//! request that config at the guard's limit: a verified delivery is not refused with
//! 413 by the handler's extractor (on every retry) after the guard accepted it. A
//! config of your own always applies, the middleware's is only a default: keep yours at
//! least the guard's limit, or a delivery between the two is verified, then refused on
//! every retry. `web::Form` (`FormConfig`, 16 KiB by default) is not raised.
//! [`Webhook<T>`] is subject to none of them.
//!
//! [`EitherBody`]: actix_web::body::EitherBody
#![forbid(unsafe_code)]

mod extract;
mod headers;
mod middleware;
mod response;

pub use extract::{VerifiedWebhook, Webhook, WebhookError};
pub use headers::ActixHeaders;
pub use middleware::{ResponseFuture, WebhookMiddleware, WebhookMiddlewareService};
