//! Glue to the `lambda_runtime` loop.

use lambda_runtime::{service_fn, LambdaEvent, Runtime};
use serde_json::value::RawValue;

use crate::function::Lift;
use crate::init::ConfigError;

/// Runs `lift` against the Lambda Runtime API named by `AWS_LAMBDA_RUNTIME_API`.
///
/// With `AWS_LAMBDA_MAX_CONCURRENCY` > 1 (Lambda Managed Instances) as many invocations run at
/// once, each with its own [`Context`](crate::Context); otherwise one at a time.
///
/// Events arrive as raw JSON (`RawValue`): Lift recognises the source itself and decodes each
/// event once into its typed form. JSON that does not parse never reaches Lift here; the
/// runtime reports it to Lambda as an error and keeps polling (Lambda's Invoke API already
/// refuses such payloads).
///
/// No `lambda_runtime::layers::TracingLayer`: its per-invocation span (`requestId`,
/// `xrayTraceId`) repeats what Lift's observability scope already puts on every line and
/// segment, and measured it was about 14,600 instructions of the ~210,000 the quick start spends
/// per invocation on the loop (callgrind over the running process).
pub async fn run_lambda(lift: Lift) -> Result<(), crate::BoxError> {
    check_env()?;
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let lift = lift.clone();
        async move {
            let (payload, context) = event.into_parts();
            lift.invoke(payload.get(), context).await
        }
    });
    Runtime::new(handler).run_concurrent().await
}

/// `lambda_runtime` panics when the variables Lambda always sets are missing; report that as
/// an error naming the variable instead.
fn check_env() -> Result<(), ConfigError> {
    for var in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION"] {
        if std::env::var_os(var).is_none() {
            return Err(ConfigError(format!(
                "{var} is not set: is this process running on Lambda?"
            )));
        }
    }
    match std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").map(|m| m.parse::<i32>()) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(ConfigError(format!(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not a number: {e}"
        ))),
        Err(_) => Err(ConfigError(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set: is this process running on Lambda?".into(),
        )),
    }
}
