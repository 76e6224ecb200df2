//! A settings document kept in an item of the fleet table, against moto and dynalite.

#![allow(clippy::unwrap_used)]

// The same server, client and table helpers as `lift-dynamodb`'s store tests.
#[path = "../../lift-dynamodb/tests/common/mod.rs"]
mod servers;

use aws_sdk_dynamodb::types::AttributeValue;
use lift_config::{DynamoItemSource, PollError, PollOutcome, Poller, Settings, DOCUMENT_ATTRIBUTE};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mine {
    quota_per_minute: Option<u32>,
}

#[tokio::test]
async fn a_dynamodb_item_holds_the_document() {
    for (server, endpoint) in servers::servers() {
        let table = servers::fresh_table(&endpoint).await;
        let source = DynamoItemSource::new(table.clone(), "shop");
        let poller = Poller::new(source.clone(), Settings::parser::<Mine>());
        let config = poller.config();
        let put = |value: AttributeValue| {
            table
                .client()
                .put_item()
                .table_name(table.name())
                .item("id", AttributeValue::S(source.id().to_owned()))
                .item(DOCUMENT_ATTRIBUTE, value)
                .send()
        };

        let missing = poller.poll_once().await.unwrap_err();
        assert!(
            matches!(missing, PollError::Source(_)) && missing.to_string().contains("no item"),
            "{server}: {missing}"
        );

        put(AttributeValue::S(r#"{"quota_per_minute": 3}"#.into()))
            .await
            .unwrap();
        assert_eq!(poller.poll_once().await.unwrap(), PollOutcome::Applied(1), "{server}");
        assert_eq!(config.snapshot().app::<Mine>().unwrap().quota_per_minute, Some(3));
        assert_eq!(poller.poll_once().await.unwrap(), PollOutcome::Unchanged, "{server}");

        put(AttributeValue::S(r#"{"quota": 3}"#.into())).await.unwrap();
        assert!(
            matches!(poller.poll_once().await, Err(PollError::Invalid(_))),
            "{server}"
        );
        put(AttributeValue::N("3".into())).await.unwrap();
        let e = poller.poll_once().await.unwrap_err();
        assert!(e.to_string().contains("no string attribute"), "{server}: {e}");
        assert_eq!(
            config.snapshot().app::<Mine>().unwrap().quota_per_minute,
            Some(3),
            "{server}: the last good stays"
        );
    }
}
