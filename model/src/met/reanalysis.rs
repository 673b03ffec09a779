//! Coarse gridded meteorology on a regular longitude-latitude grid (a
//! reanalysis such as ERA5 or a global model, after conversion to heights
//! above ground), regridded to the model grid: `kind = "reanalysis"`.
//!
//! | variable            | dims                   | units  | notes                          |
//! |---------------------|------------------------|--------|--------------------------------|
//! | time                | time                   | hours  | since the run start, or CF time units |
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
//!
//! Values are converted from their `units` (see [`crate::input::units`];
//! a variable without `units` is in the unit above), missing values are
//! refused (see [`crate::input::nc`]), and every record is range-checked
//! on the source grid before regridding, naming the variable, record and
//! cell: |u|, |v| < 150 m/s, temperature 150-350 K, pressure from
//! 30 kPa exp(-z / 5 km) at the level's height to 110 kPa
//! ([`super::min_pressure`]), relative
//! humidity 0-1.05, |H| < 2000 W/m2, mixing height 0-8000 m, u* 0-5 m/s,
//! precipitation 0-500 mm/h (the ranges of [`super::netcdf`]).

use super::regrid::{finish_boundary_layer, interpolate_in_height, Sampler};
use super::{read_named_record, MetFields, RecordCache};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::input::nc;
use crate::input::units::Quantity;
use crate::time::StartTime;
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
    /// Roughness and land use from a land-cover map, replacing the uniform 0.1 m.
    surface: Option<super::land_use::Surface>,
}

fn coordinate(
    file: &::netcdf::File,
    path: &Path,
    name: &str,
    what: &str,
    quantity: Quantity,
) -> Result<Vec<f64>> {
    let var = nc::variable(file, path, name)?.ok_or_else(|| {
        Error::input(
            path,
            name,
            format!("a coordinate variable `{name}` ({what})"),
        )
    })?;
    if var.dimensions().len() != 1 {
        return Err(Error::input(
            path,
            name,
            format!("a one-dimensional coordinate ({what})"),
        ));
    }
    let ext: Vec<std::ops::Range<usize>> = var.dimensions().iter().map(|d| 0..d.len()).collect();
    let vals = nc::read(&var, path, name, &ext, Some(quantity), &|i| {
        format!("index {i}")
    })?;
    if vals.len() < 2 {
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
    /// Open a file for a run of `run_seconds` from `start` (time units
    /// "X since DATE" are counted from `start`).
    pub fn open(
        path: &Path,
        grid: &Grid,
        start: StartTime,
        kz_min: f64,
        run_seconds: f64,
    ) -> Result<Self> {
        let file = nc::open(path)?;
        let times_s = super::read_times(&file, path, start)?;
        if times_s[0] > 0.0 || times_s[times_s.len() - 1] < run_seconds {
            return Err(Error::input(
                path,
                "time",
                format!(
                    "increasing times covering the run, 0 to {} h; the file covers {} to {} h",
                    run_seconds / 3600.0,
                    times_s[0] / 3600.0,
                    times_s[times_s.len() - 1] / 3600.0
                ),
            ));
        }
        let lon = coordinate(
            &file,
            path,
            "lon",
            "degrees east, evenly spaced",
            Quantity::Longitude,
        )?;
        let lat = coordinate(
            &file,
            path,
            "lat",
            "degrees north, evenly spaced",
            Quantity::Latitude,
        )?;
        let height = coordinate(
            &file,
            path,
            "height",
            "metres above ground, increasing",
            Quantity::Length,
        )?;
        if lat.iter().any(|l| l.abs() > 90.0) {
            return Err(Error::input(path, "lat", "latitudes within +-90 degrees"));
        }
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
            times_s,
            lon,
            lat,
            lat_falls,
            height,
            kz_min,
            cache: RecordCache::default(),
            surface: None,
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

    /// Roughness and land use per cell from a land-cover map (u* and L
    /// follow from them where the file gives no u*).
    pub fn with_surface(mut self, surface: Option<super::land_use::Surface>) -> Self {
        self.surface = surface;
        self.cache = RecordCache::default();
        self
    }

    fn read_record_at(&self, rec: usize) -> Result<MetFields> {
        let path = &self.path;
        let g = &self.grid;
        let file = nc::open(path)?;
        let (nl, ny, nx) = (self.height.len(), self.lat.len(), self.lon.len());
        let d3 = ["time", "level", "lat", "lon"];
        let d2 = ["time", "lat", "lon"];
        // Read, range-check on the source grid, and orient south to north.
        type Check<'a> = (&'a dyn Fn(f64) -> bool, &'a str);
        let read3 = |name: &str,
                     required: bool,
                     q: Quantity,
                     (ok, what): Check|
         -> Result<Option<Array3<f64>>> {
            let Some(slab) = read_named_record(&file, path, name, rec, &d3, required, Some(q))?
            else {
                return Ok(None);
            };
            slab.check(path, name, ok, what)?;
            let mut a = Array3::from_shape_vec((nl, ny, nx), slab.values).map_err(|_| {
                Error::input(
                    path,
                    name,
                    "dimensions (time, level, lat, lon) of the coordinates",
                )
            })?;
            if self.lat_falls {
                a.invert_axis(Axis(1));
            }
            Ok(Some(a))
        };
        let read2 = |name: &str,
                     required: bool,
                     q: Quantity,
                     (ok, what): Check|
         -> Result<Option<Array2<f64>>> {
            let Some(slab) = read_named_record(&file, path, name, rec, &d2, required, Some(q))?
            else {
                return Ok(None);
            };
            slab.check(path, name, ok, what)?;
            let mut a = Array2::from_shape_vec((ny, nx), slab.values).map_err(|_| {
                Error::input(path, name, "dimensions (time, lat, lon) of the coordinates")
            })?;
            if self.lat_falls {
                a.invert_axis(Axis(0));
            }
            Ok(Some(a))
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
        let wind: Check = (&|x: f64| x.abs() < 150.0, "wind components below 150 m/s");
        let east = to_layers(&read3("u", true, Quantity::Speed, wind)?.unwrap(), false);
        let north = to_layers(&read3("v", true, Quantity::Speed, wind)?.unwrap(), false);
        let temperature = to_layers(
            &read3(
                "temperature",
                true,
                Quantity::Temperature,
                (
                    &|x| (150.0..350.0).contains(&x),
                    "temperatures between 150 and 350 K",
                ),
            )?
            .unwrap(),
            false,
        );
        let raw_pressure = read3(
            "pressure",
            true,
            Quantity::Pressure,
            (&|x| x > 0.0, "positive pressures"),
        )?
        .unwrap();
        // Against the bound at each level's height (in the south-to-north
        // order of the array), cells named as the file stores them.
        let plane = ny * nx;
        let file_cell = |flat: usize| {
            let (l, j, i) = (flat / plane, (flat % plane) / nx, flat % nx);
            let j = if self.lat_falls { ny - 1 - j } else { j };
            format!("record {rec} at (level={l}, lat={j}, lon={i})")
        };
        let logical: Vec<f64> = raw_pressure.iter().copied().collect();
        super::check_pressure(
            path,
            "pressure",
            &logical,
            |flat| self.height[flat / plane],
            &file_cell,
        )?;
        let pressure = to_layers(&raw_pressure, true);
        let rh = read3(
            "relative_humidity",
            false,
            Quantity::RelativeHumidity,
            (
                &|x| (0.0..=1.05).contains(&x),
                "relative humidity as a fraction, 0 to 1 (or % with units \"%\")",
            ),
        )?
        .map(|a| to_layers(&a, false));
        let hfx = read2(
            "sensible_heat_flux",
            true,
            Quantity::HeatFlux,
            (
                &|x| x.abs() < 2000.0,
                "heat fluxes below 2000 W/m2 in magnitude",
            ),
        )?
        .unwrap();
        let (pblh, ustar, precip) = (
            read2(
                "pblh",
                false,
                Quantity::Length,
                (
                    &|x| (0.0..8000.0).contains(&x),
                    "mixing heights between 0 and 8000 m",
                ),
            )?,
            read2(
                "ustar",
                false,
                Quantity::Speed,
                (
                    &|x| (0.0..5.0).contains(&x),
                    "friction velocities between 0 and 5 m/s",
                ),
            )?,
            read2(
                "precip",
                false,
                Quantity::PrecipitationRate,
                (
                    &|x| (0.0..500.0).contains(&x),
                    "precipitation rates between 0 and 500 mm/h",
                ),
            )?,
        );

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
        match &self.surface {
            Some(s) => {
                m.z0 = s.z0.clone();
                m.land_use = s.land_use.clone();
            }
            None => m.z0.fill(Z0),
        }
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
