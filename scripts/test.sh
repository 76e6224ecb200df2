#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration, end-to-end (the quick start under a
# Runtime API test server and as a local server), property tests and doc tests, with moto and
# dynalite running for every DynamoDB path. Ends with one
# line totalling every run: `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked || exit 1
fi
cargo build --workspace --bins || exit 1

logs=$(mktemp -d)
# shellcheck source=scripts/dynamodb-servers.sh
source scripts/dynamodb-servers.sh || exit 1
trap 'stop_dynamodb_servers; rm -rf "$logs"' EXIT
status=0
cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logs/nextest" || status=1
cargo test --workspace --doc 2>&1 | tee "$logs/doc" || status=1
# cfn-lint (PyPI, into the moto virtualenv) checks the quick start's SAM template against
# CloudFormation's schemas: one more check in the totals.
if [ ! -x .tools/venv/bin/cfn-lint ]; then
  .tools/venv/bin/pip install -q "cfn-lint>=1,<2" || echo "could not install cfn-lint"
fi
c_pass=0 c_fail=0
if .tools/venv/bin/cfn-lint examples/quickstart/template.yaml; then
  echo "cfn-lint: examples/quickstart/template.yaml passed"; c_pass=1
else
  echo "cfn-lint: examples/quickstart/template.yaml FAILED"; c_fail=1; status=1
fi

# nextest: "Summary [..] N tests run: P passed, F failed, ..." (no "failed" when none failed);
# rustdoc: one "test result: ok. P passed; F failed; ..." per crate.
summary=$(grep -E '^ *Summary ' "$logs/nextest" | tail -n 1)
n_pass=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
n_fail=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
if [ -z "$summary" ]; then
  # nextest printed no summary: its build failed, so the run it stands for counts as failed.
  echo "nextest: no summary line (the test build failed)"; n_fail=1; status=1
fi
d_pass=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$logs/doc" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
d_fail=$(grep -oE '[0-9]+ failed;' "$logs/doc" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
passed=$(( ${n_pass:-0} + ${d_pass:-0} ))
failed=$(( ${n_fail:-0} + ${d_fail:-0} ))
passed=$(( passed + c_pass ))
failed=$(( failed + c_fail ))
if [ "$passed" -eq 0 ]; then
  echo "no test ran"; status=1
fi
echo "$passed passed, $failed failed"
exit "$status"
