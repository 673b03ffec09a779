#!/usr/bin/env python3
"""Write a small wrfout file with WRF-ARW's exact variable names, dimensions,
staggering and global attributes, filled with simple closed-form fields so a
reader's destaggering, vertical mapping and rotation can be checked by hand.

    python3 scripts/make-wrfout.py OUT.nc [--nx 6 --ny 5 --nz 4 --times 3]
                                          [--drop VAR] [--map-proj N] [--znt]
                                          [--set VAR:INDEX=VALUE] [--attr NAME=VALUE]
                                          [--reverse-phb] [--date-str-len N]
                                          [--start YYYY-MM-DD_HH] [--netcdf4]

Records are hourly from --start (default 2023-01-20_00); hour 24 rolls over
to the next day. --set replaces one value of a field (INDEX counts over all
its records, C order; VALUE may be nan or inf), --attr a global attribute
(a number or nan), --reverse-phb writes PHB decreasing upwards, and
--date-str-len writes Times with that many characters (0 needs --netcdf4,
which writes netCDF-4 instead of 64-bit offset). These make broken files
for the reader's tests.

Needs only the Python standard library and `ncgen` (Debian's netcdf-bin,
installed by scripts/install-deps.sh). The file is netCDF 64-bit offset,
WRF's default io_form 2 output.

Fields (z = height above ground of a level, i/j = index on that variable's
own, possibly staggered, dimension; t = record number):
  U = 2 + 0.5 i + 0.01 z + 0.25 t    V = -1 + 0.3 j + 0.002 z
  PHB = 9.81 (HGT + z_w), PH = 0     HGT = 100 + 10 i + 5 j
  P + PB = 100000 exp(-z / 8000)     T + 300 = 290 + 0.005 z
  QVAPOR = 0.005, QCLOUD = 1e-4 at (j=1, i=1) else 0
  PBLH = 800, UST = 0.3, HFX = 50    RAINC = 0.5 t, RAINNC = 1.0 t (mm)
  LU_INDEX = 12 (croplands) except 17 (water) at (0, 0); MMINLU = MODIS
The w levels are z_w = 0, 40, 104, 206.4, ... (gaps of 40 m growing 1.6x).
"""
import argparse
import datetime
import math
import os
import subprocess
import sys
import tempfile

G = 9.81  # WRF's gravity (module_model_constants)
RADIUS = 6370000.0


def lambert(truelat1, truelat2, stand_lon, cen_lat, cen_lon):
    """Snyder (1987) spherical Lambert conformal: returns inverse(x, y)."""
    p1, p2 = math.radians(truelat1), math.radians(truelat2)
    if abs(truelat1 - truelat2) < 1e-9:
        n = math.sin(p1)
    else:
        n = math.log(math.cos(p1) / math.cos(p2)) / math.log(
            math.tan(math.pi / 4 + p2 / 2) / math.tan(math.pi / 4 + p1 / 2))
    f = math.cos(p1) * math.tan(math.pi / 4 + p1 / 2) ** n / n

    def rho(lat):
        return RADIUS * f / math.tan(math.pi / 4 + math.radians(lat) / 2) ** n

    def forward(lon, lat):
        th = n * math.radians(lon - stand_lon)
        r = rho(lat)
        return r * math.sin(th), -r * math.cos(th)

    xc, yc = forward(cen_lon, cen_lat)

    def inverse(x, y):
        x, y = x + xc, y + yc
        r = math.copysign(math.hypot(x, y), n)
        th = math.atan2(x, -y) if n > 0 else math.atan2(-x, y)
        lat = math.degrees(2 * math.atan((RADIUS * f / r) ** (1 / n)) - math.pi / 2)
        return stand_lon + math.degrees(th / n), lat

    return inverse


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--nx", type=int, default=6)
    ap.add_argument("--ny", type=int, default=5)
    ap.add_argument("--nz", type=int, default=4)
    ap.add_argument("--times", type=int, default=3)
    ap.add_argument("--drop", action="append", default=[], help="leave a variable out")
    ap.add_argument("--map-proj", type=int, default=1)
    ap.add_argument("--znt", action="store_true", help="write ZNT (roughness) too")
    ap.add_argument("--set", action="append", default=[], metavar="VAR:INDEX=VALUE",
                    help="replace one value of a field")
    ap.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE",
                    help="set a numeric global attribute")
    ap.add_argument("--reverse-phb", action="store_true", help="PHB decreasing with height")
    ap.add_argument("--date-str-len", type=int, default=19)
    ap.add_argument("--start", default="2023-01-20_00", help="first record, YYYY-MM-DD_HH")
    ap.add_argument("--netcdf4", action="store_true", help="write netCDF-4 (HDF5)")
    a = ap.parse_args()
    nx, ny, nz, nt = a.nx, a.ny, a.nz, a.times
    dx = 12000.0
    attrs = dict(TRUELAT1=30.0, TRUELAT2=60.0, STAND_LON=112.0, CEN_LAT=27.0,
                 CEN_LON=113.0, MOAD_CEN_LAT=27.0, DX=dx, DY=dx)
    inverse = lambert(30.0, 60.0, 112.0, 27.0, 113.0)

    zw, gap = [0.0], 40.0
    for _ in range(nz):
        zw.append(zw[-1] + gap)
        gap *= 1.6
    zm = [0.5 * (zw[k] + zw[k + 1]) for k in range(nz)]

    def hgt(j, i):
        return 100.0 + 10.0 * i + 5.0 * j

    def grid(nk, nj, ni, fn):
        return [fn(t, k, j, i) for t in range(nt) for k in range(nk)
                for j in range(nj) for i in range(ni)]

    def grid2(fn):
        return [fn(t, j, i) for t in range(nt) for j in range(ny) for i in range(nx)]

    lonlat = [[inverse((i - (nx - 1) / 2) * dx, (j - (ny - 1) / 2) * dx) for i in range(nx)]
              for j in range(ny)]
    fields = {
        # name: (dims, stagger, units, description, values)
        "XLAT": (("Time", "south_north", "west_east"), "", "degree_north", "LATITUDE, SOUTH IS NEGATIVE",
                 grid2(lambda t, j, i: lonlat[j][i][1])),
        "XLONG": (("Time", "south_north", "west_east"), "", "degree_east", "LONGITUDE, WEST IS NEGATIVE",
                  grid2(lambda t, j, i: lonlat[j][i][0])),
        "U": (("Time", "bottom_top", "south_north", "west_east_stag"), "X", "m s-1",
              "x-wind component", grid(nz, ny, nx + 1, lambda t, k, j, i: 2 + 0.5 * i + 0.01 * zm[k] + 0.25 * t)),
        "V": (("Time", "bottom_top", "south_north_stag", "west_east"), "Y", "m s-1",
              "y-wind component", grid(nz, ny + 1, nx, lambda t, k, j, i: -1 + 0.3 * j + 0.002 * zm[k])),
        "W": (("Time", "bottom_top_stag", "south_north", "west_east"), "Z", "m s-1",
              "z-wind component", grid(nz + 1, ny, nx, lambda t, k, j, i: 0.0)),
        "PH": (("Time", "bottom_top_stag", "south_north", "west_east"), "Z", "m2 s-2",
               "perturbation geopotential", grid(nz + 1, ny, nx, lambda t, k, j, i: 0.0)),
        "PHB": (("Time", "bottom_top_stag", "south_north", "west_east"), "Z", "m2 s-2",
                "base-state geopotential",
                grid(nz + 1, ny, nx, lambda t, k, j, i: G * (hgt(j, i) + zw[nz - k if a.reverse_phb else k]))),
        "P": (("Time", "bottom_top", "south_north", "west_east"), "", "Pa", "perturbation pressure",
              grid(nz, ny, nx, lambda t, k, j, i: 0.0)),
        "PB": (("Time", "bottom_top", "south_north", "west_east"), "", "Pa", "BASE STATE PRESSURE",
               grid(nz, ny, nx, lambda t, k, j, i: 100000.0 * math.exp(-zm[k] / 8000.0))),
        "T": (("Time", "bottom_top", "south_north", "west_east"), "", "K",
              "perturbation potential temperature theta-t0",
              grid(nz, ny, nx, lambda t, k, j, i: 290.0 + 0.005 * zm[k] - 300.0)),
        "QVAPOR": (("Time", "bottom_top", "south_north", "west_east"), "", "kg kg-1",
                   "Water vapor mixing ratio", grid(nz, ny, nx, lambda t, k, j, i: 0.005)),
        "QCLOUD": (("Time", "bottom_top", "south_north", "west_east"), "", "kg kg-1",
                   "Cloud water mixing ratio",
                   grid(nz, ny, nx, lambda t, k, j, i: 1e-4 if (j, i) == (1, 1) else 0.0)),
        "PBLH": (("Time", "south_north", "west_east"), "", "m", "PBL HEIGHT", grid2(lambda t, j, i: 800.0)),
        "UST": (("Time", "south_north", "west_east"), "", "m s-1", "U* IN SIMILARITY THEORY",
                grid2(lambda t, j, i: 0.3)),
        "HFX": (("Time", "south_north", "west_east"), "", "W m-2", "UPWARD HEAT FLUX AT THE SURFACE",
                grid2(lambda t, j, i: 50.0)),
        "RAINC": (("Time", "south_north", "west_east"), "", "mm", "ACCUMULATED TOTAL CUMULUS PRECIPITATION",
                  grid2(lambda t, j, i: 0.5 * t)),
        "RAINNC": (("Time", "south_north", "west_east"), "", "mm", "ACCUMULATED TOTAL GRID SCALE PRECIPITATION",
                   grid2(lambda t, j, i: 1.0 * t)),
        "HGT": (("Time", "south_north", "west_east"), "", "m", "Terrain Height",
                grid2(lambda t, j, i: hgt(j, i))),
        "LU_INDEX": (("Time", "south_north", "west_east"), "", "", "LAND USE CATEGORY",
                     grid2(lambda t, j, i: 17.0 if (j, i) == (0, 0) else 12.0)),
    }
    if a.znt:
        fields["ZNT"] = (("Time", "south_north", "west_east"), "", "m", "TIME-VARYING ROUGHNESS LENGTH",
                         grid2(lambda t, j, i: 0.25))
    for name in a.drop:
        fields.pop(name, None)
    for edit in a.set:
        target, value = edit.split("=", 1)
        name, index = target.split(":", 1)
        fields[name][4][int(index)] = float(value)
    for edit in a.attr:
        name, value = edit.split("=", 1)
        attrs[name] = float(value)

    def number(v):
        """A CDL number: ncgen spells NaN and infinities its own way."""
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)

    # Hourly records; datetime rolls hour 24 over to 00 of the next day.
    start = datetime.datetime.strptime(a.start, "%Y-%m-%d_%H")
    times = [(start + datetime.timedelta(hours=t)).strftime("%Y-%m-%d_%H:%M:%S")
             for t in range(nt)]
    times = [(s + " " * a.date_str_len)[:a.date_str_len] for s in times]

    cdl = ["netcdf wrfout {", "dimensions:",
           "\tTime = UNLIMITED ;", f"\tDateStrLen = {a.date_str_len} ;",
           f"\twest_east = {nx} ;", f"\tsouth_north = {ny} ;", f"\tbottom_top = {nz} ;",
           f"\tbottom_top_stag = {nz + 1} ;", f"\twest_east_stag = {nx + 1} ;",
           f"\tsouth_north_stag = {ny + 1} ;", "variables:",
           "\tchar Times(Time, DateStrLen) ;"]
    for name, (dims, stag, units, desc, _) in fields.items():
        mem = {4: "XYZ", 3: "XY "}[len(dims)]
        cdl += [f"\tfloat {name}({', '.join(dims)}) ;",
                f"\t\t{name}:FieldType = 104 ;",
                f'\t\t{name}:MemoryOrder = "{mem}" ;',
                f'\t\t{name}:description = "{desc}" ;',
                f'\t\t{name}:units = "{units}" ;',
                f'\t\t{name}:stagger = "{stag}" ;']
    cdl += ["", "// global attributes:",
            '\t\t:TITLE = " OUTPUT FROM WRF V4.4 MODEL (test file written by airshed scripts/make-wrfout.py)" ;',
            '\t\t:START_DATE = "2023-01-20_00:00:00" ;',
            f"\t\t:WEST-EAST_GRID_DIMENSION = {nx + 1} ;",
            f"\t\t:SOUTH-NORTH_GRID_DIMENSION = {ny + 1} ;",
            f"\t\t:BOTTOM-TOP_GRID_DIMENSION = {nz + 1} ;",
            f"\t\t:MAP_PROJ = {a.map_proj} ;",
            '\t\t:MMINLU = "MODIFIED_IGBP_MODIS_NOAH" ;']
    cdl += [f"\t\t:{k} = {number(v)}f ;" for k, v in attrs.items()]
    cdl += ["data:"]
    if nt > 0 and a.date_str_len > 0:
        cdl += ["", " Times = " + ", ".join(f'"{s}"' for s in times) + " ;"]
    for name, (_, _, _, _, vals) in fields.items():
        if vals:
            cdl += ["", f" {name} = " + ", ".join(number(v) for v in vals) + " ;"]
    cdl += ["}", ""]

    with tempfile.NamedTemporaryFile("w", suffix=".cdl", delete=False) as f:
        f.write("\n".join(cdl))
        cdl_path = f.name
    try:
        kind = "netCDF-4" if a.netcdf4 else "64-bit offset"
        subprocess.run(["ncgen", "-k", kind, "-o", a.out, cdl_path], check=True)
    except FileNotFoundError:
        sys.exit("make-wrfout.py: ncgen not found; run scripts/install-deps.sh (Debian netcdf-bin)")
    finally:
        os.unlink(cdl_path)


if __name__ == "__main__":
    main()
