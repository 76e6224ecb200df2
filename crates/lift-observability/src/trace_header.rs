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
        let p = Parsed::parse(header)?;
        Ok(Self {
            root: p.root.into(),
            parent: p.parent,
            sampled: p.sampled,
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

/// A parsed header borrowing the input (no allocation; what invocations use).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parsed<'a> {
    pub(crate) root: &'a str,
    pub(crate) parent: Option<u64>,
    pub(crate) sampled: Option<bool>,
}

impl<'a> Parsed<'a> {
    pub(crate) fn parse(header: &'a str) -> Result<Self, TraceHeaderError> {
        if let Some(p) = Self::parse_canonical(header) {
            return Ok(p);
        }
        Self::parse_general(header)
    }

    /// The form Lambda sends: `Root=<35>;Parent=<16 hex>;Sampled=<0|1>` and optionally
    /// `;Lineage=...` (ignored). `None` means "not exactly this form": parse it the general way.
    fn parse_canonical(header: &'a str) -> Option<Self> {
        let b = header.as_bytes();
        let root = b.get(5..40)?;
        if !b.starts_with(b"Root=") || !valid_root(root) || b.get(40..48)? != b";Parent=" {
            return None;
        }
        let parent = parse_hex16(b.get(48..64)?)?;
        if b.get(64..73)? != b";Sampled=" {
            return None;
        }
        let sampled = match b.get(73)? {
            b'1' => true,
            b'0' => false,
            _ => return None,
        };
        match b.get(74) {
            None => {}
            // Anything after `;` other than a further `Root`/`Parent`/`Sampled` is ignored.
            Some(b';')
                if !header[75..].contains("Root")
                    && !header[75..].contains("Parent")
                    && !header[75..].contains("Sampled") => {}
            Some(_) => return None,
        }
        Some(Self {
            root: header.get(5..40)?,
            parent: Some(parent),
            sampled: Some(sampled),
        })
    }

    fn parse_general(header: &'a str) -> Result<Self, TraceHeaderError> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        // A plain byte scan: this runs once per invocation and `str::split` with trimming costs
        // several times more.
        let bytes = header.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let end = bytes[i..]
                .iter()
                .position(|&c| c == b';')
                .map_or(bytes.len(), |p| i + p);
            let part = &bytes[i..end];
            i = end + 1;
            let Some(eq) = part.iter().position(|&c| c == b'=') else {
                continue;
            };
            let v = part[eq + 1..].trim_ascii();
            match part[..eq].trim_ascii() {
                b"Root" => root = Some(v),
                b"Parent" => parent = Some(v),
                b"Sampled" => {
                    sampled = match v {
                        b"1" => Some(true),
                        b"0" => Some(false),
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
        // `valid_root` checked that these bytes are ASCII.
        let root = std::str::from_utf8(root).map_err(|_| TraceHeaderError::InvalidRoot)?;
        let parent = match parent {
            None => None,
            Some(p) => Some(parse_hex16(p).ok_or(TraceHeaderError::InvalidParent)?),
        };
        Ok(Self { root, parent, sampled })
    }

    /// Sampled, with a parent to attach subsegments to.
    pub(crate) fn is_sampled(&self) -> bool {
        self.sampled == Some(true) && self.parent.is_some()
    }
}

/// Exactly 16 hex digits.
fn parse_hex16(p: &[u8]) -> Option<u64> {
    if p.len() != 16 {
        return None;
    }
    let mut v = 0u64;
    for &c in p {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

fn valid_root(b: &[u8]) -> bool {
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
        assert_eq!(
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8adg"),
            Err(TraceHeaderError::InvalidParent)
        );
        assert_eq!(
            TraceHeader::parse("Root=1-5759é988-bd862e3fe1be46a99427279"),
            Err(TraceHeaderError::InvalidRoot)
        );
    }

    #[test]
    fn canonical_and_general_parsers_agree() {
        let root = "1-5759e988-bd862e3fe1be46a994272793";
        for h in [
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1"),
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=0"),
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5"),
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1;Sampled=0"),
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=?"),
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1x"),
            format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1;Parent=0000000000000001"),
        ] {
            let fast = Parsed::parse(&h).map(|p| (p.root, p.parent, p.sampled));
            let slow = Parsed::parse_general(&h).map(|p| (p.root, p.parent, p.sampled));
            assert_eq!(fast, slow, "{h}");
        }
    }

    #[test]
    fn tolerates_spaces_and_empty_parts() {
        let h =
            TraceHeader::parse(" Root = 1-5759e988-bd862e3fe1be46a994272793 ;; Parent=53995C3F42CD8AD8; Sampled=1;")
                .expect("valid");
        assert_eq!(h.root(), "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(h.parent(), Some(0x53995c3f42cd8ad8));
        assert_eq!(h.sampled(), Some(true));
    }
}
