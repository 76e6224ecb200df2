#!/usr/bin/env bash
# Instructions (and allocations) per invocation of a function process on the Runtime API loop,
# counted by callgrind: repeatable on a shared machine, unlike CPU time. Each subject runs
# under valgrind, driven one invocation at a time by lift-testing's Runtime API server
# (`loop_driver`); counting is zeroed after a warm-up and dumped
# after a fixed time, and divided by the invocations counted in the same window (calls of
# `lambda_runtime`'s event deserializer, which every subject goes through once per event).
# Writes `$LIFT_BENCH_OUT/loop_instructions.json` (default target/bench).
#
# bash scripts/loop-instructions.sh [BIN_DIR]   (default target/release)
set -euo pipefail
cd "$(dirname "$0")/.."
bins=${1:-target/release}
out=${LIFT_BENCH_OUT:-target/bench}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v valgrind >/dev/null || { echo "valgrind is needed"; exit 1; }

measure() { # SUBJECT BINARY (the subject's environment comes from loop_driver)
  local name=$1 bin=$2
  local wrapper="$work/$name.sh"
  # The driver starts subjects with a cleared environment: absolute paths only.
  printf '#!/bin/sh\nexec %s --tool=callgrind --callgrind-out-file=%s/%s.cg %s "$@"\n' \
    "$(command -v valgrind)" "$work" "$name" "$(realpath "$bin")" > "$wrapper"
  chmod +x "$wrapper"
  "$bins/loop_driver" "$name" "$wrapper" >/dev/null 2>&1 &
  local driver=$!
  sleep 10
  local pid
  pid=$(pgrep -f "$work/$name.cg" | head -n 1)
  callgrind_control -z "$pid" >/dev/null
  sleep 15
  callgrind_control -d "$pid" >/dev/null
  sleep 1
  kill "$driver" 2>/dev/null || true
  pkill -f "$work/$name.cg" 2>/dev/null || true
  wait "$driver" 2>/dev/null || true
  python3 - "$name" "$(ls "$work/$name".cg.* | sort | tail -n 1)" <<'PY' >> "$work/rows"
import re, sys
name, path = sys.argv[1], sys.argv[2]
names, cur, calls, total = {}, None, {}, 0
for line in open(path):
    if line.startswith(("summary:", "totals:")):
        total = int(line.split()[1])
    m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?", line)
    if m:
        c, i, n = m.groups()
        if n:
            names[i] = n
        if c:
            cur = names.get(i)
        continue
    if line.startswith("calls=") and cur:
        calls[cur] = calls.get(cur, 0) + int(line.split("=")[1].split()[0])
inv = max(v for k, v in calls.items() if "lambda_runtime::deserializer::deserialize" in k)
allocs = calls.get("__rustc::__rust_alloc", 0) + calls.get("__rustc::__rust_realloc", 0)
print(f"{name} {inv} {total / inv:.0f} {allocs / inv:.1f}")
PY
  tail -n 1 "$work/rows"
}

measure echo-multi-thread "$bins/peer_echo"
measure echo-current-thread "$bins/peer_echo"
measure echo-current-mimalloc "$bins/peer_echo_mimalloc"
measure lambda_http-axum "$bins/peer_lambda_http"
measure lift-quickstart "$bins/quickstart"

python3 - "$work/rows" "$out/loop_instructions.json" <<'PY'
import json, sys
measurements = []
for line in open(sys.argv[1]):
    name, inv, instr, allocs = line.split()
    for metric, value in (("instructions_per_invocation", float(instr)), ("allocations_per_invocation", float(allocs)), ("invocations_counted", float(inv))):
        measurements.append({"group": "loop-instructions", "subject": name, "metric": metric, "value": value})
notes = ["loop-instructions: callgrind over the whole function process, user space only (system calls not counted), one invocation at a time"]
json.dump({"measurements": measurements, "series": [], "notes": notes}, open(sys.argv[2], "w"), indent=2)
print("wrote", sys.argv[2])
PY
