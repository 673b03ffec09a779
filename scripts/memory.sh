#!/usr/bin/env bash
# Peak resident memory per cell-tracer of a long run with output averaging
# (issue 11: at most 24 B). Two pairs of runs, each pair of one case that
# differs only in its number of tracers: a tagged run (3 species x 5 or 10
# tags) and an untagged one (4 or 12 species, chemistry off, so only the
# tracer count changes); for each pair
#   marginal = (peak RSS of the bigger run - peak RSS of the smaller)
#              / (cells x extra tracers)
# Peak RSS is the kernel's VmHWM of the airshed process ("Maximum resident
# set size" of /usr/bin/time -v). The case: a 200 x 200 x 20 lat-lon grid,
# analytic met, hourly means of all 20 layers (the concentration
# accumulator covers every cell), 24 h (MEMORY_HOURS), so every output path
# (concentration file, tag file, receptor tables, summary) runs. Tagged:
# emissions from square regions (each one tag, plus other, boundary and
# initial), one receptor, chemistry on. Exits 1 when either figure is above
# the limit (24 B per cell-tracer). AIRSHED=path picks another binary.
#   bash scripts/memory.sh [LIMIT_BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-24}
bin=${AIRSHED:-target/release/airshed}
[ -x "$bin" ] || cargo build --release
work=$(mktemp -d)
[ -n "${MEMORY_KEEP:-}" ] && echo "cases in $work" >&2 || trap 'rm -rf "$work"' EXIT
nx=200; ny=200; nz=20; hours=${MEMORY_HOURS:-24}
layers="[50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1400, 1700, 2000, 2400, 2800, 3300, 3900, 4600, 5500]"
nspecies=3

# Region k: a 1 x 1 degree square in a row across the grid's south half.
regions() {
  local n=$1 f="" csv="city,lon,lat,radius_km,sector,species,t_per_yr,source"
  for k in $(seq 1 "$n"); do
    lon0=$(echo "111 + 1.5 * ($k - 1)" | bc -l); lon1=$(echo "$lon0 + 1" | bc -l)
    [ -n "$f" ] && f="$f,"
    f="$f{\"type\":\"Feature\",\"properties\":{\"name\":\"R$k\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[$lon0,26],[$lon1,26],[$lon1,27],[$lon0,27],[$lon0,26]]]}}"
    lonc=$(echo "$lon0 + 0.5" | bc -l)
    csv="$csv
R$k,$lonc,26.5,20,industrial_process,PM25,20000,memory
R$k,$lonc,26.5,20,industrial_process,SO2,30000,memory"
  done
  echo "{\"type\":\"FeatureCollection\",\"features\":[$f]}" > "$2/regions.geojson"
  echo "$csv" > "$2/cities.csv"
  local names=""
  for k in $(seq 1 "$n"); do names="$names${names:+, }\"R$k\""; done
  echo "$names"
}

run() { # $1 = number of regions (tagged) or species (untagged, $2 = plain); prints "tracers peak_bytes wall"
  local d="$work/$2$1"; mkdir -p "$d"
  local names; names=$(regions "$([ "$2" = plain ] && echo 2 || echo "$1")" "$d")
  local species='"PM25", "SO2", "SO4"' tracers=$(( nspecies * ($1 + 3) )) extra=""
  if [ "$2" = plain ]; then
    species=$(echo '"PM25", "BC", "OC", "SO2", "NOX", "NH3", "VOC", "SO4", "HNO3", "NO3", "NH4", "TRACER"' | cut -d, -f1-"$1")
    tracers=$1
    extra=$'[chemistry]\nenabled = false'
  fi
  cat > "$d/case.toml" <<TOML
[run]
name = "memory"
start = "2023-01-20T00:00:00Z"
hours = $hours
dt_s = 3600
[grid]
projection = "latlon"
centre_lon = 110.0
centre_lat = 25.0
nx = $nx
ny = $ny
dx = 0.1
dy = 0.1
layer_tops_m = $layers
[species]
names = [$species]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 5.0
v_ms = 3.0
pblh_day_m = 1200
pblh_night_m = 200
precip_mm_h = 0.5
[emissions]
city_totals = ["cities.csv"]
[boundary]
background_ugm3 = { PM25 = 10.0, SO2 = 3.0 }
initial_ugm3 = { PM25 = 10.0, SO2 = 3.0 }
[output]
dir = "out"
interval_hours = 1
mode = "mean"
layers = $nz
$extra
TOML
  [ "$2" = plain ] || cat >> "$d/case.toml" <<TOML
[attribution]
regions_file = "regions.geojson"
regions = [$names]
receptors = ["R1"]
TOML
  /usr/bin/time -v "$bin" run "$d/case.toml" > "$d/log" 2> "$d/time" || { cat "$d/log" "$d/time" >&2; exit 2; }
  local kb; kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$d/time")
  local wall; wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$d/time")
  echo "$tracers $(( kb * 1024 )) $wall"
}

cells=$(( nx * ny * nz ))
status=0
for kind in tagged plain; do
  if [ $kind = tagged ]; then small=2; big=7; else small=4; big=12; fi
  read -r t1 p1 w1 < <(run $small $kind)
  read -r t2 p2 w2 < <(run $big $kind)
  python3 - "$kind" "$cells" "$t1" "$p1" "$w1" "$t2" "$p2" "$w2" "$limit" <<'PY' || status=1
import sys
kind, cells, t1, p1, w1, t2, p2, w2, limit = sys.argv[1:]
cells, t1, p1, t2, p2, limit = int(cells), int(t1), int(p1), int(t2), int(p2), float(limit)
per = (p2 - p1) / (cells * (t2 - t1))
print(f"{kind:6s} {cells} cells: {t1:2d} tracers peak RSS {p1/2**20:7.1f} MiB ({w1}), {t2:2d} tracers {p2/2**20:7.1f} MiB ({w2})"
      f" -> {per:5.2f} B per cell-tracer (limit {limit:g} B; the state alone is 8 B)")
sys.exit(0 if per <= limit else 1)
PY
done
exit $status
