#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub use hookwarden_core::*;

/// The Redis dedup store, for several instances sharing the work (feature `redis`).
#[cfg(feature = "redis")]
pub use hookwarden_redis as redis;

/// The tower layer and axum extractors (features `tower`, `axum`).
#[cfg(feature = "tower")]
pub use hookwarden_tower as tower;

/// The actix-web middleware and extractors (feature `actix`).
#[cfg(feature = "actix")]
pub use hookwarden_actix as actix;

#[doc = include_str!("../docs/guide.md")]
pub mod guide {}
