//! `airshed run`: a case end to end. Builds the Simulation, attaches the
//! case's sinks (concentrations, sites, meteorology, attribution, summary)
//! and a progress bar, and runs it. Outputs go to `<dir>/<run.name>.nc`,
//! `.sites.csv`, `.met.nc`, `.tags.nc`, `.attribution.csv` / `.json`,
//! `.source_receptor.csv`, `.brute_force.csv` and `.summary.json`, with
//! `.manifest.json` last: written in a staging directory and moved into
//! place as one set only when everything succeeded
//! ([`crate::output::set`]).

use crate::config::{Case, MetSpec, TerrainSpec};
use crate::error::{Error, Result};
use crate::output::set::{Inputs, OutputSet};
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

/// A progress bar over `len` items named `unit` (hidden unless `show`).
pub fn progress_bar(show: bool, len: u64, unit: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit}, {{msg}} ({{per_sec}}, eta {{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}

/// The case's Simulation with its output sinks attached, writing into
/// the staging directory of `set`.
pub fn simulation_with_outputs(case: &Case, set: &mut OutputSet) -> Result<Simulation> {
    let mut sim = Simulation::from_case(case)?;
    crate::output::size::check_output(case, &sim.model.state.tracers, set.dir())?;
    let view = View {
        model: &sim.model,
        clock: &sim.clock,
    };
    let mut sinks: Vec<Box<dyn crate::simulation::Sink>> =
        vec![Box::new(ConcentrationFile::create(case, &view, set)?)];
    if !case.sites.is_empty() {
        sinks.push(Box::new(SiteSeries::new(case, &view, set)?));
    }
    if case.output.met_fields {
        sinks.push(Box::new(MetFile::create(case, &view, set)?));
    }
    if let Some(tagging) = &sim.tagging {
        sinks.push(Box::new(TagFile::create(case, &view, tagging, set)?));
    }
    // Last: it writes what the others added to the summary.
    sinks.push(Box::new(SummaryJson::new(set)?));
    sim.sinks = sinks;
    Ok(sim)
}

/// Every file the case reads, which no output may replace: (what it is,
/// its path).
pub fn input_files(case: &Case) -> Vec<(String, PathBuf)> {
    let mut files = vec![("case file".to_string(), case.file.clone())];
    let mut add = |what: &str, p: &PathBuf| files.push((what.to_string(), p.clone()));
    let terrain = |t: &TerrainSpec| match t {
        TerrainSpec::File { path, .. } => Some(path.clone()),
        _ => None,
    };
    match &case.met {
        MetSpec::Analytic(_) => {}
        MetSpec::Netcdf { file } | MetSpec::Reanalysis { file } => add("met.file", file),
        MetSpec::Wrf { files } => files.iter().for_each(|f| add("met.files", f)),
        MetSpec::Regime(r) => {
            if let Some(s) = &r.stations {
                add("met.stations", s);
            }
            if let Some(t) = terrain(&r.terrain) {
                add("met.terrain.file", &t);
            }
        }
        MetSpec::Adjusted { file, terrain: t } => {
            add("met.file", file);
            if let Some(t) = terrain(t) {
                add("met.terrain.file", &t);
            }
        }
    }
    let e = &case.emissions;
    e.gridded.iter().for_each(|f| add("emissions.gridded", f));
    e.points.iter().for_each(|f| add("emissions.points", f));
    e.city_totals
        .iter()
        .for_each(|f| add("emissions.city_totals", f));
    if let Some(f) = case
        .attribution
        .as_ref()
        .and_then(|a| a.regions_file.as_ref())
    {
        add("attribution.regions_file", f);
    }
    files
}

/// Run a case end to end; its outputs are committed as one set at the end.
pub fn run_case(case: &Case, opts: &RunOptions) -> Result<RunSummary> {
    let (dir, dir_key) = match &opts.output_dir {
        Some(d) => (d.clone(), "--output-dir"),
        None => (case.output.dir.clone(), "output.dir"),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
    let mut set = OutputSet::create(
        &dir,
        &case.run.name,
        Inputs {
            case_file: case.file.clone(),
            dir_key: dir_key.to_string(),
            files: input_files(case),
        },
    )?;
    let brute_force = case
        .attribution
        .as_ref()
        .and_then(|a| a.brute_force.as_ref());
    // Reserved now so a bad final path fails before the long runs.
    let brute_force_file = match brute_force {
        Some(_) => Some(set.reserve("brute_force.csv")?),
        None => None,
    };
    let mut sim = simulation_with_outputs(case, &mut set)?;
    if let (Some(bf), Some(tagging)) = (brute_force, &sim.tagging) {
        // Unknown tag names fail now, not after the tagged run.
        crate::brute_force::brute_force_tags(case, tagging, &bf.tags)?;
    }
    sim.hooks.push(Box::new(Progress {
        bar: progress_bar(opts.progress, case.intervals(), "output intervals"),
        steps_per_interval: sim.clock.steps_per_period,
        interval_hours: case.output.interval_hours,
    }));
    let mut summary = sim.run()?;
    if let Some(file) = brute_force_file {
        let tags_file = set.staged_path("tags.nc");
        let report = crate::brute_force::run(case, &tags_file)?;
        file.write_text(&report.csv())?;
        summary.other_files.push(file.path.display().to_string());
        summary.attribution.push(report.table());
    }
    // A signal that came after the last step still stops the commit.
    crate::interrupt::check()?;
    set.commit()?;
    Ok(summary)
}
