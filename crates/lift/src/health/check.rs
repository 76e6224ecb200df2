//! [`Check`]: one dependency's readiness test.

use std::future::Future;
use std::pin::Pin;

use crate::error::BoxError;

/// The future a [`Check`] returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'a>>;

/// A readiness test: `Ok(())` when the dependency answers as it should. Implemented for async
/// closures and functions returning `Result<(), E>` with `E: Into<BoxError>`, and (feature
/// `dynamodb`) for [`FleetTable`](crate::dynamodb::FleetTable) (DescribeTable).
///
/// The error's text is shown in the readiness answer: keep secrets out of it.
pub trait Check: Send + Sync + 'static {
    /// Runs the test once. The caller bounds it with the check's timeout (the future is dropped
    /// when it expires).
    fn check(&self) -> CheckFuture<'_>;
}

impl<F, Fut, E> Check for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn check(&self) -> CheckFuture<'_> {
        let fut = self();
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

#[cfg(feature = "dynamodb")]
impl Check for lift_dynamodb::FleetTable {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move { self.ready().await.map_err(Into::into) })
    }
}
