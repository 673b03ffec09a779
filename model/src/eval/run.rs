//! A finished run's concentration file (`<run>.nc`) as `eval` and
//! `report` read it: the grid (from the `[grid]` keys the run keeps in
//! the file's `grid_toml` attribute, or in the tags file beside it), the
//! record intervals in UTC, the synthetic-meteorology label, and the
//! surface-layer total PM2.5 (`PM25_TOTAL`, level 0) at chosen cells.

use crate::config::GridSpec;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::input::nc;
use crate::output::PM25_TOTAL;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct Run {
    pub path: PathBuf,
    pub grid: Grid,
    /// UTC start of the run, seconds since 1970.
    pub start_epoch: f64,
    /// Each record's interval, hours since the start.
    pub intervals: Vec<(f64, f64)>,
    pub synthetic: bool,
    pub meteorology: String,
    file: netcdf::File,
}

/// The concentration file of a run: the path, or `<run>.nc` for a
/// `<run>.tags.nc`.
pub fn concentration_file_of(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.strip_suffix(".tags.nc") {
        Some(stem) => file.with_file_name(format!("{stem}.nc")),
        None => file.to_path_buf(),
    }
}

pub use crate::output::tags::tags_file_of;

/// Seconds since 1970 of CF time units "hours since DATE" (the reference
/// date read by the input readers' CF date parser).
fn epoch_of_units(units: &str) -> Option<f64> {
    crate::input::units::parse_cf_date(units.trim().strip_prefix("hours since ")?)
}

impl Run {
    /// Open `<run>.nc` (or the `.nc` beside a `.tags.nc`); anything missing
    /// is an input error naming the file and the variable or attribute.
    pub fn open(file: &Path) -> Result<Run> {
        let path = concentration_file_of(file);
        let f = nc::open(&path)?;
        let ierr = |field: &str, what: &str| Error::input(&path, field, what);
        let grid_text = match nc::global_text(&f, "grid_toml") {
            Some(t) => t,
            None => {
                // Runs written before the concentration file kept its grid:
                // the tags file has it.
                let tags = tags_file_of(&path);
                let t = if tags.is_file() {
                    nc::global_text(&nc::open(&tags)?, "grid_toml")
                } else {
                    None
                };
                t.ok_or_else(|| {
                    ierr(
                        "grid_toml",
                        "the run's [grid] keys (a global attribute written by `airshed run`)",
                    )
                })?
            }
        };
        let grid = Grid::new(&GridSpec::from_toml(&grid_text, &path)?);
        let time = f
            .variable("time")
            .ok_or_else(|| ierr("time", "a time coordinate"))?;
        let units = nc::text(&time, "units").unwrap_or_default();
        let start_epoch = epoch_of_units(&units).ok_or_else(|| {
            ierr(
                "time",
                &format!("units \"hours since YYYY-MM-DD HH:MM:SS\", found {units:?}"),
            )
        })?;
        let times: Vec<f64> = time
            .get_values::<f64, _>(..)
            .map_err(|e| ierr("time", &e.to_string()))?;
        let bounds: Vec<f64> = f
            .variable("time_bnds")
            .and_then(|v| v.get_values::<f64, _>(..).ok())
            .unwrap_or_default();
        let intervals = crate::output::tags::record_intervals(&times, &bounds);
        let v = f.variable(PM25_TOTAL).ok_or_else(|| {
            ierr(
                PM25_TOTAL,
                "the total PM2.5 variable (a run with particulate species writes it)",
            )
        })?;
        let d: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
        if d.len() != 4 || d[0] != times.len() || d[2] != grid.ny || d[3] != grid.nx || d[1] == 0 {
            return Err(ierr(
                PM25_TOTAL,
                &format!(
                    "dimensions (time {}, z, y {}, x {}), found {d:?}",
                    times.len(),
                    grid.ny,
                    grid.nx
                ),
            ));
        }
        let synthetic = nc::global_text(&f, "synthetic_meteorology")
            .is_some_and(|s| s.trim_start().starts_with("yes"));
        let meteorology = nc::global_text(&f, "meteorology").unwrap_or_default();
        Ok(Run {
            path,
            grid,
            start_epoch,
            intervals,
            synthetic,
            meteorology,
            file: f,
        })
    }

    /// Record index by the UTC end (seconds since 1970) of its interval,
    /// for the records that are one-hour means (or instants an hour apart).
    pub fn records_by_hour_end(&self) -> HashMap<i64, usize> {
        self.intervals
            .iter()
            .enumerate()
            .filter(|(_, (a, b))| ((b - a) - 1.0).abs() < 1e-6)
            .map(|(r, &(_, b))| ((self.start_epoch + b * 3600.0).round() as i64, r))
            .collect()
    }

    /// Surface PM25_TOTAL (ug/m3) at each cell (j, i), per record.
    pub fn cell_series(&self, cells: &[(usize, usize)]) -> Result<Vec<Vec<f64>>> {
        let mut out = vec![Vec::with_capacity(self.intervals.len()); cells.len()];
        if cells.is_empty() {
            return Ok(out);
        }
        let v = self
            .file
            .variable(PM25_TOTAL)
            .ok_or_else(|| Error::input(&self.path, PM25_TOTAL, "a variable"))?;
        let (ny, nx) = (self.grid.ny, self.grid.nx);
        for r in 0..self.intervals.len() {
            let plane: Vec<f32> = v
                .get_values::<f32, _>([r..r + 1, 0..1, 0..ny, 0..nx])
                .map_err(|e| Error::input(&self.path, PM25_TOTAL, e.to_string()))?;
            for (o, &(j, i)) in out.iter_mut().zip(cells) {
                let x = f64::from(plane[j * nx + i]);
                if !(0.0..=1e30).contains(&x) {
                    return Err(Error::input(
                        &self.path,
                        PM25_TOTAL,
                        format!("finite concentrations >= 0, found {x} in record {r} at cell ({j}, {i})"),
                    ));
                }
                o.push(x);
            }
        }
        Ok(out)
    }
}
