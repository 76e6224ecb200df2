//! X-Ray subsegments: collected per invocation, assembled into a tree and sent to the daemon.

use std::sync::Mutex;

use crate::config::Inner;
use crate::stats::Counters;
use crate::{ids, json, time};

/// The daemon protocol's header line.
pub const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";
/// Largest datagram sent (header included); UDP's limit is 65,507 bytes.
pub const MAX_DATAGRAM: usize = 64_000;

/// One finished span (or the invocation itself).
#[derive(Debug, Default)]
pub(crate) struct Subsegment {
    pub(crate) id: u64,
    pub(crate) parent_id: u64,
    pub(crate) name: String,
    pub(crate) start_us: u64,
    pub(crate) end_us: u64,
    /// `,"k":v` pairs (annotation-typed values only).
    pub(crate) annotations: String,
    /// `,"k":v` pairs written under `metadata.default`.
    pub(crate) metadata: String,
    pub(crate) error: bool,
    pub(crate) fault: bool,
    pub(crate) throttle: bool,
    pub(crate) cause: Option<String>,
    pub(crate) http_status: Option<u16>,
}

/// The X-Ray part of an invocation's state; present only when sampled and a daemon is set.
#[derive(Debug)]
pub(crate) struct XrayState {
    pub(crate) trace_id: Box<str>,
    /// The Lambda function segment (`Parent=` of the trace header).
    pub(crate) lambda_parent: u64,
    /// The invocation's own subsegment, parent of its top-level spans.
    pub(crate) root_id: u64,
    pub(crate) buf: Mutex<XrayBuf>,
}

#[derive(Debug, Default)]
pub(crate) struct XrayBuf {
    pub(crate) finished: bool,
    pub(crate) subsegments: Vec<Subsegment>,
}

impl XrayState {
    /// Stores a closed span; after the invocation finished, sends it on its own at once.
    pub(crate) fn push(&self, obs: &Inner, seg: Subsegment) {
        let late = match self.buf.lock() {
            Ok(mut buf) if !buf.finished => {
                buf.subsegments.push(seg);
                return;
            }
            _ => seg,
        };
        let mut out = String::with_capacity(512);
        standalone(&mut out, obs, &self.trace_id, &late);
    }

    /// Sends the invocation's subsegment with every span collected so far nested inside it.
    pub(crate) fn finish(&self, obs: &Inner, mut root: Subsegment) {
        let mut subs = match self.buf.lock() {
            Ok(mut buf) => {
                buf.finished = true;
                std::mem::take(&mut buf.subsegments)
            }
            Err(_) => Vec::new(),
        };
        root.id = self.root_id;
        root.parent_id = self.lambda_parent;
        subs.sort_by_key(|s| s.parent_id);
        let mut out = String::with_capacity(1024);
        out.push_str(DAEMON_HEADER);
        write_segment(&mut out, &root, Some((&self.trace_id, true)), &subs, 0);
        if out.len() <= MAX_DATAGRAM {
            send(obs, &out);
            return;
        }
        // Too large for one datagram: every subsegment travels on its own, naming its parent.
        standalone(&mut out, obs, &self.trace_id, &root);
        for s in &subs {
            standalone(&mut out, obs, &self.trace_id, s);
        }
    }
}

fn standalone(out: &mut String, obs: &Inner, trace_id: &str, seg: &Subsegment) {
    out.clear();
    out.push_str(DAEMON_HEADER);
    write_segment(out, seg, Some((trace_id, true)), &[], 0);
    if out.len() > MAX_DATAGRAM {
        // Drop the metadata, which is what makes a single span large.
        out.clear();
        out.push_str(DAEMON_HEADER);
        write_segment(out, seg, Some((trace_id, false)), &[], 0);
    }
    if out.len() > MAX_DATAGRAM {
        Counters::incr(&obs.counters.xray_datagrams_dropped);
        return;
    }
    send(obs, out);
}

fn send(obs: &Inner, datagram: &str) {
    let Some(sink) = &obs.xray else { return };
    match sink.send(datagram.as_bytes()) {
        Ok(()) => Counters::incr(&obs.counters.xray_datagrams_sent),
        Err(_) => Counters::incr(&obs.counters.xray_datagrams_dropped),
    }
}

/// Writes one subsegment; `top` = `(trace_id, with_metadata)` for a top-level document.
fn write_segment(out: &mut String, seg: &Subsegment, top: Option<(&str, bool)>, all: &[Subsegment], depth: usize) {
    out.push_str("{\"name\":");
    write_name(out, &seg.name);
    out.push_str(",\"id\":\"");
    ids::write_hex16(out, seg.id);
    out.push_str("\",\"start_time\":");
    time::write_epoch_seconds(out, seg.start_us);
    out.push_str(",\"end_time\":");
    time::write_epoch_seconds(out, seg.end_us.max(seg.start_us));
    let mut with_metadata = true;
    if let Some((trace_id, meta)) = top {
        with_metadata = meta;
        out.push_str(",\"type\":\"subsegment\",\"trace_id\":");
        json::write_str(out, trace_id);
        out.push_str(",\"parent_id\":\"");
        ids::write_hex16(out, seg.parent_id);
        out.push('"');
    }
    if seg.error {
        out.push_str(",\"error\":true");
    }
    if seg.fault {
        out.push_str(",\"fault\":true");
    }
    if seg.throttle {
        out.push_str(",\"throttle\":true");
    }
    if let Some(status) = seg.http_status {
        out.push_str(",\"http\":{\"response\":{\"status\":");
        json::write_u64(out, u64::from(status));
        out.push_str("}}");
    }
    if let Some(msg) = &seg.cause {
        out.push_str(",\"cause\":{\"exceptions\":[{\"id\":\"");
        ids::write_hex16(out, ids::new_span_id());
        out.push_str("\",\"message\":");
        json::write_str(out, msg);
        out.push_str("}]}");
    }
    if let Some(rest) = seg.annotations.strip_prefix(',') {
        out.push_str(",\"annotations\":{");
        out.push_str(rest);
        out.push('}');
    }
    if with_metadata {
        if let Some(rest) = seg.metadata.strip_prefix(',') {
            out.push_str(",\"metadata\":{\"default\":{");
            out.push_str(rest);
            out.push_str("}}");
        }
    }
    // Children: `all` is sorted by parent id. Depth is bounded to keep recursion safe.
    if !all.is_empty() && depth < 64 {
        let lo = all.partition_point(|s| s.parent_id < seg.id);
        let hi = all.partition_point(|s| s.parent_id <= seg.id);
        if lo < hi {
            out.push_str(",\"subsegments\":[");
            for (i, child) in all[lo..hi].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_segment(out, child, None, all, depth + 1);
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// X-Ray names: at most 200 characters from letters, digits, whitespace and `_.:/%&#=+\-@`.
fn write_name(out: &mut String, name: &str) {
    out.push('"');
    for (i, c) in name.chars().enumerate() {
        if i == 200 {
            break;
        }
        let ok = c.is_alphanumeric() || c == ' ' || "_.:/%&#=+\\-@".contains(c);
        match (ok, c) {
            (true, '\\') => out.push_str("\\\\"),
            (true, c) => out.push(c),
            (false, _) => out.push('_'),
        }
    }
    if name.is_empty() {
        out.push_str("span");
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        let mut s = String::new();
        write_name(&mut s, "## POST /orders {id} \"x\"");
        assert_eq!(s, "\"## POST /orders _id_ _x_\"");
    }

    #[test]
    fn nested_tree_renders_as_json() {
        let root = Subsegment {
            id: 1,
            parent_id: 9,
            name: "root".into(),
            start_us: 1_000_000,
            end_us: 2_000_000,
            annotations: ",\"tenant_id\":\"t1\"".into(),
            ..Subsegment::default()
        };
        let mut subs = vec![
            Subsegment {
                id: 3,
                parent_id: 2,
                name: "grandchild".into(),
                ..Subsegment::default()
            },
            Subsegment {
                id: 2,
                parent_id: 1,
                name: "child".into(),
                fault: true,
                cause: Some("boom".into()),
                ..Subsegment::default()
            },
        ];
        subs.sort_by_key(|s| s.parent_id);
        let mut out = String::new();
        write_segment(
            &mut out,
            &root,
            Some(("1-5759e988-bd862e3fe1be46a994272793", true)),
            &subs,
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["parent_id"], "0000000000000009");
        assert_eq!(v["annotations"]["tenant_id"], "t1");
        assert_eq!(v["subsegments"][0]["name"], "child");
        assert_eq!(v["subsegments"][0]["fault"], true);
        assert_eq!(v["subsegments"][0]["cause"]["exceptions"][0]["message"], "boom");
        assert_eq!(v["subsegments"][0]["subsegments"][0]["name"], "grandchild");
        assert!(v["subsegments"][0].get("trace_id").is_none());
    }
}
