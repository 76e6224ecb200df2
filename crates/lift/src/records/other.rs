//! The event fallback: events of a shape no source matches, handled as JSON.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use super::EventRoutes;
use crate::context::Context;
use crate::error::{code, Error};
use crate::output::{Inner, Output};

impl EventRoutes {
    /// Runs the event fallback, if one is set, behind a panic boundary.
    pub(crate) async fn other(&self, ctx: &Context, json: &str) -> Option<Result<Output, Error>> {
        let f = self.other.as_ref()?;
        let value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => return Some(Err(Error::bad_request(code::MALFORMED_JSON, "not JSON").with_source(e))),
        };
        let fut = f(ctx.clone(), value);
        Some(match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(v)) => Ok(Output(Inner::Json(v))),
            Ok(Err(e)) => Err(e),
            Err(payload) => Err(crate::panic::error(payload)),
        })
    }
}
