//! The quick start's Kafka and VPC Lattice sources.
//!
//! VPC Lattice needs no route of its own: its v1 and v2 events reach the same HTTP routes
//! (`GET /hello/{name}` answers 200 in Lattice's response shape). Kafka records from any
//! topic are logged and succeed, whatever their value (JSON, text or bytes); a record whose
//! value is JSON with `"fail": true` fails the invocation, so the service redelivers the batch
//! (Kafka cannot report single records).

use lift::{App, Context, Error, Kafka};
use serde_json::Value;

/// Adds the Kafka route (every topic).
pub(crate) fn register(app: App) -> App {
    app.kafka("*", on_kafka)
}

async fn on_kafka(_ctx: Context, rec: Kafka<Vec<u8>>) -> Result<(), Error> {
    let m = &rec.meta;
    let wants_failure = serde_json::from_slice::<Value>(&rec.body).is_ok_and(|v| crate::wants_failure(&v));
    if wants_failure {
        return Err(crate::fail("Kafka record"));
    }
    tracing::info!(
        topic = %m.topic,
        partition = m.partition,
        offset = m.offset,
        key = m.key_str().unwrap_or(""),
        bytes = rec.body.len(),
        "Kafka record processed"
    );
    Ok(())
}
