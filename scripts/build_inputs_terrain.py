#!/usr/bin/env python3
"""Build inputs/terrain_etopo5.nc from ETOPO5 as shipped in Debian's ferret-datasets.

Called by scripts/build-inputs.sh (build_terrain) with the build venv's
python (numpy, scipy):

    python scripts/build_inputs_terrain.py ETOPO5_CDF OUT_NC WEST EAST SOUTH NORTH

ETOPO5_CDF is `usr/share/ferret-vis/data/etopo5.cdf` from the package: a
NetCDF-3 file with `ROSE(ETOPO05_Y, ETOPO05_X)` (float, metres, "Relief Of
the Surface of the Earth"), ETOPO05_Y = 2161 latitudes -90..90 and
ETOPO05_X = 4320 longitudes 0..359.92.

The ETOPO5 grid (NGDC 1988, ETOPO5.DOC) is 5-minute: row values at
latitude k/12 degrees, 4320 values a row starting at 0 E, each value "the
elevation of the CENTER of each cell"; the 90 S row is not in the original
(2810 m may be assumed, as Ferret's file does). Ferret's latitude axis is
exactly k/12 - 90, but its longitude axis was written as an even axis from
0 to 359.92 (359 55' rounded to two decimals), so its stored longitudes
drift east of k/12 by up to 0.0033 degrees. The crop therefore selects by
index and writes the ETOPO5 grid nodes k/12 themselves, inclusive of the
box edges: lon 104..118 and lat 19..33 at 1/12 degree, 169 x 169 values.

Elevations are whole metres in the source (checked) and fit a short, so
they are written as NC_SHORT without loss. The script exits non-zero if
the file is not what is described above or a sanity check fails, and
prints the sanity values.
"""

import sys

import numpy as np
from scipy.io import netcdf_file

STEP_PER_DEG = 12  # 5-minute grid


def fail(msg):
    sys.exit(f"build_inputs_terrain: {msg}")


def main():
    if len(sys.argv) != 7:
        fail("usage: build_inputs_terrain.py ETOPO5_CDF OUT_NC WEST EAST SOUTH NORTH")
    src, out = sys.argv[1], sys.argv[2]
    west, east, south, north = (int(v) for v in sys.argv[3:7])

    f = netcdf_file(src, "r", mmap=False)
    for name in ("ETOPO05_X", "ETOPO05_Y", "ROSE"):
        if name not in f.variables:
            fail(f"{src}: variable {name} missing")
    x = f.variables["ETOPO05_X"][:].astype(np.float64)
    y = f.variables["ETOPO05_Y"][:].astype(np.float64)
    rose = f.variables["ROSE"]
    if rose.dimensions != ("ETOPO05_Y", "ETOPO05_X"):
        fail(f"{src}: ROSE dimensions {rose.dimensions}, expected (ETOPO05_Y, ETOPO05_X)")
    if x.shape != (4320,) or y.shape != (2161,):
        fail(f"{src}: grid {y.shape} x {x.shape}, expected 2161 x 4320")
    units = rose.units.decode() if isinstance(rose.units, bytes) else rose.units
    if units != "meters":
        fail(f"{src}: ROSE units {units!r}, expected 'meters'")
    k = np.arange(4320)
    # Latitudes exactly k/12 - 90; longitudes within 0.004 deg of k/12 (the
    # rounded 359.92 end point of Ferret's even axis), so index k is k/12 E.
    if np.abs(y - (np.arange(2161) / STEP_PER_DEG - 90.0)).max() > 1e-9:
        fail(f"{src}: ETOPO05_Y is not the 5-minute latitudes -90..90")
    if np.abs(x - k / STEP_PER_DEG).max() > 0.004:
        fail(f"{src}: ETOPO05_X is not the 5-minute longitudes 0..359 55'")

    i0, i1 = west * STEP_PER_DEG, east * STEP_PER_DEG
    j0, j1 = (south + 90) * STEP_PER_DEG, (north + 90) * STEP_PER_DEG
    crop = np.array(rose.data[j0 : j1 + 1, i0 : i1 + 1], dtype=np.float64)
    f.close()
    if not np.all(np.isfinite(crop)) or np.any(np.abs(crop) > 1e30):
        fail(f"{src}: missing values (_FillValue) inside the crop")
    if not np.all(crop == np.round(crop)) or crop.min() < -32767 or crop.max() > 32767:
        fail(f"{src}: elevations in the crop are not whole metres within a short")
    elev = crop.astype(np.int16)
    # Nodes k/12 as doubles: one correctly rounded division each.
    lon = np.arange(i0, i1 + 1, dtype=np.float64) / STEP_PER_DEG
    lat = np.arange(j0, j1 + 1, dtype=np.float64) / STEP_PER_DEG - 90.0

    o = netcdf_file(out, "w", version=1)
    o.title = "ETOPO5 5-minute relief, cropped"
    o.source = (
        "ETOPO5 (NOAA National Geophysical Data Center, 1988: Data Announcement "
        "88-MGG-02, Digital relief of the Surface of the Earth), file etopo5.cdf "
        "(variable ROSE) of the Debian package ferret-datasets 7.6.0-5"
    )
    o.licence = "public domain (US Government work, NOAA NGDC)"
    o.history = (
        f"scripts/build-inputs.sh build_terrain: nodes lon {west}..{east} E, "
        f"lat {south}..{north} N at 1/12 degree selected by index from ROSE; "
        "coordinates set to the ETOPO5 nodes k/12 degree (Ferret's stored "
        "longitudes drift east by up to 0.0033 degree); values unchanged "
        "(whole metres, stored as short)"
    )
    o.Conventions = "CF-1.8"
    o.createDimension("lat", lat.size)
    o.createDimension("lon", lon.size)
    v = o.createVariable("lat", "d", ("lat",))
    v[:] = lat
    v.units = "degrees_north"
    v.standard_name = "latitude"
    v.long_name = "latitude of the ETOPO5 grid node (cell centre)"
    v = o.createVariable("lon", "d", ("lon",))
    v[:] = lon
    v.units = "degrees_east"
    v.standard_name = "longitude"
    v.long_name = "longitude of the ETOPO5 grid node (cell centre)"
    v = o.createVariable("elevation", "h", ("lat", "lon"))
    v[:] = elev
    v.units = "m"
    v.standard_name = "surface_altitude"
    v.long_name = "surface elevation above sea level (ocean depth negative), ETOPO5"
    o.close()

    def node(lon_q, lat_q):
        i = round(lon_q * STEP_PER_DEG) - i0
        j = round((lat_q + 90) * STEP_PER_DEG) - j0
        return int(elev[j, i]), lon[i], lat[j]

    def local_max(lon_q, lat_q, radius_deg):
        m = (np.abs(lon[None, :] - lon_q) <= radius_deg) & (
            np.abs(lat[:, None] - lat_q) <= radius_deg
        )
        return int(elev[m].max())

    print(f"terrain: {lat.size} x {lon.size} nodes, lon {lon[0]:g}..{lon[-1]:g}, "
          f"lat {lat[0]:g}..{lat[-1]:g}, elevation {elev.min()}..{elev.max()} m")
    checks = [
        # (name, lon, lat, lo, hi, reference)
        ("Hengyang city", 112.57, 26.89, 30, 200, "city about 60-100 m"),
        ("Mount Heng (Nanyue)", 112.68, 27.27, None, None, "peak about 1290 m"),
        ("Guiyang", 106.71, 26.58, 800, 1600, "city about 1100 m"),
        ("South China Sea", 115.0, 19.5, -5000, -50, "open sea"),
    ]
    ok = True
    for name, lo, la, vmin, vmax, ref in checks:
        h, nlon, nlat = node(lo, la)
        extra = ""
        if vmin is None:
            extra = f", highest node within 0.1 deg {local_max(lo, la, 0.1)} m"
        print(f"terrain: {name} ({lo:.2f}E {la:.2f}N; node {nlon:.3f}E {nlat:.3f}N): "
              f"{h} m{extra} [{ref}]")
        if vmin is not None and not (vmin <= h <= vmax):
            print(f"terrain: CHECK FAILED: {name} {h} m outside [{vmin}, {vmax}]",
                  file=sys.stderr)
            ok = False
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
