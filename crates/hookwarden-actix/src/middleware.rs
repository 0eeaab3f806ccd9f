//! [`WebhookMiddleware`] and its service.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{
    Extensions, Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use actix_web::http::header;
use actix_web::{Error, HttpMessage, web};
use futures_util::StreamExt as _;
use hookwarden_core::dedup::{DedupStore, MemoryStore};
use hookwarden_core::receive::{Admission, Checked, Guard, Head, Prechecked, Rejection, Reply};

use crate::headers::ActixHeaders;
use crate::response::reply_to_response;

/// The actix-web middleware: applies a [`Guard`] to every request of the wrapped
/// service (`App::wrap`, `Scope::wrap`, `Resource::wrap`).
///
/// All options (secrets, tolerance, body limit, dedup store, allowlist, trusted
/// proxies, challenges, report-only, responder) are set on the guard's builder, shared
/// with the tower layer: the same guard behaves the same behind either.
///
/// ```
/// use actix_web::{App, web};
/// use hookwarden_actix::{VerifiedWebhook, WebhookMiddleware};
/// use hookwarden_core::{receive::Guard, schemes::Github, Verifier};
///
/// async fn handler(VerifiedWebhook(delivery): VerifiedWebhook, body: web::Bytes) -> &'static str {
///     println!("{:?}: {} bytes", delivery.verified().delivery_id(), body.len());
///     "ok"
/// }
///
/// let verifier = Verifier::builder(Github::new()).secret("It's a Secret to Everybody").build()?;
/// let guard = Guard::builder(verifier).build()?;
/// let app = App::new().service(
///     web::resource("/hooks/github")
///         .wrap(WebhookMiddleware::new(guard))
///         .route(web::post().to(handler)),
/// );
/// # drop(app);
/// # Ok::<(), hookwarden_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct WebhookMiddleware<D: DedupStore = MemoryStore> {
    guard: Guard<D>,
}

impl<D: DedupStore> Clone for WebhookMiddleware<D> {
    fn clone(&self) -> Self {
        Self {
            guard: self.guard.clone(),
        }
    }
}

impl<D: DedupStore> WebhookMiddleware<D> {
    /// A middleware enforcing `guard`.
    #[must_use]
    pub fn new(guard: Guard<D>) -> Self {
        Self { guard }
    }

    /// The guard.
    #[must_use]
    pub fn guard(&self) -> &Guard<D> {
        &self.guard
    }
}

impl<D: DedupStore> From<Guard<D>> for WebhookMiddleware<D> {
    fn from(guard: Guard<D>) -> Self {
        Self::new(guard)
    }
}

impl<S, B, D> Transform<S, ServiceRequest> for WebhookMiddleware<D>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    D: DedupStore,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = WebhookMiddlewareService<S, D>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WebhookMiddlewareService {
            service: Rc::new(service),
            limits: ExtractorLimits::new(self.guard.body_limit()),
            guard: self.guard.clone(),
        }))
    }
}

/// actix-web's `PayloadConfig` limit when the app sets none (`web::Bytes`, `String`);
/// actix-web does not export it.
const ACTIX_PAYLOAD_DEFAULT_LIMIT: usize = 262_144;
/// actix-web's `JsonConfig` limit when the app sets none (`web::Json`).
const ACTIX_JSON_DEFAULT_LIMIT: usize = 2_097_152;

/// actix-web's extractor configs at the guard's body limit, for the requests whose app
/// sets none of its own: the body is in memory and within the guard's limit, so
/// `web::Bytes`, `String` and `web::Json` must not refuse it by their own default after
/// verification (every retry would meet the same 413). Built once per service.
#[derive(Debug)]
struct ExtractorLimits {
    /// The configs whose default is below the guard's limit (bit 0: `PayloadConfig`,
    /// bit 1: `JsonConfig`).
    raised: usize,
    /// The container for each set of configs the app lacks, by the same bits.
    containers: [Option<Rc<Extensions>>; 4],
}

impl ExtractorLimits {
    const PAYLOAD: usize = 1;
    const JSON: usize = 2;

    fn new(limit: usize) -> Self {
        let mut raised = 0;
        if limit > ACTIX_PAYLOAD_DEFAULT_LIMIT {
            raised |= Self::PAYLOAD;
        }
        if limit > ACTIX_JSON_DEFAULT_LIMIT {
            raised |= Self::JSON;
        }
        let containers = std::array::from_fn(|missing| {
            let missing = missing & raised;
            (missing != 0).then(|| {
                let mut configs = Extensions::new();
                if missing & Self::PAYLOAD != 0 {
                    configs.insert(web::Data::new(web::PayloadConfig::new(limit)));
                }
                if missing & Self::JSON != 0 {
                    configs.insert(web::Data::new(web::JsonConfig::default().limit(limit)));
                }
                Rc::new(configs)
            })
        });
        Self { raised, containers }
    }

    /// Gives `req` the configs its app does not set (as itself or as `web::Data`, which
    /// is what the extractors read): the app's own always apply. The middleware sees the
    /// app's, scope's and resource's data around it, not a nested scope's or resource's
    /// inside it, added later: ours are `web::Data`, which the extractors look for after
    /// a config itself (anywhere) and in the containers added last first, so a config
    /// set inside the middleware, in either form, comes before ours.
    fn apply(&self, req: &mut ServiceRequest) {
        if self.raised == 0 {
            return;
        }
        let mut missing = 0;
        if self.raised & Self::PAYLOAD != 0 && !configured::<web::PayloadConfig>(req) {
            missing |= Self::PAYLOAD;
        }
        if self.raised & Self::JSON != 0 && !configured::<web::JsonConfig>(req) {
            missing |= Self::JSON;
        }
        if let Some(configs) = &self.containers[missing] {
            req.add_data_container(Rc::clone(configs));
        }
    }
}

/// Whether the app sets config `T` (as actix-web's extractors look it up).
fn configured<T: 'static>(req: &ServiceRequest) -> bool {
    req.app_data::<T>().is_some() || req.app_data::<web::Data<T>>().is_some()
}

/// The service built by [`WebhookMiddleware`].
#[derive(Debug)]
pub struct WebhookMiddlewareService<S, D: DedupStore = MemoryStore> {
    service: Rc<S>,
    guard: Guard<D>,
    limits: ExtractorLimits,
}

/// The response future of [`WebhookMiddlewareService`] (not `Send`, like actix-web's
/// own).
pub type ResponseFuture<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>>>>;

fn respond<B>(req: ServiceRequest, reply: Reply) -> ServiceResponse<EitherBody<B>> {
    req.into_response(reply_to_response(reply, None))
        .map_into_right_body()
}

/// `reply` to a request whose body was not read to its end: the connection is closed
/// after the reply rather than kept alive by draining the rest of the body.
fn respond_unread<B>(
    req: ServiceRequest,
    reply: Reply,
    payload: Payload,
) -> ServiceResponse<EitherBody<B>> {
    req.into_response(reply_to_response(reply, Some(payload)))
        .map_into_right_body()
}

impl<S, B, D> Service<ServiceRequest> for WebhookMiddlewareService<S, D>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    D: DedupStore,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<B>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        // Here rather than in the future, which stays as small; a request refused below
        // never reaches an extractor.
        self.limits.apply(&mut req);
        let service = Rc::clone(&self.service);
        let guard = self.guard.clone();
        Box::pin(async move {
            // The connection's peer, never a forwarded header: those are believed only
            // from the guard's trusted proxies.
            let peer = req.peer_addr().map(|addr| addr.ip());
            let content_length = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            // The parsed headers, the body buffer and the rest of the check live in
            // this block only: the boxed future is sized by its largest step.
            let (bytes, checked) = {
                // Taken (not read) first: the parsed signature headers borrow the
                // request across the body's await.
                let mut payload = req.take_payload();
                let headers = ActixHeaders(req.headers());
                let head = Head {
                    headers: &headers,
                    peer,
                    content_length,
                };
                let mut prechecked = Prechecked::default();
                if let Err(reply) = guard.precheck(&head, &mut prechecked) {
                    return Ok(respond_unread(req, reply, payload));
                }
                // A hard limit counted while streaming (the guard's `BodyBuffer`): holds
                // for chunked bodies too; a body received in one chunk is kept without a
                // copy.
                let mut buffer = guard.body_buffer();
                let read = async {
                    while let Some(chunk) = payload.next().await {
                        buffer.push(chunk.map_err(|_| Rejection::BodyUnreadable)?)?;
                    }
                    Ok(())
                };
                // Within the guard's body timeout, when it has one.
                let read = match guard.body_timeout() {
                    None => read.await,
                    Some(limit) => actix_web::rt::time::timeout(limit, read)
                        .await
                        .unwrap_or(Err(Rejection::BodyTimeout)),
                };
                if let Err(rejection) = read {
                    return Ok(respond_unread(req, guard.reject(rejection), payload));
                }
                let bytes = buffer.finish();
                let target = req.uri().path_and_query().map(|pq| pq.as_str());
                match guard.check(&head, &prechecked, &bytes, target) {
                    Checked::Verified(checked) => (bytes, checked),
                    Checked::Respond(reply) => return Ok(respond(req, reply)),
                }
            };
            let mut admitted = match guard.claim(checked).await {
                Admission::Proceed(admitted) => admitted,
                Admission::Respond(reply) => return Ok(respond(req, reply)),
            };
            if let Some(delivery) = admitted.take_delivery() {
                req.extensions_mut().insert(delivery);
            }
            if let Some(report) = admitted.take_report() {
                req.extensions_mut().insert(report);
            }
            // The verified bytes, put back for `web::Bytes`, `web::Json`, ...
            req.set_payload(Payload::from(bytes));
            // A panic in the handler unwinds through here and drops `admitted`, whose
            // claim guard releases the key; so does dropping this future (and
            // dropping it while `finish` waits for the store settles the claim from
            // the guard's destructor).
            match service.call(req).await {
                Ok(res) => {
                    admitted.finish(res.status().as_u16()).await;
                    Ok(res.map_into_left_body())
                }
                Err(e) => {
                    // An error is never a success: release the claim for the retry,
                    // whatever status the error would be rendered with.
                    admitted
                        .finish(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR.as_u16())
                        .await;
                    Err(e)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::HttpResponse;
    use actix_web::dev::fn_service;
    use actix_web::test::TestRequest;
    use hookwarden_core::Verifier;
    use hookwarden_core::schemes::StandardWebhooks;

    use super::*;

    /// Bytes held per request in flight: each step's state is dropped before the
    /// next step's (the parsed headers and the body buffer before the claim; the
    /// admission's future holds the claim only). With every step's state kept to the
    /// end, this future was 3,040 bytes (now 1,376, by `-Zprint-type-sizes`).
    #[test]
    fn the_response_future_is_sized_by_its_largest_step() {
        let verifier = Verifier::builder(StandardWebhooks::new())
            .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .build()
            .expect("verifier");
        let guard = Guard::builder(verifier).build().expect("guard");
        let inner = fn_service(|req: ServiceRequest| async {
            Ok::<_, Error>(req.into_response(HttpResponse::Ok().finish()))
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let service = runtime
            .block_on(WebhookMiddleware::new(guard).new_transform(inner))
            .expect("middleware");
        let future = service.call(TestRequest::post().to_srv_request());
        let size = std::mem::size_of_val(&*future);
        assert!(size <= 2_048, "response future: {size} bytes");
    }
}
