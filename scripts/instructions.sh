#!/usr/bin/env bash
# Instructions per invocation (callgrind), repeatable on a shared machine. Needs valgrind.
# Each case is counted with the system allocator (glibc malloc) and with mimalloc, the quick
# start's opt-in global allocator (`--features mimalloc`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p lift --example instructions --example instructions_mimalloc
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_invocation() {
  local a b
  a=$(count "$1" "$2" 200); b=$(count "$1" "$2" 1200)
  echo $(( (b - a) / 1000 ))
}
for case in v2 v1 sqs full; do
  echo "$case: $(per_invocation target/release/examples/instructions "$case") instructions per invocation" \
    "($(per_invocation target/release/examples/instructions_mimalloc "$case") with mimalloc)"
done
