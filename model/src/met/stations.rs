//! Station winds: hourly observations at named sites, spread over the grid
//! as the diagnostic model's first-guess surface wind by inverse-distance-
//! squared weighting of the wind components (the CALMET step-2 objective
//! analysis, Scire et al. 2000, sec. 2.2.2), then rotated into the grid.
//!
//! CSV columns: `hour,station,lon,lat,speed_ms,direction_deg`, hours since
//! the run start (whole hours), direction the wind blows from, degrees
//! clockwise from north. `#` starts a comment.

use crate::emissions::for_each_csv_row;
use crate::error::{Error, Result};
use crate::grid::{Grid, EARTH_RADIUS};
use ndarray::Array2;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
struct Observation {
    hour: usize,
    lon: f64,
    lat: f64,
    east: f64,
    north: f64,
}

#[derive(Debug, Clone)]
pub struct Stations {
    path: PathBuf,
    obs: Vec<Observation>,
}

/// Great-circle distance, m.
fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

impl Stations {
    /// Read and check the file; every hour of the run must have a report.
    pub fn load(path: &Path, run_hours: usize) -> Result<Stations> {
        let mut obs = Vec::new();
        let cols = ["hour", "station", "lon", "lat", "speed_ms", "direction_deg"];
        for_each_csv_row(path, &cols, |row| {
            let hour = row.number("hour")?;
            if !(hour >= 0.0 && hour.fract() == 0.0) {
                return Err(row.error("hour", format!("a whole hour >= 0, got {hour}")));
            }
            let (lon, lat) = row.lonlat()?;
            let speed = row.number("speed_ms")?;
            if !(0.0..100.0).contains(&speed) {
                return Err(row.error(
                    "speed_ms",
                    format!("a speed between 0 and 100 m/s, got {speed}"),
                ));
            }
            let dir = row.number("direction_deg")?;
            if !(0.0..=360.0).contains(&dir) {
                return Err(row.error(
                    "direction_deg",
                    format!("a direction between 0 and 360 degrees, got {dir}"),
                ));
            }
            let (east, north) = super::diagnostic::wind_from(speed, dir);
            obs.push(Observation {
                hour: hour as usize,
                lon,
                lat,
                east,
                north,
            });
            Ok(())
        })?;
        for h in 0..=run_hours {
            if !obs.iter().any(|o| o.hour == h) {
                return Err(Error::input(
                    path,
                    "hour",
                    format!("at least one report for every hour of the run, 0 to {run_hours}; none for hour {h}"),
                ));
            }
        }
        Ok(Stations {
            path: path.to_path_buf(),
            obs,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Grid-relative 10 m wind (u, v) at every cell centre for one hour:
    /// inverse-distance-squared means of the reports' earth-relative
    /// components, rotated into the grid. A cell within 1 m of a station
    /// takes its report.
    pub fn wind_field(&self, grid: &Grid, hour: usize) -> (Array2<f64>, Array2<f64>) {
        let reports: Vec<&Observation> = self.obs.iter().filter(|o| o.hour == hour).collect();
        let mut u = Array2::zeros((grid.ny, grid.nx));
        let mut v = Array2::zeros((grid.ny, grid.nx));
        for j in 0..grid.ny {
            for i in 0..grid.nx {
                let (lon, lat) = (grid.lon[[j, i]], grid.lat[[j, i]]);
                let (mut we, mut wn, mut wsum) = (0.0, 0.0, 0.0);
                let mut exact = None;
                for o in &reports {
                    let d = distance(lon, lat, o.lon, o.lat);
                    if d < 1.0 {
                        exact = Some((o.east, o.north));
                        break;
                    }
                    let w = 1.0 / (d * d);
                    we += w * o.east;
                    wn += w * o.north;
                    wsum += w;
                }
                let (e, n) = exact.unwrap_or((we / wsum, wn / wsum));
                let (gu, gv) = super::stats::grid_relative(grid, lon, e, n);
                u[[j, i]] = gu;
                v[[j, i]] = gv;
            }
        }
        (u, v)
    }
}
