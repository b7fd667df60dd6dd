use std::task::{Context, Poll};

use tower::{BoxError, Service};

use super::future::ResponseFuture;
use crate::breaker::{CircuitBreaker, Permit};
use crate::error::FlowError;

/// A service behind a circuit breaker.
///
/// `poll_ready` asks the breaker first: when it refuses, the service is ready at once and
/// the next call fails with [`FlowError::CircuitOpen`] without touching the inner service.
/// Otherwise the permit is held until the call's response future finishes.
#[derive(Debug)]
pub struct CircuitBreakerService<S> {
    inner: S,
    breaker: CircuitBreaker,
    permit: Option<Permit>,
    refused: Option<FlowError>,
}

impl<S> CircuitBreakerService<S> {
    /// Wraps `inner`; outcomes are reported to `breaker`.
    pub fn new(inner: S, breaker: CircuitBreaker) -> Self {
        CircuitBreakerService {
            inner,
            breaker,
            permit: None,
            refused: None,
        }
    }

    /// The breaker this service reports to.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Request> Service<Request> for CircuitBreakerService<S>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.refused.is_some() {
            return Poll::Ready(Ok(()));
        }
        if self.permit.is_none() {
            match self.breaker.acquire() {
                Ok(permit) => self.permit = Some(permit),
                Err(refused) => {
                    self.refused = Some(refused);
                    return Poll::Ready(Ok(()));
                }
            }
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(Err(err)) => {
                if let Some(permit) = self.permit.take() {
                    permit.failure();
                }
                Poll::Ready(Err(err.into()))
            }
            other => other.map_err(Into::into),
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if let Some(refused) = self.refused.take() {
            return ResponseFuture::refused(refused);
        }
        // Called without `poll_ready`: ask the breaker now rather than panic.
        let permit = match self.permit.take() {
            Some(permit) => permit,
            None => match self.breaker.acquire() {
                Ok(permit) => permit,
                Err(refused) => return ResponseFuture::refused(refused),
            },
        };
        ResponseFuture::called(self.inner.call(request), permit)
    }
}

impl<S: Clone> Clone for CircuitBreakerService<S> {
    fn clone(&self) -> Self {
        CircuitBreakerService {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            permit: None,
            refused: None,
        }
    }
}
