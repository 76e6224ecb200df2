//! Patterns that select which handler serves a record: glob names, S3 and EventBridge matches.

/// A name pattern with `*` wildcards (`orders-*`, `*-dlq`, `*`), matched against a resource's
/// name and against its full ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// A pattern; `*` matches any run of characters, everything else matches itself.
    pub fn new(pattern: impl Into<String>) -> Self {
        Glob(pattern.into())
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        glob_match(self.0.as_bytes(), text.as_bytes())
    }

    /// Whether the pattern matches the resource's name or its full ARN.
    pub(crate) fn matches_resource(&self, name: &str, arn: &str) -> bool {
        self.matches(name) || self.matches(arn)
    }
}

impl From<&str> for Glob {
    fn from(s: &str) -> Self {
        Glob::new(s)
    }
}

impl From<String> for Glob {
    fn from(s: String) -> Self {
        Glob::new(s)
    }
}

/// Iterative wildcard match with single backtracking point: O(len(p) * len(t)) worst case,
/// no recursion, no allocation.
fn glob_match(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The resource name at the end of an ARN: the queue of an SQS ARN, the topic of an SNS ARN,
/// the table of a DynamoDB stream ARN, the stream of a Kinesis ARN.
pub(crate) fn arn_resource(arn: &str) -> &str {
    // arn:partition:service:region:account:resource
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    // DynamoDB: table/<name>/stream/<label>; Kinesis: stream/<name>
    let mut parts = resource.split('/');
    match parts.next() {
        Some("table") | Some("stream") => parts.next().unwrap_or(resource),
        _ => resource,
    }
}

/// Which S3 notifications a handler serves: bucket, key prefix/suffix and event name, each
/// optional (glob patterns for bucket and event name, e.g. `ObjectCreated:*`).
#[derive(Clone, Debug, Default)]
pub struct S3Match {
    bucket: Option<Glob>,
    prefix: Option<String>,
    suffix: Option<String>,
    event: Option<Glob>,
}

impl S3Match {
    /// Objects in buckets matching `bucket`.
    pub fn bucket(bucket: impl Into<Glob>) -> Self {
        Self {
            bucket: Some(bucket.into()),
            ..Self::default()
        }
    }

    /// Any bucket.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Only keys ending with `suffix`.
    pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
        self.suffix = Some(suffix.into());
        self
    }

    /// Only events whose name matches (`ObjectCreated:*`, `ObjectRemoved:Delete`). The
    /// `s3:` prefix used in bucket configurations is accepted and ignored.
    pub fn event(mut self, event: impl Into<String>) -> Self {
        let e: String = event.into();
        self.event = Some(Glob::new(e.strip_prefix("s3:").unwrap_or(&e)));
        self
    }

    pub(crate) fn matches(&self, bucket: &str, key: &str, event: &str) -> bool {
        self.bucket.as_ref().is_none_or(|g| g.matches(bucket))
            && self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
            && self
                .event
                .as_ref()
                .is_none_or(|g| g.matches(event.strip_prefix("s3:").unwrap_or(event)))
    }
}

impl From<&str> for S3Match {
    fn from(bucket: &str) -> Self {
        S3Match::bucket(bucket)
    }
}

/// Which EventBridge events a handler serves: `source` and `detail-type` (glob patterns).
#[derive(Clone, Debug, Default)]
pub struct EventMatch {
    source: Option<Glob>,
    detail_type: Option<Glob>,
}

impl EventMatch {
    /// Events from `source` (e.g. `com.acme.orders`).
    pub fn source(source: impl Into<Glob>) -> Self {
        Self {
            source: Some(source.into()),
            detail_type: None,
        }
    }

    /// Any event.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only events of this `detail-type`.
    pub fn detail_type(mut self, detail_type: impl Into<Glob>) -> Self {
        self.detail_type = Some(detail_type.into());
        self
    }

    pub(crate) fn matches(&self, source: &str, detail_type: &str) -> bool {
        self.source.as_ref().is_none_or(|g| g.matches(source))
            && self.detail_type.as_ref().is_none_or(|g| g.matches(detail_type))
    }
}

impl From<&str> for EventMatch {
    fn from(source: &str) -> Self {
        EventMatch::source(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("*", "", true),
            ("*", "anything", true),
            ("orders", "orders", true),
            ("orders", "orders2", false),
            ("orders-*", "orders-eu", true),
            ("*-dlq", "orders-dlq", true),
            ("*-dlq", "orders-dlq2", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("", "x", false),
        ] {
            assert_eq!(Glob::new(p).matches(t), m, "{p} vs {t}");
        }
    }

    #[test]
    fn arn_resources() {
        assert_eq!(arn_resource("arn:aws:sqs:us-east-2:123456789012:my-queue"), "my-queue");
        assert_eq!(arn_resource("arn:aws:sns:us-east-1:123:topic"), "topic");
        assert_eq!(
            arn_resource("arn:aws:dynamodb:us-east-1:123:table/Orders/stream/2015-06-27T00:48:05.899"),
            "Orders"
        );
        assert_eq!(arn_resource("arn:aws:kinesis:us-east-1:123:stream/clicks"), "clicks");
        assert_eq!(arn_resource("not-an-arn"), "not-an-arn");
    }

    #[test]
    fn s3_matches() {
        let m = S3Match::bucket("uploads-*")
            .prefix("in/")
            .suffix(".jpg")
            .event("s3:ObjectCreated:*");
        assert!(m.matches("uploads-prod", "in/cat.jpg", "ObjectCreated:Put"));
        assert!(!m.matches("uploads-prod", "out/cat.jpg", "ObjectCreated:Put"));
        assert!(!m.matches("uploads-prod", "in/cat.png", "ObjectCreated:Put"));
        assert!(!m.matches("uploads-prod", "in/cat.jpg", "ObjectRemoved:Delete"));
        assert!(!m.matches("logs", "in/cat.jpg", "ObjectCreated:Put"));
    }
}
