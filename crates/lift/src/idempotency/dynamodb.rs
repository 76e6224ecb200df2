//! The fleet-wide store: [`IdempotencyStore`] for `lift_dynamodb`'s
//! [`DynamoIdempotencyStore`] (records on the fleet table, Powertools' schema).

use std::sync::Arc;

use lift_dynamodb::idempotency::{ClaimResult, DynamoIdempotencyStore, StoredRecord, MAX_DATA_BYTES};

use super::store::{ClaimOutcome, ClaimRequest, Completion, IdempotencyStore, Record, Status, StoreError, StoreFuture};

fn record(r: StoredRecord) -> Record {
    Record {
        // An unknown status is treated as in progress: never replayed, never overwritten early.
        status: Status::parse(&r.status).unwrap_or(Status::InProgress),
        expiration: r.expiration,
        in_progress_expiration: r.in_progress_expiration,
        data: r.data.map(Into::into),
        validation: r.validation.map(Into::into),
        claim: r.claim.map(Into::into),
    }
}

impl IdempotencyStore for DynamoIdempotencyStore {
    fn claim(&self, req: ClaimRequest) -> StoreFuture<'_, ClaimOutcome> {
        Box::pin(async move {
            let out = DynamoIdempotencyStore::claim(
                self,
                &req.id,
                &req.token,
                req.validation.as_deref(),
                req.expiration,
                req.in_progress_expiration,
                req.now_ms,
            )
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))?;
            Ok(match out {
                ClaimResult::Claimed => ClaimOutcome::Claimed,
                ClaimResult::Held(r) => ClaimOutcome::Held(record(r)),
            })
        })
    }

    fn complete(&self, c: Completion) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let written =
                DynamoIdempotencyStore::complete(self, &c.id, &c.token, &c.data, c.validation.as_deref(), c.expiration)
                    .await
                    .map_err(|e| StoreError::Failed(e.to_string()))?;
            if written {
                Ok(())
            } else {
                Err(StoreError::ClaimLost)
            }
        })
    }

    fn release(&self, id: Arc<str>, token: Arc<str>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            DynamoIdempotencyStore::release(self, &id, &token)
                .await
                .map_err(|e| StoreError::Failed(e.to_string()))
        })
    }

    fn max_data_bytes(&self) -> usize {
        MAX_DATA_BYTES
    }
}
