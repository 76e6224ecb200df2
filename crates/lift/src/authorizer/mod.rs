//! Lambda authorizers: [`App::authorizer`](crate::App::authorizer) answers API Gateway's
//! `TOKEN` and `REQUEST` authorizer events (REST, WebSocket, HTTP API payload 1.0 and 2.0).
//!
//! The event arrives as an [`AuthorizerRequest`] (`request.rs`); the handler returns an
//! [`AuthorizerResponse`] built with the [`Policy`] builder or as HTTP API's simple response
//! (`response.rs`), rendered in the shape the event's API expects (`handler.rs`).
//!
//! ```
//! use lift::authorizer::{AuthorizerRequest, AuthorizerResponse};
//! use lift::{App, Context};
//!
//! async fn authorize(_ctx: Context, req: AuthorizerRequest) -> Result<AuthorizerResponse, lift::Error> {
//!     Ok(match req.bearer_token() {
//!         Some("let-me-in") => AuthorizerResponse::allow("user-1").context("tenant_id", "acme"),
//!         _ => AuthorizerResponse::deny("anonymous"),
//!     })
//! }
//!
//! let app = App::new().authorizer(authorize);
//! # let _ = app;
//! ```

mod handler;
mod request;
mod response;

pub use handler::UNAUTHORIZED;
pub(crate) use handler::{erase, serve, AuthorizerFn};
pub use request::{AuthorizerKind, AuthorizerRequest};
pub use response::{AuthorizerResponse, Policy};
