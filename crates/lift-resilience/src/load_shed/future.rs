use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::BoxError;

use super::Shared;
use crate::completed::polled_after_completion;

/// Leaves the in-flight count when dropped; feeds the limit when completed.
pub(crate) struct Guard {
    shared: Arc<Shared>,
    started: Option<Instant>,
    in_flight: usize,
    done: bool,
}

impl Guard {
    fn finish(&mut self, dropped: Option<bool>) {
        if !self.done {
            self.done = true;
            let started = self.started.unwrap_or_else(Instant::now);
            self.shared.complete(started, self.in_flight, dropped);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.finish(None);
    }
}

pin_project! {
    /// Response future of [`LoadShed`](super::LoadShed).
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = Proj]
    enum Kind<F> {
        // No limit: not counted.
        Passthrough { #[pin] fut: F },
        // Counted in flight.
        Counted { #[pin] fut: F, guard: Guard },
        // Shed.
        Rejected { err: Option<BoxError> },
        // Completed: the inner future is gone.
        Done,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("load_shed::ResponseFuture")
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn passthrough(fut: F) -> Self {
        Self {
            kind: Kind::Passthrough { fut },
        }
    }

    pub(super) fn counted(fut: F, shared: Arc<Shared>, started: Option<Instant>, in_flight: usize) -> Self {
        Self {
            kind: Kind::Counted {
                fut,
                guard: Guard {
                    shared,
                    started,
                    in_flight,
                    done: false,
                },
            },
        }
    }

    pub(super) fn rejected(err: BoxError) -> Self {
        Self {
            kind: Kind::Rejected { err: Some(err) },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        let result = match kind.as_mut().project() {
            Proj::Passthrough { fut } => ready!(fut.poll(cx)).map_err(Into::into),
            Proj::Counted { fut, guard } => {
                let r = ready!(fut.poll(cx)).map_err(Into::into);
                guard.finish(Some(r.is_err()));
                r
            }
            Proj::Rejected { err } => Err(err.take().unwrap_or_else(polled_after_completion)),
            Proj::Done => return Poll::Ready(Err(polled_after_completion())),
        };
        kind.set(Kind::Done);
        Poll::Ready(result)
    }
}
