//! The function API: [`Idempotency::run`] around any piece of work.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::key::Key;
use super::policy::{Begin, Idempotency};
use crate::context::Context;
use crate::error::Error;

impl Idempotency {
    /// Runs `work` at most once per `key` in `scope` (within the expiry), across every
    /// process sharing the store; a repeat gets the stored result (JSON) instead.
    ///
    /// - `work` failing (or panicking) releases the key, so the next call runs;
    /// - the same key with another payload ([`Key::with_payload`]) is refused:
    ///   `idempotency_key_reused` (422); while the first call runs: `idempotency_in_progress`
    ///   (409); the store unreachable: `idempotency_unavailable` (503) unless fail-open;
    /// - a result larger than the store holds: `idempotency_result_too_large`, key released.
    ///
    /// ```
    /// # async fn charge(_: &str) -> Result<String, lift::Error> { Ok("ch_1".into()) }
    /// use lift::idempotency::{Idempotency, Key};
    ///
    /// async fn handler(ctx: lift::Context, policy: Idempotency, order_id: &str) -> Result<String, lift::Error> {
    ///     policy.run(&ctx, "charge", Key::new(order_id), || charge(order_id)).await
    /// }
    /// ```
    pub async fn run<T, E, F, Fut>(&self, ctx: &Context, scope: &str, key: Key, work: F) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Error>,
    {
        match self.begin(Some(ctx), scope, &key).await? {
            Begin::Replay(data) => serde_json::from_str(&data)
                .map_err(|e| Error::internal(format!("stored idempotent result does not decode: {e}"))),
            Begin::Unprotected => work().await.map_err(Into::into),
            Begin::Run(claim) => match work().await {
                Ok(value) => {
                    let data = match serde_json::to_string(&value) {
                        Ok(d) => d,
                        Err(e) => {
                            claim.release().await;
                            return Err(Error::internal(format!("idempotent result does not serialize: {e}")));
                        }
                    };
                    claim.complete(data).await?;
                    Ok(value)
                }
                Err(e) => {
                    claim.release().await;
                    Err(e.into())
                }
            },
        }
    }
}
