//! State shared with every handler: [`App::with_state`](crate::App::with_state) and the
//! [`State`] extractor.

use std::any::{type_name, Any};
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::context::Context;
use crate::error::Error;

/// The app's shared values, one per type, built once; the context of every invocation points
/// at them (an `Arc` clone, never a copy).
#[derive(Clone, Default)]
pub(crate) struct AppState(Arc<http::Extensions>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

impl AppState {
    pub(crate) fn from_extensions(ext: http::Extensions) -> Self {
        Self(Arc::new(ext))
    }

    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get::<Shared<T>>().map(|s| &*s.0)
    }

    pub(crate) fn get_shared<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.0.get::<Shared<T>>().map(|s| s.0.clone())
    }
}

/// How a value is kept: behind an `Arc`, so the `State` extractor clones a pointer.
pub(crate) struct Shared<T>(pub(crate) Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Extracts a value registered with [`App::with_state`](crate::App::with_state), in HTTP
/// handlers (`State(db): State<Db>`); record handlers read it with
/// [`Context::state`](crate::Context::state). A type that was never registered is a
/// programming error: a 500 `internal_error` whose cause is logged, not sent.
///
/// ```
/// use axum::routing::get;
/// use lift::{App, State};
///
/// struct Db { name: &'static str }
///
/// async fn handler(State(db): State<Db>) -> String {
///     db.name.to_owned()
/// }
///
/// let app = App::new().with_state(Db { name: "orders" }).route("/", get(handler));
/// # let _ = app.build();
/// ```
#[derive(Debug)]
pub struct State<T>(pub Arc<T>);

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: Send + Sync, T: Any + Send + Sync> FromRequestParts<S> for State<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts
            .extensions
            .get::<Context>()
            .ok_or_else(|| Error::internal("request context missing: was the router served outside Lift?"))?;
        ctx.shared_state::<T>()
            .map(State)
            .ok_or_else(|| Error::internal(format!("no state of type {} was registered", type_name::<T>())))
    }
}
