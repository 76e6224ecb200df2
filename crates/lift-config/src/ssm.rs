//! [`SsmParameterSource`]: a settings document kept in an SSM parameter.

use crate::extension::SecretsExtension;
use crate::source::{ConfigSource, FetchFuture};

/// The value of an SSM parameter, read through the Parameters and Secrets extension, as the
/// settings document.
#[derive(Clone, Debug)]
pub struct SsmParameterSource {
    extension: SecretsExtension,
    name: String,
}

impl SsmParameterSource {
    /// The parameter `name` through `extension`.
    pub fn new(extension: SecretsExtension, name: impl Into<String>) -> Self {
        Self {
            extension,
            name: name.into(),
        }
    }
}

impl ConfigSource for SsmParameterSource {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move { Ok(bytes::Bytes::from(self.extension.parameter(&self.name).await?)) })
    }

    fn describe(&self) -> String {
        format!("ssm parameter {}", self.name)
    }
}
