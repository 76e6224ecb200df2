//! The invocation's own X-Ray trace header (`Lambda-Runtime-Trace-Id`).

use std::fmt;

/// A parsed X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
///
/// Always taken from the invocation (the `Lambda-Runtime-Trace-Id` response header of the Runtime
/// API), never from the process-wide `_X_AMZN_TRACE_ID` variable, which is wrong as soon as
/// several invocations run at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader {
    root: Box<str>,
    parent: Option<u64>,
    sampled: Option<bool>,
}

/// Why a trace header could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceHeaderError {
    /// No `Root=` field.
    MissingRoot,
    /// `Root` is not `1-<8 hex>-<24 hex>`.
    InvalidRoot,
    /// `Parent` is not 16 hex characters.
    InvalidParent,
}

impl fmt::Display for TraceHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingRoot => "trace header has no Root field",
            Self::InvalidRoot => "trace header Root is not of the form 1-<8 hex>-<24 hex>",
            Self::InvalidParent => "trace header Parent is not 16 hex characters",
        })
    }
}

impl std::error::Error for TraceHeaderError {}

impl TraceHeader {
    /// Parses a header; unknown fields (such as `Lineage`) are ignored.
    pub fn parse(header: &str) -> Result<Self, TraceHeaderError> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        for part in header.split(';') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            match k.trim() {
                "Root" => root = Some(v.trim()),
                "Parent" => parent = Some(v.trim()),
                "Sampled" => {
                    sampled = match v.trim() {
                        "1" => Some(true),
                        "0" => Some(false),
                        _ => None, // "?" = deferred decision
                    }
                }
                _ => {}
            }
        }
        let root = root.ok_or(TraceHeaderError::MissingRoot)?;
        if !valid_root(root) {
            return Err(TraceHeaderError::InvalidRoot);
        }
        let parent = match parent {
            None => None,
            Some(p) if p.len() == 16 => Some(u64::from_str_radix(p, 16).map_err(|_| TraceHeaderError::InvalidParent)?),
            Some(_) => return Err(TraceHeaderError::InvalidParent),
        };
        Ok(Self {
            root: root.into(),
            parent,
            sampled,
        })
    }

    /// The trace id (`1-5759e988-bd862e3fe1be46a994272793`), logged as `xray_trace_id`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The id of the Lambda function segment that subsegments are parented to.
    pub fn parent(&self) -> Option<u64> {
        self.parent
    }

    /// `Some(true)` for `Sampled=1`, `Some(false)` for `Sampled=0`, `None` when absent or deferred.
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// Whether subsegments should be sent: sampled, with a parent to attach them to.
    pub fn is_sampled(&self) -> bool {
        self.sampled == Some(true) && self.parent.is_some()
    }
}

fn valid_root(root: &str) -> bool {
    let b = root.as_bytes();
    b.len() == 35
        && b[0] == b'1'
        && b[1] == b'-'
        && b[10] == b'-'
        && b[2..10].iter().all(u8::is_ascii_hexdigit)
        && b[11..].iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lambda_header_with_lineage() {
        let h = TraceHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5",
        )
        .expect("valid");
        assert_eq!(h.root(), "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(h.parent(), Some(0x53995c3f42cd8ad8));
        assert!(h.is_sampled());
    }

    #[test]
    fn unsampled_and_deferred() {
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
            .expect("valid");
        assert_eq!(h.sampled(), Some(false));
        assert!(!h.is_sampled());
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?").expect("valid");
        assert_eq!(h.sampled(), None);
        assert!(!h.is_sampled());
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            TraceHeader::parse("Parent=53995c3f42cd8ad8"),
            Err(TraceHeaderError::MissingRoot)
        );
        assert_eq!(TraceHeader::parse("Root=abc"), Err(TraceHeaderError::InvalidRoot));
        assert_eq!(
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz"),
            Err(TraceHeaderError::InvalidParent)
        );
    }
}
