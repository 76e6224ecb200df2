//! The tokio runtime [`main`](crate::main) runs a function on, chosen for how invocations
//! arrive.
//!
//! - On Lambda, one invocation at a time (no `AWS_LAMBDA_MAX_CONCURRENCY`, or 1): a
//!   current-thread runtime. The loop, the handler and the background tasks (breaker refresher,
//!   configuration poller) share one thread, with no cross-thread wake-up per invocation; the
//!   sandbox gives the function about one vCPU at the smaller memory sizes anyway.
//! - On Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` > 1): a multi-thread runtime
//!   with a worker per available core, but never more workers than invocations can be in flight
//!   (`AWS_LAMBDA_MAX_CONCURRENCY` of 2 on 8 cores: 2 workers, not 8 threads that mostly park).
//! - For the local server (many connections at once): a worker per available core.
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

/// The multi-thread runtime's worker count: the available cores, at most
/// `AWS_LAMBDA_MAX_CONCURRENCY` when that is set above 1; `None` leaves tokio's default.
/// `cores` is asked only then: counting them reads the cgroup files, a cold start's cost.
pub(crate) fn workers(lookup: impl Fn(&str) -> Option<String>, cores: impl FnOnce() -> usize) -> Option<usize> {
    let concurrency = lookup("AWS_LAMBDA_MAX_CONCURRENCY")?.trim().parse::<usize>().ok()?;
    (concurrency > 1).then(|| concurrency.min(cores()).max(1))
}

/// Builds the runtime of `flavor`, every driver enabled; a multi-thread one with `workers`
/// workers when given.
pub(crate) fn build(flavor: Flavor, workers: Option<usize>) -> io::Result<Runtime> {
    match flavor {
        Flavor::CurrentThread => Builder::new_current_thread().enable_all().build(),
        Flavor::MultiThread => {
            let mut b = Builder::new_multi_thread();
            if let Some(n) = workers {
                b.worker_threads(n);
            }
            b.enable_all().build()
        }
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
    fn managed_instances_get_no_more_workers_than_invocations_in_flight() {
        let c = |v| env_owned(v);
        assert_eq!(workers(c("2"), || 8), Some(2));
        assert_eq!(workers(c("64"), || 8), Some(8));
        assert_eq!(workers(c("1"), || 8), None, "one at a time: current-thread anyway");
        assert_eq!(workers(c("lots"), || 8), None);
        assert_eq!(workers(|_: &str| None, || 8), None, "the local server: tokio's default");
    }

    fn env_owned(value: &'static str) -> impl Fn(&str) -> Option<String> {
        move |k| (k == "AWS_LAMBDA_MAX_CONCURRENCY").then(|| value.to_owned())
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
