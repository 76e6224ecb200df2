//! The fleet table on both servers: creation waits until ACTIVE, a missing table or a wrong
//! key schema is a clear error at start.

#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use lift_dynamodb::FleetTable;

#[tokio::test]
async fn a_created_table_verifies_and_a_missing_one_is_a_clear_error() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        table.verify().await.unwrap_or_else(|e| panic!("{server}: {e}"));
        // Idempotent.
        table
            .create_if_missing(std::time::Duration::from_secs(5))
            .await
            .unwrap();

        let missing = FleetTable::new(common::client(&endpoint), "no-such-table");
        let err = missing.verify().await.unwrap_err().to_string();
        assert!(err.contains("no-such-table"), "{server}: {err}");
    }
}

#[tokio::test]
async fn a_wrong_key_schema_is_refused_naming_what_was_found() {
    for (server, endpoint) in common::servers() {
        let client = common::client(&endpoint);
        let name = format!("lift-wrong-{}", fastrand::u64(..));
        client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let err = FleetTable::new(client, &name).verify().await.unwrap_err().to_string();
        assert!(err.contains("pk (HASH)") && err.contains("`id`"), "{server}: {err}");
    }
}
