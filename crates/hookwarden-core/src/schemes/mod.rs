//! The built-in schemes, one module per provider, and [`by_name`].
//!
//! Every scheme documents its headers, signed content, signature encoding, secret
//! format, timestamp source, default tolerance and delivery id.

use std::sync::Arc;

use crate::scheme::Scheme;

#[cfg(feature = "ed25519")]
mod discord;
mod fields;
mod generic;
mod github;
mod gitlab;
mod intercom;
mod linear;
mod paddle;
mod shopify;
mod slack;
mod square;
mod standard;
mod stripe;
#[cfg(test)]
mod test_headers;
mod twilio;
mod twitch;
mod woocommerce;
mod zoom;

#[cfg(feature = "ed25519")]
pub use discord::Discord;
pub use generic::{GenericHmac, GenericHmacBuilder, HmacHash, SignatureEncoding};
pub use github::Github;
pub use gitlab::Gitlab;
pub use intercom::Intercom;
pub use linear::Linear;
pub use paddle::Paddle;
pub use shopify::Shopify;
pub use slack::Slack;
pub use square::Square;
pub use standard::{StandardWebhooks, Svix};
pub use stripe::Stripe;
pub use twilio::Twilio;
pub use twitch::Twitch;
pub use woocommerce::WooCommerce;
pub use zoom::Zoom;

/// The names [`by_name`] knows, in the order the documentation lists them.
pub const NAMES: &[&str] = &[
    "standard",
    "svix",
    "stripe",
    "github",
    "slack",
    "shopify",
    "paddle",
    "twilio",
    "square",
    "linear",
    "zoom",
    "twitch",
    #[cfg(feature = "ed25519")]
    "discord",
    "gitlab",
    "intercom",
    "woocommerce",
];

/// A built-in scheme by its lowercase name (see [`NAMES`]).
///
/// [`GenericHmac`] is not listed: it needs a configuration, so `by_name("generic")`
/// returns `None`; build one with [`GenericHmac::builder`].
///
/// ```
/// let scheme = hookwarden_core::schemes::by_name("stripe").expect("known");
/// assert_eq!(scheme.name(), "stripe");
/// assert!(hookwarden_core::schemes::by_name("nope").is_none());
/// ```
#[must_use]
pub fn by_name(name: &str) -> Option<Arc<dyn Scheme>> {
    Some(match name {
        "standard" => Arc::new(StandardWebhooks::new()),
        "standard-ed25519" => Arc::new(StandardWebhooks::ed25519()),
        "svix" => Arc::new(Svix::new()),
        "stripe" => Arc::new(Stripe::new()),
        "github" => Arc::new(Github::new()),
        "slack" => Arc::new(Slack::new()),
        "shopify" => Arc::new(Shopify::new()),
        "paddle" => Arc::new(Paddle::new()),
        "twilio" => Arc::new(Twilio::new()),
        "square" => Arc::new(Square::new()),
        "linear" => Arc::new(Linear::new()),
        "zoom" => Arc::new(Zoom::new()),
        "twitch" => Arc::new(Twitch::new()),
        #[cfg(feature = "ed25519")]
        "discord" => Arc::new(Discord::new()),
        "gitlab" => Arc::new(Gitlab::new()),
        "intercom" => Arc::new(Intercom::new()),
        "woocommerce" => Arc::new(WooCommerce::new()),
        _ => return None,
    })
}
