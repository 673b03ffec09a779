//! Outputs as sinks of the Simulation. Every file is written to
//! `<name>.tmp` beside its final name and staged; the Simulation renames
//! the whole set only when the run has succeeded, so a failed or
//! interrupted run leaves no file that looks complete.
//!
//! - `netcdf`: CF-1.8 netCDF-4 (deflated) concentrations, means with time
//!   bounds or instants; also the meteorology the run used (`met_file`).
//! - `sites`: hourly (per output interval) concentrations at the case's
//!   sites as CSV, and the met statistics at them for the summary.
//! - `summary`: the run summary as JSON (budget, composition, timings).
//! - `fields`: the variables and how they are computed from the state.
//! - `tags`: a tagged run's per-tag surface concentrations and the
//!   attribution tables (`crate::attribution::report`).

pub mod fields;
pub mod met_file;
pub mod netcdf;
pub mod sites;
pub mod summary;
pub mod tags;

pub use fields::{PM25_TOTAL, SOA_TOTAL};

use crate::error::{Error, Result};
use crate::simulation::Staged;
use std::path::{Path, PathBuf};

/// The interval of output record `n` (hours since the start) and the time
/// its record is stamped with: a mean at the middle of its interval, with
/// the interval as bounds; an instant at its end.
pub fn record_time(
    mode: crate::config::OutputMode,
    n: usize,
    interval_hours: f64,
) -> ((f64, f64), f64, Option<(f64, f64)>) {
    let n = n as f64;
    let (start, end) = (n * interval_hours, (n + 1.0) * interval_hours);
    match mode {
        crate::config::OutputMode::Mean => ((start, end), 0.5 * (start + end), Some((start, end))),
        crate::config::OutputMode::Instant => ((start, end), end, None),
    }
}

/// The temporary name a file is written under: `<name>.tmp` beside it.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Write a text file to its temporary name, to be renamed with the set.
pub fn stage_text(path: &Path, contents: &str) -> Result<Staged> {
    let tmp = tmp_path(path);
    std::fs::write(&tmp, contents).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::output(path, e)
    })?;
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
    })
}

/// Write a text file at once: to its temporary name, then renamed into
/// place (for files written outside a run's staged set).
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let staged = stage_text(path, contents)?;
    std::fs::rename(&staged.tmp, &staged.path).map_err(|e| Error::output(path, e))
}
