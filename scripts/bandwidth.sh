#!/usr/bin/env bash
# Measure the transport step against the machine's memory bandwidth, in one
# criterion run (these machines are noisy, so only ratios within a run mean
# much). Prints cell-species updates per second per core and the advection
# step's share of the bandwidth bound; exits 1 if that share is below the
# target (30 %, issue 2).
#
# Bandwidth bound of an advection step: each of the 3 directional sweeps must
# read and write every tracer value once: 3 x 2 x 8 bytes per cell-tracer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo bench --bench transport -- --noplot "$@" 2>&1 | grep -v "^Gnuplot\|^$" || true
python3 - <<'PY'
import json, os, sys
root = "target/criterion"
def mean_ns(group, name):
    with open(os.path.join(root, group, name, "new", "estimates.json")) as f:
        # The median: robust to the stalls these shared VMs show.
        return json.load(f)["median"]["point_estimate"]
n = 1 << 25
triad_s = mean_ns("stream", "triad") * 1e-9
bw = 3 * 8 * n / triad_s
grp = "transport_200x200x20_10tracers"
cells = 200 * 200 * 20 * 10
adv = mean_ns(grp, "advection_step") * 1e-9
full = mean_ns(grp, "full_transport_step") * 1e-9
cores = os.cpu_count()
bound = 3 * 2 * 8 * cells / bw
share = bound / adv
print(f"triad bandwidth           {bw/1e9:8.2f} GB/s ({cores} threads)")
print(f"advection step            {adv*1e3:8.2f} ms  ({cells/adv/1e6:7.1f} M cell-species/s, {cells/adv/1e6/cores:6.1f} M per core)")
print(f"full transport step       {full*1e3:8.2f} ms  ({cells/full/1e6:7.1f} M cell-species/s, {cells/full/1e6/cores:6.1f} M per core)")
print(f"advection bandwidth bound {bound*1e3:8.2f} ms  -> advection reaches {100*share:5.1f} % of it (target 30 %)")
cg = "chemistry_200x200x20_9species"
chem = mean_ns(cg, "chemistry_step") * 1e-9
step = mean_ns(cg, "full_step") * 1e-9
print(f"chemistry step            {chem*1e3:8.2f} ms  ({chem/(200*200*20)*1e9:6.1f} ns per cell, {100*chem/step:4.1f} % of a full step with chemistry, {step*1e3:.1f} ms)")
sys.exit(0 if share >= 0.30 else 1)
PY
