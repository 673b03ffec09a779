#!/usr/bin/env bash
# Set up (system libraries), build, and run the whole test suite in release
# mode (the numerical tests are slow unoptimised). Extra arguments go to the
# test binaries, e.g. `bash scripts/test.sh -- --nocapture` prints every
# measured figure. Long runs are behind `--ignored`:
#   bash scripts/test.sh -- --ignored
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo test --release "$@"
