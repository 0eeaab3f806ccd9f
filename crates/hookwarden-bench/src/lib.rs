//! Benchmarks and load tools for hookwarden; not published.
//!
//! - `bench-server --framework axum|actix --mode bare|hmac|layer|verify [--addr A]
//!   [--threads T]`: an app answering `POST /hooks` with a bare bytes handler, the same
//!   handler computing a raw prekeyed HMAC-SHA256 of the body (`hmac`), or the handler
//!   behind hookwarden (Standard Webhooks verification + in-memory dedup, `layer`;
//!   without dedup, `verify`).
//! - `bench-load --addr A [--requests N] [--connections C]`: signs N unique 1 KiB
//!   deliveries up front, sends them over C keep-alive connections, prints req/s.
//! - `bench-compare --a A --b B [--rounds R] [--batch N] [--connections C]`: the same
//!   load sent to two servers in alternating batches; prints each round's B/A rate
//!   ratio and their median (steady on a machine whose speed drifts).
//! - `load-fault [--requests N] [--connections C] [--outage-ms MS]`: the load and fault
//!   test ([`load_fault`]): axum and actix receivers, in-memory store then Redis
//!   restarted midway, mixed traffic; exits non-zero on any violation.
#![forbid(unsafe_code)]

pub mod load_fault;

/// The secret both tools use.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

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
