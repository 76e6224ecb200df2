use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower::{BoxError, Service};

use super::{denied, Decision, FailMode};
use crate::event::Telemetry;

pin_project! {
    /// Response future of [`RateLimit`](super::RateLimit).
    #[project = Proj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<S, Req, C, K>
    where
        S: Service<Req>,
    {
        /// Admitted.
        Called { #[pin] fut: S::Future },
        /// Waiting for an asynchronous store.
        Checking {
            #[pin] check: C,
            svc: S,
            req: Option<Req>,
            key: K,
            fail_mode: FailMode,
            telemetry: Telemetry,
        },
        /// Denied.
        Rejected { err: Option<BoxError> },
    }
}

impl<S: Service<Req>, Req, C, K> std::fmt::Debug for ResponseFuture<S, Req, C, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("rate_limit::ResponseFuture")
    }
}

impl<S: Service<Req>, Req, C, K> ResponseFuture<S, Req, C, K> {
    pub(super) fn called(fut: S::Future) -> Self {
        Self::Called { fut }
    }

    pub(super) fn rejected(err: BoxError) -> Self {
        Self::Rejected { err: Some(err) }
    }

    pub(super) fn checking(check: C, svc: S, req: Req, key: K, fail_mode: FailMode, telemetry: Telemetry) -> Self {
        Self::Checking {
            check,
            svc,
            req: Some(req),
            key,
            fail_mode,
            telemetry,
        }
    }
}

impl<S, Req, C, K> Future for ResponseFuture<S, Req, C, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Future<Output = Result<Decision, BoxError>>,
    K: std::fmt::Debug,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Proj::Called { fut } => return fut.poll(cx).map_err(Into::into),
                Proj::Rejected { err } => {
                    return Poll::Ready(Err(err.take().unwrap_or_else(|| "polled after completion".into())))
                }
                Proj::Checking {
                    check,
                    svc,
                    req,
                    key,
                    fail_mode,
                    telemetry,
                } => {
                    let decision = match check.poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(d) => d,
                    };
                    let admit = match decision {
                        Ok(d) if d.allowed => Ok(()),
                        Ok(d) => Err(denied(telemetry, key, d)),
                        Err(_) if *fail_mode == FailMode::Open => Ok(()),
                        Err(e) => Err(e),
                    };
                    match (admit, req.take()) {
                        (Ok(()), Some(r)) => {
                            // `svc` was driven to readiness before `call`.
                            let fut = svc.call(r);
                            self.set(Self::Called { fut });
                        }
                        (Err(e), _) => self.set(Self::Rejected { err: Some(e) }),
                        (Ok(()), None) => return Poll::Ready(Err("polled after completion".into())),
                    }
                }
            }
        }
    }
}
