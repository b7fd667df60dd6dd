//! The response future of [`CircuitBreakerService`](super::CircuitBreakerService).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower::BoxError;

use crate::breaker::Permit;
use crate::error::FlowError;

pin_project! {
    /// Resolves to the inner response and reports its outcome to the breaker; or, when
    /// the breaker refused, to [`FlowError::CircuitOpen`] at once.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<F> {
        Called {
            #[pin]
            future: F,
            permit: Option<Permit>,
        },
        Refused {
            error: FlowError,
        },
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn called(future: F, permit: Permit) -> Self {
        ResponseFuture {
            kind: Kind::Called {
                future,
                permit: Some(permit),
            },
        }
    }

    pub(super) fn refused(error: FlowError) -> Self {
        ResponseFuture {
            kind: Kind::Refused { error },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Called { future, permit } => {
                let output = ready!(future.poll(cx));
                if let Some(permit) = permit.take() {
                    match &output {
                        Ok(_) => permit.success(),
                        Err(_) => permit.failure(),
                    }
                }
                Poll::Ready(output.map_err(Into::into))
            }
            KindProj::Refused { error } => Poll::Ready(Err(Box::new(error.clone()))),
        }
    }
}
