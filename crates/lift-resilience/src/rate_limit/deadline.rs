use tokio::time::Instant;

use crate::Deadline;

/// Where the rate-limit layer finds a call's deadline, which it hands to an asynchronous store
/// ([`RateLimitStore::check_within`](super::RateLimitStore::check_within)) so a store call never
/// outlives the invocation.
pub trait DeadlineSource<Req>: Clone + Send + Sync + 'static {
    /// The deadline of `req`, if known.
    fn deadline_of(&self, req: &Req) -> Option<Instant>;
}

/// No deadline (the default: any request type, the store's own timeout alone bounds it).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDeadline;

impl<Req> DeadlineSource<Req> for NoDeadline {
    #[inline]
    fn deadline_of(&self, _req: &Req) -> Option<Instant> {
        None
    }
}

/// The request's own [`Deadline`] (for `http::Request`, its
/// [`InvocationDeadline`](crate::InvocationDeadline) extension).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestDeadline;

impl<Req: Deadline> DeadlineSource<Req> for RequestDeadline {
    #[inline]
    fn deadline_of(&self, req: &Req) -> Option<Instant> {
        req.deadline()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::time::Instant;
    use tower::{BoxError, Layer, ServiceExt};

    use crate::event::ResilienceEvent;
    use crate::rate_limit::{Decision, FailMode, RateLimitLayer, RateLimitStore};
    use crate::{Global, InvocationDeadline};

    /// An asynchronous store that fails, recording the deadline each check was given.
    #[derive(Clone, Default)]
    struct Failing(Arc<Mutex<Vec<Option<Instant>>>>);

    impl RateLimitStore<()> for Failing {
        type Future = std::future::Ready<Result<Decision, BoxError>>;

        fn check(&self, key: &()) -> Self::Future {
            self.check_within(key, None)
        }

        fn check_within(&self, _key: &(), deadline: Option<Instant>) -> Self::Future {
            self.0.lock().unwrap().push(deadline);
            std::future::ready(Err("store down".into()))
        }
    }

    fn svc() -> impl tower::Service<http::Request<()>, Response = (), Error = BoxError> + Clone {
        tower::service_fn(|_: http::Request<()>| async { Ok::<_, BoxError>(()) })
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_deadline_reaches_the_store_only_when_asked_and_failures_are_events() {
        let store = Failing::default();
        let seen = store.0.clone();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let f = failures.clone();
        let listener = move |e: &ResilienceEvent<'_>| {
            if let ResilienceEvent::RateLimitStoreFailed { fail_mode, error, .. } = e {
                f.lock().unwrap().push((*fail_mode, error.to_string()));
            }
        };
        let req = || {
            let mut r = http::Request::new(());
            r.extensions_mut()
                .insert(InvocationDeadline::after(Duration::from_millis(300)));
            r
        };
        let plain = RateLimitLayer::with_store::<http::Request<()>, _, _>(Global, store.clone())
            .listener(listener.clone())
            .layer(svc());
        plain.oneshot(req()).await.unwrap();
        let aware = RateLimitLayer::with_store::<http::Request<()>, _, _>(Global, store)
            .fail_mode(FailMode::Closed)
            .listener(listener)
            .request_deadline()
            .layer(svc());
        let err = aware.oneshot(req()).await.unwrap_err();
        assert_eq!(err.to_string(), "store down");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, [None, Some(Instant::now() + Duration::from_millis(300))]);
        assert_eq!(
            *failures.lock().unwrap(),
            [
                (FailMode::Open, "store down".into()),
                (FailMode::Closed, "store down".into())
            ]
        );
    }
}
