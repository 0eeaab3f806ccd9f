//! One conformance table, run through the three entry points: the core pipeline
//! driven by hand (`Guard::precheck` → bounded buffering → `check` → `claim` →
//! handler → `finish`), the tower layer (an axum `Router` through
//! `tower::ServiceExt::oneshot`) and the actix-web middleware (`test::init_service` +
//! `call_service`).
//!
//! Every step of every case is checked against the table (status, `Content-Type`,
//! `Retry-After`, body, outcome, whether the handler ran), and the three entry points
//! must also agree with each other exactly (including the typed outcome).
#![cfg(all(feature = "axum", feature = "actix"))]
#![allow(clippy::unwrap_used, clippy::too_many_lines, missing_docs)]

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use hookwarden::dedup::{Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError};
use hookwarden::receive::{
    Admission, Challenge, Checked, Delivery, Guard, GuardBuilder, Head, Outcome, Prechecked,
    Rejection, Reply, ReportOnly,
};
use hookwarden::schemes::StandardWebhooks;
use hookwarden::{ManualClock, SignInput, Verifier, sign};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;
const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
/// The request header naming the step, so the handler log says which steps ran.
const STEP: &str = "x-test-step";

// ---------------------------------------------------------------------------------
// The table's vocabulary
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
enum Store {
    #[default]
    Memory,
    Down,
    Off,
}

#[derive(Clone, Default)]
struct Opts {
    body_limit: Option<usize>,
    allow: &'static [&'static str],
    trusted: &'static [&'static str],
    report_only: bool,
    challenges: &'static [Challenge],
    store: Store,
    fail_open: bool,
    retry_after: Option<u64>,
    json_responder: bool,
    body_timeout: Option<Duration>,
}

#[derive(Clone)]
struct Req {
    headers: Vec<(String, String)>,
    /// The body, as the chunks it is sent in.
    chunks: Vec<Vec<u8>>,
    /// Whether `Content-Length` is declared (else the body is streamed, chunked).
    declared: bool,
    /// Whether the body stops arriving after its chunks (never ends).
    stalls: bool,
    /// Whether the body fails after its chunks (the connection breaks off).
    fails: bool,
    peer: Option<&'static str>,
}

impl Req {
    fn body(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

/// A request signed for `body` with delivery id `id` at `ts`, sent whole with its
/// `Content-Length`, from 192.0.2.10.
fn signed_at(id: &str, body: &[u8], ts: i64) -> Req {
    let input = SignInput {
        body,
        timestamp: ts,
        id: Some(id),
        url: None,
    };
    Req {
        headers: sign(&StandardWebhooks::new(), &SECRET.into(), &input).unwrap(),
        chunks: vec![body.to_vec()],
        declared: true,
        stalls: false,
        fails: false,
        peer: Some("192.0.2.10"),
    }
}

fn signed(id: &str, body: &[u8]) -> Req {
    signed_at(id, body, NOW)
}

impl Req {
    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
    /// A second `name` header after the ones already there (as a proxy appends one).
    fn also(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// A `name` header before the ones already there.
    fn before(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(0, (name.into(), value.into()));
        self
    }
    fn body_bytes(mut self, body: &[u8]) -> Self {
        self.chunks = vec![body.to_vec()];
        self
    }
    fn chunked(mut self, chunks: &[&[u8]]) -> Self {
        self.chunks = chunks.iter().map(|c| c.to_vec()).collect();
        self.declared = false;
        self
    }
    /// Streamed: the given chunks, then nothing more (the body never ends).
    fn stalled(mut self, chunks: &[&[u8]]) -> Self {
        self = self.chunked(chunks);
        self.stalls = true;
        self
    }
    /// Streamed: the given chunks, then a read error.
    fn broken(mut self, chunks: &[&[u8]]) -> Self {
        self = self.chunked(chunks);
        self.fails = true;
        self
    }
    fn peer(mut self, peer: Option<&'static str>) -> Self {
        self.peer = peer;
        self
    }
}

/// What the handler answers, when it runs.
#[derive(Clone, Copy)]
struct Answer {
    status: u16,
}

const OK: Answer = Answer { status: 200 };
const FAIL: Answer = Answer { status: 500 };

#[derive(Clone, Debug, PartialEq)]
struct Expect {
    status: u16,
    content_type: &'static str,
    retry_after: Option<&'static str>,
    /// The exact body, when checked.
    body: Option<String>,
    /// `None`: the handler answered; else `rejected:<reason>`, `duplicate`,
    /// `challenge:<name>`.
    outcome: Option<String>,
    ran: bool,
}

fn handled(status: u16, body: impl Into<String>) -> Expect {
    Expect {
        status,
        content_type: TEXT,
        retry_after: None,
        body: Some(body.into()),
        outcome: None,
        ran: true,
    }
}

/// The handler's body: delivery id, body length, report-only finding.
fn handler_body(id: &str, len: usize, report: &str) -> String {
    format!("{id} {len} {report}")
}

fn rejected(status: u16, reason: &str, body: &str) -> Expect {
    Expect {
        status,
        content_type: TEXT,
        retry_after: None,
        body: Some(body.into()),
        outcome: Some(format!("rejected:{reason}")),
        ran: false,
    }
}

fn duplicate() -> Expect {
    Expect {
        status: 200,
        content_type: TEXT,
        retry_after: None,
        body: Some("already processed\n".into()),
        outcome: Some("duplicate".into()),
        ran: false,
    }
}

fn challenge(name: &str, content_type: &'static str, body: Option<&str>) -> Expect {
    Expect {
        status: 200,
        content_type,
        retry_after: None,
        body: body.map(Into::into),
        outcome: Some(format!("challenge:{name}")),
        ran: false,
    }
}

enum Step {
    /// One request; the handler (if it runs) answers `Answer`.
    One(Req, Answer, Expect),
    /// The first request's handler is held until the second request is answered.
    Overlap([(Req, Answer, Expect); 2]),
}

struct Case {
    name: &'static str,
    opts: Opts,
    steps: Vec<Step>,
}

fn one(req: Req, answer: Answer, expect: Expect) -> Step {
    Step::One(req, answer, expect)
}

fn case(name: &'static str, opts: Opts, steps: Vec<Step>) -> Case {
    Case { name, opts, steps }
}

fn ok_body(id: &str) -> String {
    handler_body(id, BODY.len(), "-")
}

fn table() -> Vec<Case> {
    let limit = Opts {
        body_limit: Some(64),
        ..Opts::default()
    };
    let allow = Opts {
        allow: &["192.0.2.0/24"],
        trusted: &["10.0.0.1"],
        body_limit: Some(64),
        ..Opts::default()
    };
    let slack = br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let twitch = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{}}"#;
    let zoom =
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let discord = br#"{"type":1}"#;
    vec![
        case(
            "a valid delivery reaches the handler",
            Opts::default(),
            vec![one(
                signed("msg_1", BODY),
                OK,
                handled(200, ok_body("msg_1")),
            )],
        ),
        case(
            "a missing signature header is 400",
            Opts::default(),
            vec![one(
                signed("msg_1", BODY).without("webhook-signature"),
                OK,
                rejected(400, "missing_header(webhook-signature)", "bad request\n"),
            )],
        ),
        case(
            "a signature of no supported version is 400",
            Opts::default(),
            vec![one(
                signed("msg_1", BODY).header("webhook-signature", "v2,AAAA v1a,AAAA"),
                OK,
                rejected(
                    400,
                    "unsupported_signature_version(webhook-signature)",
                    "bad request\n",
                ),
            )],
        ),
        case(
            "a malformed timestamp is 400",
            Opts::default(),
            vec![one(
                signed("msg_1", BODY).header("webhook-timestamp", "yesterday"),
                OK,
                rejected(400, "malformed_header(webhook-timestamp)", "bad request\n"),
            )],
        ),
        case(
            "a signature that matches no secret is 401",
            Opts::default(),
            vec![one(
                signed("msg_1", BODY).body_bytes(b"{}"),
                OK,
                rejected(401, "signature_mismatch", "unauthorized\n"),
            )],
        ),
        case(
            "a timestamp outside the tolerance is 401, past or future",
            Opts::default(),
            vec![
                one(
                    signed_at("msg_1", BODY, NOW - 301),
                    OK,
                    rejected(401, "timestamp_too_old", "unauthorized\n"),
                ),
                one(
                    signed_at("msg_1", BODY, NOW + 301),
                    OK,
                    rejected(401, "timestamp_too_new", "unauthorized\n"),
                ),
                one(
                    signed_at("msg_1", BODY, NOW - 300),
                    OK,
                    handled(200, ok_body("msg_1")),
                ),
            ],
        ),
        case(
            "a repeated header: its first value is the one verified and keyed",
            Opts::default(),
            vec![
                // A second id after the signed one changes neither the verification
                // nor the dedup key.
                one(
                    signed("msg_1", BODY).also("webhook-id", "msg_2"),
                    OK,
                    handled(200, ok_body("msg_1")),
                ),
                one(signed("msg_1", BODY), OK, duplicate()),
                one(
                    signed("msg_1", BODY).also("webhook-id", "msg_3"),
                    OK,
                    duplicate(),
                ),
                // One before it is the id read: not what was signed.
                one(
                    signed("msg_4", BODY).before("webhook-id", "msg_1"),
                    OK,
                    rejected(401, "signature_mismatch", "unauthorized\n"),
                ),
                // The timestamp checked is the one signed: a fresh one after a stale
                // signed one does not pass, a stale one after a fresh one is not read.
                one(
                    signed_at("msg_5", BODY, NOW - 301).also("webhook-timestamp", &NOW.to_string()),
                    OK,
                    rejected(401, "timestamp_too_old", "unauthorized\n"),
                ),
                one(
                    signed("msg_6", BODY).also("webhook-timestamp", &(NOW - 301).to_string()),
                    OK,
                    handled(200, ok_body("msg_6")),
                ),
                // A second signature header is not read; a first one that does not
                // match is refused.
                one(
                    signed("msg_7", BODY).also("webhook-signature", "v1,AAAA"),
                    OK,
                    handled(200, ok_body("msg_7")),
                ),
                one(
                    signed("msg_8", BODY).before("webhook-signature", "v1,AAAA"),
                    OK,
                    rejected(401, "signature_mismatch", "unauthorized\n"),
                ),
            ],
        ),
        case(
            "a declared body over the limit is 413",
            limit.clone(),
            vec![one(
                signed("msg_1", &[b'a'; 65]),
                OK,
                rejected(413, "body_too_large", "payload too large\n"),
            )],
        ),
        case(
            "a chunked body over the limit is 413",
            limit.clone(),
            vec![one(
                signed("msg_1", &[b'a'; 80]).chunked(&[&[b'a'; 40], &[b'a'; 40]]),
                OK,
                rejected(413, "body_too_large", "payload too large\n"),
            )],
        ),
        case(
            "a body that stops arriving is 408 after the body timeout; then it is whole",
            Opts {
                body_timeout: Some(Duration::from_millis(100)),
                ..Opts::default()
            },
            vec![
                one(
                    signed("msg_1", BODY).stalled(&[&BODY[..5]]),
                    OK,
                    rejected(408, "body_timeout", "request timeout\n"),
                ),
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
            ],
        ),
        case(
            "a body that breaks off is 400 without the handler; its retry is processed",
            Opts::default(),
            vec![
                one(
                    signed("msg_1", BODY).broken(&[&BODY[..5]]),
                    OK,
                    rejected(400, "body_unreadable", "bad request\n"),
                ),
                // Nothing was claimed: the whole retry runs the handler.
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
            ],
        ),
        case(
            "a body at the limit is accepted, declared or chunked",
            limit.clone(),
            vec![
                one(
                    signed("msg_1", &[b'a'; 64]),
                    OK,
                    handled(200, handler_body("msg_1", 64, "-")),
                ),
                one(
                    signed("msg_2", &[b'a'; 64]).chunked(&[&[b'a'; 32], &[b'a'; 32]]),
                    OK,
                    handled(200, handler_body("msg_2", 64, "-")),
                ),
            ],
        ),
        case(
            "the IP allowlist, without a trusted proxy",
            allow.clone(),
            vec![
                one(
                    signed("msg_1", BODY).peer(Some("198.51.100.7")),
                    OK,
                    rejected(403, "ip_not_allowed", "forbidden\n"),
                ),
                // An untrusted peer cannot claim an allowed address.
                one(
                    signed("msg_1", BODY)
                        .peer(Some("198.51.100.7"))
                        .header("x-forwarded-for", "192.0.2.5"),
                    OK,
                    rejected(403, "ip_not_allowed", "forbidden\n"),
                ),
                // No known peer with an allowlist: refused.
                one(
                    signed("msg_1", BODY).peer(None),
                    OK,
                    rejected(403, "ip_not_allowed", "forbidden\n"),
                ),
                // The allowlist comes before the declared length: a refused peer is
                // not told the body limit.
                one(
                    signed("msg_1", &[b'a'; 65]).peer(Some("198.51.100.7")),
                    OK,
                    rejected(403, "ip_not_allowed", "forbidden\n"),
                ),
                one(
                    signed("msg_1", BODY).peer(Some("192.0.2.77")),
                    OK,
                    handled(200, ok_body("msg_1")),
                ),
            ],
        ),
        case(
            "the IP allowlist, through a trusted proxy",
            allow.clone(),
            vec![
                one(
                    signed("msg_1", BODY)
                        .peer(Some("10.0.0.1"))
                        .header("x-forwarded-for", "192.0.2.5"),
                    OK,
                    handled(200, ok_body("msg_1")),
                ),
                one(
                    signed("msg_2", BODY)
                        .peer(Some("10.0.0.1"))
                        .header("x-forwarded-for", "192.0.2.5, 198.51.100.7"),
                    OK,
                    rejected(403, "ip_not_allowed", "forbidden\n"),
                ),
                // The proxy itself is not in the allowlist.
                one(
                    signed("msg_3", BODY).peer(Some("10.0.0.1")),
                    OK,
                    rejected(403, "ip_not_allowed", "forbidden\n"),
                ),
            ],
        ),
        case(
            "report-only lets everything through and reports, except the body limit",
            Opts {
                report_only: true,
                body_limit: Some(64),
                allow: &["192.0.2.0/24"],
                ..Opts::default()
            },
            vec![
                one(
                    signed("msg_1", BODY).body_bytes(b"tampered"),
                    Answer { status: 204 },
                    handled(204, handler_body("-", 8, "signature_mismatch")),
                ),
                one(
                    signed("msg_1", BODY).without("webhook-signature"),
                    OK,
                    handled(200, handler_body("-", BODY.len(), "missing_header")),
                ),
                one(
                    signed("msg_1", BODY).peer(Some("198.51.100.7")),
                    OK,
                    handled(200, handler_body("-", BODY.len(), "ip_not_allowed")),
                ),
                one(
                    signed("msg_1", &[b'a'; 65]),
                    OK,
                    rejected(413, "body_too_large", "payload too large\n"),
                ),
                // Verified, and not deduplicated: the handler runs each time.
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
            ],
        ),
        case(
            "challenges are answered after verification, without the handler",
            Opts {
                challenges: &[
                    Challenge::Slack,
                    Challenge::Twitch,
                    Challenge::Zoom,
                    Challenge::Discord,
                ],
                ..Opts::default()
            },
            vec![
                one(
                    signed("c_1", slack),
                    OK,
                    challenge(
                        "slack_url_verification",
                        TEXT,
                        Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"),
                    ),
                ),
                one(
                    signed("c_2", twitch).header(
                        "twitch-eventsub-message-type",
                        "webhook_callback_verification",
                    ),
                    OK,
                    challenge(
                        "twitch_webhook_callback_verification",
                        TEXT,
                        Some("pogchamp-kappa-360noscope-vohiyo"),
                    ),
                ),
                one(
                    signed("c_3", zoom),
                    OK,
                    challenge("zoom_endpoint_url_validation", JSON, None),
                ),
                one(
                    signed("c_4", discord),
                    OK,
                    challenge("discord_ping", JSON, Some(r#"{"type":1}"#)),
                ),
                // Unsigned, a challenge is refused like anything else.
                one(
                    signed("c_5", slack).without("webhook-signature"),
                    OK,
                    rejected(400, "missing_header(webhook-signature)", "bad request\n"),
                ),
                // Tampered, too.
                one(
                    signed("c_6", BODY).body_bytes(slack),
                    OK,
                    rejected(401, "signature_mismatch", "unauthorized\n"),
                ),
                // Not a challenge: the handler runs.
                one(signed("c_7", BODY), OK, handled(200, ok_body("c_7"))),
                // Announced but not answerable (signed): 400, not the handler.
                one(
                    signed("c_8", br#"{"type":"url_verification"}"#),
                    OK,
                    rejected(
                        400,
                        "challenge_malformed(slack_url_verification)",
                        "bad request\n",
                    ),
                ),
                one(
                    signed(
                        "c_9",
                        br#"{"event":"endpoint.url_validation","payload":{}}"#,
                    ),
                    OK,
                    rejected(
                        400,
                        "challenge_malformed(zoom_endpoint_url_validation)",
                        "bad request\n",
                    ),
                ),
                one(
                    signed("c_10", br#"{"subscription":{}}"#).header(
                        "twitch-eventsub-message-type",
                        "webhook_callback_verification",
                    ),
                    OK,
                    rejected(
                        400,
                        "challenge_malformed(twitch_webhook_callback_verification)",
                        "bad request\n",
                    ),
                ),
            ],
        ),
        case(
            "report-only answers a verified challenge from outside the allowlist",
            Opts {
                report_only: true,
                allow: &["192.0.2.0/24"],
                challenges: &[Challenge::Slack],
                ..Opts::default()
            },
            vec![
                one(
                    signed("c_1", slack).peer(Some("198.51.100.7")),
                    OK,
                    challenge(
                        "slack_url_verification",
                        TEXT,
                        Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"),
                    ),
                ),
                // Tampered: reported, not answered.
                one(
                    signed("c_2", BODY)
                        .body_bytes(slack)
                        .peer(Some("198.51.100.7")),
                    OK,
                    handled(200, handler_body("-", slack.len(), "ip_not_allowed")),
                ),
            ],
        ),
        case(
            "challenges are opt-in",
            Opts::default(),
            vec![one(
                signed("c_1", slack),
                OK,
                handled(200, handler_body("c_1", slack.len(), "-")),
            )],
        ),
        case(
            "dedup: first, then a completed duplicate",
            Opts::default(),
            vec![
                one(
                    signed("msg_dup", BODY),
                    OK,
                    handled(200, ok_body("msg_dup")),
                ),
                one(signed("msg_dup", BODY), OK, duplicate()),
                one(signed("msg_dup", BODY), OK, duplicate()),
                // Another delivery id is another delivery.
                one(
                    signed("msg_other", BODY),
                    OK,
                    handled(200, ok_body("msg_other")),
                ),
            ],
        ),
        case(
            "dedup: an in-flight duplicate is 409 with Retry-After",
            Opts {
                retry_after: Some(7),
                ..Opts::default()
            },
            vec![
                Step::Overlap([
                    (
                        signed("msg_slow", BODY),
                        OK,
                        handled(200, ok_body("msg_slow")),
                    ),
                    (
                        signed("msg_slow", BODY),
                        OK,
                        Expect {
                            retry_after: Some("7"),
                            ..rejected(409, "in_flight", "delivery in progress, retry later\n")
                        },
                    ),
                ]),
                one(signed("msg_slow", BODY), OK, duplicate()),
            ],
        ),
        case(
            "dedup: a failure releases the delivery for the retry",
            Opts::default(),
            vec![
                one(
                    signed("msg_retry", BODY),
                    FAIL,
                    handled(500, ok_body("msg_retry")),
                ),
                one(
                    signed("msg_retry", BODY),
                    FAIL,
                    handled(500, ok_body("msg_retry")),
                ),
                one(
                    signed("msg_retry", BODY),
                    OK,
                    handled(200, ok_body("msg_retry")),
                ),
                one(signed("msg_retry", BODY), OK, duplicate()),
            ],
        ),
        case(
            "dedup: a failed in-flight delivery releases, and the retry runs",
            Opts::default(),
            vec![
                Step::Overlap([
                    (signed("msg_f", BODY), FAIL, handled(500, ok_body("msg_f"))),
                    (
                        signed("msg_f", BODY),
                        OK,
                        Expect {
                            retry_after: Some("5"),
                            ..rejected(409, "in_flight", "delivery in progress, retry later\n")
                        },
                    ),
                ]),
                one(signed("msg_f", BODY), OK, handled(200, ok_body("msg_f"))),
                one(signed("msg_f", BODY), OK, duplicate()),
            ],
        ),
        case(
            "dedup off: every verified delivery runs",
            Opts {
                store: Store::Off,
                ..Opts::default()
            },
            vec![
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
            ],
        ),
        case(
            "a dedup store that is down is 503 with Retry-After",
            Opts {
                store: Store::Down,
                ..Opts::default()
            },
            vec![one(
                signed("msg_1", BODY),
                OK,
                Expect {
                    retry_after: Some("5"),
                    ..rejected(
                        503,
                        "store_unavailable",
                        "temporarily unavailable, retry later\n",
                    )
                },
            )],
        ),
        case(
            "a dedup store that is down, fail-open: the handler runs",
            Opts {
                store: Store::Down,
                fail_open: true,
                ..Opts::default()
            },
            vec![
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
            ],
        ),
        case(
            "a responder replaces the rejection replies",
            Opts {
                json_responder: true,
                ..Opts::default()
            },
            vec![
                one(
                    signed("msg_1", BODY).body_bytes(b"x"),
                    OK,
                    Expect {
                        content_type: JSON,
                        ..rejected(
                            401,
                            "signature_mismatch",
                            r#"{"error":"signature_mismatch"}"#,
                        )
                    },
                ),
                one(signed("msg_1", BODY), OK, handled(200, ok_body("msg_1"))),
                one(signed("msg_1", BODY), OK, duplicate()),
            ],
        ),
    ]
}

// ---------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------

/// A store that is down: every call fails.
#[derive(Debug, Default)]
struct DownStore;

impl DedupStore for DownStore {
    async fn claim(&self, _: &DedupKey, _: Duration) -> Result<Claim, StoreError> {
        Err(StoreError::new("connection refused"))
    }
    async fn complete(
        &self,
        _: &DedupKey,
        _: &ClaimToken,
        _: Duration,
    ) -> Result<bool, StoreError> {
        Err(StoreError::new("connection refused"))
    }
    async fn release(&self, _: &DedupKey, _: &ClaimToken) -> Result<bool, StoreError> {
        Err(StoreError::new("connection refused"))
    }
    fn release_detached(&self, _: DedupKey, _: ClaimToken) {}
}

fn verifier() -> Verifier {
    Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .clock(ManualClock::new(NOW))
        .build()
        .unwrap()
}

fn configure<D: DedupStore>(mut b: GuardBuilder<D>, opts: &Opts) -> Guard<D> {
    if let Some(limit) = opts.body_limit {
        b = b.with_body_limit(limit);
    }
    b = b
        .with_allowed_ips(opts.allow.iter().copied())
        .with_trusted_proxies(opts.trusted.iter().copied())
        .with_report_only(opts.report_only)
        .with_fail_open(opts.fail_open);
    for c in opts.challenges {
        b = b.with_challenge(*c);
    }
    if let Some(timeout) = opts.body_timeout {
        b = b.with_body_timeout(timeout);
    }
    if let Some(secs) = opts.retry_after {
        b = b.with_retry_after(Duration::from_secs(secs));
    }
    if opts.json_responder {
        b = b.with_responder(|r: &Rejection, mut reply: Reply| {
            reply.content_type = JSON;
            reply.body = format!(r#"{{"error":"{}"}}"#, r.reason()).into();
            reply
        });
    }
    b.build().unwrap()
}

// ---------------------------------------------------------------------------------
// The handler, the same behind every entry point
// ---------------------------------------------------------------------------------

/// Records which steps reached it; holds a step's answer until released when asked.
#[derive(Clone)]
struct Handler {
    log: Arc<Mutex<Vec<String>>>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl Default for Handler {
    fn default() -> Self {
        Self {
            log: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        }
    }
}

impl Handler {
    fn ran(&self, tag: &str) -> bool {
        self.log.lock().unwrap().iter().any(|t| t == tag)
    }

    /// `tag` is `<step> <status> <hold>`; answers `<id> <len> <report>`.
    async fn handle(
        &self,
        tag: Option<&[u8]>,
        delivery: Option<&Delivery>,
        report: Option<&ReportOnly>,
        body: &[u8],
    ) -> (u16, String) {
        let tag = String::from_utf8_lossy(tag.unwrap_or_default()).into_owned();
        self.log.lock().unwrap().push(tag.clone());
        let mut parts = tag.split(' ').skip(1);
        let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(200);
        if parts.next() == Some("hold") {
            self.gate.acquire().await.unwrap().forget();
        }
        let id = delivery
            .and_then(|d| d.verified().delivery_id())
            .unwrap_or("-");
        let report = report.map_or("-", |r| r.rejection.reason());
        (status, handler_body(id, body.len(), report))
    }
}

fn tag(step: usize, n: usize, answer: Answer, hold: bool) -> String {
    format!(
        "s{step}.{n} {} {}",
        answer.status,
        if hold { "hold" } else { "go" }
    )
}

fn peer_ip(req: &Req) -> Option<IpAddr> {
    req.peer.map(|p| p.parse().unwrap())
}

// ---------------------------------------------------------------------------------
// What an entry point answered
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Observed {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: String,
    outcome: Option<Outcome>,
    ran: bool,
}

fn label(outcome: &Outcome) -> String {
    match outcome {
        // What the rejection names too: the header of a verification failure, the
        // challenge of a malformed one.
        Outcome::Rejected(Rejection::Verify(e)) => match e.header() {
            Some(h) => format!("rejected:{}({h})", e.kind()),
            None => format!("rejected:{}", e.kind()),
        },
        Outcome::Rejected(Rejection::ChallengeMalformed(c)) => {
            format!("rejected:challenge_malformed({})", c.name())
        }
        Outcome::Rejected(r) => format!("rejected:{}", r.reason()),
        Outcome::Duplicate => "duplicate".into(),
        Outcome::Challenge(challenge) => format!("challenge:{}", challenge.name()),
        other => format!("{other:?}"),
    }
}

fn mismatches(expect: &Expect, got: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    if got.status != expect.status {
        out.push(format!("status {} != {}", got.status, expect.status));
    }
    if got.content_type.as_deref() != Some(expect.content_type) {
        out.push(format!(
            "content-type {:?} != {:?}",
            got.content_type, expect.content_type
        ));
    }
    if got.retry_after.as_deref() != expect.retry_after {
        out.push(format!(
            "retry-after {:?} != {:?}",
            got.retry_after, expect.retry_after
        ));
    }
    if let Some(body) = &expect.body
        && &got.body != body
    {
        out.push(format!("body {:?} != {body:?}", got.body));
    }
    let outcome = got.outcome.as_ref().map(label);
    if outcome != expect.outcome {
        out.push(format!("outcome {outcome:?} != {:?}", expect.outcome));
    }
    if got.ran != expect.ran {
        out.push(format!("handler ran {} != {}", got.ran, expect.ran));
    }
    out
}

// ---------------------------------------------------------------------------------
// The three drivers
// ---------------------------------------------------------------------------------

trait Driver {
    /// Send `req` tagged `tag`; `ran` is filled in by the caller.
    async fn send(&self, req: &Req, tag: &str) -> Observed;
}

/// A read error of the body (the connection broke off).
#[derive(Debug)]
struct Broken;

/// The request's body chunks as a stream; one that stalls never ends, one that
/// fails ends with an error.
fn body_stream(req: &Req) -> Pin<Box<dyn Stream<Item = Result<Vec<u8>, Broken>> + Send>> {
    let chunks = futures_util::stream::iter(req.chunks.clone().into_iter().map(Ok));
    if req.stalls {
        Box::pin(chunks.chain(futures_util::stream::pending()))
    } else if req.fails {
        Box::pin(chunks.chain(futures_util::stream::iter([Err(Broken)])))
    } else {
        Box::pin(chunks)
    }
}

/// The core pipeline by hand, as an adapter would drive it.
struct Core<D: DedupStore> {
    guard: Guard<D>,
    handler: Handler,
}

impl<D: DedupStore> Core<D> {
    fn reply(reply: Reply) -> Observed {
        Observed {
            status: reply.status,
            content_type: Some(reply.content_type.to_owned()),
            retry_after: reply.retry_after_secs().map(|s| s.to_string()),
            body: String::from_utf8_lossy(&reply.body).into_owned(),
            outcome: Some(reply.outcome),
            ran: false,
        }
    }
}

impl<D: DedupStore> Driver for Core<D> {
    async fn send(&self, req: &Req, tag: &str) -> Observed {
        let g = &self.guard;
        let body_len = req.body().len();
        let mut headers = req.headers.clone();
        headers.push((STEP.into(), tag.into()));
        let content_length = req.declared.then(|| u64::try_from(body_len).unwrap());
        if req.declared {
            headers.push(("content-length".into(), body_len.to_string()));
        }
        let peer = peer_ip(req);
        let head = Head {
            headers: &headers,
            peer,
            content_length,
        };
        let mut prechecked = Prechecked::default();
        if let Err(reply) = g.precheck(&head, &mut prechecked) {
            return Self::reply(reply);
        }
        // Buffer with the hard limit, counted chunk by chunk, within the body timeout,
        // as the adapters do.
        let mut buffer = g.body_buffer();
        let read = async {
            let mut chunks = body_stream(req);
            while let Some(chunk) = chunks.next().await {
                buffer.push(chunk.map_err(|_| Rejection::BodyUnreadable)?.into())?;
            }
            Ok(())
        };
        let read = match g.body_timeout() {
            None => read.await,
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .unwrap_or(Err(Rejection::BodyTimeout)),
        };
        if let Err(rejection) = read {
            return Self::reply(g.reject(rejection));
        }
        let body = buffer.finish();
        let checked = match g.check(&head, &prechecked, &body, Some("/hooks")) {
            Checked::Verified(c) => c,
            Checked::Respond(reply) => return Self::reply(reply),
        };
        let mut admitted = match g.claim(checked).await {
            Admission::Proceed(a) => a,
            Admission::Respond(reply) => return Self::reply(reply),
        };
        let delivery = admitted.take_delivery();
        let report = admitted.take_report();
        let tag_value = tag.as_bytes();
        let (status, text) = self
            .handler
            .handle(Some(tag_value), delivery.as_ref(), report.as_ref(), &body)
            .await;
        admitted.finish(status).await;
        Observed {
            status,
            content_type: Some(TEXT.into()),
            retry_after: None,
            body: text,
            outcome: None,
            ran: false,
        }
    }
}

/// The tower layer on an axum router, through `oneshot`.
struct Tower {
    router: axum::Router,
}

fn tower_router<D: DedupStore>(guard: Guard<D>, handler: Handler) -> axum::Router {
    use axum::Extension;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use hookwarden::tower::{VerifiedWebhook, WebhookLayer};
    axum::Router::new()
        .route(
            "/hooks",
            axum::routing::post(
                move |v: Option<VerifiedWebhook>,
                      report: Option<Extension<ReportOnly>>,
                      headers: HeaderMap,
                      body: Bytes| {
                    let h = handler.clone();
                    async move {
                        let (status, text) = h
                            .handle(
                                headers.get(STEP).map(|v| v.as_bytes()),
                                v.as_ref().map(|v| &v.0),
                                report.as_ref().map(|r| &r.0),
                                &body,
                            )
                            .await;
                        (StatusCode::from_u16(status).unwrap(), text)
                    }
                },
            ),
        )
        .layer(WebhookLayer::new(guard))
}

impl Driver for Tower {
    async fn send(&self, req: &Req, tag: &str) -> Observed {
        use axum::body::{Body, to_bytes};
        use axum::extract::ConnectInfo;
        use axum::http::{Request, header};
        use tower::ServiceExt;
        let mut b = Request::post("/hooks");
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        b = b.header(STEP, tag);
        let body = if req.declared {
            let body = req.body();
            b = b.header(header::CONTENT_LENGTH, body.len());
            Body::from(body)
        } else {
            Body::from_stream(
                body_stream(req).map(|c| c.map_err(|_| std::io::Error::other("broken off"))),
            )
        };
        let mut request = b.body(body).unwrap();
        if let Some(ip) = peer_ip(req) {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
        }
        let res = self.router.clone().oneshot(request).await.unwrap();
        let header = |name| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let content_type = header(header::CONTENT_TYPE);
        let retry_after = header(header::RETRY_AFTER);
        let outcome = res.extensions().get::<Outcome>().cloned();
        let status = res.status().as_u16();
        let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        Observed {
            status,
            content_type,
            retry_after,
            body: String::from_utf8_lossy(&body).into_owned(),
            outcome,
            ran: false,
        }
    }
}

/// The actix-web middleware, through `test::init_service` and `call_service` (in a
/// closure, where actix-http's request type need not be named).
struct Actix<F> {
    call: F,
}

type BoxedPayloadStream =
    Pin<Box<dyn Stream<Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>>>>;

async fn actix_handler(
    h: actix_web::web::Data<Handler>,
    req: actix_web::HttpRequest,
    v: Option<hookwarden::actix::VerifiedWebhook>,
    body: actix_web::web::Bytes,
) -> actix_web::HttpResponse {
    use actix_web::HttpMessage;
    let report = req.extensions().get::<ReportOnly>().cloned();
    let (status, text) = h
        .handle(
            req.headers().get(STEP).map(|v| v.as_bytes()),
            v.as_ref().map(|v| &v.0),
            report.as_ref(),
            &body,
        )
        .await;
    actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type(TEXT)
        .body(text)
}

impl<F, Fut> Driver for Actix<F>
where
    F: Fn(actix_web::test::TestRequest, Option<BoxedPayloadStream>) -> Fut,
    Fut: Future<Output = Observed>,
{
    async fn send(&self, req: &Req, tag: &str) -> Observed {
        use actix_web::test;
        let mut tr = test::TestRequest::post().uri("/hooks");
        for (k, v) in &req.headers {
            tr = tr.append_header((k.as_str(), v.as_str()));
        }
        tr = tr.append_header((STEP, tag));
        if let Some(ip) = peer_ip(req) {
            tr = tr.peer_addr(SocketAddr::new(ip, 40_000));
        }
        let mut stream = None;
        if req.declared {
            // Sets Content-Length too.
            tr = tr.set_payload(req.body());
        } else {
            let chunks = body_stream(req).map(|c| {
                c.map(actix_web::web::Bytes::from)
                    .map_err(|_| actix_web::error::PayloadError::Incomplete(None))
            });
            stream = Some(Box::pin(chunks) as BoxedPayloadStream);
        }
        (self.call)(tr, stream).await
    }
}

async fn actix_observe<B: actix_web::body::MessageBody>(
    res: actix_web::dev::ServiceResponse<B>,
) -> Observed {
    use actix_web::http::header;
    let header = |name| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let content_type = header(header::CONTENT_TYPE);
    let retry_after = header(header::RETRY_AFTER);
    let outcome = res.response().extensions().get::<Outcome>().cloned();
    let status = res.status().as_u16();
    let body = actix_web::test::read_body(res).await;
    Observed {
        status,
        content_type,
        retry_after,
        body: String::from_utf8_lossy(&body).into_owned(),
        outcome,
        ran: false,
    }
}

async fn run_steps(driver: &impl Driver, h: &Handler, steps: &[Step]) -> Vec<Observed> {
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::One(req, answer, _) => {
                let t = tag(i, 0, *answer, false);
                // Bounded: an entry point that never answers (a stalled body without
                // its timeout) fails the table instead of hanging the test.
                let mut o = tokio::time::timeout(Duration::from_secs(10), driver.send(req, &t))
                    .await
                    .unwrap_or_else(|_| Observed {
                        status: 0,
                        content_type: None,
                        retry_after: None,
                        body: "no answer within 10 s".into(),
                        outcome: None,
                        ran: false,
                    });
                o.ran = h.ran(&t);
                out.push(o);
            }
            Step::Overlap([(r1, a1, _), (r2, a2, _)]) => {
                let t1 = tag(i, 0, *a1, true);
                let t2 = tag(i, 1, *a2, false);
                let first = driver.send(r1, &t1);
                let second = async {
                    // Wait (boundedly) for the first request to be in its handler.
                    for _ in 0..100_000 {
                        if h.ran(&t1) {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                    let o = driver.send(r2, &t2).await;
                    h.gate.add_permits(1);
                    o
                };
                let (mut o1, mut o2) = futures_util::future::join(first, second).await;
                o1.ran = h.ran(&t1);
                o2.ran = h.ran(&t2);
                out.push(o1);
                out.push(o2);
            }
        }
    }
    out
}

fn expectations(steps: &[Step]) -> Vec<&Expect> {
    steps
        .iter()
        .flat_map(|s| match s {
            Step::One(_, _, e) => vec![e],
            Step::Overlap([(_, _, e1), (_, _, e2)]) => vec![e1, e2],
        })
        .collect()
}

async fn run_all<D: DedupStore>(
    new_guard: impl Fn() -> Guard<D>,
    steps: &[Step],
) -> [(&'static str, Vec<Observed>); 3] {
    let h = Handler::default();
    let core = run_steps(
        &Core {
            guard: new_guard(),
            handler: h.clone(),
        },
        &h,
        steps,
    )
    .await;

    let h = Handler::default();
    let tower = run_steps(
        &Tower {
            router: tower_router(new_guard(), h.clone()),
        },
        &h,
        steps,
    )
    .await;

    let h = Handler::default();
    let service = actix_web::test::init_service(
        actix_web::App::new().service(
            actix_web::web::resource("/hooks")
                .app_data(actix_web::web::Data::new(h.clone()))
                .wrap(hookwarden::actix::WebhookMiddleware::new(new_guard()))
                .route(actix_web::web::post().to(actix_handler)),
        ),
    )
    .await;
    let svc = &service;
    let call = move |tr: actix_web::test::TestRequest, stream: Option<BoxedPayloadStream>| async move {
        let mut request = tr.to_request();
        if let Some(payload) = stream {
            request = request
                .replace_payload(actix_web::dev::Payload::Stream { payload })
                .0;
        }
        actix_observe(actix_web::test::call_service(svc, request).await).await
    };
    let actix = run_steps(&Actix { call }, &h, steps).await;
    [("core", core), ("tower", tower), ("actix", actix)]
}

#[actix_web::test]
async fn every_entry_point_answers_the_table_alike() {
    let mut failures = Vec::new();
    let table = table();
    let mut steps_checked = 0;
    for case in &table {
        let opts = &case.opts;
        let results = match opts.store {
            Store::Memory => {
                run_all(|| configure(Guard::builder(verifier()), opts), &case.steps).await
            }
            Store::Off => {
                run_all(
                    || configure(Guard::builder(verifier()).without_dedup(), opts),
                    &case.steps,
                )
                .await
            }
            Store::Down => {
                run_all(
                    || configure(Guard::builder(verifier()).with_store(DownStore), opts),
                    &case.steps,
                )
                .await
            }
        };
        let expected = expectations(&case.steps);
        for (entry, observed) in &results {
            assert_eq!(observed.len(), expected.len(), "{}: {entry}", case.name);
            for (n, (got, want)) in observed.iter().zip(&expected).enumerate() {
                steps_checked += 1;
                let m = mismatches(want, got);
                if !m.is_empty() {
                    failures.push(format!(
                        "{} / step {n} / {entry}: {}\n    got {got:?}",
                        case.name,
                        m.join("; ")
                    ));
                }
            }
        }
        // And the entry points agree with each other, outcome included.
        let (core, tower, actix) = (&results[0].1, &results[1].1, &results[2].1);
        for n in 0..expected.len() {
            if core[n] != tower[n] || core[n] != actix[n] {
                failures.push(format!(
                    "{} / step {n}: entry points differ\n    core  {:?}\n    tower {:?}\n    actix {:?}",
                    case.name, core[n], tower[n], actix[n]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        steps_checked >= 3 * 50,
        "only {steps_checked} steps checked"
    );
}

#[actix_web::test]
async fn the_in_flight_row_really_overlaps() {
    // Guard against a vacuous overlap: with the gate never opened, the first request
    // must still be in its handler when the second is answered.
    let h = Handler::default();
    let steps = [Step::One(signed("m", BODY), OK, handled(200, ok_body("m")))];
    let core = Core {
        guard: configure(Guard::builder(verifier()), &Opts::default()),
        handler: h.clone(),
    };
    let held = tag(0, 0, OK, true);
    let req = signed("m", BODY);
    let first = core.send(&req, &held);
    let second = async {
        while !h.ran(&held) {
            tokio::task::yield_now().await;
        }
        let o = core.send(&req, "s0.1 200 go").await;
        assert!(!h.ran("s0.1 200 go"));
        h.gate.add_permits(1);
        o
    };
    let (a, b) = futures_util::future::join(first, second).await;
    assert_eq!((a.status, b.status), (200, 409));
    let _ = (steps, MemoryStore::default());
}
