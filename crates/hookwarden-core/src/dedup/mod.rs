//! Deduplication of at-least-once deliveries.
//!
//! Senders deliver at least once: retries, redeliveries and replays bring the same
//! delivery back. The handler must run to success once per delivery, and a failed
//! attempt must stay retryable. So each delivery is *claimed* under its
//! [`DedupKey`] in a [`DedupStore`] before the handler runs:
//!
//! - [`Claim::New`]: run the handler, holding a [`ClaimGuard`]. On success,
//!   [`complete`](ClaimGuard::complete) it: the key is remembered for the
//!   *retention* and later attempts get [`Claim::Completed`] (answer 200 without
//!   running the handler). Dropping the guard without completing (handler error,
//!   panic, cancelled future) releases the key so that the sender's retry runs.
//! - [`Claim::InFlight`]: another worker holds it: answer 409 so the sender retries.
//! - A claim holds for its *lease*: a crashed process's claim frees itself after it.
//! - Only the holder of a claim's [`ClaimToken`] can complete or release it: a
//!   worker whose lease ran out cannot complete or release the claim of the worker
//!   that took over.
//!
//! # Keys
//!
//! [`DedupConfig::key_for`] derives the key from the verified delivery, by default
//! ([`DedupKeySource::Auto`]) from the scheme's delivery id when the signature covers
//! it or a signed timestamp bounds its replays, else the digest of the verified
//! signature. Keys are namespaced, `"{namespace}:{id}"` (the namespace
//! defaults to the scheme's name: give each endpoint its own), and a key longer than
//! [`MAX_KEY_LEN`] bytes is replaced by its SHA-256, never truncated.
//!
//! | scheme | `Auto` key | can a replay change it? |
//! |---|---|---|
//! | `standard` (Standard Webhooks) | `webhook-id` header | no: signed |
//! | `svix` | `svix-id` header (else `webhook-id`) | no: signed |
//! | `stripe` | the event's `id` in the body (`evt_...`) | no: signed |
//! | `github` | signature digest (`X-GitHub-Delivery` is not signed; a redelivery resends the same bytes) | no |
//! | `slack` | `event_id` in a JSON body (Events API); form bodies: signature digest | no |
//! | `shopify` | signature digest (`X-Shopify-Event-Id` is not signed) | no |
//! | `paddle` | `event_id` in the body | no: signed |
//! | `twilio` | signature digest (`I-Twilio-Idempotency-Token` is not signed) | no |
//! | `square` | `event_id` in the body | no: signed |
//! | `linear` | `Linear-Delivery` header: not signed, but retries are re-stamped (new digest) and the signed timestamp allows replays for 60 s only | within the tolerance |
//! | `zoom` | signature digest (Zoom sends no stable signed id) | no |
//! | `twitch` | `Twitch-Eventsub-Message-Id` header | no: signed |
//! | `discord` | the interaction's `id` in the body | no: signed |
//! | `gitlab` | `Idempotency-Key`, else `X-Gitlab-Event-UUID` header (nothing is signed) | yes |
//! | `intercom` | the notification's `id` in the body | no: signed |
//! | `woocommerce` | signature digest (`X-WC-Webhook-Delivery-ID` is not signed) | no |
//! | any scheme, id absent | `sig:` + SHA-256 of the matched signature (the first secret's MAC when another secret matched) | no |
//!
//! A signature digest counts two deliveries with byte-identical bodies (and
//! timestamp) as one. Use [`DedupKeySource::Header`] or [`DedupKeySource::JsonPointer`]
//! to key on something else; a header the scheme does not sign can be changed by
//! whoever replays a captured request.

//! # Lease and retention
//!
//! The lease defaults to [`DEFAULT_LEASE`] (60 s): keep it well above the slowest
//! handler. The retention defaults to [`DEFAULT_RETENTION`] (4 days, covering
//! Stripe's three days of retries) and is never shorter than twice the verifier's
//! timestamp tolerance plus one second ([`DedupConfig::min_retention`],
//! [`DedupConfig::retention_for`]), so a replay that would still pass the timestamp
//! check is still recognised.
//!
//! # Stores
//!
//! [`MemoryStore`] is the embedded default: one process, bounded, expiring. Several
//! instances sharing the work need a shared store: `hookwarden_redis::RedisStore`.
//! A store that fails answers [`StoreError`]; the receive pipeline then answers 503
//! (fail closed) unless fail-open was chosen.

mod config;
mod key;
mod memory;
mod store;

pub use config::{
    DEFAULT_LEASE, DEFAULT_RETENTION, DedupConfig, DedupKeySource, MAX_DURATION, MAX_NAMESPACE_LEN,
};
pub use key::{DedupKey, MAX_KEY_LEN};
pub use memory::{DEFAULT_MAX_ENTRIES, ManualTime, MemoryStore, MemoryStoreBuilder};
pub use store::{Claim, ClaimGuard, ClaimToken, DedupStore, StoreError, StoreErrorKind};
