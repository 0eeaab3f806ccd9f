//! The extractors and the body put back for actix's own extractors, in process
//! (`test::init_service`).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, test, web};
use common::*;
use hookwarden_actix::{VerifiedWebhook, Webhook, WebhookError, WebhookMiddleware};
use hookwarden_core::receive::{Outcome, Rejection, ReportOnly};

const BODY: &[u8] = br#"{"type":"invoice.paid"}"#;

#[derive(serde::Deserialize)]
struct Event {
    r#type: String,
}

fn request(headers: &[(String, String)], body: &[u8]) -> test::TestRequest {
    let mut tr = test::TestRequest::post()
        .uri("/hooks")
        .peer_addr(([192, 0, 2, 10], 4000).into())
        .set_payload(body.to_vec());
    for (k, v) in headers {
        tr = tr.append_header((k.as_str(), v.as_str()));
    }
    tr
}

#[actix_web::test]
async fn without_the_middleware_the_extractors_say_so() {
    let app = test::init_service(
        App::new()
            .route(
                "/hooks",
                web::post().to(|_: VerifiedWebhook| async { "unreachable" }),
            )
            .route(
                "/json",
                web::post().to(|_: Webhook<Event>| async { "unreachable" }),
            ),
    )
    .await;
    for uri in ["/hooks", "/json"] {
        let req = request(&signed("m", BODY, NOW), BODY).uri(uri).to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        let body = test::read_body(res).await;
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("WebhookMiddleware installed"),
            "{uri}: {body}"
        );
    }
}

#[actix_web::test]
async fn the_json_extractor_distinguishes_syntax_from_shape() {
    let app = test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(
                    guard().without_dedup().build().unwrap(),
                ))
                .route(web::post().to(|Webhook(e, d): Webhook<Event>| async move {
                    format!("{} {}", e.r#type, d.verified().scheme())
                })),
        ),
    )
    .await;
    let send = |body: &'static [u8]| request(&signed("m", body, NOW), body).to_request();
    let res = test::call_service(&app, send(BODY)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, "invoice.paid standard");
    let res = test::call_service(&app, send(b"{not json")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = test::call_service(&app, send(br#"{"kind":1}"#)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/plain; charset=utf-8"
    );
    let body = test::read_body(res).await;
    assert!(
        String::from_utf8_lossy(&body).contains("missing field `type`"),
        "{body:?}"
    );
}

#[actix_web::test]
async fn the_verified_body_is_put_back_for_actix_extractors() {
    #[derive(serde::Deserialize)]
    struct Json {
        r#type: String,
    }
    let app = test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::from(
                    guard().without_dedup().build().unwrap(),
                ))
                .route(
                    web::post().to(|v: VerifiedWebhook, json: web::Json<Json>| async move {
                        format!("{} {:?}", json.r#type, v.0.verified().delivery_id())
                    }),
                ),
        ),
    )
    .await;
    let req = request(&signed("msg_j", BODY, NOW), BODY)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, r#"invoice.paid Some("msg_j")"#);
}

#[actix_web::test]
async fn rejections_carry_the_outcome_and_a_short_generic_body() {
    let app = test::init_service(
        App::new().configure(routes(guard().build().unwrap(), Handler::default())),
    )
    .await;
    let req = request(&signed("m", BODY, NOW), b"{}").to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let outcome = res.response().extensions().get::<Outcome>().cloned();
    assert!(
        matches!(&outcome, Some(Outcome::Rejected(Rejection::Verify(e))) if e.kind() == hookwarden_core::ErrorKind::SignatureMismatch),
        "{outcome:?}"
    );
    assert_eq!(test::read_body(res).await, "unauthorized\n");
}

#[actix_web::test]
async fn forwarded_headers_count_only_from_a_trusted_peer() {
    let h = Handler::default();
    let g = guard()
        .with_allowed_ips(["203.0.113.0/24"])
        .with_trusted_proxies(["10.0.0.0/8"])
        .build()
        .unwrap();
    let app = test::init_service(App::new().configure(routes(g, h.clone()))).await;
    let send = |peer: [u8; 4], id: &str| {
        request(&signed(id, BODY, NOW), BODY)
            .peer_addr((peer, 4000).into())
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .to_request()
    };
    let res = test::call_service(&app, send([198, 51, 100, 1], "m1")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = test::call_service(&app, send([10, 1, 2, 3], "m2")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(h.calls(), 1);
}

#[actix_web::test]
async fn report_only_puts_the_finding_in_the_extensions() {
    let app = test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(
                    guard().with_report_only(true).build().unwrap(),
                ))
                .route(
                    web::post().to(|req: HttpRequest, v: Option<VerifiedWebhook>| async move {
                        let report = req
                            .extensions()
                            .get::<ReportOnly>()
                            .map(|r| r.rejection.reason());
                        HttpResponse::Ok().body(format!("{report:?} {}", v.is_some()))
                    }),
                ),
        ),
    )
    .await;
    let res = test::call_service(&app, request(&[], BODY).to_request()).await;
    assert_eq!(
        test::read_body(res).await,
        r#"Some("missing_header") false"#
    );
    let res = test::call_service(&app, request(&signed("m", BODY, NOW), BODY).to_request()).await;
    assert_eq!(test::read_body(res).await, "None true");
}

#[actix_web::test]
async fn extractor_errors_map_to_statuses() {
    use actix_web::ResponseError;
    assert_eq!(
        WebhookError::MiddlewareMissing.status_code(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let res = WebhookError::MiddlewareMissing.error_response();
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/plain; charset=utf-8"
    );
}

/// The extractors' error can go where any error goes: `anyhow::Error`, `Box<dyn Error +
/// Send + Sync>`, another thread. It held an `actix_web::Error` (neither `Send` nor
/// `Sync`), and its body error was not its `source()` (the tower crate's is).
#[actix_web::test]
async fn the_extractor_error_is_a_send_sync_error_with_its_cause() {
    use std::error::Error;
    fn a_thread_safe_error<E: Error + Send + Sync + 'static>(e: E) -> Box<dyn Error + Send + Sync> {
        Box::new(e)
    }
    let e = a_thread_safe_error(WebhookError::Body(
        actix_web::error::PayloadError::Incomplete(None),
    ));
    assert!(
        e.source()
            .is_some_and(|s| s.is::<actix_web::error::PayloadError>()),
        "{e:?}"
    );
    let json = serde_json::from_slice::<u8>(b"x").unwrap_err();
    assert!(
        a_thread_safe_error(WebhookError::InvalidJson(json))
            .source()
            .is_some()
    );
    assert!(
        a_thread_safe_error(WebhookError::MiddlewareMissing)
            .source()
            .is_none()
    );
}

#[actix_web::test]
async fn an_invalid_responder_content_type_is_replaced_not_a_panic() {
    use hookwarden_core::receive::Reply;
    let g = guard()
        .with_responder(|_: &Rejection, mut reply: Reply| {
            reply.content_type = "text/plain\n";
            reply
        })
        .build()
        .unwrap();
    let app = test::init_service(App::new().configure(routes(g, Handler::default()))).await;
    let res = test::call_service(&app, request(&[], BODY).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/plain; charset=utf-8"
    );
}

/// A verified delivery over actix's `PayloadConfig` default (256 KiB) but within the
/// guard's limit (1 MiB by default) reaches a `web::Bytes` handler whole: it was
/// refused with 413 by the extractor after verification, on every retry.
#[actix_web::test]
async fn web_bytes_takes_a_verified_body_up_to_the_guard_limit() {
    let h = Handler::default();
    let app =
        test::init_service(App::new().configure(routes(guard().build().unwrap(), h.clone()))).await;
    let body = vec![b'x'; 512 * 1024];
    let req = request(&signed("msg_big", &body, NOW), &body).to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, "msg_big 524288");
    assert_eq!(h.successes(), 1);
}

/// The same for `web::Json` (`JsonConfig`, 2 MB by default) under a guard that allows
/// 3 MiB; `Webhook<T>` was never subject to either.
#[actix_web::test]
async fn web_json_takes_a_verified_body_up_to_the_guard_limit() {
    #[derive(serde::Deserialize)]
    struct Pad {
        pad: String,
    }
    let app = test::init_service(
        App::new().service(
            web::scope("")
                .wrap(WebhookMiddleware::new(
                    guard()
                        .with_body_limit(3 << 20)
                        .without_dedup()
                        .build()
                        .unwrap(),
                ))
                .route(
                    "/json",
                    web::post()
                        .to(|json: web::Json<Pad>| async move { json.pad.len().to_string() }),
                )
                .route(
                    "/typed",
                    web::post().to(|Webhook(json, _): Webhook<Pad>| async move {
                        json.pad.len().to_string()
                    }),
                ),
        ),
    )
    .await;
    let pad = "x".repeat((5 << 20) / 2);
    let body = format!(r#"{{"pad":"{pad}"}}"#);
    for uri in ["/json", "/typed"] {
        let req = request(&signed("m", body.as_bytes(), NOW), body.as_bytes())
            .uri(uri)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        assert_eq!(test::read_body(res).await, pad.len().to_string(), "{uri}");
    }
}

/// A `PayloadConfig` or `JsonConfig` of the application's own (as itself or as
/// `web::Data`, on the app, scope or resource around the middleware, or on a resource
/// inside it, which the middleware does not see) is its choice: the middleware does not replace it, even when it is below
/// the guard's limit.
#[actix_web::test]
async fn an_apps_own_payload_and_json_configs_still_apply() {
    let body = format!(r#"{{"type":"{}"}}"#, "x".repeat(2 * 1024));
    let app = |config: &str| {
        let scope = web::scope("")
            .wrap(WebhookMiddleware::from(
                guard()
                    .with_body_limit(3 << 20)
                    .without_dedup()
                    .build()
                    .unwrap(),
            ))
            .route(
                "/bytes",
                web::post().to(|b: web::Bytes| async move { b.len().to_string() }),
            )
            .route(
                "/json",
                web::post().to(|e: web::Json<Event>| async move { e.r#type.len().to_string() }),
            )
            .route(
                "/typed",
                web::post()
                    .to(|Webhook(e, _): Webhook<Event>| async move { e.r#type.len().to_string() }),
            )
            .service(
                web::resource("/inner")
                    .app_data(web::PayloadConfig::new(1024))
                    .route(web::post().to(|b: web::Bytes| async move { b.len().to_string() })),
            )
            .service(
                web::resource("/inner-data")
                    .app_data(web::Data::new(web::PayloadConfig::new(1024)))
                    .route(web::post().to(|b: web::Bytes| async move { b.len().to_string() })),
            );
        match config {
            "app payload" => App::new()
                .app_data(web::PayloadConfig::new(1024))
                .service(scope),
            "app data payload" => App::new()
                .app_data(web::Data::new(web::PayloadConfig::new(1024)))
                .service(scope),
            "scope payload" => App::new().service(scope.app_data(web::PayloadConfig::new(1024))),
            "app json" => App::new()
                .app_data(web::JsonConfig::default().limit(1024))
                .service(scope),
            "app data json" => App::new()
                .app_data(web::Data::new(web::JsonConfig::default().limit(1024)))
                .service(scope),
            other => unreachable!("{other}"),
        }
    };
    for (config, refused, taken) in [
        ("app payload", "/bytes", "/json"),
        ("app data payload", "/bytes", "/json"),
        ("scope payload", "/bytes", "/json"),
        ("app json", "/json", "/bytes"),
        ("app data json", "/json", "/bytes"),
    ] {
        let service = test::init_service(app(config)).await;
        for (uri, status) in [
            (refused, StatusCode::PAYLOAD_TOO_LARGE),
            (taken, StatusCode::OK),
            ("/typed", StatusCode::OK),
            ("/inner", StatusCode::PAYLOAD_TOO_LARGE),
            ("/inner-data", StatusCode::PAYLOAD_TOO_LARGE),
        ] {
            let req = request(&signed("m", body.as_bytes(), NOW), body.as_bytes())
                .uri(uri)
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .to_request();
            let res = test::call_service(&service, req).await;
            assert_eq!(res.status(), status, "{uri} with {config}");
        }
    }
}

/// What a subscriber wrote, as text.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A verified delivery the handler's `Webhook<T>` cannot take (422) is released and
/// retried by the sender: the operator must see why, above debug level.
#[actix_web::test]
async fn a_verified_delivery_webhook_t_refuses_is_logged_as_a_warning() {
    #[derive(serde::Deserialize)]
    struct Numbered {
        #[allow(dead_code)]
        id: u64,
    }
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let app = test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(guard().build().unwrap()))
                .route(web::post().to(|_: Webhook<Numbered>| async { "unreachable" })),
        ),
    )
    .await;
    // serde's message quotes the value: kept out of the warning (it is delivery data).
    let body = br#"{"id":"alice@example.com"}"#;
    let req = request(&signed("m422", body, NOW), body).to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("WARN") && l.contains("status=422") && l.contains("line=1")),
        "{text}"
    );
    assert!(!text.contains("alice"), "{text}");
}

/// A signed body can carry text its provider took from a user (an issue title, a
/// message). serde's message quotes such values as they are: the debug line that
/// logs it must not let them write raw line breaks or escape sequences into the log,
/// with the fmt subscriber the example receivers configure (`hookwarden_core=debug`).
#[actix_web::test]
async fn the_debug_line_of_a_json_rejection_cannot_forge_log_lines() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    enum Kind {
        Paid,
    }
    #[derive(serde::Deserialize)]
    struct Typed {
        #[allow(dead_code)]
        kind: Kind,
    }
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let app = test::init_service(
        App::new().service(
            web::resource("/hooks")
                .wrap(WebhookMiddleware::new(guard().build().unwrap()))
                .route(web::post().to(|_: Webhook<Typed>| async { "unreachable" })),
        ),
    )
    .await;
    let body = br#"{"kind":"x\u001b[2K\n2025-01-01T00:00:00Z  INFO forged: webhook processed"}"#;
    let req = request(&signed("m_inj", body, NOW), body).to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("unknown variant"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.lines().all(|l| !l.starts_with("2025-01-01")),
        "a forged line: {text:?}"
    );
}

/// Each `Webhook<T>` error by its own status and message, the handler never run: no
/// verified delivery (report-only let an unsigned request through), a body that breaks
/// off between the middleware and the handler, a body that is not JSON, and JSON of
/// another shape.
#[actix_web::test]
async fn each_webhook_extractor_error_has_its_status_and_message() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use actix_web::dev::Service as _;
    let ran = Arc::new(AtomicUsize::new(0));
    let handler = {
        let ran = Arc::clone(&ran);
        move |_: Webhook<Event>| {
            ran.fetch_add(1, Ordering::SeqCst);
            async { "handled" }
        }
    };
    let app = test::init_service(
        App::new()
            .service(
                web::resource("/report")
                    .wrap(WebhookMiddleware::new(
                        guard().with_report_only(true).build().unwrap(),
                    ))
                    .route(web::post().to(handler.clone())),
            )
            .service(
                web::resource("/broken")
                    // Inside the middleware: what the handler's extractor reads fails.
                    .wrap_fn(|mut req, srv| {
                        let gone = futures_util::stream::iter([Err(
                            actix_web::error::PayloadError::Incomplete(None),
                        )]);
                        req.set_payload(actix_web::dev::Payload::Stream {
                            payload: Box::pin(gone),
                        });
                        srv.call(req)
                    })
                    .wrap(WebhookMiddleware::new(
                        guard().without_dedup().build().unwrap(),
                    ))
                    .route(web::post().to(handler.clone())),
            )
            .service(
                web::resource("/hooks")
                    .wrap(WebhookMiddleware::new(
                        guard().without_dedup().build().unwrap(),
                    ))
                    .route(web::post().to(handler)),
            ),
    )
    .await;
    let not_json: &[u8] = b"{not json";
    let shape: &[u8] = br#"{"kind":1}"#;
    for (req, status, message) in [
        (
            request(&[], BODY).uri("/report"),
            StatusCode::INTERNAL_SERVER_ERROR,
            "no verified webhook in the request: is hookwarden's WebhookMiddleware installed on this route?",
        ),
        (
            request(&signed("m1", BODY, NOW), BODY).uri("/broken"),
            StatusCode::BAD_REQUEST,
            "webhook body could not be read: ",
        ),
        (
            request(&signed("m2", not_json, NOW), not_json),
            StatusCode::BAD_REQUEST,
            "webhook body is not valid JSON: ",
        ),
        (
            request(&signed("m3", shape, NOW), shape),
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook body does not match the expected type: missing field `type`",
        ),
    ] {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/plain; charset=utf-8"
        );
        let body = test::read_body(res).await;
        let body = String::from_utf8_lossy(&body);
        assert!(body.starts_with(message), "{body}");
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}
