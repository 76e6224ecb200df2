//! Heap allocations per invocation of one in-process subject (`lift_bench::subjects`), counted by
//! a global allocator. Its own binary, so the counting allocator's atomics never reach the
//! instruction counts or wall times of `side_by_side`.
//!
//! `target/release/examples/count_allocs lift-whole-stack [N]` prints
//! `allocations_per_invocation <x>`: allocations over N invocations (default 10,000) after 1,000
//! warm-up invocations, divided by N.
#![allow(clippy::print_stdout)]

use std::alloc::System;
use std::hint::black_box;
use std::process::ExitCode;

use lift_bench::subjects::Subject;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: count_allocs SUBJECT [N]");
        return ExitCode::FAILURE;
    };
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    match count(&name, n.max(1)) {
        Ok(per) => {
            println!("allocations_per_invocation {per}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("count_allocs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn count(name: &str, n: u64) -> Result<f64, String> {
    let (rt, mut subject) = Subject::checked(name)?;
    rt.block_on(async {
        for _ in 0..1000 {
            black_box(subject.invoke().await?);
        }
        let region = Region::new(GLOBAL);
        for _ in 0..n {
            black_box(subject.invoke().await?);
        }
        Ok(region.change().allocations as f64 / n as f64)
    })
}
