use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::{BoxError, Service};

use super::{Cell, Permit};
use crate::completed::polled_after_completion;
use crate::event::Telemetry;

type Acquire = Pin<Box<dyn Future<Output = bool> + Send>>;

pin_project! {
    /// Response future of [`Bulkhead`](super::Bulkhead).
    pub struct ResponseFuture<S, Req, K>
    where
        S: Service<Req>,
    {
        #[pin]
        kind: Kind<S, Req, K>,
    }
}

pin_project! {
    #[project = Proj]
    enum Kind<S, Req, K>
    where
        S: Service<Req>,
    {
        // Holding a permit, running the call.
        Called { #[pin] fut: S::Future, permit: Permit<K> },
        // Waiting for a permit (boxed: only on the slow path).
        Waiting {
            acquire: Acquire,
            cell: Arc<Cell<K>>,
            svc: S,
            req: Option<Req>,
            started: Instant,
            telemetry: Telemetry,
        },
        // Rejected without calling.
        Rejected { err: Option<BoxError> },
        // Completed: the inner future and the permit are gone.
        Done,
    }
}

impl<S: Service<Req>, Req, K> fmt::Debug for ResponseFuture<S, Req, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bulkhead::ResponseFuture")
    }
}

impl<S, Req, K> ResponseFuture<S, Req, K>
where
    S: Service<Req>,
    K: Send + Sync + 'static,
{
    pub(super) fn called(fut: S::Future, permit: Permit<K>) -> Self {
        Self {
            kind: Kind::Called { fut, permit },
        }
    }

    pub(super) fn rejected(err: BoxError) -> Self {
        Self {
            kind: Kind::Rejected { err: Some(err) },
        }
    }

    pub(super) fn waiting(cell: Arc<Cell<K>>, max_wait: Duration, svc: S, req: Req, telemetry: Telemetry) -> Self {
        let c = cell.clone();
        let acquire: Acquire = Box::pin(async move {
            match tokio::time::timeout(max_wait, c.semaphore.acquire()).await {
                Ok(Ok(permit)) => {
                    // Ownership moves to a `Permit` in the same poll (no await in between),
                    // so the permit cannot be lost.
                    permit.forget();
                    true
                }
                _ => false,
            }
        });
        Self {
            kind: Kind::Waiting {
                acquire,
                cell,
                svc,
                req: Some(req),
                started: Instant::now(),
                telemetry,
            },
        }
    }
}

impl<S, Req, K> Future for ResponseFuture<S, Req, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    K: fmt::Debug,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            match kind.as_mut().project() {
                Proj::Called { fut, .. } => {
                    let result = ready!(fut.poll(cx)).map_err(Into::into);
                    // Drops the inner future and returns the permit.
                    kind.set(Kind::Done);
                    return Poll::Ready(result);
                }
                Proj::Rejected { err } => {
                    let err = err.take().unwrap_or_else(polled_after_completion);
                    kind.set(Kind::Done);
                    return Poll::Ready(Err(err));
                }
                Proj::Done => return Poll::Ready(Err(polled_after_completion())),
                Proj::Waiting {
                    acquire,
                    cell,
                    svc,
                    req,
                    started,
                    telemetry,
                } => {
                    let acquired = match acquire.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(a) => a,
                    };
                    if !acquired {
                        let err = cell.reject(telemetry, started.elapsed());
                        kind.set(Kind::Rejected { err: Some(err) });
                        continue;
                    }
                    let permit = Permit(cell.clone());
                    let Some(req) = req.take() else {
                        kind.set(Kind::Done);
                        return Poll::Ready(Err(polled_after_completion()));
                    };
                    // `svc` was driven to readiness by `Bulkhead::poll_ready` before `call`.
                    let fut = svc.call(req);
                    kind.set(Kind::Called { fut, permit });
                }
            }
        }
    }
}
