//! Framework-free webhook verification for the receiving side.
//!
//! `hookwarden-core` holds every rule: the providers' signature [`schemes`], secrets
//! and rotation, the replay [`Tolerance`] with an injectable [`Clock`], and the
//! [`Verifier`] that ties them together. It needs no web framework; the tower and
//! actix adapters are thin layers over it.
//!
//! ```
//! use hookwarden_core::{schemes::Github, Verifier, ErrorKind};
//!
//! let verifier = Verifier::builder(Github::new())
//!     .secret("It's a Secret to Everybody")
//!     .build()?;
//! let headers = [("X-Hub-Signature-256",
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")];
//! let verified = verifier.verify(&headers, b"Hello, World!", None).expect("signed by GitHub");
//! assert_eq!(verified.scheme(), "github");
//!
//! let err = verifier.verify(&headers, b"Hello, World?", None).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::SignatureMismatch);
//! assert_eq!(err.status(), 401);
//! # Ok::<(), hookwarden_core::ConfigError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
#[cfg(test)]
mod counting;
pub mod dedup;
mod error;
mod headers;
mod key;
pub mod parse;
pub mod receive;
mod scheme;
pub mod schemes;
mod secret;
mod sign;
mod tag;
mod tolerance;
mod verifier;

pub use clock::{Clock, ManualClock, SystemClock};
pub use dedup::{
    Claim, ClaimGuard, ClaimToken, DedupConfig, DedupKey, DedupKeySource, DedupStore, MemoryStore,
    StoreError,
};
pub use error::{ConfigError, ErrorKind, VerifyError};
pub use headers::{HeaderKey, Headers};
pub use key::Algorithm;
pub use scheme::{IdSource, Parsed, Request, Scheme, SignInput};
pub use secret::Secret;
pub use sign::sign;
pub use tag::{MAX_SIGNATURES, MAX_TAG_LEN, Signatures, Tag};
pub use time;
pub use tolerance::Tolerance;
pub use verifier::{Verified, Verifier, VerifierBuilder};
