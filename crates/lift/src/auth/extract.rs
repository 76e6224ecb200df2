//! [`Auth`]: the authenticated principal as a handler argument.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use super::AuthError;
use crate::context::{Context, Principal};

/// The principal an [`AuthLayer`](crate::auth::AuthLayer) authenticated for this request.
/// Dereferences to [`Principal`] (subject, scopes, every verified claim); taking it costs one
/// `Arc` clone, no copy of the claims.
///
/// Rejects with 401 `missing_token` when no principal is set (the route has no auth layer and
/// nothing else authenticated the request). Take `Option<Auth>` for routes where
/// authentication is optional.
#[derive(Clone, Debug)]
pub struct Auth(Holder);

#[derive(Clone, Debug)]
enum Holder {
    /// The invocation's context, whose principal is known to be set.
    Context(Context),
    /// A principal put in the extensions outside Lift.
    Owned(Arc<Principal>),
}

impl Auth {
    /// The principal.
    pub fn principal(&self) -> &Principal {
        match &self.0 {
            // `from_parts` only builds this variant when the principal is set; the default
            // is never reached.
            Holder::Context(ctx) => ctx.principal().unwrap_or(&EMPTY),
            Holder::Owned(p) => p,
        }
    }

    fn from_parts(parts: &Parts) -> Option<Self> {
        if let Some(ctx) = parts.extensions.get::<Context>() {
            if ctx.principal().is_some() {
                return Some(Auth(Holder::Context(ctx.clone())));
            }
        }
        parts
            .extensions
            .get::<Arc<Principal>>()
            .map(|p| Auth(Holder::Owned(p.clone())))
    }
}

static EMPTY: std::sync::LazyLock<Principal> = std::sync::LazyLock::new(Principal::default);

impl Deref for Auth {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        self.principal()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts).ok_or(AuthError::MissingToken)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Auth {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}
