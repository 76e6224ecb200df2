#!/usr/bin/env bash
# Builds the quick start's Lambda package for provided.al2023 on x86_64:
# target/lambda/quickstart/bootstrap.zip, one executable `bootstrap` (the path cargo-lambda
# writes too, and the one examples/quickstart/template.yaml deploys).
#
# The binary is built by scripts/build-lambda.sh: the `release-lambda` profile (root Cargo.toml:
# fat LTO, one codegen unit, stripped, panics unwind), position-dependent (a faster cold start;
# LIFT_LAMBDA_PIE=1 keeps a PIE: see that script), for the host (x86_64 Linux). The first build
# compiles every dependency in release: several minutes on a small machine.
#
# Checks, then proves the package: the binary must need no glibc newer than Amazon Linux
# 2023's (2.34), the zip must mark `bootstrap` executable, and the zipped `bootstrap` must run
# the quick start under lift-testing's Runtime API test server (the `package` test of the
# quickstart crate, ignored in ordinary runs, run here with LIFT_TEST_PACKAGE_ZIP set; skip
# with LIFT_PACKAGE_NO_TEST=1).
#
# arm64 (Graviton): use cargo-lambda (https://www.cargo-lambda.info), which cross-compiles with
# Zig: `cargo lambda build --profile release-lambda --arm64 -p quickstart --output-format zip`
# writes the same target/lambda/quickstart/bootstrap.zip; deploy it with Architecture=arm64.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "package.sh builds x86_64 Linux on an x86_64 Linux host; elsewhere use cargo-lambda (see docs/deploy.md)" >&2
  exit 1
fi

out=target/lambda/quickstart
zip="$out/bootstrap.zip"
# AL2023's glibc; a symbol versioned above it would fail to load on Lambda.
max_glibc=2.34

dir=$(bash scripts/build-lambda.sh --locked -p quickstart --bin quickstart | tail -n 1)
bin="$dir/quickstart"

newest=$(objdump -T "$bin" | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
  echo "$bin needs glibc $newest; provided.al2023 has $max_glibc (build with cargo-lambda instead)" >&2
  exit 1
fi

mkdir -p "$out"
rm -f "$zip"
# A fixed timestamp and mode 0755, so the same binary gives the same zip.
python3 - "$bin" "$zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
info.create_system = 3  # Unix, so the mode above is honoured
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY

echo "$zip: $(du -k "$zip" | cut -f1) KiB zipped, $(du -k "$bin" | cut -f1) KiB binary, glibc >= ${newest:-none}"

if [ "${LIFT_PACKAGE_NO_TEST:-0}" != "1" ]; then
  LIFT_TEST_PACKAGE_ZIP="$PWD/$zip" cargo nextest run -p quickstart --test package --run-ignored only
fi
