//! Receptors of the plume model and their readers: a CSV list, a
//! Cartesian grid, a polar grid, and the cells of an Eulerian case's grid,
//! all in the case's local frame ([`super::frame::LocalFrame`]).
//!
//! Elevations and hill heights, as AERMAP gives them (AERMAP user's guide,
//! EPA-454/B-03-003 and EPA-454/B-18-004): from the CSV when it has them;
//! else from a lat-lon DEM when the case names one ([`ReceptorTerrain`]):
//! the elevation is the DEM bilinearly interpolated at the receptor, and
//! the hill height the highest DEM value within a stated radius (default
//! 10 km) of the receptor, at least its elevation. This is a
//! simplification of AERMAP's rule, which takes the highest point whose
//! slope from the receptor exceeds 10 % anywhere in the domain: here the
//! search is a disc of fixed radius and slope is not tested. DEM values
//! below sea level are taken as 0 m (sea floor; the air's lower boundary
//! is the sea surface), as `met::terrain` does. Without either, elevation
//! and hill height are 0 (flat ground at sea level).

use super::frame::LocalFrame;
use crate::config::{Case, MetSpec, TerrainSpec};
use crate::emissions::{for_each_csv_row_with, CsvRow};
use crate::error::{Error, Result};
use crate::grid::{Grid, EARTH_RADIUS};
use crate::input::raster::LatLonRaster;
use std::path::Path;

/// A receptor in the local frame, as AERMAP gives them: position, terrain
/// elevation, the hill height scale that controls the dividing streamline,
/// and the flagpole height above ground.
#[derive(Debug, Clone, PartialEq)]
pub struct Receptor {
    pub name: String,
    /// m east and north of the case origin.
    pub x: f64,
    pub y: f64,
    /// Terrain elevation above sea level, m.
    pub elevation: f64,
    /// Hill height scale above sea level, m (AERMAP's hc; = elevation on flat ground).
    pub hill_height: f64,
    /// Height above ground, m.
    pub flagpole: f64,
}

impl Receptor {
    /// A receptor on flat ground at sea level, on the ground.
    pub fn flat(name: String, x: f64, y: f64) -> Receptor {
        Receptor {
            name,
            x,
            y,
            elevation: 0.0,
            hill_height: 0.0,
            flagpole: 0.0,
        }
    }
}

/// A Cartesian grid: `nx` x `ny` receptors at (x0 + i dx, y0 + j dy),
/// named `C<i>_<j>` (0-based), row by row from the south-west corner.
pub fn cartesian(x0: f64, y0: f64, dx: f64, dy: f64, nx: usize, ny: usize) -> Vec<Receptor> {
    let mut out = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            out.push(Receptor::flat(
                format!("C{i}_{j}"),
                x0 + i as f64 * dx,
                y0 + j as f64 * dy,
            ));
        }
    }
    out
}

/// A polar grid about (`cx`, `cy`): `directions` equally spaced
/// directions clockwise from north (0, 360/n, ... degrees), each at every
/// distance, at (cx + d sin(theta), cy + d cos(theta)); named
/// `P<degrees>_<metres>`, direction by direction, nearest first.
pub fn polar(cx: f64, cy: f64, distances: &[f64], directions: usize) -> Vec<Receptor> {
    let mut out = Vec::with_capacity(distances.len() * directions);
    for k in 0..directions {
        let deg = k as f64 * 360.0 / directions as f64;
        let (s, c) = deg.to_radians().sin_cos();
        for &d in distances {
            out.push(Receptor::flat(
                format!("P{deg}_{d}"),
                cx + d * s,
                cy + d * c,
            ));
        }
    }
    out
}

/// Terrain from a regular lat-lon DEM (`crate::input::raster`), for
/// receptor and source elevations and hill heights (see the module notes).
#[derive(Debug, Clone)]
pub struct ReceptorTerrain {
    dem: LatLonRaster,
    /// Hill-height search radius, m.
    pub hill_radius_m: f64,
}

impl ReceptorTerrain {
    /// Open `variable` of a NetCDF lat-lon raster, in m (units converted).
    pub fn open(path: &Path, variable: &str, hill_radius_m: f64) -> Result<ReceptorTerrain> {
        let dem = LatLonRaster::open_heights(path, variable)?;
        Ok(Self::from_raster(dem, hill_radius_m))
    }

    /// From a raster in memory (heights in m).
    pub fn from_raster(dem: LatLonRaster, hill_radius_m: f64) -> ReceptorTerrain {
        ReceptorTerrain {
            dem: dem.map_values(|h| if h < 0.0 { 0.0 } else { h }),
            hill_radius_m,
        }
    }

    /// Fractional (row, column) of a point, pixel centres at whole numbers;
    /// None outside the raster's pixels.
    fn frac(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        let (w, e, s, n) = self.dem.extent();
        let (dlon, dlat) = self.dem.spacing();
        let lon = w + (lon - w).rem_euclid(360.0);
        (lon <= e && lat >= s && lat <= n).then(|| {
            (
                (lat - (s + 0.5 * dlat)) / dlat,
                (lon - (w + 0.5 * dlon)) / dlon,
            )
        })
    }

    /// Bilinear value between pixel centres (constant in the outer half
    /// pixel); None outside or on a gap.
    fn value(&self, lon: f64, lat: f64) -> Option<f64> {
        let (fr, fc) = self.frac(lon, lat)?;
        let v = self.dem.values();
        let (ny, nx) = v.dim();
        let clamp = |f: f64, n: usize| f.clamp(0.0, (n - 1) as f64);
        let (fr, fc) = (clamp(fr, ny), clamp(fc, nx));
        let (r0, c0) = (fr.floor() as usize, fc.floor() as usize);
        let (r1, c1) = ((r0 + 1).min(ny - 1), (c0 + 1).min(nx - 1));
        let (wr, wc) = (fr - r0 as f64, fc - c0 as f64);
        let h = (1.0 - wr) * ((1.0 - wc) * v[[r0, c0]] + wc * v[[r0, c1]])
            + wr * ((1.0 - wc) * v[[r1, c0]] + wc * v[[r1, c1]]);
        h.is_finite().then_some(h)
    }

    /// Elevation at local (x, y) m; an error naming `who` off the DEM.
    pub fn elevation_at(&self, frame: &LocalFrame, x: f64, y: f64, who: &str) -> Result<f64> {
        let (lon, lat) = frame.inverse(x, y);
        self.value(lon, lat)
            .ok_or_else(|| self.outside(who, lon, lat))
    }

    fn outside(&self, who: &str, lon: f64, lat: f64) -> Error {
        let (w, e, s, n) = self.dem.extent();
        Error::input(
            self.dem.path(),
            self.dem.variable(),
            format!(
                "a height at {who:?} ({lon:.5}, {lat:.5}): the raster covers lon {w}..{e}, lat {s}..{n} and must have a value there"
            ),
        )
    }

    /// (elevation, hill height) at local (x, y) m: the interpolated DEM,
    /// and the highest pixel whose centre lies within the hill radius
    /// (great-circle distance), at least the elevation.
    pub fn at(&self, frame: &LocalFrame, x: f64, y: f64, who: &str) -> Result<(f64, f64)> {
        let (lon, lat) = frame.inverse(x, y);
        let elev = self
            .value(lon, lat)
            .ok_or_else(|| self.outside(who, lon, lat))?;
        let (fr, fc) = self.frac(lon, lat).expect("inside: value was found");
        let (dlon, dlat) = self.dem.spacing();
        let rad = self.hill_radius_m / EARTH_RADIUS; // radians of arc
        let nr = (rad.to_degrees() / dlat).ceil() as i64 + 1;
        let coslat = lat.to_radians().cos().max(1e-6);
        let nc = (rad.to_degrees() / (dlon * coslat)).ceil() as i64 + 1;
        let v = self.dem.values();
        let (ny, nx) = v.dim();
        let (w, _, s, _) = self.dem.extent();
        let mut hill = elev;
        let (r0, c0) = (fr.round() as i64, fc.round() as i64);
        for r in (r0 - nr).max(0)..=(r0 + nr).min(ny as i64 - 1) {
            for c in (c0 - nc).max(0)..=(c0 + nc).min(nx as i64 - 1) {
                let h = v[[r as usize, c as usize]];
                if !h.is_finite() || h <= hill {
                    continue;
                }
                let plat = s + (r as f64 + 0.5) * dlat;
                let plon = w + (c as f64 + 0.5) * dlon;
                if great_circle(lon, lat, plon, plat) <= self.hill_radius_m {
                    hill = h;
                }
            }
        }
        Ok((elev, hill))
    }
}

/// Great-circle distance on the model's sphere, m (haversine).
pub fn great_circle(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = (p2 - p1, (lon2 - lon1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS * a.sqrt().min(1.0).asin()
}

fn optional_number(row: &CsvRow, col: &str) -> Result<Option<f64>> {
    match row.optional_text(col) {
        None => Ok(None),
        Some(t) => match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(row.error(col, format!("a finite number or nothing, got {t:?}"))),
        },
    }
}

/// Receptors from a CSV file with a header: `name`, then either `x_m,y_m`
/// (local frame) or `lon,lat` (degrees), and optionally `elevation_m`,
/// `hill_height_m`, `flagpole_m`. Elevation: the column, else `terrain`,
/// else 0; hill height: the column, else `terrain`'s, else the elevation;
/// flagpole 0 by default. Ranges: elevation -500..9000 m, hill height at
/// least the elevation and below 9000 m, flagpole 0..1000 m.
pub fn from_csv(
    path: &Path,
    frame: &LocalFrame,
    terrain: Option<&ReceptorTerrain>,
) -> Result<Vec<Receptor>> {
    let optional = [
        "x_m",
        "y_m",
        "lon",
        "lat",
        "elevation_m",
        "hill_height_m",
        "flagpole_m",
    ];
    let mut out: Vec<Receptor> = Vec::new();
    for_each_csv_row_with(path, &["name"], &optional, |row| {
        let name = row.text("name").to_string();
        if name.is_empty() {
            return Err(row.error("name", "a receptor name"));
        }
        let xy = (optional_number(row, "x_m")?, optional_number(row, "y_m")?);
        let ll = (optional_number(row, "lon")?, optional_number(row, "lat")?);
        let (x, y) = match (xy, ll) {
            ((Some(x), Some(y)), (None, None)) => {
                for (c, v) in [("x_m", x), ("y_m", y)] {
                    if v.abs() > 1e6 {
                        return Err(row.error(
                            c,
                            format!("a position within 1000 km of the origin, m; got {v}"),
                        ));
                    }
                }
                (x, y)
            }
            ((None, None), (Some(lon), Some(lat))) => {
                if !(-180.0..=360.0).contains(&lon) {
                    return Err(row.error("lon", format!("a longitude in degrees, got {lon}")));
                }
                if !(-89.0..=89.0).contains(&lat) {
                    return Err(
                        row.error("lat", format!("a latitude within +-89 degrees, got {lat}"))
                    );
                }
                frame.forward(lon, lat)
            }
            _ => {
                return Err(row.error(
                    "name",
                    "a position: `x_m` and `y_m`, or `lon` and `lat` (one pair, both filled)",
                ))
            }
        };
        let from_dem = match terrain {
            Some(t) => Some(t.at(frame, x, y, &name)?),
            None => None,
        };
        let elevation = match optional_number(row, "elevation_m")? {
            Some(e) if (-500.0..9000.0).contains(&e) => e,
            Some(e) => {
                return Err(row.error("elevation_m", format!("an elevation -500..9000 m, got {e}")))
            }
            None => from_dem.map_or(0.0, |d| d.0),
        };
        let hill_height = match optional_number(row, "hill_height_m")? {
            Some(h) if h >= elevation && h < 9000.0 => h,
            Some(h) => {
                return Err(row.error(
                    "hill_height_m",
                    format!("a hill height at least the elevation ({elevation} m) and below 9000 m, got {h}"),
                ))
            }
            None => from_dem.map_or(elevation, |d| d.1.max(elevation)),
        };
        let flagpole = match optional_number(row, "flagpole_m")? {
            Some(f) if (0.0..=1000.0).contains(&f) => f,
            Some(f) => return Err(row.error("flagpole_m", format!("a height 0..1000 m, got {f}"))),
            None => 0.0,
        };
        if out.iter().any(|r| r.name == name) {
            return Err(row.error(
                "name",
                format!("receptor names that differ; {name:?} is repeated"),
            ));
        }
        out.push(Receptor {
            name,
            x,
            y,
            elevation,
            hill_height,
            flagpole,
        });
        Ok(())
    })?;
    if out.is_empty() {
        return Err(Error::input(path, "(rows)", "at least one receptor row"));
    }
    Ok(out)
}

/// The cells of an Eulerian case's grid as receptors, named `G<i>_<j>`:
/// centres projected into the local frame; elevation and hill height from
/// the case's terrain when it has one (`met.terrain` of a diagnostic or
/// adjusted met: the cell mean, and `met::terrain`'s highest terrain
/// within its search radius), else from `terrain` when given, else 0.
pub fn grid_cells(
    case_path: &Path,
    frame: &LocalFrame,
    terrain: Option<&ReceptorTerrain>,
) -> Result<Vec<Receptor>> {
    let case = Case::load(case_path)?;
    let grid = Grid::new(&case.grid);
    let spec: Option<&TerrainSpec> = match &case.met {
        MetSpec::Adjusted { terrain, .. } => Some(terrain),
        MetSpec::Regime(r) => Some(&r.terrain),
        _ => None,
    };
    let model_terrain = match spec {
        Some(s) => Some(crate::met::terrain::Terrain::build(&grid, s)?),
        None => None,
    };
    let mut out = Vec::with_capacity(grid.nx * grid.ny);
    for j in 0..grid.ny {
        for i in 0..grid.nx {
            let (x, y) = frame.forward(grid.lon[[j, i]], grid.lat[[j, i]]);
            let name = format!("G{i}_{j}");
            let (elevation, hill_height) = match (&model_terrain, terrain) {
                (Some(t), _) => {
                    let e = t.height[[j, i]];
                    (e, t.highest_near[[j, i]].max(e))
                }
                (None, Some(t)) => t.at(frame, x, y, &name)?,
                (None, None) => (0.0, 0.0),
            };
            out.push(Receptor {
                name,
                x,
                y,
                elevation,
                hill_height,
                flagpole: 0.0,
            });
        }
    }
    Ok(out)
}
