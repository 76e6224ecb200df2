//! [`DynamoItemSource`]: a settings document kept in an item of the fleet table.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use lift_dynamodb::FleetTable;

use crate::source::{ConfigSource, FetchFuture, SourceError};

/// The item `id = cfg#<name>` of the fleet table, its string attribute `document` holding the
/// JSON document; read with a consistent `GetItem` at each poll. A missing item or attribute is
/// a source error (the settings in force stay).
#[derive(Clone, Debug)]
pub struct DynamoItemSource {
    table: FleetTable,
    id: String,
}

/// The attribute holding the document.
pub const DOCUMENT_ATTRIBUTE: &str = "document";

impl DynamoItemSource {
    /// The document named `name` in `table`.
    pub fn new(table: FleetTable, name: &str) -> Self {
        Self {
            table,
            id: format!("cfg#{name}"),
        }
    }

    /// The item's `id`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl ConfigSource for DynamoItemSource {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let out = self
                .table
                .client()
                .get_item()
                .table_name(self.table.name())
                .key("id", AttributeValue::S(self.id.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| SourceError::Unreachable(DisplayErrorContext(e).to_string()))?;
            let item = out
                .item()
                .ok_or_else(|| SourceError::Status(404, format!("no item {:?}", self.id)))?;
            match item.get(DOCUMENT_ATTRIBUTE) {
                Some(AttributeValue::S(doc)) => Ok(bytes::Bytes::from(doc.clone())),
                _ => Err(SourceError::Malformed(format!(
                    "item {:?} has no string attribute {DOCUMENT_ATTRIBUTE:?}",
                    self.id
                ))),
            }
        })
    }

    fn describe(&self) -> String {
        format!("dynamodb {} {}", self.table.name(), self.id)
    }
}
