//! Quickstart: verify webhooks with a direct `verify()` call, no web framework.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It needs no server and sends nothing: it signs a delivery the way Standard Webhooks
//! senders do, then prints what the verifier makes of the genuine delivery (accepted,
//! `secret#0`), a tampered body (HTTP 401 `signature_mismatch`), a replay from an hour
//! ago (HTTP 401 `timestamp_too_old`), a delivery signed with the previous secret
//! during a rotation (accepted, `secret#1`), and a request with no signature at all
//! (HTTP 400 `missing_header`).
//!
//! The same genuine delivery with the `hookwarden` CLI: `sign` prints the headers a
//! sender would send, and `verify` checks them (`--now` pins the clock to the signing
//! time; it prints `verified`, `secret index: 0`, `dedup key: standard:msg_2Kx9`):
//!
//! ```text
//! printf '%s' '{"type":"invoice.paid","data":{"amount":4200}}' > /tmp/body.json
//! cargo run -q -p hookwarden-cli -- sign --scheme standard \
//!     --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --id msg_2Kx9 --timestamp 1700000000 /tmp/body.json
//! cargo run -q -p hookwarden-cli -- verify --scheme standard \
//!     --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --now 1700000000 \
//!     -H 'webhook-id: msg_2Kx9' -H 'webhook-timestamp: 1700000000' \
//!     -H 'webhook-signature: v1,uu3UHT9j3z3eyrR1tE6Om1uMWbCCJfP1hKKSPJdhZEk=' /tmp/body.json
//! ```
//!
//! Drop `--now` and add `--explain` to see why the same delivery is refused today.

use hookwarden::{ManualClock, SignInput, Verifier, schemes::StandardWebhooks, sign};

/// Header name/value pairs, as `sign` returns them.
type Headers = Vec<(String, String)>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = 1_700_000_000;
    let current = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let previous = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    // Build once at start-up: secrets are decoded and HMAC keys prepared here.
    let verifier = Verifier::builder(StandardWebhooks::new())
        .secret(current)
        .secret(previous) // still accepted while the sender rotates
        .clock(ManualClock::new(now)) // omit to use the system clock
        .build()?;

    let body = br#"{"type":"invoice.paid","data":{"amount":4200}}"#;
    let signed_with = |secret: &str, timestamp: i64| {
        let input = SignInput {
            body,
            timestamp,
            id: Some("msg_2Kx9"),
            url: None,
        };
        sign(&StandardWebhooks::new(), &secret.into(), &input)
    };

    let cases: [(&str, Headers, &[u8]); 5] = [
        ("genuine delivery", signed_with(current, now)?, body),
        (
            "tampered body",
            signed_with(current, now)?,
            br#"{"type":"invoice.paid","data":{"amount":1}}"#,
        ),
        (
            "replayed an hour later",
            signed_with(current, now - 3600)?,
            body,
        ),
        (
            "signed with the previous secret",
            signed_with(previous, now)?,
            body,
        ),
        ("no signature headers", Vec::new(), body),
    ];

    for (what, headers, body) in cases {
        match verifier.verify(&headers, body, None) {
            Ok(v) => println!(
                "{what:34} -> accepted: scheme={} secret#{} id={} timestamp={}",
                v.scheme(),
                v.key_index(),
                v.delivery_id().unwrap_or("-"),
                v.timestamp().map_or(0, |t| t.unix_timestamp()),
            ),
            Err(e) => println!("{what:34} -> rejected with HTTP {}: {e}", e.status()),
        }
    }
    Ok(())
}
