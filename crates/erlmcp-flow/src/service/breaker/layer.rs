use tower::Layer;

use super::CircuitBreakerService;
use crate::breaker::CircuitBreaker;

/// Wraps services in a [`CircuitBreakerService`] sharing one [`CircuitBreaker`].
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    breaker: CircuitBreaker,
}

impl CircuitBreakerLayer {
    /// Every service this layer wraps reports to `breaker`.
    pub fn new(breaker: CircuitBreaker) -> Self {
        CircuitBreakerLayer { breaker }
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreakerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, self.breaker.clone())
    }
}
