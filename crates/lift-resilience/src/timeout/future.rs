use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::BoxError;

use super::{Elapsed, TimeoutLimit};
use crate::event::{ResilienceEvent, Telemetry};

pin_project! {
    /// Response future of [`Timeout`](super::Timeout).
    #[project = Proj]
    #[allow(missing_docs)]
    #[project_replace = ProjReplace]
    pub enum ResponseFuture<F> {
        /// No limit applies.
        Unlimited { #[pin] fut: F },
        /// Racing the inner future against the limit.
        Limited {
            #[pin] fut: F,
            #[pin] sleep: Sleep,
            started: Instant,
            which: TimeoutLimit,
            telemetry: Telemetry,
        },
        /// Failed before it started.
        Expired { which: TimeoutLimit, telemetry: Telemetry },
        /// Finished (the inner future has been dropped).
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn unlimited(fut: F) -> Self {
        Self::Unlimited { fut }
    }

    pub(super) fn limited(fut: F, at: Instant, started: Instant, which: TimeoutLimit, telemetry: Telemetry) -> Self {
        Self::Limited {
            fut,
            sleep: tokio::time::sleep_until(at),
            started,
            which,
            telemetry,
        }
    }

    pub(super) fn expired(which: TimeoutLimit, telemetry: Telemetry) -> Self {
        Self::Expired { which, telemetry }
    }
}

fn elapsed(which: TimeoutLimit, after: std::time::Duration, telemetry: &Telemetry) -> BoxError {
    telemetry.emit(ResilienceEvent::TimedOut {
        name: telemetry.name(),
        limit: which,
        after,
    });
    Box::new(Elapsed::new(which, after))
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.as_mut().project() {
            Proj::Unlimited { fut } => fut.poll(cx).map_err(Into::into),
            Proj::Limited {
                fut,
                sleep,
                started,
                which,
                telemetry,
            } => {
                if let Poll::Ready(r) = fut.poll(cx) {
                    return Poll::Ready(r.map_err(Into::into));
                }
                if sleep.poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let (after, which, telemetry) = (started.elapsed(), *which, telemetry.clone());
                // Drop the inner future now: the work is cancelled before we report.
                self.project_replace(Self::Done);
                Poll::Ready(Err(elapsed(which, after, &telemetry)))
            }
            Proj::Expired { which, telemetry } => {
                let err = elapsed(*which, std::time::Duration::ZERO, telemetry);
                self.project_replace(Self::Done);
                Poll::Ready(Err(err))
            }
            Proj::Done => Poll::Pending,
        }
    }
}
