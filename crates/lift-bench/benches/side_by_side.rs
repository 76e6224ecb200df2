//! In process, side by side: raw API Gateway v2 `GET /hello/{name}` event text → response bytes
//! through `lambda_http` + axum, bare Lift, Lift with each layer alone and with the whole stack
//! (and a bare SQS batch of ten). One criterion group, `in-process`, one function per subject
//! (`lift_bench::subjects`).
//!
//! `cargo bench -p lift-bench --bench side_by_side -- --warm-up-time 1 --measurement-time 3`
//!
//! Subjects with observability install a process-wide tracing subscriber, so this binary runs
//! each subject in a child process of its own (itself, with `LIFT_BENCH_SUBJECT` set and the
//! same arguments, so criterion's filters and settings apply): every subject starts from a fresh
//! process and the results land in `target/criterion/in-process/<subject>/` as from one run.
#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::Instant;

use criterion::{Criterion, Throughput};
use lift_bench::subjects::{Subject, GROUP, SUBJECTS};

/// Set in a child: the one subject it benchmarks.
const SUBJECT_ENV: &str = "LIFT_BENCH_SUBJECT";

fn bench_one(c: &mut Criterion, name: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group(GROUP);
    g.throughput(Throughput::Elements(1));
    // Built on first use, so a subject criterion's filter skips costs nothing and installs no
    // subscriber.
    let mut subject: Option<Subject> = None;
    g.bench_function(name, |b| {
        let s = subject.get_or_insert_with(|| {
            let mut s = Subject::build(name).unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(s.check()).unwrap_or_else(|e| panic!("{e}"));
            s
        });
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(s.invoke().await.unwrap_or_default());
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

fn main() -> ExitCode {
    if let Ok(name) = std::env::var(SUBJECT_ENV) {
        let mut c = Criterion::default().configure_from_args();
        bench_one(&mut c, &name);
        c.final_summary();
        return ExitCode::SUCCESS;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("side_by_side: cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let mut failed = Vec::new();
    for name in SUBJECTS {
        match Command::new(&exe).args(&args).env(SUBJECT_ENV, name).status() {
            Ok(s) if s.success() => {}
            Ok(s) => failed.push(format!("{name} ({s})")),
            Err(e) => failed.push(format!("{name} ({e})")),
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("side_by_side: failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
