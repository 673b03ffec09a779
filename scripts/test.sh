#!/usr/bin/env bash
# Set up (system libraries), build, and run the whole test suite in release
# mode (the numerical tests are slow unoptimised). Extra arguments go to the
# test binaries, e.g. `bash scripts/test.sh -- --nocapture` prints every
# measured figure. Ends with one line totalling every test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The tests read netCDF-4 files in their own processes while parallel tests
# spawn `airshed`: HDF5's file locks leak into such children (no
# close-on-exec), so reads here would fail with "HDF error". airshed turns
# locking off itself (docs/robustness.md); the test processes do the same.
export HDF5_USE_FILE_LOCKING=FALSE
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --release "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "all tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
