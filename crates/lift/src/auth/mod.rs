//! Authentication: JWT verification, the identity API Gateway verified, and the
//! [`Principal`](crate::Principal) they produce.
//!
//! The request's path through this module: [`TokenSource`] finds the token (`token.rs`),
//! [`JwtVerifier`] checks it (`verifier.rs`) with static [`Key`]s (`key.rs`) or a [`Jwks`]
//! (`jwks.rs`, fetched by `http_client.rs`), or [`verified_principal`] reads what API Gateway
//! verified (`api_gateway.rs`); [`AuthLayer`] (`layer.rs`) runs this before the route and
//! answers [`AuthError`]s (`rejection.rs`); the handler takes [`Auth`] (`extract.rs`).
//!
//! Lambda authorizers (answering API Gateway's authorizer events) are in
//! [`authorizer`](crate::authorizer).

mod api_gateway;
mod config_error;
mod extract;
mod http_client;
mod jwks;
mod key;
mod layer;
mod rejection;
mod token;
mod verifier;

pub use api_gateway::verified_principal;
pub use config_error::AuthConfigError;
pub use extract::Auth;
pub use jsonwebtoken::Algorithm;
pub use jwks::{Jwks, JwksBuilder, DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_AGE, DEFAULT_MIN_REFRESH_INTERVAL};
pub use key::Key;
pub use layer::{AuthLayer, AuthService};
pub use rejection::{code, AuthError};
pub use token::{TokenSource, MAX_TOKEN_LEN};
pub use verifier::{JwtVerifier, JwtVerifierBuilder, DEFAULT_SCOPE_CLAIMS};

pub(crate) use token::{bearer as token_bearer, token as token_chars};
