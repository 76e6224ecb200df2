//! Rendering a [`MetricSet`] as CloudWatch Embedded Metric Format documents.
//!
//! One document per line: `{"_aws":{"Timestamp":..,"CloudWatchMetrics":[{"Namespace":..,
//! "Dimensions":[["service",..]],"Metrics":[{"Name":..,"Unit":..}]}]},"service":..,"Name":value}`.
//! Documents are split so that none holds more than 100 metrics or 100 values of one metric.

use std::fmt::Write as _;

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

pub(crate) fn render(
    set: &MetricSet,
    namespace: &str,
    service: &str,
    timestamp_ms: u64,
    extra: &[(&str, Extra<'_>)],
    mut emit: impl FnMut(&str),
) {
    if set.metrics.is_empty() {
        return;
    }
    let rounds = set
        .metrics
        .iter()
        .map(|m| m.values.len().div_ceil(MAX_VALUES_PER_METRIC))
        .max()
        .unwrap_or(0);
    let mut line = String::with_capacity(512);
    let mut batch: Vec<(&Entry, &[f64])> = Vec::with_capacity(set.metrics.len().min(MAX_METRICS_PER_DOCUMENT));
    for round in 0..rounds {
        let lo = round * MAX_VALUES_PER_METRIC;
        let chunks = set.metrics.iter().filter_map(|m| {
            let hi = (lo + MAX_VALUES_PER_METRIC).min(m.values.len());
            (lo < hi).then(|| (m, &m.values[lo..hi]))
        });
        for item in chunks {
            batch.push(item);
            if batch.len() == MAX_METRICS_PER_DOCUMENT {
                document(&mut line, &batch, set, namespace, service, timestamp_ms, extra);
                emit(&line);
                batch.clear();
            }
        }
        if !batch.is_empty() {
            document(&mut line, &batch, set, namespace, service, timestamp_ms, extra);
            emit(&line);
            batch.clear();
        }
    }
}

fn document(
    out: &mut String,
    batch: &[(&Entry, &[f64])],
    set: &MetricSet,
    namespace: &str,
    service: &str,
    timestamp_ms: u64,
    extra: &[(&str, Extra<'_>)],
) {
    out.clear();
    out.push_str("{\"_aws\":{\"Timestamp\":");
    json::write_u64(out, timestamp_ms);
    out.push_str(",\"CloudWatchMetrics\":[{\"Namespace\":");
    json::write_str(out, namespace);
    out.push_str(",\"Dimensions\":[[\"service\"");
    for (k, _) in &set.dimensions {
        out.push(',');
        json::write_str(out, k);
    }
    out.push_str("]],\"Metrics\":[");
    for (i, (m, _)) in batch.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"Name\":");
        json::write_str(out, &m.name);
        out.push_str(",\"Unit\":\"");
        out.push_str(m.unit.as_str());
        out.push('"');
        if m.resolution == Resolution::High {
            out.push_str(",\"StorageResolution\":1");
        }
        out.push('}');
    }
    out.push_str("]}]},\"service\":");
    json::write_str(out, service);
    for (k, v) in &set.dimensions {
        json::write_key(out, k);
        json::write_str(out, v);
    }
    for (k, v) in extra {
        if set.key_used(k) {
            continue; // the handler's own key wins
        }
        json::write_key(out, k);
        match v {
            Extra::Str(s) => json::write_str(out, s),
            Extra::U64(n) => json::write_u64(out, *n),
        }
    }
    for (k, v) in &set.properties {
        json::write_key(out, k);
        // `Value`'s Display is compact JSON, written straight into the line.
        let _ = write!(out, "{v}");
    }
    for (m, values) in batch {
        json::write_key(out, &m.name);
        if let [single] = values {
            json::write_f64(out, *single);
        } else {
            out.push('[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_f64(out, *v);
            }
            out.push(']');
        }
    }
    out.push_str("}\n");
}

/// The `ColdStart` document, on its own: dimensions `service` and `function_name`.
pub(crate) fn cold_start(namespace: &str, service: &str, function_name: Option<&str>, timestamp_ms: u64) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"_aws\":{\"Timestamp\":");
    json::write_u64(&mut out, timestamp_ms);
    out.push_str(",\"CloudWatchMetrics\":[{\"Namespace\":");
    json::write_str(&mut out, namespace);
    out.push_str(",\"Dimensions\":[[\"service\"");
    if function_name.is_some() {
        out.push_str(",\"function_name\"");
    }
    out.push_str("]],\"Metrics\":[{\"Name\":\"ColdStart\",\"Unit\":\"Count\"}]}]},\"service\":");
    json::write_str(&mut out, service);
    if let Some(f) = function_name {
        json::write_key(&mut out, "function_name");
        json::write_str(&mut out, f);
    }
    out.push_str(",\"ColdStart\":1}\n");
    out
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
        for i in 0..250 {
            set.add("many", f64::from(i), Unit::Milliseconds, Resolution::High, false)
                .expect("ok");
        }
        let mut docs = Vec::new();
        render(&set, "ns", "svc", 1, &[], |l| docs.push(l.to_owned()));
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
        assert_eq!(many[249], 249.0);
    }
}
