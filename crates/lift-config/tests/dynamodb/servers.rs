//! (A copy of `lift-dynamodb/tests/common`.) The DynamoDB-compatible servers the tests run against (started by
//! `scripts/test.sh`, which exports their endpoints), and fresh tables on them.

#![allow(dead_code, clippy::unwrap_used)]

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use lift_dynamodb::FleetTable;

/// `(server name, endpoint)` for moto and dynalite.
pub(crate) fn servers() -> Vec<(&'static str, String)> {
    ["MOTO", "DYNALITE"]
        .iter()
        .map(|name| {
            let var = format!("LIFT_TEST_{name}_ENDPOINT");
            let url = std::env::var(&var).unwrap_or_else(|_| {
                panic!("{var} is not set: run the tests with `bash scripts/test.sh`, which starts moto and dynalite")
            });
            (if *name == "MOTO" { "moto" } else { "dynalite" }, url)
        })
        .collect()
}

/// A client of its own (as each Lambda environment has) for `endpoint`.
pub(crate) fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "lift-tests"))
        .build();
    Client::from_conf(config)
}

/// A new, empty fleet table on `endpoint`, created and ACTIVE.
pub(crate) async fn fresh_table(endpoint: &str) -> FleetTable {
    let name = format!("lift-test-{}", fastrand::u64(..));
    let table = FleetTable::new(client(endpoint), name);
    table
        .create_if_missing(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    table
}
