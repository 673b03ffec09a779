//! Regular latitude-longitude rasters (a DEM, a land-cover map) brought onto
//! any model grid.
//!
//! A raster is one NetCDF variable whose last two dimensions are latitude
//! and longitude, in that order (CF/COARDS order; any dimensions before them
//! must have length 1, and their first element is read). Each of the two
//! dimensions has a 1-D coordinate variable of the same name giving pixel
//! centres in degrees (units, when given, as in [`super::units`]: degrees
//! north / east). Coordinates may ascend or descend, and must be regularly
//! spaced: every step within 1 % of the mean step. Values go through
//! [`super::nc`]: packing applied, `units` converted when a quantity is
//! asked for, and missing values (`_FillValue`, `missing_value`, valid
//! range) kept as gaps.
//!
//! On the model grid, each cell is sampled at `sub` x `sub` points placed at
//! the centres of equal sub-cells in the grid's projection coordinates (so
//! equal true areas to within the change of the map factor across one
//! cell), their longitude and latitude from the grid's own projection
//! ([`Grid::lonlat_at`]):
//!
//! - [`LatLonRaster::cell_mean`]: the mean of the raster bilinearly
//!   interpolated between pixel centres (held constant in the outer half
//!   pixel) at the sub-points: an area mean of the cell.
//! - [`LatLonRaster::class_fractions`]: for a class map, the fraction of a
//!   cell's sub-points whose nearest pixel holds each class.
//!
//! Sub-points that fall on a gap are left out of the cell's mean or
//! fractions; a cell with no valid sub-point, or with any sub-point outside
//! the raster, is refused naming the cell, its longitude and latitude and
//! the raster's extent. Longitudes are compared modulo 360 degrees.

use super::nc;
use super::units::Quantity;
use crate::error::{Error, Result};
use crate::grid::Grid;
use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};

/// A regular lat-lon raster held in memory, rows from south to north,
/// columns from west to east.
#[derive(Debug, Clone)]
pub struct LatLonRaster {
    path: PathBuf,
    variable: String,
    /// Latitude of the southernmost row's centres and the row step (> 0), degrees.
    lat0: f64,
    dlat: f64,
    /// Longitude of the westernmost column's centres and the column step (> 0), degrees.
    lon0: f64,
    dlon: f64,
    /// Values [row, column]; NaN where the file marks a value missing.
    values: Array2<f64>,
}

/// Where a sub-point falls in the raster: fractional row and column
/// (0 = first pixel centre).
type Frac = (f64, f64);

impl LatLonRaster {
    /// Read `variable` of the NetCDF file at `path` as a raster in its own
    /// units (see the module notes for the layout).
    pub fn open(path: &Path, variable: &str) -> Result<LatLonRaster> {
        LatLonRaster::open_as(path, variable, None)
    }

    /// A digital elevation model: `variable` in m (units converted), every
    /// value between -11000 m (the Challenger Deep, -10935 m) and 9000 m
    /// above sea level; gaps (NaN) are kept.
    pub fn open_heights(path: &Path, variable: &str) -> Result<LatLonRaster> {
        let r = LatLonRaster::open_as(path, variable, Some(Quantity::Length))?;
        if let Some(bad) = r
            .values()
            .iter()
            .find(|h| !h.is_nan() && !(-11_000.0..9000.0).contains(*h))
        {
            return Err(Error::input(
                path,
                variable,
                format!("heights between -11000 and 9000 m (m above sea level); found {bad}"),
            ));
        }
        Ok(r)
    }

    /// As [`LatLonRaster::open`], with values converted from the
    /// variable's `units` to the model's unit of `quantity`.
    pub fn open_as(
        path: &Path,
        variable: &str,
        quantity: Option<Quantity>,
    ) -> Result<LatLonRaster> {
        nc::check_name(path, variable, variable)?;
        let file = nc::open(path)?;
        let var = nc::variable(&file, path, variable)?.ok_or_else(|| {
            Error::input(
                path,
                variable,
                format!("a variable `{variable}` on a lat-lon raster (dimensions lat, lon)"),
            )
        })?;
        let dims: Vec<(String, usize)> = var
            .dimensions()
            .iter()
            .map(|d| (d.name(), d.len()))
            .collect();
        let nd = dims.len();
        if nd < 2 || dims[..nd - 2].iter().any(|d| d.1 != 1) {
            return Err(Error::input(
                path,
                variable,
                format!(
                    "dimensions (lat, lon), or (..., lat, lon) with the leading ones of length 1; found {:?}",
                    dims
                ),
            ));
        }
        let (lat_dim, lon_dim) = (&dims[nd - 2], &dims[nd - 1]);
        let lat = coordinate(&file, path, &lat_dim.0, Quantity::Latitude)?;
        let lon = coordinate(&file, path, &lon_dim.0, Quantity::Longitude)?;
        if let Some(bad) = lat.iter().find(|l| !(-90.0..=90.0).contains(*l)) {
            return Err(Error::input(
                path,
                lat_dim.0.as_str(),
                format!("latitudes between -90 and 90 degrees (the raster's rows); found {bad}"),
            ));
        }
        let (lat0, dlat, flip_rows) = regular(path, &lat_dim.0, &lat)?;
        let (lon0, dlon, flip_cols) = regular(path, &lon_dim.0, &lon)?;
        if dlon * (lon.len() - 1) as f64 >= 360.0 {
            return Err(Error::input(
                path,
                lon_dim.0.as_str(),
                "longitudes spanning less than 360 degrees",
            ));
        }
        let ext: Vec<std::ops::Range<usize>> = dims
            .iter()
            .map(|d| if d.1 == 1 { 0..1 } else { 0..d.1 })
            .collect();
        let named: Vec<(String, std::ops::Range<usize>)> = dims
            .iter()
            .zip(&ext)
            .map(|(d, r)| (d.0.clone(), r.clone()))
            .collect();
        let at = nc::cell_namer(&named);
        let vals = nc::read_or_nan(&var, path, variable, &ext, quantity, &at)?;
        let (ny, nx) = (lat_dim.1, lon_dim.1);
        let raw = Array2::from_shape_vec((ny, nx), vals).expect("shape from the dimensions");
        let values = Array2::from_shape_fn((ny, nx), |(r, c)| {
            let rr = if flip_rows { ny - 1 - r } else { r };
            let cc = if flip_cols { nx - 1 - c } else { c };
            raw[[rr, cc]]
        });
        Ok(LatLonRaster {
            path: path.to_path_buf(),
            variable: variable.to_string(),
            lat0,
            dlat,
            lon0,
            dlon,
            values,
        })
    }

    /// A raster from values in memory, rows from south to north starting
    /// at `lat0`, columns from west to east starting at `lon0` (pixel
    /// centres, degrees); NaN marks a gap. `path` and `variable` name it in
    /// errors.
    pub fn from_values(
        path: &Path,
        variable: &str,
        (lon0, lat0): (f64, f64),
        (dlon, dlat): (f64, f64),
        values: Array2<f64>,
    ) -> LatLonRaster {
        assert!(dlon > 0.0 && dlat > 0.0, "raster steps must be positive");
        LatLonRaster {
            path: path.to_path_buf(),
            variable: variable.to_string(),
            lat0,
            dlat,
            lon0,
            dlon,
            values,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// Values [row (south to north), column (west to east)], NaN in gaps.
    pub fn values(&self) -> &Array2<f64> {
        &self.values
    }

    /// The same raster with every value (gaps included) passed through `f`.
    pub fn map_values(&self, f: impl Fn(f64) -> f64) -> LatLonRaster {
        LatLonRaster {
            values: self.values.mapv(f),
            ..self.clone()
        }
    }

    /// Pixel-centre spacing (longitude, latitude), degrees.
    pub fn spacing(&self) -> (f64, f64) {
        (self.dlon, self.dlat)
    }

    /// The area the pixels cover: (west, east, south, north) edges, degrees.
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let (ny, nx) = self.values.dim();
        (
            self.lon0 - 0.5 * self.dlon,
            self.lon0 + (nx as f64 - 0.5) * self.dlon,
            self.lat0 - 0.5 * self.dlat,
            self.lat0 + (ny as f64 - 0.5) * self.dlat,
        )
    }

    /// A `sub` for [`LatLonRaster::cell_mean`] and
    /// [`LatLonRaster::class_fractions`] that samples every cell at least
    /// twice per pixel along each axis (sub-points at most half a pixel
    /// apart), between 1 and 32.
    pub fn suggested_sub(&self, grid: &Grid) -> usize {
        let cell_m = (grid.area.sum() / (grid.nx * grid.ny) as f64).sqrt();
        let pixel_m = self.dlat.min(self.dlon).to_radians() * crate::grid::EARTH_RADIUS;
        ((2.0 * cell_m / pixel_m).ceil() as usize).clamp(1, 32)
    }

    /// Fractional (row, column) of a point, None outside the raster's pixels.
    fn locate(&self, lon: f64, lat: f64) -> Option<Frac> {
        let (ny, nx) = self.values.dim();
        let fr = (lat - self.lat0) / self.dlat;
        // Longitudes modulo 360, counted from the western edge.
        let west = self.lon0 - 0.5 * self.dlon;
        let fc = (lon - west).rem_euclid(360.0) / self.dlon - 0.5;
        let inside = |f: f64, n: usize| f >= -0.5 && f <= n as f64 - 0.5;
        (inside(fr, ny) && inside(fc, nx)).then_some((fr, fc))
    }

    /// Bilinear value between pixel centres (constant in the outer half
    /// pixel); NaN when a pixel it weighs is a gap.
    fn bilinear(&self, (fr, fc): Frac) -> f64 {
        let (ny, nx) = self.values.dim();
        let axis = |f: f64, n: usize| -> (usize, usize, f64) {
            if n == 1 {
                return (0, 0, 0.0);
            }
            let f = f.clamp(0.0, (n - 1) as f64);
            let lo = (f.floor() as usize).min(n - 2);
            (lo, lo + 1, f - lo as f64)
        };
        let (r0, r1, wr) = axis(fr, ny);
        let (c0, c1, wc) = axis(fc, nx);
        let mut sum = 0.0;
        for (r, w_r) in [(r0, 1.0 - wr), (r1, wr)] {
            for (c, w_c) in [(c0, 1.0 - wc), (c1, wc)] {
                let w = w_r * w_c;
                if w > 0.0 {
                    sum += w * self.values[[r, c]];
                }
            }
        }
        sum
    }

    /// The nearest pixel's (row, column).
    fn nearest(&self, (fr, fc): Frac) -> (usize, usize) {
        let (ny, nx) = self.values.dim();
        let idx = |f: f64, n: usize| (f.round().max(0.0) as usize).min(n - 1);
        (idx(fr, ny), idx(fc, nx))
    }

    /// The raster positions of cell (j, i)'s sub x sub sub-points, or the
    /// error naming the cell when one lies outside the raster.
    fn sub_points(&self, grid: &Grid, j: usize, i: usize, sub: usize) -> Result<Vec<Frac>> {
        let mut pts = Vec::with_capacity(sub * sub);
        for b in 0..sub {
            let fj = j as f64 - 0.5 + (b as f64 + 0.5) / sub as f64;
            for a in 0..sub {
                let fi = i as f64 - 0.5 + (a as f64 + 0.5) / sub as f64;
                let (lon, lat) = grid.lonlat_at(fi, fj);
                match self.locate(lon, lat) {
                    Some(f) => pts.push(f),
                    None => return Err(self.outside(grid, j, i, lon, lat)),
                }
            }
        }
        Ok(pts)
    }

    fn outside(&self, grid: &Grid, j: usize, i: usize, lon: f64, lat: f64) -> Error {
        let (w, e, s, n) = self.extent();
        Error::input(
            &self.path,
            self.variable.as_str(),
            format!(
                "a raster covering every model cell; cell (i={}, j={}) centred at {:.3}E {:.3}N reaches {:.3}E {:.3}N, outside the raster's {w:.3}..{e:.3}E, {s:.3}..{n:.3}N",
                i + grid.origin.0,
                j + grid.origin.1,
                grid.lon[[j, i]],
                grid.lat[[j, i]],
                lon,
                lat
            ),
        )
    }

    fn no_data(&self, grid: &Grid, j: usize, i: usize) -> Error {
        Error::input(
            &self.path,
            self.variable.as_str(),
            format!(
                "at least one valid value in every model cell; cell (i={}, j={}) centred at {:.3}E {:.3}N has only missing values",
                i + grid.origin.0,
                j + grid.origin.1,
                grid.lon[[j, i]],
                grid.lat[[j, i]]
            ),
        )
    }

    /// The area mean over each model cell [j, i]: the raster interpolated
    /// bilinearly at `sub` x `sub` sub-points per cell (at least 1) and
    /// averaged, sub-points on gaps left out.
    pub fn cell_mean(&self, grid: &Grid, sub: usize) -> Result<Array2<f64>> {
        let sub = sub.max(1);
        let mut out = Array2::zeros((grid.ny, grid.nx));
        for j in 0..grid.ny {
            for i in 0..grid.nx {
                let (mut sum, mut n) = (0.0, 0usize);
                for f in self.sub_points(grid, j, i, sub)? {
                    let v = self.bilinear(f);
                    if v.is_finite() {
                        sum += v;
                        n += 1;
                    }
                }
                if n == 0 {
                    return Err(self.no_data(grid, j, i));
                }
                out[[j, i]] = sum / n as f64;
            }
        }
        Ok(out)
    }

    /// For a map of integer classes 0..n_classes: the fraction [j, i, class]
    /// of each cell's `sub` x `sub` sub-points whose nearest pixel holds
    /// each class (sub-points on gaps left out); each cell's fractions sum
    /// to 1. A sampled pixel that is not such a class is refused, naming it.
    pub fn class_fractions(
        &self,
        grid: &Grid,
        sub: usize,
        n_classes: usize,
    ) -> Result<Array3<f64>> {
        let sub = sub.max(1);
        let mut out = Array3::zeros((grid.ny, grid.nx, n_classes));
        let mut counts = vec![0usize; n_classes];
        for j in 0..grid.ny {
            for i in 0..grid.nx {
                counts.iter_mut().for_each(|c| *c = 0);
                let mut n = 0usize;
                for f in self.sub_points(grid, j, i, sub)? {
                    let (r, c) = self.nearest(f);
                    let v = self.values[[r, c]];
                    if v.is_nan() {
                        continue;
                    }
                    if v.fract() != 0.0 || v < 0.0 || v >= n_classes as f64 {
                        return Err(Error::input(
                            &self.path,
                            self.variable.as_str(),
                            format!(
                                "integer classes 0 to {}; the pixel at {:.4}E {:.4}N is {v}",
                                n_classes.saturating_sub(1),
                                self.lon0 + c as f64 * self.dlon,
                                self.lat0 + r as f64 * self.dlat
                            ),
                        ));
                    }
                    counts[v as usize] += 1;
                    n += 1;
                }
                if n == 0 {
                    return Err(self.no_data(grid, j, i));
                }
                for (k, &c) in counts.iter().enumerate() {
                    out[[j, i, k]] = c as f64 / n as f64;
                }
            }
        }
        Ok(out)
    }
}

/// A 1-D coordinate variable `name`(name) in degrees.
fn coordinate(file: &netcdf::File, path: &Path, name: &str, q: Quantity) -> Result<Vec<f64>> {
    let what = match q {
        Quantity::Latitude => "latitudes",
        _ => "longitudes",
    };
    let expected = format!(
        "a 1-D coordinate variable `{name}`({name}) giving the {what} of the raster's pixel centres (degrees)"
    );
    let var = nc::variable(file, path, name)?
        .ok_or_else(|| Error::input(path, name, expected.clone()))?;
    let dims: Vec<String> = var.dimensions().iter().map(|d| d.name()).collect();
    if dims != [name] {
        return Err(Error::input(path, name, expected));
    }
    let n = var.dimensions()[0].len();
    nc::read(
        &var,
        path,
        name,
        std::slice::from_ref(&(0..n)),
        Some(q),
        &|k| format!("({name}={k})"),
    )
}

/// The first value, the step (> 0) and whether the values descend, of
/// regularly spaced coordinates; refused unless at least two, strictly
/// monotonic and every step within 1 % of the mean step.
fn regular(path: &Path, name: &str, c: &[f64]) -> Result<(f64, f64, bool)> {
    let n = c.len();
    let err = |why: String| {
        Error::input(
            path,
            name,
            format!("regularly spaced coordinates (at least 2, every step within 1 % of the mean step); {why}"),
        )
    };
    if n < 2 {
        return Err(err(format!("it has {n}")));
    }
    let d = (c[n - 1] - c[0]) / (n - 1) as f64;
    if d == 0.0 || !d.is_finite() {
        return Err(err("the first and last are equal".into()));
    }
    if let Some(k) = (1..n).find(|&k| ((c[k] - c[k - 1]) - d).abs() > 0.01 * d.abs()) {
        return Err(err(format!(
            "the step from {name}[{}] = {} to {name}[{k}] = {} differs from the mean step {d}",
            k - 1,
            c[k - 1],
            c[k]
        )));
    }
    Ok(if d > 0.0 {
        (c[0], d, false)
    } else {
        (c[n - 1], -d, true)
    })
}

/// Whether `var` of `file` looks like a lat-lon raster:
/// its last two dimensions both have 1-D coordinate variables of their own
/// name. Used to tell a raster from a field already on the model grid.
pub fn is_raster(file: &netcdf::File, var: &netcdf::Variable) -> bool {
    let dims = var.dimensions();
    if dims.len() < 2 {
        return false;
    }
    dims[dims.len() - 2..].iter().all(|d| {
        file.variable(&d.name()).is_some_and(|c| {
            let cd = c.dimensions();
            cd.len() == 1 && cd[0].name() == d.name()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GridSpec, Lateral, ProjectionSpec};

    /// A lat-lon model grid of nx x ny cells of `d` degrees, south-west
    /// cell centred at (lon0, lat0).
    fn latlon_grid(lon0: f64, lat0: f64, d: f64, nx: usize, ny: usize) -> Grid {
        Grid::new(&GridSpec {
            projection: ProjectionSpec::LatLon {
                sw_lon: lon0,
                sw_lat: lat0,
            },
            nx,
            ny,
            dx: d,
            dy: d,
            layer_tops_m: vec![100.0],
            lateral: Lateral::Open,
        })
    }

    /// Write a raster file: `lat` and `lon` coordinates as given, `var`
    /// (lat, lon) from `f(lon, lat)`.
    fn write(
        path: &Path,
        var: &str,
        lat: &[f64],
        lon: &[f64],
        f: impl Fn(f64, f64) -> f64,
        fill: Option<f64>,
    ) {
        let mut file = netcdf::create(path).unwrap();
        file.add_dimension("lat", lat.len()).unwrap();
        file.add_dimension("lon", lon.len()).unwrap();
        let mut v = file.add_variable::<f64>("lat", &["lat"]).unwrap();
        v.put_attribute("units", "degrees_north").unwrap();
        v.put_values(lat, ..).unwrap();
        let mut v = file.add_variable::<f64>("lon", &["lon"]).unwrap();
        v.put_attribute("units", "degrees_east").unwrap();
        v.put_values(lon, ..).unwrap();
        let vals: Vec<f64> = lat
            .iter()
            .flat_map(|&la| lon.iter().map(move |&lo| (lo, la)))
            .map(|(lo, la)| f(lo, la))
            .collect();
        let mut v = file.add_variable::<f64>(var, &["lat", "lon"]).unwrap();
        if let Some(x) = fill {
            v.put_attribute("_FillValue", x).unwrap();
        }
        v.put_values(&vals, ..).unwrap();
    }

    fn axis(start: f64, step: f64, n: usize) -> Vec<f64> {
        (0..n).map(|k| start + k as f64 * step).collect()
    }

    #[test]
    fn a_linear_field_averages_to_its_value_at_the_cell_centre() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dem.nc");
        // 0.1-degree pixels over 109.95..112.05E, 24.95..27.05N;
        // h = 100 (lon - 110) + 50 (lat - 25) m.
        let h = |lon: f64, lat: f64| 100.0 * (lon - 110.0) + 50.0 * (lat - 25.0);
        write(
            &p,
            "h",
            &axis(25.0, 0.1, 21),
            &axis(110.0, 0.1, 21),
            h,
            None,
        );
        let r = LatLonRaster::open(&p, "h").unwrap();
        // 0.5-degree cells centred 110.5..111.5E, 25.5..26.5N.
        let g = latlon_grid(110.5, 25.5, 0.5, 3, 3);
        let m = r.cell_mean(&g, 7).unwrap();
        for j in 0..3 {
            for i in 0..3 {
                // Bilinear interpolation reproduces a linear field, and the
                // sub-points are symmetric about the centre.
                let want = h(110.5 + 0.5 * i as f64, 25.5 + 0.5 * j as f64);
                assert!((m[[j, i]] - want).abs() < 1e-9, "{j} {i}");
            }
        }
    }

    #[test]
    fn descending_latitudes_give_the_same_means() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("up.nc"), dir.path().join("down.nc"));
        let h = |lon: f64, lat: f64| (lon * 3.0).sin() * 300.0 + lat * lat;
        let lon = axis(110.0, 0.1, 21);
        write(&a, "h", &axis(25.0, 0.1, 21), &lon, h, None);
        write(&b, "h", &axis(27.0, -0.1, 21), &lon, h, None);
        let g = latlon_grid(110.5, 25.5, 0.5, 3, 3);
        let up = LatLonRaster::open(&a, "h")
            .unwrap()
            .cell_mean(&g, 5)
            .unwrap();
        let down = LatLonRaster::open(&b, "h")
            .unwrap()
            .cell_mean(&g, 5)
            .unwrap();
        for (u, d) in up.iter().zip(&down) {
            assert!((u - d).abs() < 1e-9);
        }
        // And it is not a constant: the test can tell rows apart.
        assert!((up[[0, 0]] - up[[2, 0]]).abs() > 1.0);
    }

    #[test]
    fn a_half_and_half_class_map_splits_the_middle_cell() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lc.nc");
        // Class 13 west of 111E, class 0 east of it (pixel centres never on 111).
        let lc = |lon: f64, _lat: f64| if lon < 111.0 { 13.0 } else { 0.0 };
        write(
            &p,
            "lc",
            &axis(25.025, 0.05, 40),
            &axis(110.025, 0.05, 40),
            lc,
            Some(255.0),
        );
        let r = LatLonRaster::open(&p, "lc").unwrap();
        // Cells of 0.5 degrees centred at 110.5, 111.0, 111.5E: the middle
        // one straddles 111E exactly.
        let g = latlon_grid(110.5, 26.0, 0.5, 3, 1);
        let f = r.class_fractions(&g, 10, 17).unwrap();
        assert_eq!((f[[0, 0, 13]], f[[0, 0, 0]]), (1.0, 0.0));
        assert_eq!((f[[0, 1, 13]], f[[0, 1, 0]]), (0.5, 0.5));
        assert_eq!((f[[0, 2, 13]], f[[0, 2, 0]]), (0.0, 1.0));
        for i in 0..3 {
            let s: f64 = (0..17).map(|k| f[[0, i, k]]).sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn gaps_are_left_out_and_bad_classes_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lc.nc");
        // The western half is unclassified (the fill 255): the cell over
        // both halves counts only its eastern (class 12) sub-points.
        let lc = |lon: f64, _lat: f64| if lon < 111.0 { 255.0 } else { 12.0 };
        write(
            &p,
            "lc",
            &axis(25.025, 0.05, 40),
            &axis(110.025, 0.05, 40),
            lc,
            Some(255.0),
        );
        let r = LatLonRaster::open(&p, "lc").unwrap();
        let g = latlon_grid(111.0, 26.0, 0.5, 1, 1);
        assert_eq!(r.class_fractions(&g, 10, 17).unwrap()[[0, 0, 12]], 1.0);
        let west = latlon_grid(110.5, 26.0, 0.5, 1, 1);
        let e = r.class_fractions(&west, 10, 17).unwrap_err().to_string();
        assert!(e.contains("lc.nc") && e.contains("only missing"), "{e}");
        // 12 is not a class of a 10-class map.
        let e = r.class_fractions(&g, 10, 10).unwrap_err().to_string();
        assert!(
            e.contains("lc.nc") && e.contains("`lc`") && e.contains("is 12"),
            "{e}"
        );
    }

    #[test]
    fn cells_outside_the_raster_are_refused_by_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dem.nc");
        write(
            &p,
            "h",
            &axis(25.0, 0.1, 21),
            &axis(110.0, 0.1, 21),
            |_, _| 1.0,
            None,
        );
        let r = LatLonRaster::open(&p, "h").unwrap();
        // The fourth cell, 111.75..112.25E, reaches east of the raster's 112.05E.
        let g = latlon_grid(110.5, 26.0, 0.5, 4, 1);
        let e = r.cell_mean(&g, 4).unwrap_err().to_string();
        assert!(
            e.contains("dem.nc")
                && e.contains("`h`")
                && e.contains("i=3, j=0")
                && e.contains("112.000E"),
            "{e}"
        );
        assert!(r.class_fractions(&g, 4, 2).is_err());
    }

    #[test]
    fn malformed_rasters_are_refused_naming_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dem.nc");
        let mut lon = axis(110.0, 0.1, 21);
        write(&p, "h", &axis(25.0, 0.1, 21), &lon, |_, _| 1.0, None);
        let e = LatLonRaster::open(&p, "height").unwrap_err().to_string();
        assert!(e.contains("dem.nc") && e.contains("`height`"), "{e}");
        lon[7] += 0.05;
        let q = dir.path().join("irregular.nc");
        write(&q, "h", &axis(25.0, 0.1, 21), &lon, |_, _| 1.0, None);
        let e = LatLonRaster::open(&q, "h").unwrap_err().to_string();
        assert!(
            e.contains("irregular.nc") && e.contains("`lon`") && e.contains("regularly"),
            "{e}"
        );
    }

    #[test]
    fn longitudes_given_from_0_to_360_serve_a_grid_west_of_180() {
        // A raster given in 0..360 longitudes serves a grid at -170E = 190E.
        let r = LatLonRaster::from_values(
            Path::new("mem"),
            "v",
            (185.05, 9.05),
            (0.1, 0.1),
            Array2::from_shape_fn((20, 100), |(_, c)| c as f64),
        );
        let g = latlon_grid(-170.0, 10.0, 0.5, 1, 1);
        // Column of 190E is (190 - 185.05) / 0.1 = 49.5.
        assert!((r.cell_mean(&g, 4).unwrap()[[0, 0]] - 49.5).abs() < 1e-9);
    }
}
