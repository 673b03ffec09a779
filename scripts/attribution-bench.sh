#!/usr/bin/env bash
# The cost of attribution tags on the default case (issue 8), in one run:
# - `cargo bench --bench attribution`: 6 h of the default case untagged and
#   with 0, 5, 10 and 20 region tags (each plus other, boundary, initial);
# - the marginal cost of one tag (least-squares slope of time against the
#   number of tags) as a fraction of the untagged run: target <= 0.35;
# - memory per tag: peak resident memory of `airshed run` with 5 and with
#   20 region tags (6 h, outputs written), difference / 15;
# - the projected wall time of a year with 20 region tags on this machine.
# Exits 1 when the marginal cost is above the target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --quiet
cargo bench --bench attribution -- --noplot "$@" 2>&1 | grep -v "^Gnuplot\|^$" || true
python3 - <<'PY'
import json, os, re, resource, subprocess, sys, tempfile
root = "target/criterion/default_case_6h"
def median_s(name):
    with open(os.path.join(root, name, "new", "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"] * 1e-9
hours = 6
untagged = median_s("untagged")
ns = [0, 5, 10, 20]
ts = [median_s(f"tags_{n}") for n in ns]
tags = [n + 3 for n in ns]
mx, my = sum(tags) / 4, sum(ts) / 4
slope = sum((x - mx) * (y - my) for x, y in zip(tags, ts)) / sum((x - mx) ** 2 for x in tags)
print(f"default case, {hours} h, 9 species, chemistry on ({os.cpu_count()} threads):")
print(f"  untagged                  {untagged:7.2f} s")
for n, t in zip(ns, ts):
    print(f"  {n:2d} region tags ({n+3:2d} tags) {t:7.2f} s  ({t/untagged:5.2f} x untagged)")
marginal = slope / untagged
print(f"  marginal cost of one tag  {slope:7.3f} s = {marginal:.3f} of the untagged run (target <= 0.35)")
year_h = ts[-1] / hours * 8760 / 3600
print(f"  one year with 20 region tags, projected: {year_h:.1f} h wall on this machine")

# Memory per tag: peak RSS of whole runs with 5 and 20 region tags.
text = open("configs/default.toml").read()
text = text[: text.index("[attribution]")].replace("hours = 48", f"hours = {hours}")
cities = ["Hengyang", "Chenzhou", "Liuzhou", "Changsha", "Zhuzhou", "Xiangtan", "Qinzhou",
          "Yongzhou", "Shaoyang", "Loudi", "Guilin", "Hezhou", "Wuzhou", "Laibin", "Nanning",
          "Guigang", "Yulin", "Beihai", "Fangchenggang", "Hechi"]
inputs = os.path.abspath("inputs")
rss = {}
with tempfile.TemporaryDirectory() as d:
    for n in [5, 20]:
        case = text.replace('"../inputs', f'"{inputs}') + (
            f'[attribution]\nregions_file = "{inputs}/cities.geojson"\n'
            f'regions = [{", ".join(chr(34) + c + chr(34) for c in cities[:n])}]\n')
        path = os.path.join(d, f"case{n}.toml")
        open(path, "w").write(case)
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "target/release/airshed", "run", path,
                              "--quiet", "--output-dir", os.path.join(d, f"out{n}")],
                             capture_output=True, text=True, check=True)
        rss[n] = int(out.stderr.strip().splitlines()[-1]) * 1024
per_tag = (rss[20] - rss[5]) / 15
cells = 68 * 88 * 14
print(f"  peak memory: {rss[5]/2**20:.0f} MiB with 5 region tags, {rss[20]/2**20:.0f} MiB with 20: "
      f"{per_tag/2**20:.1f} MiB per tag ({per_tag/cells/9:.1f} B per cell and species)")
sys.exit(0 if marginal <= 0.35 else 1)
PY
