//! Every row of the status table through `tower::ServiceExt::oneshot`: status,
//! headers, and whether the handler ran.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use common::*;
use hookwarden_core::dedup::MemoryStore;
use hookwarden_core::dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreError};
use hookwarden_core::receive::Guard;
use hookwarden_core::receive::{Challenge, Outcome, Rejection, Reply};
use hookwarden_core::{ErrorKind, SignInput, Verifier, sign};
use hookwarden_tower::PeerAddr;
use tower::ServiceExt;

const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;

fn request(headers: &[(String, String)], body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post("/hooks");
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b.body(body.into()).expect("request")
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Option<Outcome>, String) {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let outcome = res.extensions().get::<Outcome>().cloned();
    let body = to_bytes(res.into_body(), 1 << 20).await.expect("body");
    (
        status,
        headers,
        outcome,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn rejected(outcome: Option<Outcome>) -> Rejection {
    match outcome {
        Some(Outcome::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_delivery_reaches_the_handler_with_its_metadata() {
    let h = Handler::default();
    let app = app(guard().build().unwrap(), h.clone());
    let (status, _, outcome, body) = send(&app, request(&signed("msg_1", BODY, NOW), BODY)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, format!("msg_1 {}", BODY.len()));
    assert!(outcome.is_none());
    assert_eq!(h.calls(), 1);
}

#[tokio::test]
async fn missing_and_malformed_headers_are_400_without_the_handler() {
    let h = Handler::default();
    let app = app(guard().build().unwrap(), h.clone());
    let mut headers = signed("msg_1", BODY, NOW);
    headers.retain(|(k, _)| k != "webhook-signature");
    let (status, hdrs, outcome, body) = send(&app, request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, "bad request\n");
    assert_eq!(
        hdrs.get(header::CONTENT_TYPE).unwrap(),
        "text/plain; charset=utf-8"
    );
    match rejected(outcome) {
        Rejection::Verify(e) => {
            assert_eq!(e.kind(), ErrorKind::MissingHeader);
            assert_eq!(e.header(), Some("webhook-signature"));
        }
        other => panic!("{other:?}"),
    }
    let mut headers = signed("msg_1", BODY, NOW);
    headers[1].1 = "yesterday".into();
    let (status, _, outcome, _) = send(&app, request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        matches!(rejected(outcome), Rejection::Verify(e) if e.kind() == ErrorKind::MalformedHeader)
    );
    assert_eq!(h.calls(), 0);
}

#[tokio::test]
async fn a_bad_signature_or_stale_timestamp_is_401() {
    let h = Handler::default();
    let app = app(guard().build().unwrap(), h.clone());
    let (status, _, outcome, body) =
        send(&app, request(&signed("msg_1", BODY, NOW), &b"{}"[..])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, "unauthorized\n");
    assert!(
        matches!(rejected(outcome), Rejection::Verify(e) if e.kind() == ErrorKind::SignatureMismatch)
    );
    let (status, _, outcome, _) =
        send(&app, request(&signed("msg_1", BODY, NOW - 301), BODY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        matches!(rejected(outcome), Rejection::Verify(e) if e.kind() == ErrorKind::TimestampTooOld)
    );
    let (status, _, outcome, _) =
        send(&app, request(&signed("msg_1", BODY, NOW + 301), BODY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        matches!(rejected(outcome), Rejection::Verify(e) if e.kind() == ErrorKind::TimestampTooNew)
    );
    assert_eq!(h.calls(), 0);
}

#[tokio::test]
async fn addresses_outside_the_allowlist_are_403() {
    let h = Handler::default();
    let guard = guard()
        .with_allowed_ips(["192.0.2.0/24"])
        .with_trusted_proxies(["10.0.0.1"])
        .build()
        .unwrap();
    let app = app(guard, h.clone());
    let headers = signed("msg_1", BODY, NOW);
    let from = |peer: &str, xff: Option<&str>| {
        let mut req = request(&headers, BODY);
        req.extensions_mut()
            .insert(PeerAddr(peer.parse::<IpAddr>().unwrap()));
        if let Some(xff) = xff {
            req.headers_mut()
                .insert("x-forwarded-for", xff.parse().unwrap());
        }
        req
    };
    let (status, _, outcome, body) = send(&app, from("198.51.100.7", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, "forbidden\n");
    assert_eq!(rejected(outcome), Rejection::IpNotAllowed);
    // An untrusted peer cannot claim an allowed address.
    let (status, _, _, _) = send(&app, from("198.51.100.7", Some("192.0.2.5"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(h.calls(), 0);
    // Through the trusted proxy, the forwarded address counts.
    let (status, _, _, _) = send(&app, from("10.0.0.1", Some("192.0.2.5"))).await;
    assert_eq!(status, StatusCode::OK);
    // A SocketAddr extension works as the peer too.
    let mut req = request(&signed("msg_2", BODY, NOW), BODY);
    req.extensions_mut()
        .insert(SocketAddr::from(([192, 0, 2, 9], 4000)));
    assert_eq!(send(&app, req).await.0, StatusCode::OK);
    // No peer known, with an allowlist: refused.
    assert_eq!(
        send(&app, request(&signed("msg_3", BODY, NOW), BODY))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(h.calls(), 2);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_declared_or_streamed() {
    let h = Handler::default();
    let app = app(guard().with_body_limit(64).build().unwrap(), h.clone());
    let big = vec![b'a'; 65];
    let mut req = request(&signed("msg_1", &big, NOW), big.clone());
    req.headers_mut().insert(header::CONTENT_LENGTH, 65.into());
    let (status, _, outcome, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, "payload too large\n");
    assert_eq!(rejected(outcome), Rejection::BodyTooLarge { limit: 64 });
    // Streamed without Content-Length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![b'a'; 40]), Ok(vec![b'a'; 40])];
    let stream = Body::from_stream(futures_util::stream::iter(chunks));
    let (status, _, _, _) = send(&app, request(&signed("msg_1", &[b'a'; 80], NOW), stream)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.calls(), 0);
    // At the limit exactly: accepted.
    let ok = vec![b'a'; 64];
    assert_eq!(
        send(&app, request(&signed("msg_2", &ok, NOW), ok.clone()))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_completed_duplicate_is_200_without_the_handler() {
    let h = Handler::default();
    let app = app(guard().build().unwrap(), h.clone());
    let headers = signed("msg_dup", BODY, NOW);
    assert_eq!(send(&app, request(&headers, BODY)).await.0, StatusCode::OK);
    let (status, _, outcome, body) = send(&app, request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome, Some(Outcome::Duplicate));
    assert_eq!(body, "already processed\n");
    assert_eq!(h.calls(), 1);
}

#[tokio::test]
async fn an_in_flight_duplicate_is_409_with_retry_after() {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let h = Handler {
        gate: Some(gate.clone()),
        ..Handler::default()
    };
    let app = app(
        guard()
            .with_retry_after(Duration::from_secs(7))
            .build()
            .unwrap(),
        h.clone(),
    );
    let headers = signed("msg_slow", BODY, NOW);
    let first = tokio::spawn({
        let app = app.clone();
        let req = request(&headers, BODY);
        async move { send(&app, req).await.0 }
    });
    while h.calls() == 0 {
        tokio::task::yield_now().await;
    }
    let (status, hdrs, outcome, _) = send(&app, request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(hdrs.get(header::RETRY_AFTER).unwrap(), "7");
    assert_eq!(rejected(outcome), Rejection::InFlight);
    gate.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(h.calls(), 1);
}

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

#[tokio::test]
async fn a_store_failure_is_503_with_retry_after_unless_fail_open() {
    let h = Handler::default();
    let closed = app(guard().with_store(DownStore).build().unwrap(), h.clone());
    let (status, hdrs, outcome, body) =
        send(&closed, request(&signed("msg_1", BODY, NOW), BODY)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hdrs.get(header::RETRY_AFTER).unwrap(), "5");
    assert_eq!(body, "temporarily unavailable, retry later\n");
    assert!(matches!(rejected(outcome), Rejection::StoreUnavailable(_)));
    assert_eq!(h.calls(), 0);

    let open = app(
        guard()
            .with_store(DownStore)
            .with_fail_open(true)
            .build()
            .unwrap(),
        h.clone(),
    );
    assert_eq!(
        send(&open, request(&signed("msg_1", BODY, NOW), BODY))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(h.calls(), 1);
}

#[tokio::test]
async fn a_failed_handler_releases_the_delivery_for_the_retry() {
    let h = Handler::default();
    h.script
        .lock()
        .unwrap()
        .push(StatusCode::INTERNAL_SERVER_ERROR);
    let app = app(guard().build().unwrap(), h.clone());
    let headers = signed("msg_retry", BODY, NOW);
    assert_eq!(
        send(&app, request(&headers, BODY)).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(send(&app, request(&headers, BODY)).await.0, StatusCode::OK);
    assert_eq!(
        send(&app, request(&headers, BODY)).await.2,
        Some(Outcome::Duplicate)
    );
    assert_eq!((h.calls(), h.successes()), (2, 1));
}

#[tokio::test]
async fn report_only_lets_everything_through_and_reports() {
    use hookwarden_core::receive::ReportOnly;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let guard = guard().with_report_only(true).build().unwrap();
    let app = axum::Router::new()
        .route(
            "/hooks",
            axum::routing::post({
                let seen = seen.clone();
                move |req: Request<Body>| async move {
                    let report = req
                        .extensions()
                        .get::<ReportOnly>()
                        .map(|r| r.rejection.reason());
                    seen.lock().unwrap().push(report);
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .layer(hookwarden_tower::WebhookLayer::new(guard));
    let (status, _, _, _) =
        send(&app, request(&signed("msg_1", BODY, NOW), &b"tampered"[..])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _, _) = send(&app, request(&[], BODY)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, request(&signed("msg_1", BODY, NOW), BODY))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [Some("signature_mismatch"), Some("missing_header"), None]
    );
}

#[tokio::test]
async fn a_responder_replaces_the_rejection_reply() {
    let guard = guard()
        .with_responder(|r: &Rejection, mut reply: Reply| {
            reply.content_type = "application/json";
            reply.body = format!(r#"{{"error":"{}"}}"#, r.reason()).into();
            reply
        })
        .build()
        .unwrap();
    let app = app(guard, Handler::default());
    let (status, hdrs, _, body) = send(&app, request(&signed("msg_1", BODY, NOW), &b"x"[..])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(hdrs.get(header::CONTENT_TYPE).unwrap(), "application/json");
    assert_eq!(body, r#"{"error":"signature_mismatch"}"#);
}

#[tokio::test]
async fn a_verified_slack_challenge_is_answered_without_the_handler() {
    // Standard Webhooks signature, Slack-shaped body: the challenge is opt-in.
    let h = Handler::default();
    let app = app(
        guard().with_challenge(Challenge::Slack).build().unwrap(),
        h.clone(),
    );
    let body = br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let (status, _, outcome, text) =
        send(&app, request(&signed("msg_c", body, NOW), &body[..])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    assert_eq!(outcome, Some(Outcome::Challenge(Challenge::Slack)));
    // Unsigned, the challenge is refused like anything else.
    let (status, _, _, _) = send(&app, request(&[], &body[..])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(h.calls(), 0);
}

#[tokio::test]
async fn without_the_layer_the_extractor_says_so() {
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(|_: hookwarden_tower::VerifiedWebhook| async { "unreachable" }),
    );
    let (status, _, _, body) = send(&app, request(&[], BODY)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("WebhookLayer installed"), "{body}");
    let _ = MemoryStore::default();
}

#[tokio::test]
async fn the_json_extractor_distinguishes_syntax_from_shape() {
    #[derive(serde::Deserialize)]
    struct Event {
        #[allow(dead_code)]
        r#type: String,
    }
    let guard = guard().without_dedup().build().unwrap();
    let app = axum::Router::new()
        .route(
            "/hooks",
            axum::routing::post(
                |hookwarden_tower::Webhook(e, d): hookwarden_tower::Webhook<Event>| async move {
                    format!("{} {}", e.r#type, d.verified().scheme())
                },
            ),
        )
        .layer(hookwarden_tower::WebhookLayer::new(guard));
    let (status, _, _, body) = send(&app, request(&signed("m", BODY, NOW), BODY)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "invoice.paid standard")
    );
    let bad = b"{not json";
    let (status, _, _, _) = send(&app, request(&signed("m", bad, NOW), &bad[..])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let shape = br#"{"kind":1}"#;
    let (status, _, _, body) = send(&app, request(&signed("m", shape, NOW), &shape[..])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("missing field `type`"), "{body}");
}

#[tokio::test]
async fn an_invalid_responder_content_type_is_replaced_not_a_panic() {
    let guard = guard()
        .with_responder(|_: &Rejection, mut reply: Reply| {
            reply.content_type = "text/plain\n";
            reply
        })
        .build()
        .unwrap();
    let app = app(guard, Handler::default());
    let (status, hdrs, _, _) = send(&app, request(&[], BODY)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        hdrs.get(header::CONTENT_TYPE).unwrap(),
        "text/plain; charset=utf-8"
    );
}

#[tokio::test]
async fn a_url_signing_scheme_inside_a_nested_router_verifies_the_full_path() {
    use hookwarden_core::schemes::Square;
    let secret = "square-signature-key";
    let verifier = Verifier::builder(Square::new())
        .secret(secret)
        .build()
        .unwrap();
    let guard = Guard::builder(verifier)
        .with_public_url("https://api.example.com")
        .without_dedup()
        .build()
        .unwrap();
    let inner = axum::Router::new()
        .route("/hooks", axum::routing::post(|| async { "ok" }))
        .layer(hookwarden_tower::WebhookLayer::new(guard));
    // Square signed the URL the sender called: with the `/api` prefix.
    let app = axum::Router::new().nest("/api", inner);
    let body = br#"{"event_id":"e1"}"#;
    let input = SignInput {
        body,
        timestamp: 0,
        id: None,
        url: Some("https://api.example.com/api/hooks"),
    };
    let mut req = Request::post("/api/hooks");
    for (k, v) in sign(&Square::new(), &secret.into(), &input).unwrap() {
        req = req.header(k, v);
    }
    let (status, _, _, text) = send(&app, req.body(Body::from(&body[..])).unwrap()).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn extractors_read_a_body_the_layer_allowed_past_axums_default_limit() {
    #[derive(serde::Deserialize)]
    struct Event {
        pad: String,
    }
    // axum's `DefaultBodyLimit` is 2 MB; the layer allows 3 MiB. Ours and axum's own
    // body extractors (a 413 from axum after verification was retried for ever).
    let guard = guard()
        .with_body_limit(3 << 20)
        .without_dedup()
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route(
            "/webhook",
            axum::routing::post(
                |hookwarden_tower::Webhook(e, _): hookwarden_tower::Webhook<Event>| async move {
                    e.pad.len().to_string()
                },
            ),
        )
        .route(
            "/bytes",
            axum::routing::post(
                |_: hookwarden_tower::VerifiedWebhook, body: axum::body::Bytes| async move {
                    (body.len() - 10).to_string()
                },
            ),
        )
        .route(
            "/json",
            axum::routing::post(|axum::Json(e): axum::Json<Event>| async move {
                e.pad.len().to_string()
            }),
        )
        .layer(hookwarden_tower::WebhookLayer::new(guard));
    let pad = "x".repeat((5 << 20) / 2);
    let body = format!(r#"{{"pad":"{pad}"}}"#);
    for path in ["/webhook", "/bytes", "/json"] {
        let mut req = request(&signed("m", body.as_bytes(), NOW), body.clone());
        *req.uri_mut() = path.parse().unwrap();
        req.headers_mut()
            .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let (status, _, _, text) = send(&app, req).await;
        assert_eq!(
            (status, text),
            (StatusCode::OK, pad.len().to_string()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_inner_service_with_errors_gets_them_passed_on_and_the_claim_released() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::Layer as _;
    // A plain tower service (no axum) whose error type is not `Infallible`: it fails
    // the first call, then answers 200.
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = tower::service_fn({
        let calls = Arc::clone(&calls);
        move |_req: Request<http_body_util::Full<axum::body::Bytes>>| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err::<axum::http::Response<String>, tower::BoxError>("backend down".into())
                } else {
                    Ok(axum::http::Response::new("ok".to_owned()))
                }
            }
        }
    });
    let service = hookwarden_tower::WebhookLayer::new(guard().build().unwrap()).layer(inner);
    let headers = signed("msg_err", BODY, NOW);
    let req = || {
        let mut b = Request::post("/hooks");
        for (k, v) in &headers {
            b = b.header(k, v);
        }
        b.body(http_body_util::Full::new(axum::body::Bytes::from_static(
            BODY,
        )))
        .unwrap()
    };
    let err = service.clone().oneshot(req()).await.unwrap_err();
    assert_eq!(err.to_string(), "backend down");
    // The error released the claim: the retry runs the service again.
    let res = service.clone().oneshot(req()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // ...and completed it.
    let res = service.oneshot(req()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Each `Webhook<T>` rejection by its own status and message, the handler never run:
/// no verified delivery (report-only let an unsigned request through), a body that
/// breaks off between the layer and the handler, a body that is not JSON, and JSON
/// of another shape.
#[tokio::test]
async fn each_webhook_extractor_rejection_has_its_status_and_message() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    #[derive(serde::Deserialize)]
    struct Event {
        #[allow(dead_code)]
        r#type: String,
    }
    let ran = Arc::new(AtomicUsize::new(0));
    let app = |guard: Guard, break_body: bool| {
        let ran = Arc::clone(&ran);
        let router = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |_: hookwarden_tower::Webhook<Event>| {
                ran.fetch_add(1, Ordering::SeqCst);
                async { "handled" }
            }),
        );
        // Inside the layer: what the handler's extractor reads fails.
        let router = if break_body {
            router.layer(axum::middleware::map_request(
                |req: Request<Body>| async move {
                    let (parts, _) = req.into_parts();
                    let gone = futures_util::stream::iter([Err::<axum::body::Bytes, _>(
                        std::io::Error::other("connection reset"),
                    )]);
                    Request::from_parts(parts, Body::from_stream(gone))
                },
            ))
        } else {
            router
        };
        router.layer(hookwarden_tower::WebhookLayer::new(guard))
    };
    let report_only = app(guard().with_report_only(true).build().unwrap(), false);
    let broken = app(guard().without_dedup().build().unwrap(), true);
    let plain = app(guard().without_dedup().build().unwrap(), false);
    let not_json = b"{not json";
    let shape = br#"{"kind":1}"#;
    for (app, req, status, message) in [
        (
            &report_only,
            request(&[], BODY),
            StatusCode::INTERNAL_SERVER_ERROR,
            "no verified webhook in the request: is hookwarden's WebhookLayer installed on this route?",
        ),
        (
            &broken,
            request(&signed("m1", BODY, NOW), BODY),
            StatusCode::BAD_REQUEST,
            "webhook body could not be read: ",
        ),
        (
            &plain,
            request(&signed("m2", not_json, NOW), &not_json[..]),
            StatusCode::BAD_REQUEST,
            "webhook body is not valid JSON: ",
        ),
        (
            &plain,
            request(&signed("m3", shape, NOW), &shape[..]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook body does not match the expected type: missing field `type`",
        ),
    ] {
        let (got, _, outcome, body) = send(app, req).await;
        assert_eq!(got, status, "{body}");
        assert!(body.starts_with(message), "{body}");
        // The layer admitted it: no outcome of its own.
        assert_eq!(outcome, None);
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}
