//! axum extractors for what [`WebhookLayer`](crate::WebhookLayer) verified.

use std::fmt;

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use hookwarden_core::receive::Delivery;
use serde::de::DeserializeOwned;

/// The verified delivery's metadata (scheme, matched secret, timestamp, delivery id,
/// dedup key), put in the request extensions by the layer.
///
/// Without the layer (or, in report-only mode, for a request that failed
/// verification) it rejects with 500 and a message saying the layer is missing; use
/// `Option<VerifiedWebhook>` in report-only mode. There, the rejection the layer did
/// not enforce is a [`ReportOnly`](hookwarden_core::receive::ReportOnly) in the
/// request's extensions:
///
/// ```
/// use axum::{Extension, Router, body::Bytes, routing::post};
/// use hookwarden_core::receive::ReportOnly;
/// use hookwarden_tower::VerifiedWebhook;
///
/// async fn handle(
///     verified: Option<VerifiedWebhook>,
///     report: Option<Extension<ReportOnly>>,
///     body: Bytes,
/// ) -> &'static str {
///     if let Some(Extension(report)) = report {
///         println!("would be rejected ({}): {} bytes", report.rejection.reason(), body.len());
///     }
///     let _ = verified; // `None` when verification failed
///     "ok"
/// }
/// let app: Router = Router::new().route("/hooks", post(handle));
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedWebhook(pub Delivery);

/// The verified body deserialized as JSON into `T`, with the delivery's metadata.
///
/// Rejects with 400 when the body is not JSON, 422 when it does not fit `T`, and 500
/// when the layer is missing. In report-only mode a request that failed verification
/// carries no delivery, so this extractor answers it 500 (the handler does not run and
/// the sender sees a failure): take `Option<VerifiedWebhook>` and `axum::Json<T>`
/// while report-only is on.
///
/// ```
/// use axum::{Router, routing::post};
/// use hookwarden_tower::Webhook;
///
/// #[derive(serde::Deserialize)]
/// struct Event { r#type: String }
///
/// async fn handle(Webhook(event, _delivery): Webhook<Event>) -> String {
///     event.r#type
/// }
/// let app: Router = Router::new().route("/hooks", post(handle));
/// ```
#[derive(Debug, Clone)]
pub struct Webhook<T>(pub T, pub Delivery);

/// Why a webhook extractor failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No verified delivery in the request: the layer is not installed on this route
    /// (or report-only mode let an unverified request through). Status 500.
    LayerMissing,
    /// The body is not valid JSON. Status 400.
    InvalidJson(serde_json::Error),
    /// The JSON does not match the expected type. Status 422.
    UnexpectedJson(serde_json::Error),
    /// The body could not be read. Status 400.
    Body(axum::Error),
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LayerMissing => f.write_str(
                "no verified webhook in the request: is hookwarden's WebhookLayer installed on this route?",
            ),
            Self::InvalidJson(e) => write!(f, "webhook body is not valid JSON: {e}"),
            Self::UnexpectedJson(e) => write!(f, "webhook body does not match the expected type: {e}"),
            Self::Body(e) => write!(f, "webhook body could not be read: {e}"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidJson(e) | Self::UnexpectedJson(e) => Some(e),
            Self::Body(e) => Some(e),
            Self::LayerMissing => None,
        }
    }
}

impl WebhookRejection {
    /// The HTTP status of this rejection.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InvalidJson(_) | Self::Body(_) => StatusCode::BAD_REQUEST,
            Self::UnexpectedJson(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        // A verified delivery the handler cannot take: the claim is released and the
        // sender retries it, for days; say why where the operator looks.
        match &self {
            Self::LayerMissing => tracing::error!("{self}"),
            Self::InvalidJson(e) | Self::UnexpectedJson(e) => {
                hookwarden_core::receive::log_json_rejection(self.status().as_u16(), e);
            }
            Self::Body(_) => tracing::warn!(status = self.status().as_u16(), "{self}"),
        }
        (self.status(), self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedWebhook {
    type Rejection = WebhookRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Delivery>()
            .cloned()
            .map(Self)
            .ok_or(WebhookRejection::LayerMissing)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedWebhook {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Delivery>().cloned().map(Self))
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Webhook<T> {
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let delivery = req
            .extensions()
            .get::<Delivery>()
            .cloned()
            .ok_or(WebhookRejection::LayerMissing)?;
        // The layer bounded the body already (its own limit, which may be above axum's
        // `DefaultBodyLimit`): read it whole.
        let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .map_err(WebhookRejection::Body)?;
        let value = serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => WebhookRejection::UnexpectedJson(e),
            _ => WebhookRejection::InvalidJson(e),
        })?;
        Ok(Self(value, delivery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_json_rejection_keeps_serde_jsons_error_as_its_source() {
        let e = serde_json::from_slice::<u8>(b"x").err();
        let rejection = WebhookRejection::InvalidJson(e.expect("not JSON"));
        assert!(
            rejection
                .source()
                .is_some_and(|s| s.is::<serde_json::Error>())
        );
        assert!(WebhookRejection::LayerMissing.source().is_none());
    }

    /// As the actix crate's `WebhookError`: it goes into `anyhow::Error` or a
    /// `Box<dyn Error + Send + Sync>`.
    #[test]
    fn the_rejection_is_a_thread_safe_error() {
        fn thread_safe<E: std::error::Error + Send + Sync + 'static>() {}
        thread_safe::<WebhookRejection>();
    }
}
