//! `airshed run`: a case end to end. Builds the Simulation, attaches the
//! case's sinks (concentrations, sites, meteorology, summary) and a
//! progress bar, and runs it. Outputs go to `<dir>/<run.name>.nc`,
//! `.sites.csv`, `.met.nc` and `.summary.json`, renamed into place
//! together when the run succeeds.

use crate::config::Case;
use crate::error::{Error, Result};
use crate::output::summary::SummaryJson;
use crate::output::{
    met_file::MetFile, netcdf::ConcentrationFile, sites::SiteSeries, tags::TagFile,
};
use crate::simulation::{Checkpoint, Hook, RunSummary, Simulation, View};
use std::path::PathBuf;

pub struct RunOptions {
    pub output_dir: Option<PathBuf>,
    pub progress: bool,
}

/// A progress bar over the run's output intervals.
struct Progress {
    bar: indicatif::ProgressBar,
    steps_per_interval: u64,
    interval_hours: f64,
}

impl Hook for Progress {
    fn at(&mut self, point: Checkpoint, view: &View) -> Result<()> {
        if point == Checkpoint::EndOfStep && view.clock.step % self.steps_per_interval == 0 {
            let n = view.clock.step / self.steps_per_interval;
            self.bar
                .set_message(format!("{:.0} h simulated", n as f64 * self.interval_hours));
            self.bar.inc(1);
            if view.clock.done() {
                self.bar.finish_and_clear();
            }
        }
        Ok(())
    }
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} output intervals, {msg} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The case's Simulation with its output sinks attached, writing to `dir`.
pub fn simulation_with_outputs(case: &Case, dir: &std::path::Path) -> Result<Simulation> {
    let mut sim = Simulation::from_case(case)?;
    crate::limits::check_output(case, &sim.model.state.tracers, dir)?;
    let view = View {
        model: &sim.model,
        clock: &sim.clock,
    };
    let mut sinks: Vec<Box<dyn crate::simulation::Sink>> =
        vec![Box::new(ConcentrationFile::create(case, &view, dir)?)];
    if !case.sites.is_empty() {
        sinks.push(Box::new(SiteSeries::new(case, &view, dir)?));
    }
    if case.output.met_fields {
        sinks.push(Box::new(MetFile::create(case, &view, dir)?));
    }
    if let Some(tagging) = &sim.tagging {
        sinks.push(Box::new(TagFile::create(case, &view, tagging, dir)?));
    }
    // Last: it writes what the others added to the summary.
    sinks.push(Box::new(SummaryJson::new(dir, &case.run.name)));
    sim.sinks = sinks;
    Ok(sim)
}

/// Run a case end to end.
pub fn run_case(case: &Case, opts: &RunOptions) -> Result<RunSummary> {
    let dir = opts
        .output_dir
        .clone()
        .unwrap_or_else(|| case.output.dir.clone());
    std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
    let dir = dir.canonicalize().map_err(|e| Error::output(&dir, e))?;
    let mut sim = simulation_with_outputs(case, &dir)?;
    let brute_force = case
        .attribution
        .as_ref()
        .and_then(|a| a.brute_force.as_ref());
    if let (Some(bf), Some(tagging)) = (brute_force, &sim.tagging) {
        // Unknown tag names fail now, not after the tagged run.
        crate::brute_force::brute_force_tags(case, tagging, &bf.tags)?;
    }
    sim.hooks.push(Box::new(Progress {
        bar: progress_bar(opts.progress, case.intervals()),
        steps_per_interval: sim.clock.steps_per_period,
        interval_hours: case.output.interval_hours,
    }));
    let mut summary = sim.run()?;
    if brute_force.is_some() {
        let tags_file = dir.join(format!("{}.tags.nc", case.run.name));
        let report = crate::brute_force::run(case, &tags_file)?;
        let path = dir.join(format!("{}.brute_force.csv", case.run.name));
        crate::output::write_atomic(&path, &report.csv())?;
        summary.other_files.push(path.display().to_string());
        summary.attribution.push(report.table());
    }
    Ok(summary)
}
