//! Benchmarks and load tools for hookwarden; not published.
//!
//! - `bench-server --framework axum|actix --mode bare|hmac|floor|floordedup|verify|nullstore|layer [--addr A]
//!   [--threads T]`: an app answering `POST /hooks` with a bare bytes handler, the same
//!   handler computing a raw prekeyed HMAC-SHA256 of the body (`hmac`), or the handler
//!   behind hookwarden (Standard Webhooks verification + in-memory dedup, `layer`;
//!   without dedup, `verify`), or behind a hand-written middleware that only checks the
//!   signature (`floor`, [`floor`]; `floordedup` also lets each id through once), or
//!   `layer` with a store that remembers nothing (`nullstore`).
//! - `bench-load --addr A [--requests N] [--connections C] [--size BYTES]`: signs N
//!   unique deliveries (1 KiB bodies by default) up front, sends them over C keep-alive
//!   connections, prints req/s.
//! - `bench-compare --a A --b B [--rounds R] [--batch N] [--connections C]
//!   [--client raw|hyper]`: the same load sent to two servers in alternating batches;
//!   prints each round's B/A rate ratio and their median (steady on a machine whose
//!   speed drifts). `raw`, the default, writes requests serialized before the run and
//!   reads answers with a minimal parser, so that the server, not the client, limits
//!   the rate; `hyper` sends through hyper's client.
//! - `load-fault [--requests N] [--connections C] [--outage-ms MS] [--rss-limit-mb MB]
//!   [--lease-ms MS]`: the load and fault test ([`load_fault`]): axum and actix
//!   receivers, in-memory store then Redis restarted midway, mixed traffic; exits
//!   non-zero on any violation.
#![forbid(unsafe_code)]

pub mod floor;
pub mod load_fault;

/// The secret both tools use.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One pre-signed delivery: its headers and body.
pub type Delivery = (Vec<(String, String)>, bytes::Bytes);

/// `n` unique Standard Webhooks deliveries of `size`-byte JSON bodies, signed with
/// [`SECRET`] at the current time. Their ids carry the current microsecond too, so a
/// second run against the same server is not answered from its dedup store.
///
/// # Errors
///
/// When the clock is before 1970 or signing fails.
pub fn signed_deliveries(
    n: usize,
    size: usize,
) -> Result<Vec<Delivery>, Box<dyn std::error::Error + Send + Sync>> {
    use hookwarden_core::{SignInput, schemes::StandardWebhooks, sign};
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let now = i64::try_from(since_epoch.as_secs())?;
    let run = since_epoch.subsec_micros();
    let scheme = StandardWebhooks::new();
    let secret = SECRET.into();
    let mut prepared = Vec::with_capacity(n);
    for i in 0..n {
        let mut body = format!(r#"{{"type":"invoice.paid","n":{i},"pad":""#).into_bytes();
        body.resize(size.saturating_sub(2), b'x');
        body.extend_from_slice(b"\"}");
        let id = format!("msg_{run:06}{i:010}");
        let input = SignInput {
            body: &body,
            timestamp: now,
            id: Some(&id),
            url: None,
        };
        prepared.push((sign(&scheme, &secret, &input)?, bytes::Bytes::from(body)));
    }
    Ok(prepared)
}

/// Read `--name value` from the command line.
#[must_use]
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}
