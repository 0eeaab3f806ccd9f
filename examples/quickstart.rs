//! Quickstart: verify webhooks with a direct `verify()` call, no web framework.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It signs a delivery the way Standard Webhooks senders do, then shows what the
//! verifier makes of the genuine delivery, a tampered body, a replay from an hour
//! ago, a delivery signed with an old secret during a rotation, and a request with
//! no signature at all.

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
