#!/usr/bin/env bash
# Every side-by-side benchmark of issue 13 in one run, then the report that regenerates
# docs/benchmarks.md (tables, targets, SVG plots in docs/img/) from this run's numbers only.
#
#   bash scripts/bench.sh              # the full run (about 10-15 min on 2 cores once built; a first build of both profiles takes longer)
#   BENCH_QUICK=1 bash scripts/bench.sh  # a smoke run: small N, short criterion settings
#
# Results go to target/bench/*.json (cleared first, so no number of an earlier run is reported).
# The loop and soak programs are built by the same command; one that does not exist yet is
# skipped with a message and its sections of the report read "not measured in this run".
set -euo pipefail
cd "$(dirname "$0")/.."

quick=${BENCH_QUICK:-0}
out=${LIFT_BENCH_OUT:-target/bench}
export LIFT_BENCH_OUT=$out
mkdir -p "$out"
rm -f "$out"/*.json
export LIFT_BENCH_RUN_START=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
failed=()

if [ "$quick" = 1 ]; then
  criterion_args=(--warm-up-time 0.3 --measurement-time 1 --sample-size 10)
  callgrind_n=(20 120)
  loop_args=(400 1); soak_n=20000; soak_ip_n=100000
else
  criterion_args=(--warm-up-time 1 --measurement-time 3)
  callgrind_n=(200 1200)
  loop_args=(4000 3); soak_n=200000; soak_ip_n=1000000
fi

echo "== build (release)"
cargo build --release -p lift-bench -p quickstart --bins --examples
# The loop's subjects, every peer alike, built as they are deployed: scripts/build-lambda.sh
# (the Lambda profile, position-dependent; `BENCH_LOOP_PROFILE=release` for the plain release
# build, `LIFT_LAMBDA_PIE=1` for PIEs). Callgrind's counts on the loop need symbols, so they
# use the release build.
echo "== build (the loop's subjects, as deployed)"
loop_dir=$(LIFT_LAMBDA_PROFILE=${BENCH_LOOP_PROFILE:-release-lambda} bash scripts/build-lambda.sh -p lift-bench -p quickstart --bins | tail -n 1)
# The criterion bench, built with the release profile (cargo bench's own profile adds debug info
# and rebuilds every dependency); its path comes from cargo's build messages.
bench_exe=$(cargo build --release -p lift-bench --bench side_by_side --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*side_by_side[^"]*"' | tail -1 | cut -d'"' -f4)

echo "== in process: criterion (group in-process, one process per subject)"
if [ -n "$bench_exe" ] && "$bench_exe" --bench "${criterion_args[@]}"; then :; else
  echo "criterion side_by_side failed"; failed+=(criterion)
fi

echo "== in process: instructions (callgrind, N=${callgrind_n[*]}) and allocations"
if ! command -v valgrind >/dev/null; then
  echo "valgrind not installed: instructions not measured (apt-get install valgrind)"
fi
target/release/examples/side_by_side measure "${callgrind_n[@]}" || failed+=(side_by_side)

run_if_built() {
  local bin=$1; shift
  if [ -x "$bin" ]; then
    echo "== $bin $*"
    "$bin" "$@" || { echo "$bin failed"; failed+=("$(basename "$bin")"); }
  else
    echo "== $bin not built (yet): skipped, its sections read \"not measured in this run\""
  fi
}
run_if_built target/release/loop_bench "$loop_dir" "${loop_args[@]}"
if [ -x target/release/loop_driver ] && command -v valgrind >/dev/null; then
  echo "== scripts/loop-instructions.sh"
  bash scripts/loop-instructions.sh target/release || failed+=(loop-instructions)
fi
run_if_built target/release/soak "$soak_n"
run_if_built target/release/soak_in_process "$soak_ip_n"

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
# The run's notes, read by the report like every results file (quotes and backslashes dropped
# so each note is a plain JSON string).
note() { printf '%s' "$*" | tr -d '"\\' | tr '\n' ' '; }
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
{
  printf '{"measurements":[],"series":[],"notes":[\n'
  printf '"%s",\n' "$(note "machine: $(nproc) CPUs (${cpu:-unknown model}), $(uname -sr), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory")"
  printf '"%s",\n' "$(note "run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(rustc --version)$([ "$quick" = 1 ] && echo ', BENCH_QUICK=1 (smoke run: small N, short criterion settings)')")"
  printf '"%s"\n' "$(note "load average (1, 5, 15 min): $load_before before the run, $load_after after")"
  printf ']}\n'
} > "$out/run.json"

echo "== report"
target/release/report
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
