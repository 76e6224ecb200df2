//! Panics: their message, the Lift error they become, and the process panic hook.
//!
//! Every invocation runs behind panic boundaries (per route, per record, per invocation) that
//! turn a panic into a 500 or a failed record and log it as one JSON line with its code, route
//! and request id. Rust's default hook would also print the panic as multi-line text with
//! source paths on stderr; [`install_hook`] replaces it: a panic inside an observed invocation
//! is left to its boundary's log line, any other panic is logged as one `tracing` error line
//! (code `panic`, the thread and the message, no source path).

use std::any::Any;
use std::sync::Once;

use crate::error::{code, Error};

/// The text of a panic payload (`panic!("...")` gives `&str` or `String`).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// The Lift error a caught panic becomes: 500 `panic`, the message kept as the private cause.
pub(crate) fn error(payload: Box<dyn Any + Send>) -> Error {
    Error::new(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        code::PANIC,
        "the handler panicked",
    )
    .with_source(std::io::Error::other(message(&*payload)))
}

/// Installs the panic hook described in the module docs, once per process. Without a
/// `tracing` subscriber the previous hook runs instead, so a panic is never silent.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !tracing::dispatcher::has_been_set() {
                return previous(info);
            }
            if in_observed_invocation() {
                // The boundary that catches it logs it, with the route and the request id.
                return;
            }
            let message = message(info.payload());
            let thread = std::thread::current();
            tracing::error!(
                code = code::PANIC,
                thread = thread.name().unwrap_or("unnamed"),
                panic = %message,
                "panic outside an invocation"
            );
        }));
    });
}

/// Whether the panicking thread is polling an observed invocation (whose boundary logs it).
fn in_observed_invocation() -> bool {
    #[cfg(feature = "observability")]
    {
        lift_observability::in_invocation()
    }
    #[cfg(not(feature = "observability"))]
    {
        false
    }
}
