//! X-Ray subsegments: collected per invocation, assembled into a tree and sent to the daemon.

use std::sync::Mutex;

use crate::config::Inner;
use crate::stats::Counters;
use crate::{ids, json, pool, time};

/// The daemon protocol's header line.
pub const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";
/// Largest datagram sent (header included); UDP's limit is 65,507 bytes.
pub const MAX_DATAGRAM: usize = 64_000;

/// A subsegment to render (a closed span, or the invocation itself), borrowing its strings.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Seg<'a> {
    pub(crate) id: u64,
    pub(crate) parent_id: u64,
    /// Written before `name` (`"## "` for the invocation's own subsegment).
    pub(crate) name_prefix: &'a str,
    pub(crate) name: &'a str,
    pub(crate) start_us: u64,
    pub(crate) end_us: u64,
    /// `,"k":v` pairs (annotation-typed values only).
    pub(crate) annotations: &'a str,
    /// `,"k":v` pairs written under `metadata.default`.
    pub(crate) metadata: &'a str,
    pub(crate) error: bool,
    pub(crate) fault: bool,
    pub(crate) throttle: bool,
    pub(crate) cause: Option<&'a str>,
    pub(crate) http_status: Option<u16>,
}

/// A closed span kept until the invocation finishes; its strings live in [`XrayBuf::text`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    id: u64,
    parent_id: u64,
    start_us: u64,
    end_us: u64,
    fault: bool,
    name: (u32, u32),
    annotations: (u32, u32),
    metadata: (u32, u32),
    cause: Option<(u32, u32)>,
}

/// The X-Ray part of an invocation's state; present only when sampled and a daemon is set.
#[derive(Debug)]
pub(crate) struct XrayState {
    /// The Lambda function segment (`Parent=` of the trace header).
    pub(crate) lambda_parent: u64,
    /// The invocation's own subsegment, parent of its top-level spans.
    pub(crate) root_id: u64,
    pub(crate) buf: Mutex<XrayBuf>,
}

/// Closed spans of one invocation: fixed-size nodes plus one text arena (pooled, so a steady
/// stream of invocations allocates nothing here).
#[derive(Debug, Default)]
pub(crate) struct XrayBuf {
    pub(crate) finished: bool,
    nodes: Vec<Node>,
    text: String,
}

impl XrayBuf {
    fn put(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.push_str(s);
        (start as u32, self.text.len() as u32)
    }

    fn s(&self, r: (u32, u32)) -> &str {
        &self.text[r.0 as usize..r.1 as usize]
    }

    fn add(&mut self, seg: &Seg<'_>) {
        let node = Node {
            id: seg.id,
            parent_id: seg.parent_id,
            start_us: seg.start_us,
            end_us: seg.end_us,
            fault: seg.fault,
            name: self.put(seg.name),
            annotations: self.put(seg.annotations),
            metadata: self.put(seg.metadata),
            cause: seg.cause.map(|c| self.put(c)),
        };
        self.nodes.push(node);
    }

    fn view(&self, n: &Node) -> Seg<'_> {
        Seg {
            id: n.id,
            parent_id: n.parent_id,
            name: self.s(n.name),
            start_us: n.start_us,
            end_us: n.end_us,
            annotations: self.s(n.annotations),
            metadata: self.s(n.metadata),
            fault: n.fault,
            cause: n.cause.map(|c| self.s(c)),
            ..Seg::default()
        }
    }

    /// Forgets everything, keeping the capacity (for the pool).
    pub(crate) fn reset(&mut self) {
        self.finished = false;
        self.nodes.clear();
        self.text.clear();
    }

    /// Heap memory held, to decide whether the buffer is worth pooling.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.nodes.capacity() * std::mem::size_of::<Node>()
    }
}

impl XrayState {
    /// Stores a closed span; after the invocation finished, sends it on its own at once.
    pub(crate) fn push(&self, obs: &Inner, trace_id: &str, seg: &Seg<'_>) {
        match self.buf.lock() {
            Ok(mut buf) if !buf.finished => {
                buf.add(seg);
                return;
            }
            _ => {}
        }
        pool::with_scratch(|out| standalone(out, obs, trace_id, seg));
    }

    /// Sends the invocation's subsegment with every span collected so far nested inside it.
    pub(crate) fn finish(&self, obs: &Inner, trace_id: &str, mut root: Seg<'_>) {
        let mut buf = match self.buf.lock() {
            Ok(mut buf) => {
                let taken = std::mem::take(&mut *buf);
                // Spans closing from now on are sent on their own.
                buf.finished = true;
                taken
            }
            Err(_) => XrayBuf::default(),
        };
        root.id = self.root_id;
        root.parent_id = self.lambda_parent;
        buf.nodes.sort_by_key(|s| s.parent_id);
        pool::with_scratch(|out| {
            out.push_str(DAEMON_HEADER);
            write_segment(out, &root, Some((trace_id, true)), &buf, 0);
            if out.len() <= MAX_DATAGRAM {
                send(obs, out);
                return;
            }
            // Too large for one datagram: every subsegment travels on its own, naming its parent.
            standalone(out, obs, trace_id, &root);
            for n in &buf.nodes {
                standalone(out, obs, trace_id, &buf.view(n));
            }
        });
        pool::give_xray_buf(buf);
    }
}

fn standalone(out: &mut String, obs: &Inner, trace_id: &str, seg: &Seg<'_>) {
    let none = XrayBuf::default();
    out.clear();
    out.push_str(DAEMON_HEADER);
    write_segment(out, seg, Some((trace_id, true)), &none, 0);
    if out.len() > MAX_DATAGRAM {
        // Drop the metadata, which is what makes a single span large.
        out.clear();
        out.push_str(DAEMON_HEADER);
        write_segment(out, seg, Some((trace_id, false)), &none, 0);
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
fn write_segment(out: &mut String, seg: &Seg<'_>, top: Option<(&str, bool)>, buf: &XrayBuf, depth: usize) {
    out.push_str("{\"name\":");
    write_name(out, seg.name_prefix, seg.name);
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
    if let Some(msg) = seg.cause {
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
    // Children: `buf.nodes` is sorted by parent id. Depth is bounded to keep recursion safe.
    let all = &buf.nodes;
    if !all.is_empty() && depth < 64 {
        let lo = all.partition_point(|s| s.parent_id < seg.id);
        let hi = all.partition_point(|s| s.parent_id <= seg.id);
        if lo < hi {
            out.push_str(",\"subsegments\":[");
            for (i, child) in all[lo..hi].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_segment(out, &buf.view(child), None, buf, depth + 1);
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// Whether `s` is only ASCII characters X-Ray accepts as they are (and that need no JSON escape).
fn is_plain_name(s: &str) -> bool {
    s.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b' ' | b'_' | b'.' | b':' | b'/' | b'%' | b'&' | b'#' | b'=' | b'+' | b'-' | b'@'
            )
    })
}

/// X-Ray names: at most 200 characters from letters, digits, whitespace and `_.:/%&#=+\\-@`.
fn write_name(out: &mut String, prefix: &str, name: &str) {
    if !name.is_empty() && prefix.len() + name.len() <= 200 && is_plain_name(prefix) && is_plain_name(name) {
        out.push('"');
        out.push_str(prefix);
        out.push_str(name);
        out.push('"');
        return;
    }
    out.push('"');
    for (i, c) in prefix.chars().chain(name.chars()).enumerate() {
        if i == 200 {
            break;
        }
        let ok = c.is_ascii_alphanumeric()
            || c == ' '
            || matches!(
                c,
                '_' | '.' | ':' | '/' | '%' | '&' | '#' | '=' | '+' | '\\' | '-' | '@'
            )
            || (!c.is_ascii() && c.is_alphanumeric());
        match (ok, c) {
            (true, '\\') => out.push_str("\\\\"),
            (true, c) => out.push(c),
            (false, _) => out.push('_'),
        }
    }
    if prefix.is_empty() && name.is_empty() {
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
        write_name(&mut s, "## ", "POST /orders {id} \"x\"");
        assert_eq!(s, "\"## POST /orders _id_ _x_\"");
        s.clear();
        write_name(&mut s, "", "");
        assert_eq!(s, "\"span\"");
        s.clear();
        write_name(&mut s, "## ", &"é".repeat(300));
        assert_eq!(s.chars().count(), 202);
    }

    #[test]
    fn nested_tree_renders_as_json() {
        let root = Seg {
            id: 1,
            parent_id: 9,
            name: "root",
            start_us: 1_000_000,
            end_us: 2_000_000,
            annotations: ",\"tenant_id\":\"t1\"",
            ..Seg::default()
        };
        let mut buf = XrayBuf::default();
        buf.add(&Seg {
            id: 3,
            parent_id: 2,
            name: "grandchild",
            ..Seg::default()
        });
        buf.add(&Seg {
            id: 2,
            parent_id: 1,
            name: "child",
            fault: true,
            cause: Some("boom"),
            metadata: ",\"k\":1",
            ..Seg::default()
        });
        buf.nodes.sort_by_key(|s| s.parent_id);
        let mut out = String::new();
        write_segment(
            &mut out,
            &root,
            Some(("1-5759e988-bd862e3fe1be46a994272793", true)),
            &buf,
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["parent_id"], "0000000000000009");
        assert_eq!(v["annotations"]["tenant_id"], "t1");
        assert_eq!(v["subsegments"][0]["name"], "child");
        assert_eq!(v["subsegments"][0]["fault"], true);
        assert_eq!(v["subsegments"][0]["metadata"]["default"]["k"], 1);
        assert_eq!(v["subsegments"][0]["cause"]["exceptions"][0]["message"], "boom");
        assert_eq!(v["subsegments"][0]["subsegments"][0]["name"], "grandchild");
        assert!(v["subsegments"][0].get("trace_id").is_none());
    }
}
