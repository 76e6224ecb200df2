//! The tokio runtime [`main`](crate::main) runs a function on, chosen for how invocations
//! arrive.
//!
//! - On Lambda, one invocation at a time (no `AWS_LAMBDA_MAX_CONCURRENCY`, or 1): a
//!   current-thread runtime. The loop, the handler and the background tasks (breaker refresher,
//!   configuration poller) share one thread, with no cross-thread wake-up per invocation; the
//!   sandbox gives the function about one vCPU at the smaller memory sizes anyway.
//! - On Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` > 1) and for the local server
//!   (many connections at once): a multi-thread runtime with a worker per available core.
//! - `LIFT_TOKIO_RUNTIME=current_thread` or `multi_thread` overrides the choice.

use std::io;

use tokio::runtime::{Builder, Runtime};

/// The runtime flavours [`choose`] picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The flavour for this process's environment (`lookup` reads a variable); an unknown
/// `LIFT_TOKIO_RUNTIME` is an error naming it.
pub(crate) fn choose(lookup: impl Fn(&str) -> Option<String>) -> Result<Flavor, String> {
    match lookup("LIFT_TOKIO_RUNTIME").as_deref().map(str::trim) {
        Some("current_thread") => return Ok(Flavor::CurrentThread),
        Some("multi_thread") => return Ok(Flavor::MultiThread),
        Some("") | None => {}
        Some(other) => {
            return Err(format!(
                "LIFT_TOKIO_RUNTIME={other:?}: expected `current_thread` or `multi_thread`"
            ))
        }
    }
    if lookup("AWS_LAMBDA_RUNTIME_API").is_none() {
        return Ok(Flavor::MultiThread);
    }
    let concurrency = lookup("AWS_LAMBDA_MAX_CONCURRENCY")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(1);
    Ok(if concurrency > 1 {
        Flavor::MultiThread
    } else {
        Flavor::CurrentThread
    })
}

/// Builds the runtime of `flavor`, every driver enabled.
pub(crate) fn build(flavor: Flavor) -> io::Result<Runtime> {
    match flavor {
        Flavor::CurrentThread => Builder::new_current_thread().enable_all().build(),
        Flavor::MultiThread => Builder::new_multi_thread().enable_all().build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn one_invocation_at_a_time_on_lambda_runs_on_one_thread() {
        let api = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
        assert_eq!(choose(env(&[api])), Ok(Flavor::CurrentThread));
        assert_eq!(
            choose(env(&[api, ("AWS_LAMBDA_MAX_CONCURRENCY", "1")])),
            Ok(Flavor::CurrentThread)
        );
        assert_eq!(
            choose(env(&[api, ("AWS_LAMBDA_MAX_CONCURRENCY", "64")])),
            Ok(Flavor::MultiThread),
            "Managed Instances"
        );
        assert_eq!(choose(env(&[])), Ok(Flavor::MultiThread), "the local server");
    }

    #[test]
    fn the_override_wins_and_a_bad_one_is_named() {
        let api = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
        assert_eq!(
            choose(env(&[api, ("LIFT_TOKIO_RUNTIME", "multi_thread")])),
            Ok(Flavor::MultiThread)
        );
        assert_eq!(
            choose(env(&[("LIFT_TOKIO_RUNTIME", "current_thread")])),
            Ok(Flavor::CurrentThread)
        );
        let e = choose(env(&[("LIFT_TOKIO_RUNTIME", "fast")])).unwrap_err();
        assert!(e.contains("LIFT_TOKIO_RUNTIME"), "{e}");
    }
}
