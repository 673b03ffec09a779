//! The files of `airshed plume`: hourly concentrations at the receptors,
//! block, period and annual averages, and the N-th highest tables, as CSV
//! and CF-1.8 netCDF-4, all written into the run's staging directory and
//! committed together ([`crate::output::set::OutputSet`]): a run that fails
//! leaves nothing in the output directory.
//!
//! ```text
//! <run>.hourly.nc     (option hourly_netcdf) every hour, (time, receptor) per species
//! <run>.hourly.csv    (option hourly_csv)    end,receptor,<species>...
//! <run>.averages.nc   N-hour block series (N > 1), period, annual averages, N-th highest
//! <run>.blocks.csv    (option block_csv)     every block average, same columns as averages.csv
//! <run>.averages.csv  period and annual averages per receptor and species
//! <run>.highest.csv   the N-th highest block averages per receptor, species, period
//! <run>.summary.json  hours, missing hours, maxima over receptors, the caller's fields
//! ```
//!
//! The netCDF files are discrete sampling geometries (CF conventions 1.8,
//! chapter 9) of `featureType = "timeSeries"` in the orthogonal
//! multidimensional representation (section 9.3.1): the receptor is the
//! instance dimension, with `receptor_name` (`cf_role = "timeseries_id"`),
//! `x`, `y` (m east and north of the case origin), `elevation`
//! (`surface_altitude`), `hill_height` and `flagpole`; each averaging period
//! has its own unlimited time dimension as the outer dimension of its data
//! variables (9.3.1 lets the element dimension come first when it is
//! unlimited), with `time_bnds`. Values are float32 µg/m³ (`ug m-3`),
//! deflated (level 1, shuffled) one record per chunk as in
//! [`crate::output::netcdf`]; a missing hour, or a block without a valid
//! hour, is `_FillValue`. The N-th highest tables, `(rank, receptor)`,
//! travel in `<run>.averages.nc` beside the series, with the end of each
//! value's block. Times are hours since 1970-01-01 00:00 in the met file's
//! clock (AERMET: local standard time); hour-ending hour h of a day is the
//! interval [h-1, h), stamped at its middle with bounds.
//!
//! The statistics are [`super::stats`]; CSV times are `YYYY-MM-DD HH`,
//! hour-ending.

// `&[a..b]` below are netCDF extents (one range per dimension), not
// ranges to expand.
#![allow(clippy::single_range_in_vec_init)]

use super::receptors::Receptor;
use super::stats::{BlockAverage, HourEnding, Results, SpanAverage, Stats, StatsOptions};
use crate::error::{Error, Result};
use crate::output::set::{Inputs, OutputSet, Staged};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Units of every concentration written.
pub const UNITS: &str = "ug m-3";
/// `_FillValue` of the float variables: a missing hour, or a block or
/// span without a valid hour.
pub const FILL: f32 = -9999.0;
/// `_FillValue` of the time of an N-th highest value that does not exist.
pub const FILL_TIME: f64 = -9999.0;
/// As for the grid files ([`crate::output::netcdf`]).
const DEFLATE_LEVEL: i32 = 1;
/// The time units of every file.
pub const TIME_UNITS: &str = "hours since 1970-01-01 00:00:00";

/// What to write. `airshed plume` builds it from the case's `[output]`
/// table (`plume::run`): `averages` gives the block lengths, `nth_highest`
/// the ranks, `csv` and `netcdf` switch the hourly and block files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputOptions {
    /// Block averaging periods, hours: each of 1, 2, 3, 4, 6, 8, 12, 24.
    pub averaging_hours: Vec<u32>,
    /// The N of the N-th highest values (1 = the highest).
    pub ranks: Vec<usize>,
    /// Write `<run>.hourly.nc` (4 bytes per receptor, species and hour
    /// before compression).
    pub hourly_netcdf: bool,
    /// Write `<run>.hourly.csv` (large: about 15 bytes per value).
    pub hourly_csv: bool,
    /// Write the block-average series (N > 1) into `<run>.averages.nc`.
    pub block_netcdf: bool,
    /// Write every block average to `<run>.blocks.csv`.
    pub block_csv: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        let s = StatsOptions::default();
        OutputOptions {
            averaging_hours: s.averaging_hours,
            ranks: s.ranks,
            hourly_netcdf: true,
            hourly_csv: false,
            block_netcdf: true,
            block_csv: false,
        }
    }
}

impl OutputOptions {
    pub fn stats(&self) -> StatsOptions {
        StatsOptions {
            averaging_hours: self.averaging_hours.clone(),
            ranks: self.ranks.clone(),
        }
    }

    /// Check the keys; errors name `file` and `prefix.key`.
    pub fn validate(&self, file: &Path, prefix: &str) -> Result<()> {
        self.stats().validate(file, prefix)
    }
}

/// The bytes the outputs of a run will take before compression, for the
/// size check against `run.max_output_gib` and the free disk.
pub fn estimate_bytes(
    n_receptors: usize,
    n_species: usize,
    hours: u64,
    options: &OutputOptions,
) -> u64 {
    let values = (n_receptors * n_species) as u64;
    let mut bytes = 0u64;
    if options.hourly_netcdf {
        bytes += hours * values * 4;
    }
    if options.hourly_csv {
        bytes += hours * (n_receptors as u64) * (24 + 14 * n_species as u64);
    }
    for &h in &options.averaging_hours {
        let blocks = hours.div_ceil(h as u64) + 1;
        if options.block_netcdf && h > 1 {
            bytes += blocks * values * 4;
        }
        if options.block_csv && h > 1 {
            bytes += blocks * values * 110;
        }
    }
    let years = hours.div_ceil(8760) + 1;
    let tables = (options.averaging_hours.len() * options.ranks.len()) as u64;
    // averages.csv and highest.csv rows, and their netCDF twins.
    bytes += values * ((1 + years) * 120 + tables * 130 + (1 + years) * 4 + tables * 12);
    // netCDF-4/HDF5 metadata: about 4 KiB per variable (6 KiB counted),
    // 16 KiB per file; receptor coordinates and names.
    let ns = n_species as u64;
    let blocks_nc = if options.block_netcdf {
        options.averaging_hours.iter().filter(|&&h| h > 1).count() as u64
    } else {
        0
    };
    let mut variables = 8 + blocks_nc * (3 + ns) + 2 * (3 + ns) + 1;
    variables += 2 * ns * options.averaging_hours.len() as u64;
    if options.hourly_netcdf {
        variables += 8 + ns;
    }
    bytes + variables * 6144 + 4 * 16384 + n_receptors as u64 * 96
}

/// What the files say about the run.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// `run.name`: the files are `<run_name>.<suffix>`.
    pub run_name: String,
    pub title: String,
    /// The case file, for the provenance attributes and the summary.
    pub case_file: PathBuf,
    /// A description of the met (e.g. the .SFC/.PFL files).
    pub meteorology: String,
    /// The file that the hours come from, named in errors about them.
    pub met_file: PathBuf,
    /// Longitude and latitude of the local frame's origin, when known.
    pub origin_lon_lat: Option<(f64, f64)>,
}

/// One maximum over receptors, for the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaxValue {
    pub species: String,
    /// `3h`, `period`, `annual 2020`, ...
    pub averaging: String,
    /// N of the N-th highest (absent for period and annual averages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    /// ug/m3.
    pub value: f64,
    pub receptor: String,
    pub x: f64,
    pub y: f64,
    /// The block's first and last hour (hour-ending), or the span's.
    pub start: String,
    pub end: String,
    pub valid_hours: u32,
    pub missing_hours: u32,
}

/// Per averaging period, for the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AveragingSummary {
    pub averaging: String,
    pub blocks: u64,
    /// Blocks with at least one missing hour (or an hour outside the run).
    pub blocks_with_missing_hours: u64,
    /// Blocks with no valid hour: no value, not ranked.
    pub blocks_without_valid_hours: u64,
}

/// Hours of one calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct YearHours {
    pub hours_in_run: u32,
    pub valid: u32,
    pub missing: u32,
}

/// `<run>.summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PlumeSummary {
    pub run: String,
    pub title: String,
    pub case_file: String,
    pub meteorology: String,
    /// The caller's fields (sources, wall time, mass balance...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
    pub first_hour: String,
    pub last_hour: String,
    pub hours: u64,
    pub valid_hours: u64,
    /// Met hours marked missing: counted, never averaged as zero.
    pub missing_hours: u64,
    pub hours_by_year: BTreeMap<i32, YearHours>,
    pub units: String,
    pub averaging: Vec<AveragingSummary>,
    /// For every species, averaging period and rank: the receptor with the
    /// largest N-th highest value; then the period and annual maxima.
    pub maxima: Vec<MaxValue>,
    /// The files of the set (this summary and the manifest aside).
    pub files: Vec<String>,
}

/// What [`PlumeOutputs::finish`] gives back.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Every file committed (the manifest last).
    pub files: Vec<PathBuf>,
    pub summary: PlumeSummary,
    /// The terminal summary table.
    pub table: String,
}

/// The writers of a plume run: create, push every hour, finish.
pub struct PlumeOutputs {
    info: RunInfo,
    receptors: Vec<Receptor>,
    species: Vec<String>,
    options: OutputOptions,
    stats: Option<Stats>,
    hourly_nc: Option<DsgFile>,
    averages_nc: DsgFile,
    hourly_csv: Option<CsvStream>,
    block_csv: Option<CsvStream>,
    averages_csv: Staged,
    highest_csv: Staged,
    summary_json: Staged,
    /// Reused per-species row buffer.
    row: Vec<f32>,
    /// Last, so the files above are closed before an uncommitted set
    /// removes its staging directory.
    set: OutputSet,
}

impl PlumeOutputs {
    /// Start the set of run `info.run_name` in `dir` (which must exist):
    /// every file is created now in the staging directory, so a bad output
    /// path fails before the first hour. `inputs` are the case's input
    /// files, which no output may replace.
    pub fn new(
        dir: &Path,
        inputs: Inputs,
        info: RunInfo,
        receptors: &[Receptor],
        species: &[String],
        options: OutputOptions,
    ) -> Result<PlumeOutputs> {
        options.validate(&inputs.case_file, "plume.output")?;
        for (i, s) in species.iter().enumerate() {
            if !netcdf_name(s) {
                return Err(Error::config(
                    &inputs.case_file,
                    format!("species[{i}]"),
                    format!("a species name of letters, digits and '_' starting with a letter; got {s:?}"),
                ));
            }
        }
        let stats = Stats::new(
            receptors.len(),
            species.len(),
            &options.stats(),
            &info.met_file,
        )?;
        let mut set = OutputSet::create(dir, &info.run_name, inputs)?;
        let hourly_nc = if options.hourly_netcdf {
            let staged = set.reserve("hourly.nc")?;
            Some(DsgFile::hourly(staged, &info, receptors, species)?)
        } else {
            None
        };
        let staged = set.reserve("averages.nc")?;
        let averages_nc = DsgFile::averages(staged, &info, receptors, species, &options)?;
        let hourly_csv = if options.hourly_csv {
            let mut header = vec!["end".to_string(), "receptor".to_string()];
            header.extend(species.iter().cloned());
            Some(CsvStream::create(set.reserve("hourly.csv")?, &header)?)
        } else {
            None
        };
        let block_csv = if options.block_csv {
            Some(CsvStream::create(
                set.reserve("blocks.csv")?,
                &AVERAGE_COLUMNS.map(String::from),
            )?)
        } else {
            None
        };
        let averages_csv = set.reserve("averages.csv")?;
        let highest_csv = set.reserve("highest.csv")?;
        let summary_json = set.reserve("summary.json")?;
        Ok(PlumeOutputs {
            info,
            receptors: receptors.to_vec(),
            species: species.to_vec(),
            options,
            stats: Some(stats),
            hourly_nc,
            averages_nc,
            hourly_csv,
            block_csv,
            averages_csv,
            highest_csv,
            summary_json,
            row: vec![0.0; receptors.len()],
            set,
        })
    }

    /// The set, to add files of the caller's own.
    pub fn set_mut(&mut self) -> &mut OutputSet {
        &mut self.set
    }

    /// The accumulators (read-only).
    pub fn stats(&self) -> Option<&Stats> {
        self.stats.as_ref()
    }

    /// One hour: `time` = (year, month, day, hour 1-24, hour-ending);
    /// `values` = concentrations (ug/m3), `n_receptors * n_species`,
    /// receptor-major (`r * n_species + s`), or None when the met hour is
    /// missing. Hours must be consecutive.
    pub fn push_hour(&mut self, time: (i32, u32, u32, u32), values: Option<&[f64]>) -> Result<()> {
        let Some(stats) = self.stats.as_mut() else {
            return Err(Error::output(
                &self.averages_nc.staged.path,
                "hour pushed after finish",
            ));
        };
        let (receptors, species) = (&self.receptors, &self.species);
        let (averages_nc, block_csv) = (&mut self.averages_nc, &mut self.block_csv);
        let write_blocks = self.options.block_netcdf;
        stats.push_hour_with(time, values, |b| {
            write_block(b, write_blocks, averages_nc, block_csv, receptors, species)
        })?;
        // The hour is valid (push_hour_with checked it).
        let t = HourEnding::new(time.0, time.1, time.2, time.3)
            .ok_or_else(|| Error::output(&self.averages_nc.staged.path, "unchecked hour"))?;
        let ns = self.species.len();
        if let Some(f) = self.hourly_nc.as_mut() {
            let start = t.index() as f64;
            let rec = f.append("time", start + 0.5, Some((start, start + 1.0)))?;
            f.put(
                "hour_missing",
                &[u8::from(values.is_none())],
                &[rec..rec + 1],
            )?;
            for (s, name) in self.species.iter().enumerate() {
                for (r, out) in self.row.iter_mut().enumerate() {
                    *out = values.map_or(FILL, |v| v[r * ns + s] as f32);
                }
                f.put(name, &self.row, &[rec..rec + 1, 0..self.receptors.len()])?;
            }
        }
        if let Some(csv) = self.hourly_csv.as_mut() {
            let end = t.label();
            for (r, rec) in self.receptors.iter().enumerate() {
                let mut fields = vec![end.clone(), rec.name.clone()];
                for s in 0..ns {
                    fields.push(values.map_or(String::new(), |v| num(v[r * ns + s])));
                }
                csv.row(&fields)?;
            }
        }
        Ok(())
    }

    /// Close the statistics, write the averages, tables and summary, and
    /// commit the set. `extra` are the caller's summary fields. Returns the
    /// files, the summary and the terminal table.
    pub fn finish(mut self, extra: BTreeMap<String, serde_json::Value>) -> Result<Finished> {
        let stats = self
            .stats
            .take()
            .ok_or_else(|| Error::output(&self.averages_nc.staged.path, "finished twice"))?;
        let (receptors, species) = (&self.receptors, &self.species);
        let (averages_nc, block_csv) = (&mut self.averages_nc, &mut self.block_csv);
        let write_blocks = self.options.block_netcdf;
        let results = stats.finish_with(|b| {
            write_block(b, write_blocks, averages_nc, block_csv, receptors, species)
        })?;
        self.write_spans_and_tables(&results)?;
        let mut files = vec![];
        if let Some(f) = self.hourly_nc.take() {
            files.push(f.finish()?);
        }
        let averages = std::mem::replace(&mut self.averages_nc, DsgFile::closed());
        files.push(averages.finish()?);
        if let Some(c) = self.hourly_csv.take() {
            files.push(c.finish()?);
        }
        if let Some(c) = self.block_csv.take() {
            files.push(c.finish()?);
        }
        self.averages_csv
            .write_text(&averages_csv(&results, &self.receptors, &self.species)?)?;
        files.push(self.averages_csv.path.clone());
        self.highest_csv
            .write_text(&highest_csv(&results, &self.receptors, &self.species)?)?;
        files.push(self.highest_csv.path.clone());
        let summary = summary(
            &self.info,
            extra,
            &results,
            &self.receptors,
            &self.species,
            &files,
        );
        let table = summary_table(&summary);
        let json = serde_json::to_string_pretty(&summary).map_err(|e| {
            Error::output(
                &self.summary_json.path,
                format!("the summary as JSON ({e})"),
            )
        })?;
        self.summary_json.write_text(&json)?;
        files.push(self.summary_json.path.clone());
        let dir = self.set.dir().to_path_buf();
        let manifest = self.set.commit()?;
        files.push(dir.join(format!("{}.manifest.json", manifest.run)));
        Ok(Finished {
            files,
            summary,
            table,
        })
    }

    fn write_spans_and_tables(&mut self, results: &Results) -> Result<()> {
        let f = &mut self.averages_nc;
        let n = self.receptors.len();
        let ns = self.species.len();
        let column = |values: &[f64], s: usize| -> Vec<f32> {
            (0..n).map(|r| values[r * ns + s] as f32).collect()
        };
        let fill = vec![FILL; n];
        if let Some(p) = &results.period {
            let (a, b) = span_bounds(p);
            f.put("time_period", &[0.5 * (a + b)], &[])?;
            f.put("time_period_bnds", &[a, b], &[0..2])?;
            f.put("valid_hours_period", &[p.counts.valid as i32], &[])?;
            f.put("missing_hours_period", &[p.counts.missing as i32], &[])?;
            for (s, name) in self.species.iter().enumerate() {
                let v = p.values.as_ref().map_or(fill.clone(), |v| column(v, s));
                f.put(&format!("{name}_period"), &v, &[0..n])?;
            }
        }
        for (y, a) in &results.annual {
            let (start, end) = year_bounds(*y);
            let rec = f.append("time_annual", 0.5 * (start + end), Some((start, end)))?;
            f.put(
                "valid_hours_annual",
                &[a.counts.valid as i32],
                &[rec..rec + 1],
            )?;
            f.put(
                "missing_hours_annual",
                &[(a.counts.missing + a.counts.absent) as i32],
                &[rec..rec + 1],
            )?;
            for (s, name) in self.species.iter().enumerate() {
                let v = a.values.as_ref().map_or(fill.clone(), |v| column(v, s));
                f.put(&format!("{name}_annual"), &v, &[rec..rec + 1, 0..n])?;
            }
        }
        let ranks = &results.ranks;
        let ranks_i: Vec<i32> = ranks.iter().map(|&r| r as i32).collect();
        f.put("rank", &ranks_i, &[0..ranks.len()])?;
        for h in &results.highest {
            for (s, name) in self.species.iter().enumerate() {
                let mut vals = Vec::with_capacity(ranks.len() * n);
                let mut ends = Vec::with_capacity(ranks.len() * n);
                for &k in ranks {
                    for r in 0..n {
                        match h.nth(r, s, k) {
                            Some(v) => {
                                vals.push(v.value as f32);
                                ends.push(v.block.end.index() as f64 + 1.0);
                            }
                            None => {
                                vals.push(FILL);
                                ends.push(FILL_TIME);
                            }
                        }
                    }
                }
                let var = format!("{name}_{}h_highest", h.hours);
                f.put(&var, &vals, &[0..ranks.len(), 0..n])?;
                f.put(&format!("{var}_end"), &ends, &[0..ranks.len(), 0..n])?;
            }
        }
        Ok(())
    }
}

/// Hand a completed block to the averages file and the block CSV.
fn write_block(
    b: &BlockAverage,
    netcdf: bool,
    nc: &mut DsgFile,
    csv: &mut Option<CsvStream>,
    receptors: &[Receptor],
    species: &[String],
) -> Result<()> {
    if b.hours == 1 {
        // The 1-h series is the hourly output.
        return Ok(());
    }
    let n = receptors.len();
    let ns = species.len();
    if netcdf {
        let p = b.hours;
        let (start, end) = (b.start.index() as f64, b.end.index() as f64 + 1.0);
        let rec = nc.append(
            &format!("time_{p}h"),
            0.5 * (start + end),
            Some((start, end)),
        )?;
        nc.put(
            &format!("valid_hours_{p}h"),
            &[b.counts.valid as i32],
            &[rec..rec + 1],
        )?;
        nc.put(
            &format!("missing_hours_{p}h"),
            &[(b.counts.missing + b.counts.absent) as i32],
            &[rec..rec + 1],
        )?;
        let mut row = vec![FILL; n];
        for (s, name) in species.iter().enumerate() {
            if let Some(v) = b.values {
                for (r, out) in row.iter_mut().enumerate() {
                    *out = v[r * ns + s] as f32;
                }
            }
            nc.put(&format!("{name}_{p}h"), &row, &[rec..rec + 1, 0..n])?;
        }
    }
    if let Some(csv) = csv.as_mut() {
        let label = format!("{}h", b.hours);
        for (r, rec) in receptors.iter().enumerate() {
            for (s, name) in species.iter().enumerate() {
                csv.row(&average_row(
                    rec,
                    name,
                    &label,
                    b.start,
                    b.end,
                    b.values.map(|v| v[r * ns + s]),
                    b.counts.valid,
                    b.counts.missing,
                    b.counts.absent,
                ))?;
            }
        }
    }
    Ok(())
}

/// Columns of `<run>.averages.csv` and `<run>.blocks.csv`.
pub const AVERAGE_COLUMNS: [&str; 12] = [
    "receptor",
    "x",
    "y",
    "elevation",
    "species",
    "averaging",
    "start",
    "end",
    "value",
    "valid_hours",
    "missing_hours",
    "absent_hours",
];

/// Columns of `<run>.highest.csv`.
pub const HIGHEST_COLUMNS: [&str; 13] = [
    "receptor",
    "x",
    "y",
    "elevation",
    "species",
    "averaging",
    "rank",
    "value",
    "start",
    "end",
    "valid_hours",
    "missing_hours",
    "absent_hours",
];

#[allow(clippy::too_many_arguments)]
fn average_row(
    rec: &Receptor,
    species: &str,
    averaging: &str,
    start: HourEnding,
    end: HourEnding,
    value: Option<f64>,
    valid: u32,
    missing: u32,
    absent: u32,
) -> Vec<String> {
    vec![
        rec.name.clone(),
        rec.x.to_string(),
        rec.y.to_string(),
        rec.elevation.to_string(),
        species.to_string(),
        averaging.to_string(),
        start.label(),
        end.label(),
        value.map_or(String::new(), num),
        valid.to_string(),
        missing.to_string(),
        absent.to_string(),
    ]
}

/// A concentration in the CSV files: 7 significant digits, as the site
/// series (`crate::output::sites`).
fn num(v: f64) -> String {
    format!("{v:.6e}")
}

fn csv_text(
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
    path: &Path,
) -> Result<String> {
    let mut w = csv::Writer::from_writer(vec![]);
    let e = |err: csv::Error| Error::output(path, err);
    w.write_record(header).map_err(e)?;
    for row in rows {
        w.write_record(&row).map_err(e)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|err| Error::output(path, err.to_string()))?;
    String::from_utf8(bytes).map_err(|err| Error::output(path, err))
}

fn span_rows<'a>(
    label: String,
    span: &'a SpanAverage,
    receptors: &'a [Receptor],
    species: &'a [String],
) -> impl Iterator<Item = Vec<String>> + 'a {
    let ns = species.len();
    receptors.iter().enumerate().flat_map(move |(r, rec)| {
        let label = label.clone();
        species.iter().enumerate().map(move |(s, name)| {
            average_row(
                rec,
                name,
                &label,
                span.start,
                span.end,
                span.values.as_ref().map(|v| v[r * ns + s]),
                span.counts.valid,
                span.counts.missing,
                span.counts.absent,
            )
        })
    })
}

/// `<run>.averages.csv`: the period average, then each year's, per
/// receptor and species. For a year, `start`/`end` are the hours of the
/// year in the run and `absent_hours` the hours of the year outside it.
fn averages_csv(results: &Results, receptors: &[Receptor], species: &[String]) -> Result<String> {
    let path = Path::new("averages.csv");
    let mut rows: Vec<Vec<String>> = vec![];
    if let Some(p) = &results.period {
        rows.extend(span_rows("period".into(), p, receptors, species));
    }
    for (y, a) in &results.annual {
        rows.extend(span_rows(format!("annual {y}"), a, receptors, species));
    }
    csv_text(&AVERAGE_COLUMNS, rows.into_iter(), path)
}

/// `<run>.highest.csv`: for each averaging period, species, rank and
/// receptor, the N-th highest block average and its block.
fn highest_csv(results: &Results, receptors: &[Receptor], species: &[String]) -> Result<String> {
    let path = Path::new("highest.csv");
    let mut rows = vec![];
    for h in &results.highest {
        let label = format!("{}h", h.hours);
        for (s, name) in species.iter().enumerate() {
            for &k in &results.ranks {
                for (r, rec) in receptors.iter().enumerate() {
                    let v = h.nth(r, s, k);
                    let mut row = vec![
                        rec.name.clone(),
                        rec.x.to_string(),
                        rec.y.to_string(),
                        rec.elevation.to_string(),
                        name.clone(),
                        label.clone(),
                        k.to_string(),
                    ];
                    match v {
                        Some(v) => row.extend([
                            num(v.value),
                            v.block.start.label(),
                            v.block.end.label(),
                            v.block.counts.valid.to_string(),
                            v.block.counts.missing.to_string(),
                            v.block.counts.absent.to_string(),
                        ]),
                        None => row.extend(std::iter::repeat_n(String::new(), 6)),
                    }
                    rows.push(row);
                }
            }
        }
    }
    csv_text(&HIGHEST_COLUMNS, rows.into_iter(), path)
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn summary(
    info: &RunInfo,
    extra: BTreeMap<String, serde_json::Value>,
    results: &Results,
    receptors: &[Receptor],
    species: &[String],
    files: &[PathBuf],
) -> PlumeSummary {
    let mut maxima = vec![];
    for h in &results.highest {
        for (s, name) in species.iter().enumerate() {
            for &k in &results.ranks {
                if let Some((r, v)) = h.max_over_receptors(s, k) {
                    maxima.push(MaxValue {
                        species: name.clone(),
                        averaging: format!("{}h", h.hours),
                        rank: Some(k),
                        value: v.value,
                        receptor: receptors[r].name.clone(),
                        x: receptors[r].x,
                        y: receptors[r].y,
                        start: v.block.start.label(),
                        end: v.block.end.label(),
                        valid_hours: v.block.counts.valid,
                        missing_hours: v.block.counts.missing + v.block.counts.absent,
                    });
                }
            }
        }
    }
    let spans = results
        .period
        .iter()
        .map(|p| ("period".to_string(), p))
        .chain(
            results
                .annual
                .iter()
                .map(|(y, a)| (format!("annual {y}"), a)),
        );
    for (label, span) in spans {
        let Some(values) = &span.values else {
            continue;
        };
        for (s, name) in species.iter().enumerate() {
            let ns = species.len();
            // The lowest receptor index among equals.
            let mut best: Option<usize> = None;
            for r in 0..receptors.len() {
                if best.is_none_or(|b| values[r * ns + s] > values[b * ns + s]) {
                    best = Some(r);
                }
            }
            if let Some(r) = best {
                maxima.push(MaxValue {
                    species: name.clone(),
                    averaging: label.clone(),
                    rank: None,
                    value: values[r * ns + s],
                    receptor: receptors[r].name.clone(),
                    x: receptors[r].x,
                    y: receptors[r].y,
                    start: span.start.label(),
                    end: span.end.label(),
                    valid_hours: span.counts.valid,
                    missing_hours: span.counts.missing,
                });
            }
        }
    }
    PlumeSummary {
        run: info.run_name.clone(),
        title: info.title.clone(),
        case_file: info.case_file.display().to_string(),
        meteorology: info.meteorology.clone(),
        extra,
        first_hour: results.first.map(|t| t.label()).unwrap_or_default(),
        last_hour: results.last.map(|t| t.label()).unwrap_or_default(),
        hours: results.hours,
        valid_hours: results.hours - results.missing_hours,
        missing_hours: results.missing_hours,
        hours_by_year: results
            .annual
            .iter()
            .map(|(y, a)| {
                (
                    *y,
                    YearHours {
                        hours_in_run: a.counts.valid + a.counts.missing,
                        valid: a.counts.valid,
                        missing: a.counts.missing,
                    },
                )
            })
            .collect(),
        units: UNITS.to_string(),
        averaging: results
            .highest
            .iter()
            .map(|h| AveragingSummary {
                averaging: format!("{}h", h.hours),
                blocks: h.n_blocks,
                blocks_with_missing_hours: h.n_blocks_with_missing,
                blocks_without_valid_hours: h.n_blocks_without_valid,
            })
            .collect(),
        maxima,
        files: files.iter().map(|f| f.display().to_string()).collect(),
    }
}

/// The terminal table: hours and missing hours, then per species and
/// averaging period the largest N-th highest value over the receptors,
/// where and when.
pub fn summary_table(s: &PlumeSummary) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let share = if s.hours > 0 {
        100.0 * s.missing_hours as f64 / s.hours as f64
    } else {
        0.0
    };
    let _ = writeln!(
        t,
        "plume run {}: {} hours, {} to {}; {} missing ({share:.1} %), counted and not averaged",
        s.run, s.hours, s.first_hour, s.last_hour, s.missing_hours
    );
    for a in &s.averaging {
        let _ = writeln!(
            t,
            "  {:>4} blocks: {:>6}, {} with missing hours, {} without a valid hour",
            a.averaging, a.blocks, a.blocks_with_missing_hours, a.blocks_without_valid_hours
        );
    }
    let _ = writeln!(
        t,
        "maxima over receptors ({}; rank N = the N-th highest block average at a receptor):",
        s.units
    );
    let _ = writeln!(
        t,
        "{:<10} {:<12} {:>5} {:>12}  {:<16} {:>10} {:>10}  {:<13}  {:>5}",
        "species", "averaging", "rank", "value", "receptor", "x m", "y m", "ending", "valid"
    );
    for m in &s.maxima {
        let _ = writeln!(
            t,
            "{:<10} {:<12} {:>5} {:>12.5e}  {:<16} {:>10.1} {:>10.1}  {:<13}  {:>5}",
            m.species,
            m.averaging,
            m.rank.map_or("-".to_string(), ordinal),
            m.value,
            m.receptor,
            m.x,
            m.y,
            m.end,
            m.valid_hours
        );
    }
    t
}

fn span_bounds(p: &SpanAverage) -> (f64, f64) {
    (p.start.index() as f64, p.end.index() as f64 + 1.0)
}

fn year_bounds(year: i32) -> (f64, f64) {
    let start = HourEnding::new(year, 1, 1, 1).map_or(0, |t| t.index());
    let end = HourEnding::new(year, 12, 31, 24).map_or(0, |t| t.index() + 1);
    (start as f64, end as f64)
}

/// A netCDF variable name the species can be written under.
fn netcdf_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_alphabetic())
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A streamed CSV file in the staging directory.
struct CsvStream {
    staged: Staged,
    writer: Option<csv::Writer<BufWriter<File>>>,
}

impl CsvStream {
    fn create(staged: Staged, header: &[String]) -> Result<CsvStream> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .mode(0o644)
            .open(&staged.staged)
            .map_err(|e| Error::output(&staged.path, e))?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
        writer
            .write_record(header)
            .map_err(|e| Error::output(&staged.path, e))?;
        Ok(CsvStream {
            staged,
            writer: Some(writer),
        })
    }

    fn row(&mut self, fields: &[String]) -> Result<()> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::output(&self.staged.path, "written after it was finished"))?;
        w.write_record(fields)
            .map_err(|e| Error::output(&self.staged.path, e))
    }

    fn finish(mut self) -> Result<PathBuf> {
        let path = self.staged.path.clone();
        let w = self
            .writer
            .take()
            .ok_or_else(|| Error::output(&path, "finished twice"))?;
        let buf = w
            .into_inner()
            .map_err(|e| Error::output(&path, e.to_string()))?;
        let file = buf
            .into_inner()
            .map_err(|e| Error::output(&path, e.to_string()))?;
        file.sync_all().map_err(|e| Error::output(&path, e))?;
        Ok(path)
    }
}

impl Drop for CsvStream {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.staged.staged);
        }
    }
}

/// A receptor coordinate: name, CF standard name, long name, value.
type CoordSpec = (
    &'static str,
    Option<&'static str>,
    &'static str,
    fn(&Receptor) -> f64,
);

/// A timeSeries netCDF file of the receptors.
struct DsgFile {
    file: Option<netcdf::FileMut>,
    staged: Staged,
    /// Records written per unlimited time dimension.
    records: BTreeMap<String, usize>,
}

impl DsgFile {
    fn closed() -> DsgFile {
        DsgFile {
            file: None,
            staged: Staged {
                staged: PathBuf::new(),
                path: PathBuf::new(),
            },
            records: BTreeMap::new(),
        }
    }

    /// Create the file with the receptor variables and the global
    /// attributes; `what` goes into the title.
    fn create(
        staged: Staged,
        info: &RunInfo,
        receptors: &[Receptor],
        what: &str,
    ) -> Result<DsgFile> {
        let path = staged.path.clone();
        let e = |err: netcdf::Error| Error::output(&path, err);
        let mut f = netcdf::create_with(
            &staged.staged,
            netcdf::Options::NETCDF4 | netcdf::Options::NOCLOBBER,
        )
        .map_err(e)?;
        let n = receptors.len();
        f.add_dimension("receptor", n).map_err(e)?;
        f.add_dimension("nv", 2).map_err(e)?;
        for (k, v) in [
            ("Conventions", "CF-1.8".to_string()),
            ("featureType", "timeSeries".to_string()),
            ("title", format!("{}: {what}", info.title)),
            (
                "source",
                format!("airshed {} plume", env!("CARGO_PKG_VERSION")),
            ),
            (
                "history",
                format!("airshed plume {}", info.case_file.display()),
            ),
            ("meteorology", info.meteorology.clone()),
            (
                "comment",
                "Concentrations at receptors from the Gaussian plume and puff model. Times are \
                 hours of the met file's clock (AERMET: local standard time); hour-ending hour h \
                 of a day is the interval [h-1, h). Averages over N-hour clock-aligned blocks \
                 divide the sum of the valid hours by max(valid hours, NINT(0.75 N + 0.4)) \
                 (AERMOD's treatment of calm and missing hours); period and annual averages \
                 divide by the valid hours."
                    .to_string(),
            ),
        ] {
            f.add_attribute(k, v.as_str()).map_err(e)?;
        }
        {
            let mut v = f
                .add_string_variable("receptor_name", &["receptor"])
                .map_err(e)?;
            v.put_attribute("cf_role", "timeseries_id").map_err(e)?;
            v.put_attribute("long_name", "receptor name").map_err(e)?;
            for (i, r) in receptors.iter().enumerate() {
                v.put_string(&r.name, [i]).map_err(e)?;
            }
        }
        let coords: [CoordSpec; 5] = [
            (
                "x",
                Some("projection_x_coordinate"),
                "receptor position east of the case origin",
                |r| r.x,
            ),
            (
                "y",
                Some("projection_y_coordinate"),
                "receptor position north of the case origin",
                |r| r.y,
            ),
            (
                "elevation",
                Some("surface_altitude"),
                "terrain elevation at the receptor above sea level",
                |r| r.elevation,
            ),
            (
                "hill_height",
                None,
                "hill height scale above sea level (AERMAP hc)",
                |r| r.hill_height,
            ),
            (
                "flagpole",
                Some("height"),
                "receptor height above ground",
                |r| r.flagpole,
            ),
        ];
        for (name, std, long, get) in coords {
            let mut v = f.add_variable::<f64>(name, &["receptor"]).map_err(e)?;
            if let Some(std) = std {
                v.put_attribute("standard_name", std).map_err(e)?;
            }
            v.put_attribute("long_name", long).map_err(e)?;
            v.put_attribute("units", "m").map_err(e)?;
            if name == "flagpole" {
                v.put_attribute("positive", "up").map_err(e)?;
                v.put_attribute("axis", "Z").map_err(e)?;
            }
            let vals: Vec<f64> = receptors.iter().map(get).collect();
            v.put_values(&vals, [0..n]).map_err(e)?;
        }
        {
            let mut crs = f.add_variable::<i32>("crs", &[]).map_err(e)?;
            crs.put_attribute(
                "long_name",
                "local Cartesian frame: metres east (x) and north (y) of the case origin",
            )
            .map_err(e)?;
            if let Some((lon, lat)) = info.origin_lon_lat {
                crs.put_attribute("origin_longitude", lon).map_err(e)?;
                crs.put_attribute("origin_latitude", lat).map_err(e)?;
            }
        }
        Ok(DsgFile {
            file: Some(f),
            staged,
            records: BTreeMap::new(),
        })
    }

    /// `<run>.hourly.nc`.
    fn hourly(
        staged: Staged,
        info: &RunInfo,
        receptors: &[Receptor],
        species: &[String],
    ) -> Result<DsgFile> {
        let mut d = DsgFile::create(
            staged,
            info,
            receptors,
            "hourly concentrations at receptors",
        )?;
        d.time_axis("time", true, "hour (hour-ending), stamped at its middle")?;
        {
            let path = d.staged.path.clone();
            let e = |err: netcdf::Error| Error::output(&path, err);
            let f = d.file_mut()?;
            let mut v = f.add_variable::<u8>("hour_missing", &["time"]).map_err(e)?;
            v.put_attribute(
                "long_name",
                "the met hour was marked missing: no concentration",
            )
            .map_err(e)?;
            v.put_attribute("flag_values", vec![0u8, 1u8]).map_err(e)?;
            v.put_attribute("flag_meanings", "valid missing")
                .map_err(e)?;
        }
        for s in species {
            d.data_var(
                s,
                &["time", "receptor"],
                format!("{s} hourly mean concentration at the receptor"),
                "time: mean",
                "time x y elevation flagpole receptor_name",
            )?;
        }
        Ok(d)
    }

    /// `<run>.averages.nc`.
    fn averages(
        staged: Staged,
        info: &RunInfo,
        receptors: &[Receptor],
        species: &[String],
        options: &OutputOptions,
    ) -> Result<DsgFile> {
        let mut d = DsgFile::create(
            staged,
            info,
            receptors,
            "block, period and annual averages and N-th highest values at receptors",
        )?;
        let coords = |t: &str| format!("{t} x y elevation flagpole receptor_name");
        if options.block_netcdf {
            for &p in options.averaging_hours.iter().filter(|&&p| p > 1) {
                let t = format!("time_{p}h");
                d.time_axis(&t, true, &format!("{p}-hour block, clock-aligned"))?;
                d.count_var(
                    &format!("valid_hours_{p}h"),
                    &[&t],
                    "valid hours in the block",
                )?;
                d.count_var(
                    &format!("missing_hours_{p}h"),
                    &[&t],
                    "missing hours in the block (including hours outside the run)",
                )?;
                for s in species {
                    d.data_var(
                        &format!("{s}_{p}h"),
                        &[&t, "receptor"],
                        format!(
                            "{s} {p}-hour block average: sum over valid hours / max(valid, NINT(0.75*{p}+0.4))"
                        ),
                        "time: mean",
                        &coords(&t),
                    )?;
                }
            }
        }
        // The period: scalar time with bounds.
        {
            let path = d.staged.path.clone();
            let e = |err: netcdf::Error| Error::output(&path, err);
            let f = d.file_mut()?;
            let mut t = f.add_variable::<f64>("time_period", &[]).map_err(e)?;
            t.put_attribute("standard_name", "time").map_err(e)?;
            t.put_attribute("units", TIME_UNITS).map_err(e)?;
            t.put_attribute("calendar", "standard").map_err(e)?;
            t.put_attribute("bounds", "time_period_bnds").map_err(e)?;
            f.add_variable::<f64>("time_period_bnds", &["nv"])
                .map_err(e)?;
        }
        d.count_var("valid_hours_period", &[], "valid hours in the run")?;
        d.count_var("missing_hours_period", &[], "missing hours in the run")?;
        for s in species {
            d.data_var(
                &format!("{s}_period"),
                &["receptor"],
                format!("{s} period average: sum over valid hours / valid hours"),
                "time: mean",
                &coords("time_period"),
            )?;
        }
        d.time_axis("time_annual", true, "calendar year")?;
        d.count_var(
            "valid_hours_annual",
            &["time_annual"],
            "valid hours in the year",
        )?;
        d.count_var(
            "missing_hours_annual",
            &["time_annual"],
            "missing hours in the year (including hours of the year outside the run)",
        )?;
        for s in species {
            d.data_var(
                &format!("{s}_annual"),
                &["time_annual", "receptor"],
                format!("{s} annual average (calendar year): sum over valid hours / valid hours"),
                "time: mean",
                &coords("time_annual"),
            )?;
        }
        // The N-th highest tables.
        {
            let path = d.staged.path.clone();
            let e = |err: netcdf::Error| Error::output(&path, err);
            let f = d.file_mut()?;
            f.add_dimension("rank", options.ranks.len()).map_err(e)?;
            let mut v = f.add_variable::<i32>("rank", &["rank"]).map_err(e)?;
            v.put_attribute("long_name", "N of the N-th highest value (1 = the highest)")
                .map_err(e)?;
        }
        for &p in &options.averaging_hours {
            for s in species {
                let name = format!("{s}_{p}h_highest");
                d.data_var(
                    &name,
                    &["rank", "receptor"],
                    format!(
                        "{s} N-th highest {p}-hour block average at the receptor (ties: the earlier block ranks higher)"
                    ),
                    "",
                    "x y elevation flagpole receptor_name",
                )?;
                let path = d.staged.path.clone();
                let e = |err: netcdf::Error| Error::output(&path, err);
                let f = d.file_mut()?;
                if let Some(mut v) = f.variable_mut(&name) {
                    v.put_attribute(
                        "comment",
                        format!(
                            "rank k holds the k-th highest of the receptor's {p}-hour block averages; \
                             the block ends at {name}_end; no value where fewer than k blocks had a valid hour"
                        )
                        .as_str(),
                    )
                    .map_err(e)?;
                }
                let mut t = f
                    .add_variable::<f64>(&format!("{name}_end"), &["rank", "receptor"])
                    .map_err(e)?;
                t.put_attribute(
                    "long_name",
                    format!("end of the block of {name} (the upper bound of its last hour)")
                        .as_str(),
                )
                .map_err(e)?;
                t.put_attribute("units", TIME_UNITS).map_err(e)?;
                t.put_attribute("calendar", "standard").map_err(e)?;
                t.set_fill_value(FILL_TIME).map_err(e)?;
            }
        }
        Ok(d)
    }

    fn file_mut(&mut self) -> Result<&mut netcdf::FileMut> {
        let path = self.staged.path.clone();
        self.file
            .as_mut()
            .ok_or_else(|| Error::output(&path, "the file is already finished"))
    }

    /// An unlimited time dimension `name` with its coordinate and bounds.
    fn time_axis(&mut self, name: &str, bounds: bool, long_name: &str) -> Result<()> {
        let path = self.staged.path.clone();
        let e = |err: netcdf::Error| Error::output(&path, err);
        let f = self.file_mut()?;
        f.add_unlimited_dimension(name).map_err(e)?;
        let mut t = f.add_variable::<f64>(name, &[name]).map_err(e)?;
        t.put_attribute("standard_name", "time").map_err(e)?;
        t.put_attribute("long_name", long_name).map_err(e)?;
        t.put_attribute("units", TIME_UNITS).map_err(e)?;
        t.put_attribute("calendar", "standard").map_err(e)?;
        t.put_attribute("axis", "T").map_err(e)?;
        if bounds {
            let b = format!("{name}_bnds");
            t.put_attribute("bounds", b.as_str()).map_err(e)?;
            f.add_variable::<f64>(&b, &[name, "nv"]).map_err(e)?;
        }
        self.records.insert(name.to_string(), 0);
        Ok(())
    }

    fn count_var(&mut self, name: &str, dims: &[&str], long_name: &str) -> Result<()> {
        let path = self.staged.path.clone();
        let e = |err: netcdf::Error| Error::output(&path, err);
        let f = self.file_mut()?;
        let mut v = f.add_variable::<i32>(name, dims).map_err(e)?;
        v.put_attribute("long_name", long_name).map_err(e)?;
        v.put_attribute("units", "1").map_err(e)?;
        Ok(())
    }

    fn data_var(
        &mut self,
        name: &str,
        dims: &[&str],
        long_name: String,
        cell_methods: &str,
        coordinates: &str,
    ) -> Result<()> {
        let path = self.staged.path.clone();
        let e = |err: netcdf::Error| Error::output(&path, err);
        let f = self.file_mut()?;
        let n_receptors = f.dimension_len("receptor").unwrap_or(0);
        let chunk: Vec<usize> = dims
            .iter()
            .map(|d| {
                if *d == "receptor" {
                    n_receptors.max(1)
                } else {
                    1
                }
            })
            .collect();
        let mut v = f.add_variable::<f32>(name, dims).map_err(e)?;
        if !dims.is_empty() {
            v.set_chunking(&chunk).map_err(e)?;
            v.set_compression(DEFLATE_LEVEL, true).map_err(e)?;
        }
        v.set_fill_value(FILL).map_err(e)?;
        v.put_attribute("units", UNITS).map_err(e)?;
        v.put_attribute("long_name", long_name.as_str())
            .map_err(e)?;
        if !cell_methods.is_empty() {
            v.put_attribute("cell_methods", cell_methods).map_err(e)?;
        }
        v.put_attribute("coordinates", coordinates).map_err(e)?;
        v.put_attribute("grid_mapping", "crs").map_err(e)?;
        Ok(())
    }

    /// Append a record to time dimension `dim`: its time and bounds;
    /// returns the record's index.
    fn append(&mut self, dim: &str, time: f64, bounds: Option<(f64, f64)>) -> Result<usize> {
        let rec = *self.records.get(dim).ok_or_else(|| {
            Error::output(
                &self.staged.path,
                format!("time dimension {dim} not defined"),
            )
        })?;
        self.put(dim, &[time], &[rec..rec + 1])?;
        if let Some((a, b)) = bounds {
            self.put(&format!("{dim}_bnds"), &[a, b], &[rec..rec + 1, 0..2])?;
        }
        self.records.insert(dim.to_string(), rec + 1);
        Ok(rec)
    }

    /// Write `values` into `name` at `extents` (empty: a scalar).
    fn put<T: netcdf::NcTypeDescriptor>(
        &mut self,
        name: &str,
        values: &[T],
        extents: &[std::ops::Range<usize>],
    ) -> Result<()> {
        let path = self.staged.path.clone();
        let f = self.file_mut()?;
        let mut v = f
            .variable_mut(name)
            .ok_or_else(|| Error::output(&path, format!("variable {name} not defined")))?;
        let r = if extents.is_empty() {
            v.put_values(values, ..)
        } else {
            v.put_values(values, extents)
        };
        r.map_err(|err| Error::output(&path, format!("{name}: {err}")))
    }

    /// Close the file in the staging directory; returns its final path.
    fn finish(mut self) -> Result<PathBuf> {
        let f = self
            .file
            .take()
            .ok_or_else(|| Error::output(&self.staged.path, "file finished twice"))?;
        f.close()
            .map_err(|err| Error::output(&self.staged.path, err))?;
        Ok(self.staged.path.clone())
    }
}

impl Drop for DsgFile {
    fn drop(&mut self) {
        // Not finished: the run failed. Remove the partial file.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.staged.staged);
        }
    }
}
