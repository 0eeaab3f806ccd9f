//! What the layer and the extractors log: every event of a range of deliveries is
//! captured and read.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use common::{Handler, NOW, SECRET, app, guard, signed};
use hookwarden_core::receive::{Outcome, Rejection};
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A subscriber that keeps each event as `LEVEL target field=value ...`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Capture {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;

fn request(headers: &[(String, String)], body: impl Into<Body>) -> Request<Body> {
    let mut req = Request::post("/hooks");
    for (name, value) in headers {
        req = req.header(name, value);
    }
    req.body(body.into()).unwrap()
}

async fn status(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

/// Rejections (missing headers, a tampered body, a stale timestamp, an oversized
/// body), a failing handler, a success and a duplicate: no event names the secret, nor
/// the signature the tampered body would need.
#[tokio::test]
async fn no_log_line_holds_the_secret_or_a_computed_signature() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let handler = Handler {
        script: Arc::new(Mutex::new(vec![StatusCode::INTERNAL_SERVER_ERROR])),
        ..Handler::default()
    };
    let app = app(
        guard().with_body_limit(64).build().unwrap(),
        handler.clone(),
    );
    let tampered = b"{\"type\":\"invoice.void\"}";
    let forged = signed("m", tampered, NOW);
    let big = vec![b'x'; 65];
    let cases = [
        (request(&[], BODY), StatusCode::BAD_REQUEST),
        (
            request(&signed("m", BODY, NOW), &tampered[..]),
            StatusCode::UNAUTHORIZED,
        ),
        (
            request(&signed("m", BODY, NOW - 3600), BODY),
            StatusCode::UNAUTHORIZED,
        ),
        (
            request(&signed("m", &big, NOW), big.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            request(&signed("m", BODY, NOW), BODY),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (request(&signed("m", BODY, NOW), BODY), StatusCode::OK),
        (request(&signed("m", BODY, NOW), BODY), StatusCode::OK),
    ];
    for (req, expected) in cases {
        assert_eq!(status(&app, req).await, expected);
    }
    assert_eq!((handler.calls(), handler.successes()), (2, 1));
    let lines = capture.lines();
    assert!(lines.len() >= 6, "{lines:#?}");
    let key = SECRET.trim_start_matches("whsec_");
    let needed = forged
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("webhook-signature"))
        .map(|(_, value)| value.trim_start_matches("v1,").to_owned())
        .unwrap();
    for line in &lines {
        assert!(!line.contains(key), "{line}");
        assert!(!line.contains(&needed), "{line}");
    }
}

/// A verified delivery the handler's `Webhook<T>` cannot take (422) is released and
/// retried by the sender: the operator must see why, above debug level.
#[tokio::test]
async fn a_verified_delivery_webhook_t_refuses_is_logged_as_a_warning() {
    #[derive(serde::Deserialize)]
    struct Event {
        #[allow(dead_code)]
        id: u64,
    }
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let app = Router::new()
        .route(
            "/hooks",
            post(|_: hookwarden_tower::Webhook<Event>| async { "ok" }),
        )
        .layer(hookwarden_tower::WebhookLayer::new(
            guard().build().unwrap(),
        ));
    // serde's message quotes the value: kept out of the warning (it is delivery data).
    let body = br#"{"id":"alice@example.com"}"#;
    let req = request(&signed("m422", body, NOW), &body[..]);
    assert_eq!(status(&app, req).await, StatusCode::UNPROCESSABLE_ENTITY);
    let lines = capture.lines();
    let warnings: Vec<_> = lines.iter().filter(|l| l.starts_with("WARN")).collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("status=422") && l.contains("line=1")),
        "{lines:#?}"
    );
    assert!(warnings.iter().all(|l| !l.contains("alice")), "{lines:#?}");
}

/// An allowlist on a server that gives the layer no peer address refuses everything:
/// the log says why, once (the rejections themselves say only "not allowed").
#[tokio::test]
async fn an_allowlist_without_a_peer_address_says_why_once() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let guard = guard().with_allowed_ips(["10.0.0.0/8"]).build().unwrap();
    let app = app(guard, Handler::default());
    for _ in 0..3 {
        let req = request(&signed("m", BODY, NOW), BODY);
        assert_eq!(status(&app, req).await, StatusCode::FORBIDDEN);
    }
    let hints = capture
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("WARN") && l.contains("no peer address"))
        .count();
    assert_eq!(hints, 1);
}

/// Report-only still enforces the body limit (`with_report_only`'s doc): the 413 it
/// sends is a rejection, and is logged as one, not as one that "would be" made (the
/// doc says to turn report-only off once the logs show no would-be rejections).
#[tokio::test]
async fn report_only_logs_the_413_it_enforces_as_a_rejection() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let guard = guard()
        .with_report_only(true)
        .with_body_limit(8)
        .build()
        .unwrap();
    let app = app(guard, Handler::default());
    let big = vec![b'x'; 9];
    let res = app
        .clone()
        .oneshot(request(&signed("m", &big, NOW), big.clone()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(matches!(
        res.extensions().get::<Outcome>(),
        Some(Outcome::Rejected(Rejection::BodyTooLarge { .. }))
    ));
    let lines = capture.lines();
    let logged: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("reason=\"body_too_large\""))
        .collect();
    assert_eq!(logged.len(), 1, "{lines:#?}");
    assert!(logged[0].contains("webhook rejected"), "{lines:#?}");
    assert!(!logged[0].contains("would be rejected"), "{lines:#?}");
}

/// Anyone can send a request without a signature, a bad one, a stale one or a large
/// one: each is logged once with its reason, but below warn (a line at warn or error
/// per unauthenticated request would let anyone flood the operator's alerts).
#[tokio::test]
async fn unauthenticated_rejections_are_logged_once_below_warn() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let app = app(
        guard().with_body_limit(64).build().unwrap(),
        Handler::default(),
    );
    let tampered = b"{\"type\":\"invoice.void\"}";
    let big = vec![b'x'; 65];
    let cases = [
        (
            request(&[], BODY),
            StatusCode::BAD_REQUEST,
            "missing_header",
        ),
        (
            request(&signed("m", BODY, NOW), &tampered[..]),
            StatusCode::UNAUTHORIZED,
            "signature_mismatch",
        ),
        (
            request(&signed("m", BODY, NOW - 3600), BODY),
            StatusCode::UNAUTHORIZED,
            "timestamp_too_old",
        ),
        (
            request(&signed("m", &big, NOW), big.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
    ];
    for (req, expected, reason) in cases {
        let before = capture.lines().len();
        assert_eq!(status(&app, req).await, expected);
        let lines = capture.lines()[before..].to_vec();
        let logged: Vec<_> = lines
            .iter()
            .filter(|l| l.contains(&format!("reason=\"{reason}\"")))
            .collect();
        assert_eq!(logged.len(), 1, "{reason}: {lines:#?}");
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with("WARN") && !l.starts_with("ERROR")),
            "{reason}: {lines:#?}"
        );
    }
}
