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

/// As documented: actix's own `PayloadConfig` (256 KiB by default) still limits
/// `web::Bytes` behind the middleware, `Webhook<T>` is not subject to it, and raising
/// `PayloadConfig` to the guard's limit lets `web::Bytes` take the body.
#[actix_web::test]
async fn payload_config_still_limits_web_bytes_but_not_the_json_extractor() {
    let body = format!(r#"{{"type":"{}"}}"#, "x".repeat(300 * 1024));
    let app = |payload: Option<usize>| {
        let mut app = App::new().service(
            web::scope("")
                .wrap(WebhookMiddleware::from(
                    guard().without_dedup().build().unwrap(),
                ))
                .route(
                    "/bytes",
                    web::post().to(|b: web::Bytes| async move { b.len().to_string() }),
                )
                .route(
                    "/typed",
                    web::post().to(|Webhook(e, _): Webhook<Event>| async move {
                        e.r#type.len().to_string()
                    }),
                ),
        );
        if let Some(limit) = payload {
            app = app.app_data(web::PayloadConfig::new(limit));
        }
        app
    };
    for (payload, uri, status) in [
        (None, "/bytes", StatusCode::PAYLOAD_TOO_LARGE),
        (None, "/typed", StatusCode::OK),
        (Some(1 << 20), "/bytes", StatusCode::OK),
    ] {
        let service = test::init_service(app(payload)).await;
        let req = request(&signed("m", body.as_bytes(), NOW), body.as_bytes())
            .uri(uri)
            .to_request();
        let res = test::call_service(&service, req).await;
        assert_eq!(res.status(), status, "{uri} with PayloadConfig {payload:?}");
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
