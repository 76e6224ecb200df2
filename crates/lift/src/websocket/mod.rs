//! Talking back to WebSocket clients: who is connected (a [`ConnectionStore`]), and sending to
//! or closing their connections through the API Gateway Management API ([`Management`],
//! feature `websocket-management`).
//!
//! - [`connect`] in a `$connect` handler records the connection with the invocation's tenant
//!   and principal (whatever auth layer wraps the route set them); [`disconnect`] in a
//!   `$disconnect` handler removes it.
//! - [`MemoryConnectionStore`] keeps connections in the process (one Lambda environment, or
//!   tests); `lift_dynamodb::DynamoConnectionStore` (feature `dynamodb`) keeps them in the
//!   fleet table, so every environment sees every connection.
//! - [`Management`] caches one SDK client per management endpoint (`https://{domain}/{stage}`
//!   from the event, or an override for local endpoints); [`broadcast`] sends to every
//!   connection of a tenant and removes from the store the connections API Gateway answers
//!   410 Gone for.
//!
//! ```no_run
//! # #[cfg(feature = "websocket-management")]
//! # mod demo {
//! use std::sync::Arc;
//! use lift::websocket::{self, ConnectionStore, Management, MemoryConnectionStore};
//! use lift::{App, Context, Error, State, WebSocket};
//!
//! type Store = Arc<dyn ConnectionStore>;
//!
//! async fn on_connect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<(), Error> {
//!     websocket::connect(&**store, &ctx, &ws).await.map(|_| ())
//! }
//!
//! async fn on_disconnect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<(), Error> {
//!     websocket::disconnect(&**store, &ctx, &ws).await.map(|_| ())
//! }
//!
//! async fn shout(ctx: Context, ws: WebSocket, State(store): State<Store>,
//!                State(api): State<Management>, body: String) -> Result<String, Error> {
//!     let api = api.for_event(&ctx, &ws)?;
//!     let report = websocket::broadcast(&**store, &api, ctx.tenant(), body.as_bytes())
//!         .await
//!         .map_err(|e| e.into_error())?; // 503 `connection_store_unavailable`
//!     Ok(format!("sent to {}, {} gone", report.sent, report.gone.len()))
//! }
//!
//! fn app() -> App {
//!     let store: Store = Arc::new(MemoryConnectionStore::new());
//!     App::new()
//!         .with_state(store)
//!         .with_state(Management::from_env())
//!         .websocket("$connect", on_connect)
//!         .websocket("$disconnect", on_disconnect)
//!         .websocket("shout", shout)
//! }
//! # }
//! ```

#[cfg(feature = "websocket-management")]
mod broadcast;
mod connection;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod endpoint;
mod lifecycle;
#[cfg(feature = "websocket-management")]
mod management;
mod memory;
mod store;

#[cfg(feature = "websocket-management")]
pub use broadcast::{broadcast, send, BroadcastReport, DEFAULT_BROADCAST_CONCURRENCY};
pub use connection::{Connection, DEFAULT_CONNECTION_TTL};
pub use endpoint::{management_endpoint, EndpointError};
pub use lifecycle::{connect, connect_for, disconnect, CONNECTION_STORE_UNAVAILABLE};
#[cfg(feature = "websocket-management")]
pub use management::{Management, ManagementApi, ManagementError, DEFAULT_MANAGEMENT_TIMEOUT, ENDPOINT_OVERRIDE_VARS};
pub use memory::MemoryConnectionStore;
pub use store::{ConnectionStore, ConnectionStoreError, StoreFuture};

/// The AWS SDK crate the management client is built on (`aws-sdk-apigatewaymanagement`).
#[cfg(feature = "websocket-management")]
pub use aws_sdk_apigatewaymanagement as sdk;
