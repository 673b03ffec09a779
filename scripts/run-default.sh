#!/usr/bin/env bash
# Set up (system libraries), build, run the embedded default case end to end
# and print its report (attribution, composition, GB 3095-2012 statistics and,
# when the network sample sits at ../shared/data/obs, the evaluation table).
# Outputs in out/default/: default.nc, default.tags.nc, default.sites.csv,
# default.summary.json, the attribution tables and default.report.md.
# Extra arguments go to `airshed run` (e.g. --threads 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --quiet
./target/release/airshed run configs/default.toml "$@"
obs=()
if [ -d ../shared/data/obs ]; then
    obs=(--obs ../shared/data/obs)
fi
./target/release/airshed report out/default/default.nc "${obs[@]}" \
    --markdown out/default/default.report.md
