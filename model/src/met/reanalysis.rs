//! Coarse gridded meteorology on a regular longitude-latitude grid (a
//! reanalysis such as ERA5 or a global model, after conversion to heights
//! above ground), regridded to the model grid: `kind = "reanalysis"`.
//!
//! | variable            | dims                   | units  | notes                          |
//! |---------------------|------------------------|--------|--------------------------------|
//! | time                | time                   | hours  | since the run start            |
//! | lat, lon            | lat / lon              | degrees| regular spacing; lat may fall  |
//! | height              | level                  | m      | above ground, increasing       |
//! | u, v                | time,level,lat,lon     | m s-1  | earth-relative (east, north)   |
//! | temperature         | time,level,lat,lon     | K      |                                |
//! | pressure            | time,level,lat,lon     | Pa     |                                |
//! | relative_humidity   | time,level,lat,lon     | 1      | optional (default 0.7)         |
//! | sensible_heat_flux  | time,lat,lon           | W m-2  | upward                         |
//! | pblh, ustar, precip | time,lat,lon           | m, m s-1, mm h-1 | optional             |
//!
//! Each record: columns are interpolated in height to the model's layer
//! mid-heights (ln p for pressure), then bilinearly in longitude and
//! latitude to the model's cell centres and faces; winds are rotated into the
//! model grid at each face. Missing mixing height and u* come from the
//! profile and surface similarity as for WRF
//! ([`super::regrid::finish_boundary_layer`]); z0 is 0.1 m.

use super::regrid::{finish_boundary_layer, interpolate_in_height, Sampler};
use super::{read_named_record, MetFields, RecordCache};
use crate::error::{Error, Result};
use crate::grid::Grid;
use ndarray::{Array2, Array3, Axis};
use std::path::{Path, PathBuf};

/// Roughness length assumed for coarse data without one, m.
const Z0: f64 = 0.1;

pub struct ReanalysisMet {
    path: PathBuf,
    grid: Grid,
    times_s: Vec<f64>,
    lon: Vec<f64>,
    /// Latitudes as stored, and whether they fall (then rows are flipped).
    lat: Vec<f64>,
    lat_falls: bool,
    height: Vec<f64>,
    kz_min: f64,
    cache: RecordCache,
}

fn coordinate(file: &::netcdf::File, path: &Path, name: &str, what: &str) -> Result<Vec<f64>> {
    let var = file.variable(name).ok_or_else(|| {
        Error::input(
            path,
            name,
            format!("a coordinate variable `{name}` ({what})"),
        )
    })?;
    let vals: Vec<f64> = var
        .get_values::<f64, _>(..)
        .map_err(|e| Error::input(path, name, format!("numeric values ({e})")))?;
    if vals.len() < 2 || vals.iter().any(|v| !v.is_finite()) {
        return Err(Error::input(
            path,
            name,
            format!("at least two finite values ({what})"),
        ));
    }
    Ok(vals)
}

/// True when values step evenly (to 1e-6 of the step) in one direction.
fn regular(v: &[f64]) -> bool {
    let step = v[1] - v[0];
    step != 0.0
        && v.windows(2)
            .all(|w| ((w[1] - w[0]) - step).abs() <= 1e-6 * step.abs())
}

impl ReanalysisMet {
    pub fn open(path: &Path, grid: &Grid, kz_min: f64, run_seconds: f64) -> Result<Self> {
        let file = ::netcdf::open(path)
            .map_err(|e| Error::input(path, "(file)", format!("a readable NetCDF file ({e})")))?;
        let times = coordinate(&file, path, "time", "hours since the run start")?;
        if times.windows(2).any(|w| w[1] <= w[0])
            || times[0] > 0.0
            || *times.last().unwrap() * 3600.0 < run_seconds
        {
            return Err(Error::input(
                path,
                "time",
                format!(
                    "increasing hours covering the run, 0 to {} h",
                    run_seconds / 3600.0
                ),
            ));
        }
        let lon = coordinate(&file, path, "lon", "degrees east, evenly spaced")?;
        let lat = coordinate(&file, path, "lat", "degrees north, evenly spaced")?;
        let height = coordinate(&file, path, "height", "metres above ground, increasing")?;
        if !regular(&lon) || lon[1] <= lon[0] {
            return Err(Error::input(
                path,
                "lon",
                "evenly spaced, increasing longitudes",
            ));
        }
        if !regular(&lat) {
            return Err(Error::input(path, "lat", "evenly spaced latitudes"));
        }
        if height.windows(2).any(|w| w[1] <= w[0]) || height[0] <= 0.0 {
            return Err(Error::input(
                path,
                "height",
                "positive, increasing heights above ground",
            ));
        }
        let lat_falls = lat[1] < lat[0];
        let met = ReanalysisMet {
            path: path.to_path_buf(),
            grid: grid.clone(),
            times_s: times.iter().map(|h| h * 3600.0).collect(),
            lon,
            lat,
            lat_falls,
            height,
            kz_min,
            cache: RecordCache::default(),
        };
        // The model domain must lie inside the source grid.
        for (fi, fj) in [
            (-0.5, -0.5),
            (grid.nx as f64 - 0.5, grid.ny as f64 - 0.5),
            (-0.5, grid.ny as f64 - 0.5),
            (grid.nx as f64 - 0.5, -0.5),
        ] {
            let (x, y) = met.source_index(grid.lonlat_at(fi, fj));
            if !(0.0..=(met.lon.len() - 1) as f64).contains(&x)
                || !(0.0..=(met.lat.len() - 1) as f64).contains(&y)
            {
                return Err(Error::input(
                    path,
                    "lon",
                    "a grid enclosing the model domain; a model corner falls outside it",
                ));
            }
        }
        met.read_record_at(0)?;
        Ok(met)
    }

    /// Fractional (lon, lat) index of a point, latitude counted upwards.
    fn source_index(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        let fi = (lon - self.lon[0]) / (self.lon[1] - self.lon[0]);
        let (south, dlat) = if self.lat_falls {
            (*self.lat.last().unwrap(), self.lat[0] - self.lat[1])
        } else {
            (self.lat[0], self.lat[1] - self.lat[0])
        };
        (fi, (lat - south) / dlat)
    }

    fn read_record_at(&self, rec: usize) -> Result<MetFields> {
        let path = &self.path;
        let g = &self.grid;
        let file = ::netcdf::open(path)
            .map_err(|e| Error::input(path, "(file)", format!("a readable NetCDF file ({e})")))?;
        let (nl, ny, nx) = (self.height.len(), self.lat.len(), self.lon.len());
        let d3 = ["time", "level", "lat", "lon"];
        let d2 = ["time", "lat", "lon"];
        let read3 = |name: &str, required: bool| -> Result<Option<Array3<f64>>> {
            Ok(
                read_named_record(&file, path, name, rec, &d3, required)?.map(|v| {
                    let mut a = Array3::from_shape_vec((nl, ny, nx), v).expect("dims checked");
                    if self.lat_falls {
                        a.invert_axis(Axis(1));
                    }
                    a
                }),
            )
        };
        let read2 = |name: &str, required: bool| -> Result<Option<Array2<f64>>> {
            Ok(
                read_named_record(&file, path, name, rec, &d2, required)?.map(|v| {
                    let mut a = Array2::from_shape_vec((ny, nx), v).expect("dims checked");
                    if self.lat_falls {
                        a.invert_axis(Axis(0));
                    }
                    a
                }),
            )
        };
        // Vertical step on the source columns: [model layer, lat, lon].
        let to_layers = |a: &Array3<f64>, log: bool| {
            Array3::from_shape_fn((g.nz, ny, nx), |(k, j, i)| {
                let col: Vec<f64> = (0..nl)
                    .map(|l| if log { a[[l, j, i]].ln() } else { a[[l, j, i]] })
                    .collect();
                let v = interpolate_in_height(&self.height, &col, g.z_mid[k]);
                if log {
                    v.exp()
                } else {
                    v
                }
            })
        };
        let east = to_layers(&read3("u", true)?.unwrap(), false);
        let north = to_layers(&read3("v", true)?.unwrap(), false);
        let temperature = to_layers(&read3("temperature", true)?.unwrap(), false);
        let pressure = to_layers(&read3("pressure", true)?.unwrap(), true);
        let rh = read3("relative_humidity", false)?.map(|a| to_layers(&a, false));
        let hfx = read2("sensible_heat_flux", true)?.unwrap();
        let (pblh, ustar, precip) = (
            read2("pblh", false)?,
            read2("ustar", false)?,
            read2("precip", false)?,
        );
        if let Some(t) = temperature.iter().find(|t| !(150.0..350.0).contains(*t)) {
            return Err(Error::input(
                path,
                "temperature",
                format!("temperatures between 150 and 350 K, found {t}"),
            ));
        }

        let mut m = MetFields::zeros(g);
        let sampler = Sampler {
            grid: g,
            source_index: |lon, lat| self.source_index((lon, lat)),
        };
        sampler.face_winds(&east, &north, &mut m);
        m.temperature = sampler.centres3(&temperature);
        m.pressure = sampler.centres3(&pressure);
        m.rh = match &rh {
            Some(r) => sampler.centres3(r).mapv(|x| x.clamp(0.0, 1.0)),
            None => Array3::from_elem((g.nz, g.ny, g.nx), crate::config::DEFAULT_RELATIVE_HUMIDITY),
        };
        m.z0.fill(Z0);
        if let Some(p) = &precip {
            m.precip = sampler.centres2(p).mapv(|x| x.max(0.0));
        }
        if let Some(h) = &pblh {
            m.pblh = sampler.centres2(h);
        }
        if let Some(u) = &ustar {
            m.ustar = sampler.centres2(u);
        }
        let hfx = sampler.centres2(&hfx);
        Ok(finish_boundary_layer(
            m,
            g,
            &hfx,
            pblh.is_some(),
            ustar.is_some(),
            self.kz_min,
        ))
    }
}

impl super::Records for ReanalysisMet {
    fn record_times(&self) -> Option<Vec<f64>> {
        Some(self.times_s.clone())
    }

    fn read_record(&mut self, rec: usize) -> Result<MetFields> {
        self.read_record_at(rec)
    }

    fn cache(&mut self) -> &mut super::RecordCache {
        &mut self.cache
    }

    fn description(&self) -> String {
        format!(
            "gridded lat-lon meteorology from {} ({} x {} x {}, regridded)",
            self.path.display(),
            self.lon.len(),
            self.lat.len(),
            self.height.len()
        )
    }

    fn synthetic(&self) -> bool {
        false
    }
}
