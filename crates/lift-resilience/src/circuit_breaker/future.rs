use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::BoxError;

use super::machine::{Cell, Permit};
use crate::classify::{Classify, Outcome};
use crate::completed::polled_after_completion;

/// Records the outcome of an admitted call; a call dropped before completing counts as
/// ignored.
pub(crate) struct Guard<K: std::fmt::Debug + 'static> {
    cell: Arc<Cell<K>>,
    permit: Permit,
    done: bool,
}

impl<K: std::fmt::Debug + 'static> Guard<K> {
    fn finish(&mut self, outcome: Outcome) {
        if !self.done {
            self.done = true;
            self.cell.record(self.permit, outcome, Instant::now());
        }
    }
}

impl<K: std::fmt::Debug + 'static> Drop for Guard<K> {
    fn drop(&mut self) {
        self.finish(Outcome::Ignored);
    }
}

pin_project! {
    /// Response future of [`CircuitBreaker`](super::CircuitBreaker).
    pub struct ResponseFuture<F, C, K, Res>
    where
        K: std::fmt::Debug,
        K: 'static,
    {
        #[pin]
        kind: Kind<F, C, K, Res>,
    }
}

pin_project! {
    #[project = Proj]
    enum Kind<F, C, K, Res>
    where
        K: std::fmt::Debug,
        K: 'static,
    {
        // The call was admitted.
        Called { #[pin] fut: F, guard: Guard<K>, classifier: C },
        // Rejected: the fallback's answer.
        Ready { result: Option<Result<Res, BoxError>> },
        // Completed: the inner future is gone, the outcome recorded.
        Done,
    }
}

impl<F, C, K: std::fmt::Debug + 'static, Res> std::fmt::Debug for ResponseFuture<F, C, K, Res> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("circuit_breaker::ResponseFuture")
    }
}

impl<F, C, K: std::fmt::Debug + 'static, Res> ResponseFuture<F, C, K, Res> {
    pub(super) fn called(fut: F, cell: Arc<Cell<K>>, permit: Permit, classifier: C) -> Self {
        Self {
            kind: Kind::Called {
                fut,
                guard: Guard {
                    cell,
                    permit,
                    done: false,
                },
                classifier,
            },
        }
    }

    pub(super) fn ready(result: Result<Res, BoxError>) -> Self {
        Self {
            kind: Kind::Ready { result: Some(result) },
        }
    }
}

impl<F, C, K, Res, E> Future for ResponseFuture<F, C, K, Res>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    C: Classify<Res>,
    K: std::fmt::Debug + 'static,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        let result = match kind.as_mut().project() {
            Proj::Called { fut, guard, classifier } => {
                let result = ready!(fut.poll(cx)).map_err(Into::into);
                let outcome = match &result {
                    Ok(res) => classifier.classify_response(res),
                    Err(e) => classifier.classify_error(&**e),
                };
                guard.finish(outcome);
                result
            }
            Proj::Ready { result } => result.take().unwrap_or_else(|| Err(polled_after_completion())),
            Proj::Done => return Poll::Ready(Err(polled_after_completion())),
        };
        kind.set(Kind::Done);
        Poll::Ready(result)
    }
}
