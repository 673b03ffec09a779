#!/usr/bin/env bash
# Set up (system libraries), build, and run the embedded default case end to
# end. Outputs: out/default/default.nc and out/default/default.summary.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo run --release --quiet -- run configs/default.toml "$@"
