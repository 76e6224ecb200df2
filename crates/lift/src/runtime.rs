//! Glue to the `lambda_runtime` loop.

use lambda_runtime::{layers::TracingLayer, service_fn, LambdaEvent, Runtime};
use serde_json::value::RawValue;

use crate::app::Lift;
use crate::output::Output;

/// Runs `lift` against the Lambda Runtime API named by `AWS_LAMBDA_RUNTIME_API`.
///
/// With `AWS_LAMBDA_MAX_CONCURRENCY` > 1 (Lambda Managed Instances) as many invocations run at
/// once, each with its own [`Context`](crate::Context); otherwise one at a time.
///
/// Events arrive as raw JSON (`RawValue`): Lift recognises the source itself and decodes each
/// event once into its typed form. JSON that does not parse never reaches Lift here; the
/// runtime reports it to Lambda as an error and keeps polling (Lambda's Invoke API already
/// refuses such payloads).
pub async fn run_lambda(lift: Lift) -> Result<(), crate::BoxError> {
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let lift = lift.clone();
        async move {
            let (payload, context) = event.into_parts();
            lift.invoke(payload.get(), context).await
        }
    });
    Runtime::new(handler).layer(TracingLayer::new()).run_concurrent().await
}

// Keep the type visible in docs: the runtime serialises this.
#[allow(dead_code)]
fn _assert_output_is_serialize(o: Output) -> impl serde::Serialize {
    o
}
