//! Outputs as sinks of the Simulation. Every file of a run is written
//! into the run's private staging directory (`set::OutputSet`) and moved
//! into place with the others, the manifest last, only when the whole run
//! (brute-force check included) has succeeded; a failed, interrupted or
//! killed run leaves no file that looks complete.
//!
//! - `set`: the staging directory, the manifest, the commit journal and
//!   the sweep of what killed runs left behind.
//! - `netcdf`: CF-1.8 netCDF-4 (deflated) concentrations, means with time
//!   bounds or instants; also the meteorology the run used (`met_file`).
//! - `sites`: hourly (per output interval) concentrations at the case's
//!   sites as CSV, and the met statistics at them for the summary.
//! - `summary`: the run summary as JSON (budget, composition, timings).
//! - `fields`: the variables and how they are computed from the state.
//! - `size`: the estimated output size against `run.max_output_gib` and
//!   the free disk, before stepping.
//! - `tags`: a tagged run's per-tag surface concentrations and the
//!   attribution tables (`crate::attribution::report`).

pub mod fields;
pub mod met_file;
pub mod netcdf;
pub mod set;
pub mod sites;
pub mod size;
pub mod summary;
pub mod tags;

pub use fields::{PM25_TOTAL, SOA_TOTAL};
pub use set::{OutputSet, Staged};

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
