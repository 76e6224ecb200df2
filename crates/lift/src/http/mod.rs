//! HTTP sources: conversion, extractors and the response edge.

mod client_ip;
pub(crate) mod convert;
mod describe;
mod json;
pub(crate) mod lattice;
mod path;
mod query;
mod request_context;
mod websocket;

pub use client_ip::{ClientIp, PeerAddr};
pub use json::{validation_error, Json, ValidJson};
pub use path::Path;
pub use query::Query;
pub use request_context::RequestContext;
pub use websocket::WebSocket;
