//! The built-in schemes, one module per provider, and [`by_name`].
//!
//! Every scheme documents its headers, signed content, signature encoding, secret
//! format, timestamp source, default tolerance and delivery id.

use std::sync::Arc;

use crate::scheme::Scheme;

mod github;
mod standard;
mod stripe;

pub use github::Github;
pub use standard::{StandardWebhooks, Svix};
pub use stripe::Stripe;

/// The names [`by_name`] knows, in the order the documentation lists them.
pub const NAMES: &[&str] = &["standard", "svix", "stripe", "github"];

/// A built-in scheme by its lowercase name (see [`NAMES`]).
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
        _ => return None,
    })
}
