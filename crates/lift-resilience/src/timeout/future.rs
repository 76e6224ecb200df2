use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::BoxError;

use super::{Elapsed, TimeoutLimit};
use crate::completed::polled_after_completion;
use crate::event::{ResilienceEvent, Telemetry};

pin_project! {
    /// Response future of [`Timeout`](super::Timeout).
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timeout::ResponseFuture")
    }
}

pin_project! {
    #[project = Proj]
    enum Kind<F> {
        // No limit applies.
        Unlimited { #[pin] fut: F },
        // Racing the inner future against the limit.
        Limited {
            #[pin] fut: F,
            #[pin] sleep: Sleep,
            started: Instant,
            which: TimeoutLimit,
            telemetry: Telemetry,
        },
        // Failed before it started.
        Expired { which: TimeoutLimit, telemetry: Telemetry },
        // Finished (the inner future has been dropped).
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn unlimited(fut: F) -> Self {
        Self {
            kind: Kind::Unlimited { fut },
        }
    }

    pub(super) fn limited(fut: F, at: Instant, started: Instant, which: TimeoutLimit, telemetry: Telemetry) -> Self {
        Self {
            kind: Kind::Limited {
                fut,
                sleep: tokio::time::sleep_until(at),
                started,
                which,
                telemetry,
            },
        }
    }

    pub(super) fn expired(which: TimeoutLimit, telemetry: Telemetry) -> Self {
        Self {
            kind: Kind::Expired { which, telemetry },
        }
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

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        let result = match kind.as_mut().project() {
            Proj::Unlimited { fut } => ready!(fut.poll(cx)).map_err(Into::into),
            Proj::Limited {
                fut,
                sleep,
                started,
                which,
                telemetry,
            } => {
                if let Poll::Ready(r) = fut.poll(cx) {
                    r.map_err(Into::into)
                } else {
                    ready!(sleep.poll(cx));
                    let (after, which, telemetry) = (started.elapsed(), *which, telemetry.clone());
                    // Drop the inner future now: the work is cancelled before we report.
                    kind.set(Kind::Done);
                    return Poll::Ready(Err(elapsed(which, after, &telemetry)));
                }
            }
            Proj::Expired { which, telemetry } => Err(elapsed(*which, std::time::Duration::ZERO, telemetry)),
            Proj::Done => return Poll::Ready(Err(polled_after_completion())),
        };
        kind.set(Kind::Done);
        Poll::Ready(result)
    }
}
