#!/usr/bin/env bash
# Instructions per invocation (callgrind), repeatable on a shared machine. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p lift --example instructions
bin=target/release/examples/instructions
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for case in v2 v1 sqs full; do
  a=$(count "$case" 200); b=$(count "$case" 1200)
  echo "$case: $(( (b - a) / 1000 )) instructions per invocation"
done
