#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration, end-to-end (the quick start under a
# Runtime API test server), property tests and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
cargo build --workspace --bins
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc
