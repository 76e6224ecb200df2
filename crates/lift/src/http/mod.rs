//! HTTP sources: conversion, extractors and the response edge.

pub(crate) mod convert;
mod json;
mod websocket;

pub use json::{validation_error, Json, ValidJson};
pub use websocket::WebSocket;
