//! In-process invocation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lift::{Context, Lift, Output};

/// Invokes a built function in-process, each call with a fresh [`Context`] (new request id,
/// a deadline `timeout` from now, a sampled trace header).
#[derive(Clone)]
pub struct TestClient {
    lift: Lift,
    timeout: Duration,
    function_arn: String,
}

impl TestClient {
    /// A client for `lift` with a 30 s deadline per invocation.
    pub fn new(lift: Lift) -> Self {
        Self {
            lift,
            timeout: Duration::from_secs(30),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:test".to_owned(),
        }
    }

    /// Sets the time each invocation gets before its deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A fresh context, as the Runtime API would give one invocation.
    pub fn context(&self) -> Context {
        let lambda = lift::local::lambda_context(self.timeout, &self.function_arn, Some(trace_header()));
        Context::from_lambda(lambda, false)
    }

    /// Invokes with an event (any `Serialize`, usually a builder's `serde_json::Value`).
    pub async fn invoke(&self, event: impl serde::Serialize) -> Result<Output, lambda_runtime::Diagnostic> {
        let json = serde_json::to_string(&event).unwrap_or_else(|_| "null".to_owned());
        self.invoke_raw(&json).await
    }

    /// Invokes with raw event text, which need not be valid JSON.
    pub async fn invoke_raw(&self, json: &str) -> Result<Output, lambda_runtime::Diagnostic> {
        self.lift.invoke_with(json, self.context()).await
    }

    /// Invokes and returns the response as a JSON value (errors as `{"errorType", "errorMessage"}`).
    pub async fn invoke_json(&self, event: impl serde::Serialize) -> serde_json::Value {
        match self.invoke(event).await {
            Ok(out) => serde_json::from_slice(&out.to_json()).unwrap_or(serde_json::Value::Null),
            Err(d) => serde_json::json!({"errorType": d.error_type, "errorMessage": d.error_message}),
        }
    }
}

/// A fresh, sampled X-Ray trace header: `Root=1-<epoch hex>-<96 bits>;Parent=<64 bits>;Sampled=1`.
pub(crate) fn trace_header() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=1", &a[..24], &b[..16])
}
