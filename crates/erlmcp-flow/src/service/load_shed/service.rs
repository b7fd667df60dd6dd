use std::task::{Context, Poll};

use tower::{BoxError, Service};

use super::future::ResponseFuture;
use crate::budget::MemoryBudget;

/// A service that refuses calls with [`FlowError::Overloaded`](crate::FlowError::Overloaded)
/// while a [`MemoryBudget`] is under pressure.
///
/// `poll_ready` checks the budget first: under pressure the service is ready at once (the
/// inner service is not polled) and the next call is refused.
#[derive(Debug)]
pub struct LoadShed<S> {
    inner: S,
    budget: MemoryBudget,
    shed: bool,
}

impl<S> LoadShed<S> {
    /// Wraps `inner`, watching `budget`.
    pub fn new(inner: S, budget: MemoryBudget) -> Self {
        LoadShed {
            inner,
            budget,
            shed: false,
        }
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

impl<S, Request> Service<Request> for LoadShed<S>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.budget.is_under_pressure() {
            self.shed = true;
            return Poll::Ready(Ok(()));
        }
        self.shed = false;
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if std::mem::take(&mut self.shed) {
            self.budget.note_shed();
            ResponseFuture::overloaded()
        } else {
            ResponseFuture::called(self.inner.call(request))
        }
    }
}

impl<S: Clone> Clone for LoadShed<S> {
    fn clone(&self) -> Self {
        LoadShed {
            inner: self.inner.clone(),
            budget: self.budget.clone(),
            shed: false,
        }
    }
}
