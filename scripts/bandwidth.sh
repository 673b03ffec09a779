#!/usr/bin/env bash
# Measure the transport step against the machine's memory bandwidth, in one
# criterion run (these machines are noisy, so only ratios within a run mean
# much). For each process of the full transport step, the advection step,
# the full transport step and the full step with chemistry it prints the
# time, cell-tracer updates per second and the share of the one-pass bound.
#
# One-pass bound: the least time a step can take if it reads and writes
# every tracer value once (16 B per cell-tracer) at the STREAM-triad
# bandwidth measured in the same run. Exits 1 if the advection step reaches
# less than 20 % of it or the full transport step less than 10 % (issue 11).
# It also prints the compute floor of the advection step: its three PPM
# sweeps at the in-cache speed of the kernels (`ppm_kernel_in_cache`), the
# least time the step could take if memory cost nothing.
# Extra arguments go to criterion (e.g. `--measurement-time 3`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Only this run's processes are listed: drop earlier runs' results.
rm -rf target/criterion/transport_200x200x20_10tracers target/criterion/ppm_kernel_in_cache_200x200
cargo bench --bench transport -- --noplot "$@" 2>&1 | grep -v "^Gnuplot\|^$" || true
python3 - <<'PY'
import json, os, sys
root = "target/criterion"
def median_s(group, name):
    path = os.path.join(root, group, name, "new", "estimates.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        # The median: robust to the stalls these shared VMs show.
        return json.load(f)["median"]["point_estimate"] * 1e-9
n = 1 << 25
bw = 3 * 8 * n / median_s("stream", "triad")
cells = 200 * 200 * 20
grp = "transport_200x200x20_10tracers"
rows = []
for name in sorted(os.listdir(os.path.join(root, grp))):
    if name.startswith("process_"):
        rows.append((f"  {name[len('process_'):].replace('_', ' ')}", median_s(grp, name), 10))
rows += [
    ("advection step (alone)", median_s(grp, "advection_step"), 10),
    ("full transport step", median_s(grp, "full_transport_step"), 10),
    ("full step with chemistry (9 species)", median_s("chemistry_200x200x20_9species", "full_step"), 9),
    ("  chemistry alone (9 species)", median_s("chemistry_200x200x20_9species", "chemistry_step"), 9),
]
print(f"triad bandwidth {bw/1e9:.2f} GB/s ({os.cpu_count()} threads); grid 200 x 200 x 20")
print(f"{'step':40s} {'time ms':>9s} {'M cell-tracers/s':>17s} {'one-pass bound ms':>18s} {'share':>7s}")
share = {}
for label, t, ntr in rows:
    if t is None or t < 1e-5:
        # Nothing to do in the bench case (e.g. emissions: no inventory).
        continue
    bound = 16 * cells * ntr / bw
    share[label] = bound / t
    print(f"{label:40s} {t*1e3:9.2f} {cells*ntr/t/1e6:17.1f} {bound*1e3:18.2f} {100*bound/t:6.1f}%")
# The compute floor of the advection step: its three sweeps (x: line
# kernel; y and z: rows kernel) at the in-cache speed of one thread, on
# every thread, with no memory traffic at all.
rows_s = median_s("ppm_kernel_in_cache_200x200", "rows")
line_s = median_s("ppm_kernel_in_cache_200x200", "line")
if rows_s and line_s:
    per_cell = (2 * rows_s + line_s) / (200 * 200)
    floor = per_cell * cells * 10 / os.cpu_count()
    bound = 16 * cells * 10 / bw
    print(f"PPM kernels in cache, one thread: rows {rows_s/4e4*1e9:.2f} ns/cell, line {line_s/4e4*1e9:.2f} ns/cell")
    print(f"compute floor of the advection step (3 sweeps in cache on {os.cpu_count()} threads): {floor*1e3:.2f} ms, at most {100*bound/floor:.1f}% of the one-pass bound")
targets = [("advection step (alone)", 0.20), ("full transport step", 0.10)]
ok = True
for label, target in targets:
    got = share.get(label, 0.0)
    verdict = "meets" if got >= target else "BELOW"
    ok &= got >= target
    print(f"{label}: {100*got:.1f} % of the one-pass bound, {verdict} the {100*target:.0f} % target")
sys.exit(0 if ok else 1)
PY
