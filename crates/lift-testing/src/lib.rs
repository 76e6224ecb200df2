//! # lift-testing
//!
//! The test kit for Lift functions, used by Lift's own tests and offered to users:
//!
//! - [`events`]: builders for every event source Lift serves, producing the JSON AWS sends;
//! - [`TestClient`]: in-process invocation of a built [`Lift`](lift::Lift) with fresh contexts;
//! - [`RuntimeApiServer`]: a Lambda Runtime API over real HTTP, to drive the real
//!   `lambda_runtime` loop (in-process or in a spawned function binary) with real deadline and
//!   trace headers, one or many invocations at a time.
//! - [`FakeManagementApi`]: a loopback fake of the API Gateway Management API that records posts
//!   and answers 410 Gone on demand (moto never does).
//!
//! ```
//! # async fn demo() {
//! use lift_testing::{events, TestClient};
//! let app = lift::App::new().build();
//! let client = TestClient::new(app);
//! let out = client.invoke(events::apigw_v2("GET", "/missing").build()).await;
//! assert_eq!(out.expect("HTTP events always answer").status(), Some(404));
//! # }
//! ```

mod client;
pub mod events;
mod extension;
mod fake_management_api;
mod runtime_api;
mod vanishing_runtime_api;

pub use client::TestClient;
pub use extension::{ExtensionServer, Reply};
pub use fake_management_api::{FakeManagementApi, Post};
pub use runtime_api::{Invocation, Outcome, RuntimeApiServer};
pub use vanishing_runtime_api::VanishingRuntimeApi;
