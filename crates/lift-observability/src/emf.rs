//! Rendering a [`MetricSet`] as CloudWatch Embedded Metric Format documents.
//!
//! One document per line: `{"_aws":{"Timestamp":..,"CloudWatchMetrics":[{"Namespace":..,
//! "Dimensions":[["service",..]],"Metrics":[{"Name":..,"Unit":..}]}]},"service":..,"Name":value}`.
//! Documents are split so that none holds more than 100 metrics or 100 values of one metric.

use crate::json;
use crate::metrics::{Entry, MetricSet, MAX_METRICS_PER_DOCUMENT, MAX_VALUES_PER_METRIC};
use crate::Resolution;

/// Renders `set` into complete lines (each ending in `\n`), calling `emit` per document.
/// A property written by the invocation itself (request id, trace id, route, ...).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Extra<'a> {
    Str(&'a str),
    U64(u64),
}

/// The constant parts of every document, escaped once per process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head<'a> {
    /// `,"CloudWatchMetrics":[{"Namespace":"..","Dimensions":[["service"`
    pub(crate) emf_head: &'a str,
    /// `,"service":".."`
    pub(crate) service_pair: &'a str,
}

/// The keys [`Extra`] properties are written under (a handler's own key of the same name wins).
pub(crate) const EXTRA_KEYS: &[&str] = &[
    "function_request_id",
    "xray_trace_id",
    "correlation_id",
    "tenant_id",
    "route",
    "status",
    "error",
];

pub(crate) fn render(
    set: &MetricSet,
    head: Head<'_>,
    timestamp_ms: u64,
    extra: &[(&str, Extra<'_>)],
    line: &mut String,
    mut emit: impl FnMut(&str),
) {
    if set.metrics.is_empty() {
        return;
    }
    let rounds = set
        .metrics
        .iter()
        .map(|m| m.len().div_ceil(MAX_VALUES_PER_METRIC))
        .max()
        .unwrap_or(0);
    // Common case: one document with every metric; no batch list needed.
    if rounds == 1 && set.metrics.len() <= MAX_METRICS_PER_DOCUMENT {
        let all = set.metrics.iter().map(|m| (m, 0, m.len()));
        document(line, all, set, head, timestamp_ms, extra);
        emit(line);
        return;
    }
    let mut batch: Vec<(&Entry, usize, usize)> = Vec::with_capacity(set.metrics.len().min(MAX_METRICS_PER_DOCUMENT));
    for round in 0..rounds {
        let lo = round * MAX_VALUES_PER_METRIC;
        let chunks = set.metrics.iter().filter_map(|m| {
            let hi = (lo + MAX_VALUES_PER_METRIC).min(m.len());
            (lo < hi).then_some((m, lo, hi))
        });
        for item in chunks {
            batch.push(item);
            if batch.len() == MAX_METRICS_PER_DOCUMENT {
                document(line, batch.iter().copied(), set, head, timestamp_ms, extra);
                emit(line);
                batch.clear();
            }
        }
        if !batch.is_empty() {
            document(line, batch.iter().copied(), set, head, timestamp_ms, extra);
            emit(line);
            batch.clear();
        }
    }
}

/// Writes one document: `batch` gives each metric with the range of its values to include.
fn document<'a>(
    out: &mut String,
    batch: impl Iterator<Item = (&'a Entry, usize, usize)> + Clone,
    set: &MetricSet,
    head: Head<'_>,
    timestamp_ms: u64,
    extra: &[(&str, Extra<'_>)],
) {
    out.clear();
    out.push_str("{\"_aws\":{\"Timestamp\":");
    json::write_u64(out, timestamp_ms);
    out.push_str(head.emf_head);
    for (k, _) in set.dimensions() {
        out.push(',');
        json::write_str(out, k);
    }
    out.push_str("]],\"Metrics\":[");
    for (i, (m, _, _)) in batch.clone().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"Name\":\"");
        out.push_str(set.json_name(m));
        out.push_str("\",\"Unit\":\"");
        out.push_str(m.unit.as_str());
        out.push('"');
        if m.resolution == Resolution::High {
            out.push_str(",\"StorageResolution\":1");
        }
        out.push('}');
    }
    out.push_str("]}]}");
    out.push_str(head.service_pair);
    for (k, v) in set.dimensions() {
        json::write_key(out, k);
        json::write_str(out, v);
    }
    for (k, v) in extra {
        if set.extra_key_taken(k) {
            continue; // the handler's own key wins
        }
        json::write_key_plain(out, k); // one of EXTRA_KEYS
        match v {
            Extra::Str(s) => json::write_str(out, s),
            Extra::U64(n) => json::write_u64(out, *n),
        }
    }
    for (k, v) in set.properties() {
        json::write_key(out, k);
        out.push_str(v);
    }
    for (m, lo, hi) in batch {
        out.push_str(",\"");
        out.push_str(set.json_name(m));
        out.push_str("\":");
        if hi - lo == 1 {
            json::write_f64(out, m.value(lo));
        } else {
            out.push('[');
            for i in lo..hi {
                if i > lo {
                    out.push(',');
                }
                json::write_f64(out, m.value(i));
            }
            out.push(']');
        }
    }
    out.push_str("}\n");
}

/// The `ColdStart` document, on its own: dimensions `service` and `function_name`.
pub(crate) fn cold_start(
    out: &mut String,
    namespace: &str,
    service: &str,
    function_name: Option<&str>,
    timestamp_ms: u64,
) {
    out.clear();
    out.push_str("{\"_aws\":{\"Timestamp\":");
    json::write_u64(out, timestamp_ms);
    out.push_str(",\"CloudWatchMetrics\":[{\"Namespace\":");
    json::write_str(out, namespace);
    out.push_str(",\"Dimensions\":[[\"service\"");
    if function_name.is_some() {
        out.push_str(",\"function_name\"");
    }
    out.push_str("]],\"Metrics\":[{\"Name\":\"ColdStart\",\"Unit\":\"Count\"}]}]},\"service\":");
    json::write_str(out, service);
    if let Some(f) = function_name {
        json::write_key_plain(out, "function_name");
        json::write_str(out, f);
    }
    out.push_str(",\"ColdStart\":1}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Unit;

    #[test]
    fn splits_at_100_metrics_and_100_values() {
        let mut set = MetricSet::default();
        for i in 0..150 {
            set.add(&format!("m{i}"), 1.0, Unit::Count, Resolution::Standard, true)
                .expect("ok");
        }
        set.add("quo\"te", 1.0, Unit::Count, Resolution::Standard, true)
            .expect("ok");
        for i in 0..250 {
            set.add("many", f64::from(i), Unit::Milliseconds, Resolution::High, false)
                .expect("ok");
        }
        let mut docs = Vec::new();
        let mut line = String::new();
        let head = Head {
            emf_head: ",\"CloudWatchMetrics\":[{\"Namespace\":\"ns\",\"Dimensions\":[[\"service\"",
            service_pair: ",\"service\":\"svc\"",
        };
        render(&set, head, 1, &[], &mut line, |l| docs.push(l.to_owned()));
        // round 0: 151 metrics -> 2 docs; round 1 and 2: "many" only.
        assert_eq!(docs.len(), 4);
        let mut many = Vec::new();
        for d in &docs {
            let v: serde_json::Value = serde_json::from_str(d).expect("json");
            let defs = v["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().expect("array");
            assert!(defs.len() <= 100);
            if let Some(vals) = v.get("many") {
                let vals = vals.as_array().expect("array");
                assert!(vals.len() <= 100);
                many.extend(vals.iter().filter_map(serde_json::Value::as_f64));
            }
        }
        assert_eq!(many.len(), 250);
        let first: serde_json::Value = serde_json::from_str(&docs[1]).expect("json");
        assert_eq!(first["quo\"te"], 1);
        assert_eq!(many[249], 249.0);
    }
}
