//! Every in-process subject answers its event as it should (200 with the greeting, or an SQS
//! batch with no failure), so no benchmark ever times a broken subject.
//!
//! Subjects with observability install a process-wide subscriber: one test per subject, each in
//! its own process under nextest (the project's runner); a second such subject in one process is
//! refused with a clear error, which is tested too.
#![allow(clippy::unwrap_used, missing_docs)]

use lift_bench::subjects::{BuildError, Subject, SUBJECTS};

fn check(name: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut s = Subject::build(name).unwrap();
    assert_eq!(s.name(), name);
    rt.block_on(async {
        for _ in 0..3 {
            s.check().await.unwrap();
        }
    });
}

macro_rules! subject_tests {
    ($($test:ident => $name:literal,)*) => {
        $(#[test] fn $test() { check($name); })*

        #[test]
        fn every_subject_has_a_test() {
            let tested = [$($name),*];
            assert_eq!(tested.as_slice(), SUBJECTS);
        }
    };
}

subject_tests! {
    lambda_http_axum => "lambda_http-axum",
    lift_bare => "lift-bare",
    lift_rate_limit => "lift-rate-limit",
    lift_load_shed => "lift-load-shed",
    lift_bulkhead => "lift-bulkhead",
    lift_breaker => "lift-breaker",
    lift_timeout => "lift-timeout",
    lift_logs => "lift-logs",
    lift_emf => "lift-emf",
    lift_xray => "lift-xray",
    lift_whole_stack => "lift-whole-stack",
    lift_sqs_batch_10 => "lift-sqs-batch-10",
}

#[test]
fn a_second_subscriber_in_one_process_is_refused_and_unknown_names_are_named() {
    let first = Subject::build("lift-logs");
    let second = Subject::build("lift-emf");
    // Whichever came first in this process (another test may have run here under `cargo test`),
    // at most one of the two installs its subscriber.
    assert!(
        matches!(second, Err(BuildError::SubscriberTaken(_))),
        "second install: {second:?} (first: {first:?})"
    );
    let err = Subject::build("lift-nothing").unwrap_err();
    assert!(err.to_string().contains("unknown subject \"lift-nothing\""), "{err}");
}

#[test]
fn lambda_http_and_lift_answer_the_same_response() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = |name: &str| -> serde_json::Value {
        let mut s = Subject::build(name).unwrap();
        serde_json::from_slice(&rt.block_on(s.invoke()).unwrap()).unwrap()
    };
    let (peer, lift) = (answer("lambda_http-axum"), answer("lift-bare"));
    assert_eq!(peer["statusCode"], 200, "{peer}");
    assert_eq!(peer["statusCode"], lift["statusCode"]);
    assert_eq!(peer["body"], lift["body"], "{peer}\n{lift}");
    assert_eq!(peer["body"], r#"{"message":"hello, world"}"#);
    assert_eq!(
        peer["headers"]["content-type"], lift["headers"]["content-type"],
        "{peer}\n{lift}"
    );
}
