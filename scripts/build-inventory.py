#!/usr/bin/env python3
"""Write inputs/city_totals.csv and inputs/stacks.csv: the whole-region
inventory of the default case (provenance of every number: inputs/README.md).

    python3 scripts/build-inventory.py [--places inputs/places_geonames.csv]

Reads inputs/cities.geojson (city polygons) and the GeoNames places CSV
(`geonameid,name,lon,lat,population,admin1`) for the population splits.
Standard library only; the output is the same on every run.
"""
import argparse
import csv
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --- Primary PM2.5 split --------------------------------------------------
# BC and OC fractions of primary PM2.5 from the Changsha 2014 inventory
# (Li N., Fan X. et al., Acta Scientiae Circumstantiae 2016, file 20160510001,
# abstract: PM2.5 42.1, BC 4.0, OC 7.2 kt). One city-wide profile for every
# sector (no sector profile was available; see inputs/README.md).
BC_FRAC = 4.0 / 42.1
OC_FRAC = 7.2 / 42.1

# --- The plan cities (rows kept as they are, PM split) ----------------------
PLAN_TOTALS = {  # kt/yr, CONTEXT.md table (plan extracts)
    "Hengyang": {"SO2": 22.0, "NOX": 54.0, "PM25": 33.0, "VOC": 43.0, "NH3": 35.0},
    "Chenzhou": {"SO2": 24.0, "NOX": 46.0, "PM25": 42.0, "VOC": 23.0, "NH3": 21.0},
    "Liuzhou": {"SO2": 42.0, "NOX": 60.0, "PM25": 51.0, "VOC": 60.0, "NH3": 24.0},
}

# Hengyang's plan sector shares (plan_001 L106-L116), the profile used for
# the cities without their own.
HENGYANG_SHARES = {
    "PM25": [("dust", 0.347), ("industrial_process", 0.317), ("other", 0.336)],
    "SO2": [("industrial_process", 0.485), ("stationary_combustion", 0.448), ("other", 0.067)],
    "NOX": [("mobile", 0.469), ("industrial_process", 0.286), ("stationary_combustion", 0.175), ("other", 0.070)],
    "VOC": [("solvent_use", 0.248), ("biomass_burning", 0.180), ("mobile", 0.174),
            ("stationary_combustion", 0.142), ("industrial_process", 0.140), ("other", 0.116)],
    "NH3": [("agriculture", 0.951), ("other", 0.049)],
}


def with_mobile(shares, mobile):
    """Hengyang's shares with the mobile share replaced by `mobile` and the
    other sectors rescaled to the rest."""
    rest = [(s, f) for s, f in shares if s != "mobile"]
    tot = sum(f for _, f in rest)
    return [("mobile", mobile)] + [(s, f * (1 - mobile) / tot) for s, f in rest]


# CZT: Hengyang's shares, except the CZT plan's mobile shares of NOx 50.8 %
# and VOCs 24.8 % (plan_002 L136).
CZT_SHARES = dict(HENGYANG_SHARES)
CZT_SHARES["NOX"] = with_mobile(HENGYANG_SHARES["NOX"], 0.508)
CZT_SHARES["VOC"] = with_mobile(HENGYANG_SHARES["VOC"], 0.248)

# Xu et al. 2020, Atmosphere 11(7):739 (CC BY 4.0), abstract: all
# anthropogenic sources of Changsha + Zhuzhou + Xiangtan, kt/yr.
CZT_TOTALS = {"SO2": 132.5, "NOX": 148.9, "PM25": 56.5, "VOC": 119.0, "NH3": 72.0}

# Hunan 2015 official statistics (issue 12): SO2 611.3, NOx 536.2 kt.
HUNAN = {"SO2": 611.3, "NOX": 536.2}
HUNAN_OTHERS = ["Yueyang", "Changde", "Yiyang", "Loudi", "Shaoyang", "Yongzhou",
                "Huaihua", "Zhangjiajie", "Xiangxi"]

# Guangxi 2016 industrial sources (Liu H. et al., "Emission inventory of
# atmospheric pollutants from industrial sources and its spatial
# characteristics in Guangxi", Acta Scientiae Circumstantiae 2019, abstract):
# SO2 207, NOx 216 kt. Scaled to all sources by Hengyang's industrial share
# (process + stationary combustion): SO2 93.3 %, NOx 46.1 %.
GUANGXI_INDUSTRIAL = {"SO2": 207.0, "NOX": 216.0}
INDUSTRIAL_SHARE = {"SO2": 0.485 + 0.448, "NOX": 0.286 + 0.175}
GUANGXI_OTHERS = ["Nanning", "Guilin", "Wuzhou", "Beihai", "Fangchenggang",
                  "Qinzhou", "Guigang", "Yulin", "Baise", "Hezhou", "Hechi",
                  "Laibin", "Chongzuo"]
# Species other than SO2/NOx for the estimated cities: Hengyang's ratios to
# NOx (plan_001 L106): PM2.5 33/54, VOCs 43/54, NH3 35/54.
RATIO_TO_NOX = {"PM25": 33.0 / 54.0, "VOC": 43.0 / 54.0, "NH3": 35.0 / 54.0}

# Baise lies west of the default grid (its polygon barely reaches it): it
# takes its population share, but its rows are not written.
OFF_GRID = {"Baise"}

RADIUS_KM = 20  # Gaussian spread for cases without city_allocation

# Large named emitters: (name, lon, lat, height m, diameter m, exit velocity
# m/s, exit temperature K, city, sector, [(species, fraction of the city's
# row of that sector and species)], note). Locations are approximate (plant
# sites read off public maps to ~0.05 deg); stack parameters are typical of
# the plant type (sinter strand, smelter acid plant, coal unit with wet FGD,
# cement kiln); the fractions are stated assumptions except where a plan
# gives the subsector share. The model subtracts each stack from its city's
# row (stacks.csv `city` column), so city totals are unchanged.
STACKS = [
    ("Hunan Valin Xiangtan steel", 112.87, 27.87, 120, 6.0, 15, 423, "Xiangtan", "industrial_process",
     [("SO2", 0.5), ("NOX", 0.5), ("PM25", 0.3)], "assumed half of Xiangtan's process SO2/NOx, 30% of its process PM"),
    ("Lianyuan steel", 111.99, 27.72, 120, 6.0, 15, 423, "Loudi", "industrial_process",
     [("SO2", 0.5), ("NOX", 0.5), ("PM25", 0.3)], "assumed half of Loudi's process SO2/NOx, 30% of its process PM"),
    ("Zhuzhou smelter (Qingshuitang)", 113.08, 27.88, 120, 4.0, 12, 353, "Zhuzhou", "industrial_process",
     [("SO2", 0.4), ("PM25", 0.1)], "assumed 40% of Zhuzhou's process SO2 (lead-zinc smelting), 10% of its process PM"),
    ("Shuikoushan smelter", 112.62, 26.41, 120, 4.0, 12, 353, "Hengyang", "industrial_process",
     [("SO2", 0.110 / 0.485)], "non-ferrous smelting 11.0% of Hengyang SO2 (plan_001 L112), all placed here"),
    ("Leiyang power plant", 112.86, 26.42, 210, 7.0, 20, 323, "Hengyang", "stationary_combustion",
     [("NOX", 0.123 / 0.175)], "power 12.3% of Hengyang NOx (plan_001 L110), all placed here"),
    ("Datang Xiangtan power plant", 112.86, 27.95, 210, 7.0, 20, 323, "Xiangtan", "stationary_combustion",
     [("SO2", 0.5), ("NOX", 0.5)], "assumed half of Xiangtan's stationary-combustion SO2/NOx"),
    ("Chenzhou cement kilns", 113.05, 25.80, 100, 4.0, 12, 393, "Chenzhou", "industrial_process",
     [("NOX", 1.0)], "cement 17.4% of Chenzhou NOx (plan_000 L155), the whole row, as one kiln stack"),
]


def point_in_ring(x, y, ring):
    inside = False
    n = len(ring)
    for k in range(n):
        x1, y1 = ring[k][:2]
        x2, y2 = ring[(k + 1) % n][:2]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def in_multipolygon(x, y, mp):
    for poly in mp:
        if point_in_ring(x, y, poly[0]) and not any(point_in_ring(x, y, h) for h in poly[1:]):
            return True
    return False


def load_cities():
    with open(os.path.join(ROOT, "inputs", "cities.geojson")) as f:
        gj = json.load(f)
    out = {}
    for feat in gj["features"]:
        g = feat["geometry"]
        mp = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        out[feat["properties"]["name"]] = mp
    return out


def centroid(mp):
    """Area-weighted centroid of the largest polygon's exterior (lon, lat)."""
    best = max((p[0] for p in mp), key=lambda r: abs(ring_area(r)))
    a = ring_area(best)
    cx = cy = 0.0
    for k in range(len(best)):
        x1, y1 = best[k][:2]
        x2, y2 = best[(k + 1) % len(best)][:2]
        c = x1 * y2 - x2 * y1
        cx += (x1 + x2) * c
        cy += (y1 + y2) * c
    return cx / (6 * a), cy / (6 * a)


def ring_area(r):
    return 0.5 * sum(r[k][0] * r[(k + 1) % len(r)][1] - r[(k + 1) % len(r)][0] * r[k][1]
                     for k in range(len(r)))


def populations(places, cities):
    pop = {c: 0 for c in cities}
    with open(places) as f:
        for row in csv.DictReader(f):
            x, y, p = float(row["lon"]), float(row["lat"]), int(row["population"])
            for c, mp in cities.items():
                if in_multipolygon(x, y, mp):
                    pop[c] += p
                    break
    return pop


def split(total_kt, names, pop):
    tot = sum(pop[n] for n in names)
    return {n: total_kt * pop[n] / tot for n in names}


def pm_rows(city, lon, lat, sector, t, source):
    """A primary PM2.5 amount (t) as PM25 (rest), BC and OC rows."""
    bc, oc = round(t * BC_FRAC), round(t * OC_FRAC)
    return [
        (city, lon, lat, sector, "PM25", round(t) - bc - oc, f"{source}; rest after BC, OC"),
        (city, lon, lat, sector, "BC", bc, f"{source}; x BC/PM2.5 {BC_FRAC:.4f}"),
        (city, lon, lat, sector, "OC", oc, f"{source}; x OC/PM2.5 {OC_FRAC:.4f}"),
    ]


def city_rows(city, lon, lat, totals_kt, shares, source):
    rows = []
    for sp in ["PM25", "SO2", "NOX", "VOC", "NH3"]:
        for sector, f in shares[sp]:
            t = totals_kt[sp] * 1000 * f
            src = f"{source} ({sp} {totals_kt[sp]:.2f} kt x {100 * f:.1f}%)"
            if sp == "PM25":
                rows += pm_rows(city, lon, lat, sector, t, src)
            else:
                rows.append((city, lon, lat, sector, sp, round(t), src))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--places", default=os.path.join(ROOT, "inputs", "places_geonames.csv"))
    args = ap.parse_args()
    cities = load_cities()
    pop = populations(args.places, cities)

    header, plan = [], []
    with open(os.path.join(ROOT, "scripts", "plan_city_totals.csv")) as f:
        for line in f:
            (header if line.startswith("#") or line.startswith("city,") else plan).append(line.rstrip("\n"))
    rows = []
    for line in plan:
        c = next(csv.reader([line]))
        city, lon, lat, rad, sector, sp, t, src = c
        if sp == "PM25":
            for r in pm_rows(city, lon, lat, sector, float(t), src):
                rows.append((r[0], r[1], r[2], r[3], r[4], r[5], r[6], rad))
        else:
            rows.append((city, lon, lat, sector, sp, int(t), src, rad))

    czt = split(1.0, ["Changsha", "Zhuzhou", "Xiangtan"], pop)
    for city in ["Changsha", "Zhuzhou", "Xiangtan"]:
        lon, lat = centroid(cities[city])
        tot = {sp: v * czt[city] for sp, v in CZT_TOTALS.items()}
        src = f"Xu et al. 2020 CZT total x GeoNames population share {100 * czt[city]:.1f}%"
        rows += [r + (RADIUS_KM,) for r in city_rows(city, f"{lon:.2f}", f"{lat:.2f}", tot, CZT_SHARES, src)]

    def estimated(names, prov_tot, plan_kt, label):
        rest = {sp: prov_tot[sp] - sum(plan_kt[sp]) for sp in prov_tot}
        share = split(1.0, names, pop)
        out = []
        for city in names:
            if city in OFF_GRID:
                continue
            lon, lat = centroid(cities[city])
            tot = {sp: rest[sp] * share[city] for sp in rest}
            for sp, r in RATIO_TO_NOX.items():
                tot[sp] = tot["NOX"] * r
            src = f"estimated: {label} less plan cities x population share {100 * share[city]:.1f}%, Hengyang shares"
            out += [r + (RADIUS_KM,) for r in city_rows(city, f"{lon:.2f}", f"{lat:.2f}", tot, HENGYANG_SHARES, src)]
        return out, rest

    hunan_plan = {sp: [PLAN_TOTALS["Hengyang"][sp], PLAN_TOTALS["Chenzhou"][sp], CZT_TOTALS[sp]] for sp in HUNAN}
    r, hunan_rest = estimated(HUNAN_OTHERS, HUNAN, hunan_plan, "Hunan 2015")
    rows += r
    guangxi = {sp: GUANGXI_INDUSTRIAL[sp] / INDUSTRIAL_SHARE[sp] for sp in GUANGXI_INDUSTRIAL}
    r, gx_rest = estimated(GUANGXI_OTHERS, guangxi, {sp: [PLAN_TOTALS["Liuzhou"][sp]] for sp in guangxi},
                           "Guangxi 2016")
    rows += r

    out = os.path.join(ROOT, "inputs", "city_totals.csv")
    with open(out, "w", newline="") as f:
        f.write("# City-total emission inventories (t/yr), written by scripts/build-inventory.py.\n")
        f.write("# Provenance of every row: inputs/README.md. Rows marked `estimated` are not\n")
        f.write("# published figures but splits of provincial totals.\n")
        f.write("city,lon,lat,radius_km,sector,species,t_per_yr,source\n")
        w = csv.writer(f, lineterminator="\n")
        for city, lon, lat, sector, sp, t, src, rad in rows:
            w.writerow([city, lon, lat, rad, sector, sp, t, src])
    print(f"wrote {out}: {len(rows)} rows")
    table = {(r[0], r[3], r[4]): r[5] for r in rows}
    spath = os.path.join(ROOT, "inputs", "stacks.csv")
    with open(spath, "w", newline="") as f:
        f.write("# Key point sources of the default case, written by scripts/build-inventory.py.\n")
        f.write("# Locations approximate, stack parameters typical (inputs/README.md). A stack\n")
        f.write("# naming a `city` is taken out of that city's rows of the same sector and\n")
        f.write("# species when the model loads them; the Liuzhou works were already\n")
        f.write("# subtracted in the plan rows (no city).\n")
        f.write("name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units,city\n")
        w = csv.writer(f, lineterminator="\n")
        for sp, rate in [("SO2", 21336), ("NOX", 19260), ("PM25", 19278), ("VOC", 6420)]:
            w.writerow(["Liuzhou steel works", 109.38, 24.40, 120, 6, 15, 423, "industrial_process", sp, rate, "t yr-1", ""])
        for name, lon, lat, h, d, v, t, city, sector, parts, note in STACKS:
            for sp, frac in parts:
                rate = round(table[(city, sector, sp)] * frac)
                w.writerow([name, lon, lat, h, d, v, t, sector, sp, rate, "t yr-1", city])
            print(f"  stack {name}: {note}")
    print(f"wrote {spath}")
    for c in sorted(pop):
        print(f"  {c:14s} GeoNames population {pop[c]:>10d}")
    print("  Hunan others (kt):", {k: round(v, 1) for k, v in hunan_rest.items()})
    print("  Guangxi all sources (kt):", {k: round(v, 1) for k, v in guangxi.items()},
          "others:", {k: round(v, 1) for k, v in gx_rest.items()})


if __name__ == "__main__":
    main()
