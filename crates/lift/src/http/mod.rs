//! HTTP sources: conversion, extractors and the response edge.

mod client_ip;
pub(crate) mod convert;
pub mod cors;
mod describe;
mod json;
pub(crate) mod lattice;
mod path;
mod query;
mod request_context;
pub(crate) mod response;
mod security_headers;
mod websocket;

pub use client_ip::{ClientIp, PeerAddr};
pub use json::{validation_error, Json, ValidJson};
pub use path::Path;
pub use query::Query;
pub use request_context::RequestContext;
pub use security_headers::{FrameOptions, SecurityHeaders};
pub use websocket::WebSocket;
