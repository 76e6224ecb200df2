//! # Lift
//!
//! One [`App`] serves every event source an AWS Lambda function can be wired to — API Gateway
//! REST and HTTP APIs, ALB, Function URLs, WebSocket, SQS, SNS, S3, EventBridge and schedules,
//! DynamoDB Streams, Kinesis — on the real `lambda_runtime` loop, sequentially or with many
//! invocations at once (Lambda Managed Instances), or as a local HTTP server.
//!
//! ```no_run
//! use axum::routing::get;
//! use lift::{App, Context, Json, Sqs};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Job { id: u64 }
//!
//! async fn hello(ctx: Context) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({"request_id": ctx.request_id()}))
//! }
//!
//! async fn job(_ctx: Context, msg: Sqs<Job>) -> Result<(), lift::Error> {
//!     println!("job {}", msg.id); // failures are reported per message
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lift::BoxError> {
//!     App::new().route("/hello", get(hello)).sqs("jobs", job).run().await
//! }
//! ```
//!
//! - HTTP routes are an axum [`Router`](axum::Router). Lift decodes API Gateway, ALB, Function
//!   URL and WebSocket events into `http::Request`s itself (path and query percent-encoded as a
//!   URI needs them, the event's [`RequestContext`] in the extensions) and encodes responses in
//!   the shape each source expects. Header names are case-insensitive.
//! - [`Path`], [`Query`], [`Json`] and [`ValidJson`] reject with Lift errors whose messages name
//!   the field and the rule broken; every 4xx and 5xx Lift answers carries
//!   `{"error": {"code", "message", "request_id"}}`.
//! - Record handlers take the decoded body and the [`Context`]; batch sources (SQS, Kinesis,
//!   DynamoDB Streams) report failures per record, FIFO queues stop at the first failure, and
//!   SNS, S3 and EventBridge fail the invocation so the service retries.
//! - VPC Lattice (v1 and v2) events reach the same HTTP routes and get Lattice's response shape;
//!   Kafka records (MSK and self-managed) reach [`App::kafka`] handlers, and the first failure
//!   fails the invocation (Kafka cannot report single records).
//! - Errors have stable codes ([`error::code`]); panics become 500s or Lambda errors and the
//!   process keeps serving.
//! - [`auth`]: JWT verification and API Gateway identities on routes ([`auth::AuthLayer`],
//!   the [`auth::Auth`] extractor, the invocation's [`Principal`]); [`authorizer`]: answers to
//!   API Gateway's Lambda authorizer events ([`App::authorizer`]).
//! - Off Lambda, [`local`] serves the same function as an HTTP server that behaves like Lambda
//!   where clients can tell: bodies are read whole before the routes, slow and idle clients are
//!   disconnected, and Ctrl-C or SIGTERM shut it down gracefully.

mod app;
pub mod auth;
pub mod authorizer;
mod context;
pub mod detect;
mod edge;
pub mod error;
mod function;
pub mod health;
mod http;
pub mod idempotency;
mod init;
mod lenient;
pub mod local;
mod obs;
mod output;
pub mod panic;
mod records;
#[cfg(feature = "resilience")]
pub mod resilience;
mod route_boundary;
pub use crate::route_boundary::{RouteBoundary, RouteBoundaryFuture};
mod runtime;
mod state;
pub mod tenant;
mod tokio_runtime;
pub mod websocket;
mod wrapped_router;

pub use crate::app::{App, DEFAULT_BODY_LIMIT};
pub use crate::context::{AlreadySet, Context, Principal, MAX_CORRELATION_ID_LEN};
pub use crate::edge::DEFAULT_CORRELATION_HEADER;
pub use crate::error::{BoxError, Error};
pub use crate::function::Lift;
pub use crate::http::cors;
pub use crate::http::{validation_error, ClientIp, Json, Path, PeerAddr, Query, RequestContext, ValidJson, WebSocket};
pub use crate::http::{FrameOptions, SecurityHeaders};
pub use crate::init::{main, ConfigError, CONFIG_ERROR_TYPE, RUNTIME_ERROR_TYPE};
pub use crate::output::Output;
pub use crate::records::{
    DynamoDb, EventBridge, EventMatch, FifoMode, Glob, Kinesis, Message, RecordHandler, S3Match, S3Object, Sns, Sqs,
    SqsAttribute, SqsMeta, S3,
};
pub use crate::records::{Kafka, KafkaMeta, KafkaSource};
pub use crate::runtime::run_lambda;
pub use crate::state::State;

#[cfg(feature = "observability")]
pub use lift_observability as observability;

#[cfg(feature = "dynamodb")]
pub use lift_dynamodb as dynamodb;

#[cfg(feature = "config")]
pub use lift_config as config;

/// Re-exports of the crates Lift builds on, so apps need not pin their versions.
pub mod deps {
    pub use aws_lambda_events;
    pub use axum;
    pub use lambda_runtime;
    pub use validator;
}
