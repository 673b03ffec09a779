//! The run's summary: what the Simulation knows at the end (budget,
//! steps, met provenance, warnings), plus what hooks (timers) and sinks
//! (files written, surface means, site statistics) add to it. The summary
//! sink writes it as JSON; the CLI prints it.

use super::Simulation;
use crate::budget::TracerBudget;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct SpeciesBudget {
    pub species: String,
    #[serde(flatten)]
    pub budget: TracerBudget,
    pub residual_kg: f64,
    pub relative_residual: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run: String,
    pub case_file: String,
    pub start: String,
    pub hours: f64,
    pub steps: u64,
    pub dt_s: f64,
    pub threads: usize,
    pub wall_seconds: f64,
    pub meteorology: String,
    pub synthetic_meteorology: bool,
    /// The diagnostic wind model's hourly adjustments (diagnostic met only).
    pub met_solves: Option<crate::met::diagnostic::SolveTotals>,
    /// The concentration NetCDF file (empty when none was written).
    pub output_file: String,
    /// Other files written: site series, meteorology.
    pub other_files: Vec<String>,
    pub budget: Vec<SpeciesBudget>,
    pub worst_relative_residual: f64,
    /// Wall seconds spent in each process over the run.
    pub process_seconds: BTreeMap<String, f64>,
    /// Run mean of the domain-mean surface-layer concentration, ug/m3, per
    /// output variable (species and PM25_TOTAL).
    pub surface_mean_ugm3: BTreeMap<String, f64>,
    /// Share of each particulate species in surface PM2.5, percent.
    pub pm25_composition_percent: BTreeMap<String, f64>,
    /// Meteorological statistics at the case's sites.
    pub sites: Vec<crate::met::stats::SiteStats>,
    pub emissions_outside_domain: Vec<String>,
    /// The attribution summary per receptor (tagged runs), for the terminal.
    #[serde(skip)]
    pub attribution: Vec<String>,
}

impl RunSummary {
    /// The Simulation's part; hooks and sinks fill the rest.
    pub fn new(sim: &Simulation) -> RunSummary {
        let m = &sim.model;
        let budget: Vec<SpeciesBudget> = m
            .budget
            .by_species(&m.state.tracers)
            .into_iter()
            .zip(&m.state.tracers.species)
            .map(|(b, sp)| SpeciesBudget {
                species: sp.name.to_string(),
                residual_kg: b.residual(),
                relative_residual: b.relative_residual(),
                budget: b,
            })
            .collect();
        RunSummary {
            run: sim.run_name.clone(),
            case_file: sim.case_file.display().to_string(),
            start: sim.clock.start_text.clone(),
            hours: sim.hours,
            steps: sim.clock.step,
            dt_s: sim.clock.dt,
            threads: rayon::current_num_threads(),
            wall_seconds: sim.started.elapsed().as_secs_f64(),
            meteorology: m.met.description(),
            synthetic_meteorology: m.met.synthetic(),
            met_solves: m.met.solve_totals(),
            output_file: String::new(),
            other_files: vec![],
            worst_relative_residual: budget
                .iter()
                .map(|b| b.relative_residual)
                .fold(0.0, f64::max),
            budget,
            process_seconds: BTreeMap::new(),
            surface_mean_ugm3: BTreeMap::new(),
            pm25_composition_percent: BTreeMap::new(),
            sites: vec![],
            emissions_outside_domain: sim.warnings.clone(),
            attribution: vec![],
        }
    }
}
