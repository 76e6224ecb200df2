use tower::BoxError;

use super::Open;

/// What to answer when the breaker rejects a call.
pub trait Fallback<Req, Res>: Clone + Send + Sync + 'static {
    /// The answer for `req`, rejected with `open`.
    fn fallback(&self, req: Req, open: Open) -> Result<Res, BoxError>;
}

/// No fallback: the rejection is returned as the [`Open`] error (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFallback;

impl<Req, Res> Fallback<Req, Res> for NoFallback {
    fn fallback(&self, _req: Req, open: Open) -> Result<Res, BoxError> {
        Err(Box::new(open))
    }
}

/// A fallback from a closure `Fn(Req, Open) -> Result<Res, BoxError>`.
#[derive(Debug, Clone, Copy)]
pub struct FallbackFn<F>(pub F);

impl<F, Req, Res> Fallback<Req, Res> for FallbackFn<F>
where
    F: Fn(Req, Open) -> Result<Res, BoxError> + Clone + Send + Sync + 'static,
{
    fn fallback(&self, req: Req, open: Open) -> Result<Res, BoxError> {
        (self.0)(req, open)
    }
}
