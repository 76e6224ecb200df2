//! The SAM template (`examples/quickstart/template.yaml`) against the code it deploys: every
//! environment variable the quick start reads is set on the function, the table is the fleet
//! table's design, the queue reports failures per message. (`cfn-lint` checks the template
//! against CloudFormation's schemas in `scripts/test.sh`.)
//!
//! The variables are found in the source, not copied by hand: every string literal naming a
//! `QUICKSTART_*`, `LIFT_*` or `POWERTOOLS_*` variable in the quick start, in `lift` (but its
//! `local/` server, whose variables do not apply on Lambda), in `lift-observability`,
//! `lift-dynamodb` and `lift-config`. Lambda's own `AWS_*` variables are set by Lambda.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const PREFIXES: [&str; 3] = ["QUICKSTART_", "LIFT_", "POWERTOOLS_"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml")).unwrap()
}

fn rust_files(dir: &Path, skip: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !skip.contains(&name) {
                rust_files(&path, skip, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// `"PREFIX_NAME"` string literals in `text`.
fn env_literals(text: &str, found: &mut BTreeSet<String>) {
    for (i, _) in text.match_indices('"') {
        let rest = &text[i + 1..];
        let end = rest.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
        let Some(end) = end else { continue };
        let name = &rest[..end];
        if rest[end..].starts_with('"') && PREFIXES.iter().any(|p| name.starts_with(p) && name.len() > p.len()) {
            found.insert(name.to_owned());
        }
    }
}

/// Every variable the quick start's process reads on Lambda, from the source.
fn variables_read() -> BTreeSet<String> {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("examples/quickstart/src"), &[], &mut files);
    rust_files(&root.join("crates/lift/src"), &["local"], &mut files);
    rust_files(&root.join("crates/lift-observability/src"), &[], &mut files);
    rust_files(&root.join("crates/lift-dynamodb/src"), &[], &mut files);
    rust_files(&root.join("crates/lift-config/src"), &[], &mut files);
    let mut found = BTreeSet::new();
    for f in files {
        env_literals(&std::fs::read_to_string(&f).unwrap(), &mut found);
    }
    found
}

/// The keys under the function's `Environment: Variables:`.
fn template_variables(template: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = template.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "Environment:")
        .expect("the function has an Environment");
    assert_eq!(lines[start + 1].trim(), "Variables:");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let base = indent(lines[start + 1]);
    let mut vars = BTreeSet::new();
    for l in &lines[start + 2..] {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if indent(l) <= base {
            break;
        }
        if let Some((key, _)) = l.trim().split_once(':') {
            vars.insert(key.to_owned());
        }
    }
    vars
}

#[test]
fn the_source_scan_finds_the_variables_we_know_of() {
    let read = variables_read();
    for known in [
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
        "LIFT_TABLE",
        "QUICKSTART_QUOTA_PER_MINUTE",
    ] {
        assert!(read.contains(known), "{known} not found in the source: {read:?}");
    }
    assert!(
        !read.contains("LIFT_BODY_TIMEOUT_SECS"),
        "the local server's variables do not apply on Lambda"
    );
    let mut found = BTreeSet::new();
    env_literals(r#"get("LIFT_X") "LIFT_" "lift_y" "QUICKSTART_A1" x"#, &mut found);
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["LIFT_X", "QUICKSTART_A1"]);
}

#[test]
fn the_function_sets_every_variable_the_quick_start_reads() {
    let set = template_variables(&template());
    let missing: Vec<_> = variables_read().into_iter().filter(|v| !set.contains(v)).collect();
    assert!(
        missing.is_empty(),
        "template.yaml does not set {missing:?} (sets {set:?})"
    );
    // Announced by the authentication, CORS and AppConfig work: parameters with defaults.
    for v in [
        "QUICKSTART_JWT_SECRET",
        "QUICKSTART_JWKS_URL",
        "QUICKSTART_JWT_ISSUER",
        "QUICKSTART_JWT_AUDIENCE",
        "QUICKSTART_CORS_ORIGINS",
        "LIFT_APPCONFIG",
        "LIFT_CONFIG_POLL_SECONDS",
    ] {
        assert!(set.contains(v), "{v} not set: {set:?}");
    }
}

#[test]
fn table_queue_and_runtime_match_the_code() {
    let t = template();
    let has = |needle: &str| assert!(t.contains(needle), "template.yaml lacks `{needle}`");
    has(&format!(
        "AttributeName: {}\n          AttributeType: S",
        lift::dynamodb::KEY_ATTRIBUTE
    ));
    has(&format!(
        "TimeToLiveSpecification:\n        AttributeName: {}\n        Enabled: true",
        lift::dynamodb::TTL_ATTRIBUTE
    ));
    has("FunctionResponseTypes:\n              - ReportBatchItemFailures");
    has("deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn");
    has("Runtime: provided.al2023");
    has("Handler: bootstrap");
    has("CodeUri: ../../target/lambda/quickstart/bootstrap.zip");
    has("RetentionInDays: !Ref LogRetentionDays");
    // Least privilege: no wildcard action, no table or queue ARN pattern.
    assert!(!t.contains("dynamodb:*") && !t.contains("sqs:*") && !t.contains("Action: \"*\""));
    let package = std::fs::read_to_string(root().join("scripts/package.sh")).unwrap();
    assert!(
        package.contains("target/lambda/quickstart/bootstrap.zip"),
        "scripts/package.sh writes the zip the template deploys"
    );
}
