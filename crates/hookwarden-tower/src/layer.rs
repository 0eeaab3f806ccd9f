//! [`WebhookLayer`].

use hookwarden_core::dedup::{DedupStore, MemoryStore};
use hookwarden_core::receive::Guard;
use tower_layer::Layer;

use crate::service::WebhookService;

/// Applies a [`Guard`] to every request of the wrapped service. All options (secrets,
/// tolerance, body limit, dedup store, allowlist, challenges, report-only, responder)
/// are set on the guard's builder, shared with the actix-web middleware.
#[derive(Debug)]
pub struct WebhookLayer<D: DedupStore = MemoryStore> {
    guard: Guard<D>,
}

impl<D: DedupStore> Clone for WebhookLayer<D> {
    fn clone(&self) -> Self {
        Self {
            guard: self.guard.clone(),
        }
    }
}

impl<D: DedupStore> WebhookLayer<D> {
    /// A layer enforcing `guard`.
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

impl<D: DedupStore> From<Guard<D>> for WebhookLayer<D> {
    fn from(guard: Guard<D>) -> Self {
        Self::new(guard)
    }
}

impl<S, D: DedupStore> Layer<S> for WebhookLayer<D> {
    type Service = WebhookService<S, D>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService::new(inner, self.guard.clone())
    }
}
