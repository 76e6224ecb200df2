#!/usr/bin/env bash
# Builds binaries as they are deployed to Lambda, for package.sh and bench.sh:
#
#   bash scripts/build-lambda.sh -p quickstart --bin quickstart   # cargo build arguments
#
# Prints the directory the binaries are in (the last line of its output).
#
# - The `release-lambda` profile (root Cargo.toml: fat LTO, one codegen unit, stripped,
#   panics unwind); `LIFT_LAMBDA_PROFILE` picks another.
# - Position-dependent code (`-C relocation-model=static`; `LIFT_LAMBDA_PIE=1` keeps a PIE).
#   A PIE's loader applies every relative relocation at exec: the quick start has ~26,500,
#   and the pages of `.data.rel.ro` they touch are copied on write. Without them its cold start
#   (exec to the first /next poll) measured 1.35-1.40 ms instead of 2.05-2.24 ms, and 100 page
#   faults fewer, on this repository's 2-core machine. The cost is ASLR for the executable's
#   own image (the stack, heap and shared libraries stay randomised), the default trade Go's
#   linux/amd64 binaries make; set LIFT_LAMBDA_PIE=1 to keep it.
# - An explicit `--target`, so the flag reaches the function's code only: build scripts and
#   proc macros are host code that must stay position-independent.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${LIFT_LAMBDA_PROFILE:-release-lambda}
triple=$(rustc -vV | sed -n 's/^host: //p')
if [ "${LIFT_LAMBDA_PIE:-0}" != "1" ]; then
  var="CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
  export "$var"="${!var:-} -C relocation-model=static"
fi
cargo build --profile "$profile" --target "$triple" "$@" >&2
echo "target/$triple/$profile"
