//! The response future of [`LoadShed`](super::LoadShed).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower::BoxError;

use crate::error::FlowError;

pin_project! {
    /// Resolves to the inner response, or to [`FlowError::Overloaded`] at once when the
    /// call was shed.
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
        },
        Overloaded,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn called(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Called { future },
        }
    }

    pub(super) fn overloaded() -> Self {
        ResponseFuture {
            kind: Kind::Overloaded,
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
            KindProj::Called { future } => Poll::Ready(ready!(future.poll(cx)).map_err(Into::into)),
            KindProj::Overloaded => Poll::Ready(Err(Box::new(FlowError::Overloaded))),
        }
    }
}
