//! The environment both example receivers are configured by (the table in their
//! docs), read in one place: logging, the listen address, the scheme and its
//! secrets, the public URL, the endpoint challenge and the body timeout.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use hookwarden::dedup::MemoryStore;
use hookwarden::receive::{Challenge, Guard, GuardBuilder};
use hookwarden::{Verifier, schemes};

const DEMO_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A configuration error, said in terms of the environment variable to change.
#[derive(Debug)]
pub(crate) struct EnvError(pub(crate) String);

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for EnvError {}

/// What the receiver runs with.
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    /// The guard to build, with the in-memory store (`with_store` swaps it).
    pub(crate) guard: GuardBuilder<MemoryStore>,
    pub(crate) redis_url: Option<String>,
}

/// Logs to stderr, filtered by `RUST_LOG`.
pub(crate) fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,hookwarden_core=debug".into()),
        )
        // Colours only on a terminal: redirected logs stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// The receiver configured by `HOOKWARDEN_*` and `REDIS_URL`.
pub(crate) fn from_env() -> Result<Receiver, EnvError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let scheme = var("HOOKWARDEN_SCHEME").unwrap_or_else(|| "standard".into());
    let secrets = var("HOOKWARDEN_SECRET").unwrap_or_else(|| DEMO_SECRET.into());
    let addr_text = var("HOOKWARDEN_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
    let addr = addr_text.parse().map_err(|_| {
        EnvError(format!(
            "HOOKWARDEN_ADDR {addr_text:?} is not an IP address and port, such as 127.0.0.1:3000"
        ))
    })?;
    let signing = schemes::by_name(&scheme).ok_or_else(|| {
        EnvError(format!(
            "HOOKWARDEN_SCHEME {scheme:?} is not a scheme; known: {}, standard-ed25519",
            schemes::NAMES.join(", ")
        ))
    })?;
    let public_url = var("HOOKWARDEN_PUBLIC_URL");
    if signing.signs_url() && public_url.is_none() {
        return Err(EnvError(format!(
            "scheme {scheme} signs the URL it calls: set HOOKWARDEN_PUBLIC_URL to the \
             public base URL configured at the provider (https://api.example.com)"
        )));
    }
    let verifier = Verifier::builder_arc(signing)
        .secrets(secrets.split_whitespace())
        .build()
        .map_err(|e| EnvError(format!("HOOKWARDEN_SECRET: {e}")))?;
    // A client trickling its body gets 408 after 10 s instead of holding its memory.
    let mut guard = Guard::builder(verifier).with_body_timeout(Duration::from_secs(10));
    if let Some(url) = public_url {
        guard = guard.with_public_url(url);
    }
    // Slack, Zoom, Twitch and Discord check an endpoint with a signed challenge first.
    if let Some(challenge) = Challenge::for_scheme(&scheme) {
        guard = guard.with_challenge(challenge);
    }
    tracing::info!(scheme, "verifying with HOOKWARDEN_SCHEME");
    Ok(Receiver {
        addr,
        guard,
        redis_url: var("REDIS_URL"),
    })
}

/// The exit status of `main`'s body, saying what failed in plain words (not `Debug`).
pub(crate) fn exit_on_error(
    name: &str,
    result: Result<(), Box<dyn Error>>,
) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
