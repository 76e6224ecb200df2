//! Regenerates `docs/benchmarks.md` from every results file in `target/bench/`
//! ([`lift_bench::out_dir`]): the generated section between `<!-- bench:begin -->` and
//! `<!-- bench:end -->` is replaced, the hand-written history below it kept as it is; plots go to
//! `docs/img/`.
//!
//! `target/release/report [DOC]` (default `docs/benchmarks.md`; images in `img/` beside it).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use lift_bench::{out_dir, report, Results};

fn main() -> ExitCode {
    let doc = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("docs/benchmarks.md"), PathBuf::from);
    match run(&doc) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(doc: &std::path::Path) -> Result<(), String> {
    let dir = out_dir();
    let results = match Results::read_all(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "report: {} does not exist: every section reads \"not measured\"",
                dir.display()
            );
            Results::default()
        }
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let img = doc.parent().unwrap_or_else(|| std::path::Path::new(".")).join("img");
    let generated = report::generate(&results, &img, "img").map_err(|e| e.to_string())?;
    let old = std::fs::read_to_string(doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    std::fs::write(doc, report::splice(&old, &generated)).map_err(|e| format!("{}: {e}", doc.display()))?;
    println!(
        "report: {} measurements, {} series from {} → {} (plots in {})",
        results.measurements.len(),
        results.series.len(),
        dir.display(),
        doc.display(),
        img.display()
    );
    Ok(())
}
