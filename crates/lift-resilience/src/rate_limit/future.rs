use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tower::{BoxError, Service};

use super::{denied, store_failed, Decision, DecorateRequest, DecorateResponse, FailMode, NoHeaders};
use crate::completed::polled_after_completion;
use crate::event::Telemetry;

pin_project! {
    /// Response future of [`RateLimit`](super::RateLimit).
    pub struct ResponseFuture<S, Req, C, K, H = NoHeaders>
    where
        S: Service<Req>,
    {
        #[pin]
        kind: Kind<S, Req, C, K, H>,
    }
}

pin_project! {
    #[project = Proj]
    enum Kind<S, Req, C, K, H>
    where
        S: Service<Req>,
    {
        // Admitted (with the decision to decorate the response with, if any).
        Called { #[pin] fut: S::Future, decorate: Option<(H, Decision)> },
        // Waiting for an asynchronous store.
        Checking {
            #[pin] check: C,
            svc: S,
            req: Option<Req>,
            key: K,
            fail_mode: FailMode,
            telemetry: Telemetry,
            headers: H,
        },
        // Denied.
        Rejected { err: Option<BoxError> },
        // Completed: the inner future is gone.
        Done,
    }
}

impl<S: Service<Req>, Req, C, K, H> std::fmt::Debug for ResponseFuture<S, Req, C, K, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("rate_limit::ResponseFuture")
    }
}

impl<S: Service<Req>, Req, C, K, H> ResponseFuture<S, Req, C, K, H> {
    pub(super) fn called(fut: S::Future, decorate: Option<(H, Decision)>) -> Self {
        Self {
            kind: Kind::Called { fut, decorate },
        }
    }

    pub(super) fn rejected(err: BoxError) -> Self {
        Self {
            kind: Kind::Rejected { err: Some(err) },
        }
    }

    pub(super) fn checking(
        check: C,
        svc: S,
        req: Req,
        key: K,
        fail_mode: FailMode,
        telemetry: Telemetry,
        headers: H,
    ) -> Self {
        Self {
            kind: Kind::Checking {
                check,
                svc,
                req: Some(req),
                key,
                fail_mode,
                telemetry,
                headers,
            },
        }
    }
}

impl<S, Req, C, K, H> Future for ResponseFuture<S, Req, C, K, H>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Future<Output = Result<Decision, BoxError>>,
    K: std::fmt::Debug,
    H: DecorateResponse<S::Response> + DecorateRequest<Req>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            match kind.as_mut().project() {
                Proj::Called { fut, decorate } => {
                    let mut result = ready!(fut.poll(cx)).map_err(Into::into);
                    if let (Ok(res), Some((headers, decision))) = (&mut result, decorate.take()) {
                        headers.decorate(res, &decision);
                    }
                    kind.set(Kind::Done);
                    return Poll::Ready(result);
                }
                Proj::Rejected { err } => {
                    let err = err.take().unwrap_or_else(polled_after_completion);
                    kind.set(Kind::Done);
                    return Poll::Ready(Err(err));
                }
                Proj::Done => return Poll::Ready(Err(polled_after_completion())),
                Proj::Checking {
                    check,
                    svc,
                    req,
                    key,
                    fail_mode,
                    telemetry,
                    headers,
                } => {
                    let decision = match check.poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(d) => d,
                    };
                    let admit = match decision {
                        Ok(d) if d.allowed => Ok(Some((headers.clone(), d))),
                        Ok(d) => Err(denied(telemetry, key, d)),
                        Err(e) => match store_failed(telemetry, key, *fail_mode, e) {
                            None => Ok(None),
                            Some(e) => Err(e),
                        },
                    };
                    match (admit, req.take()) {
                        (Ok(decorate), Some(mut r)) => {
                            if let Some((headers, decision)) = &decorate {
                                headers.decorate_request(&mut r, decision);
                            }
                            // `svc` was driven to readiness before `call`.
                            let fut = svc.call(r);
                            kind.set(Kind::Called { fut, decorate });
                        }
                        (Err(e), _) => kind.set(Kind::Rejected { err: Some(e) }),
                        (Ok(_), None) => {
                            kind.set(Kind::Done);
                            return Poll::Ready(Err(polled_after_completion()));
                        }
                    }
                }
            }
        }
    }
}
