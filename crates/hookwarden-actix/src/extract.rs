//! actix-web extractors for what [`WebhookMiddleware`](crate::WebhookMiddleware)
//! verified, and their error.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::body::{BodyStream, to_bytes};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use hookwarden_core::receive::Delivery;
use serde::de::DeserializeOwned;

/// The verified delivery's metadata (scheme, matched secret, timestamp, delivery id,
/// dedup key), put in the request extensions by the middleware.
///
/// Without the middleware (or, in report-only mode, for a request that failed
/// verification) it fails with [`WebhookError::MiddlewareMissing`] (500); use
/// `Option<VerifiedWebhook>` in report-only mode. There, the rejection the middleware
/// did not enforce is a [`ReportOnly`](hookwarden_core::receive::ReportOnly) in the
/// request's extensions (`web::ReqData`).
///
/// ```
/// use actix_web::web;
/// use hookwarden_actix::VerifiedWebhook;
/// use hookwarden_core::receive::ReportOnly;
///
/// async fn handle(VerifiedWebhook(delivery): VerifiedWebhook, body: web::Bytes) -> String {
///     format!("{} {}", delivery.verified().scheme(), body.len())
/// }
///
/// // In report-only mode:
/// async fn report(
///     verified: Option<VerifiedWebhook>,
///     report: Option<web::ReqData<ReportOnly>>,
///     body: web::Bytes,
/// ) -> &'static str {
///     if let Some(report) = report {
///         println!("would be rejected ({}): {} bytes", report.rejection.reason(), body.len());
///     }
///     let _ = verified; // `None` when verification failed
///     "ok"
/// }
/// # let _ = (web::post().to(handle), web::post().to(report));
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedWebhook(pub Delivery);

/// The verified body deserialized as JSON into `T`, with the delivery's metadata.
///
/// Fails with 400 when the body is not JSON, 422 when it does not fit `T`, and 500 when
/// the middleware is missing. The body is the one the middleware already read within
/// the guard's limit; actix-web's `JsonConfig` and `PayloadConfig` limits do not apply.
///
/// ```
/// use actix_web::web;
/// use hookwarden_actix::Webhook;
///
/// #[derive(serde::Deserialize)]
/// struct Event { r#type: String }
///
/// async fn handle(Webhook(event, _delivery): Webhook<Event>) -> String {
///     event.r#type
/// }
/// # let _ = web::post().to(handle);
/// ```
#[derive(Debug, Clone)]
pub struct Webhook<T>(pub T, pub Delivery);

/// Why a webhook extractor failed. Rendered as a short `text/plain` response by
/// [`ResponseError`].
///
/// A `std::error::Error + Send + Sync + 'static` (it goes into `anyhow::Error` or a
/// `Box<dyn Error + Send + Sync>`), whose [`source`](std::error::Error::source) is
/// serde's or actix's error when it wraps one.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// No verified delivery in the request: the middleware is not installed on this
    /// route (or report-only mode let an unverified request through). Status 500.
    MiddlewareMissing,
    /// The body is not valid JSON. Status 400.
    InvalidJson(serde_json::Error),
    /// The JSON does not match the expected type. Status 422.
    UnexpectedJson(serde_json::Error),
    /// The body could not be read. Status 400.
    Body(PayloadError),
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MiddlewareMissing => f.write_str(
                "no verified webhook in the request: is hookwarden's WebhookMiddleware installed on this route?",
            ),
            Self::InvalidJson(e) => write!(f, "webhook body is not valid JSON: {e}"),
            Self::UnexpectedJson(e) => {
                write!(f, "webhook body does not match the expected type: {e}")
            }
            Self::Body(e) => write!(f, "webhook body could not be read: {e}"),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidJson(e) | Self::UnexpectedJson(e) => Some(e),
            Self::Body(e) => Some(e),
            Self::MiddlewareMissing => None,
        }
    }
}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MiddlewareMissing => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InvalidJson(_) | Self::Body(_) => StatusCode::BAD_REQUEST,
            Self::UnexpectedJson(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // A verified delivery the handler cannot take: the claim is released and the
        // sender retries it, for days; say why where the operator looks.
        match self {
            Self::MiddlewareMissing => tracing::error!("{self}"),
            Self::InvalidJson(e) | Self::UnexpectedJson(e) => {
                hookwarden_core::receive::log_json_rejection(self.status_code().as_u16(), e);
            }
            Self::Body(_) => tracing::warn!(status = self.status_code().as_u16(), "{self}"),
        }
        let mut res = HttpResponse::with_body(self.status_code(), self.to_string());
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res.map_into_boxed_body()
    }
}

fn delivery(req: &HttpRequest) -> Result<Delivery, WebhookError> {
    req.extensions()
        .get::<Delivery>()
        .cloned()
        .ok_or(WebhookError::MiddlewareMissing)
}

impl FromRequest for VerifiedWebhook {
    type Error = WebhookError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(delivery(req).map(Self))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Webhook<T> {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let delivery = delivery(req);
        let payload = payload.take();
        Box::pin(async move {
            // Checked first: without the middleware the body is not read at all.
            let delivery = delivery?;
            // The middleware put back the bytes it read within the guard's limit.
            let bytes = to_bytes(BodyStream::new(payload))
                .await
                .map_err(WebhookError::Body)?;
            let value = serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
                serde_json::error::Category::Data => WebhookError::UnexpectedJson(e),
                _ => WebhookError::InvalidJson(e),
            })?;
            Ok(Self(value, delivery))
        })
    }
}
