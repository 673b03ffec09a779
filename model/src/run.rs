//! The driver: builds the model from a case (grid, met, emissions, state,
//! the ordered process list) and steps it, writing outputs and the budget.
//!
//! Operator splitting per outer step dt (the CMAQ/CAMx sequence):
//!   emissions -> advection (x/y alternating, then z by continuity)
//!   -> horizontal diffusion -> vertical diffusion
//!   -> chemistry (when the run carries secondary species) -> dry dep -> wet dep
//! Plume-in-grid hand-over will slot into the list.

use crate::budget::Budget;
use crate::config::{parse_start, Case};
use crate::emissions::Inventory;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::met::{analytic::AnalyticMet, netcdf::NetcdfMet, MetFields, MetSource};
use crate::output::{write_atomic, NetcdfWriter, Provenance};
use crate::processes::advection::Advection;
use crate::processes::chemistry::Chemistry;
use crate::processes::deposition::{DryDeposition, WetDeposition};
use crate::processes::diffusion::{HorizontalDiffusion, VerticalDiffusion};
use crate::processes::emission::EmissionInjection;
use crate::processes::{Boundary, Process, StepContext};
use crate::species::Species;
use crate::state::{State, TracerSet};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// ug/m3 -> kg/m3.
const UG: f64 = 1e-9;

pub struct Model {
    pub grid: Grid,
    pub state: State,
    pub met: Box<dyn MetSource>,
    pub processes: Vec<Box<dyn Process>>,
    pub boundary: Boundary,
    pub budget: Budget,
    pub dt: f64,
    pub step_index: u64,
    pub outside_domain: Vec<String>,
    met_now: MetFields,
}

/// Rough bytes a run needs for `cells` grid cells and `ntracers` tracers:
/// four tracer-sized arrays (state, output accumulator, kernel work) and
/// about 48 cell-sized ones (three met instants of ~12 fields, advection
/// work arrays).
pub fn estimate_bytes(cells: usize, ntracers: usize) -> f64 {
    (ntracers as f64 * 4.0 + 48.0) * cells as f64 * 8.0
}

fn available_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

impl Model {
    pub fn from_case(case: &Case) -> Result<Model> {
        let cells = case.grid.nx * case.grid.ny * case.grid.layer_tops_m.len();
        let ntr = case.species.names.len();
        // Size check before allocating anything grid-sized.
        let needed = estimate_bytes(cells, ntr);
        let limit = case
            .run
            .max_memory_gib
            .map(|g| g * 1024f64.powi(3))
            .or_else(available_bytes);
        if let Some(limit) = limit {
            if needed > limit {
                return Err(Error::Memory {
                    needed_gib: needed / 1024f64.powi(3),
                    available_gib: limit / 1024f64.powi(3),
                    hint: format!(
                        "{}: reduce grid.nx/ny or the number of layers or species",
                        case.file.display()
                    ),
                });
            }
        }
        let grid = Grid::from_config(&case.grid);
        let species: Vec<Species> = case
            .species
            .names
            .iter()
            .map(|n| crate::species::lookup(n).expect("validated"))
            .collect();
        let names: Vec<&str> = species.iter().map(|s| s.name).collect();
        let start = parse_start(&case.run.start).expect("validated");
        let seconds = case.run.hours * 3600.0;
        let mut met: Box<dyn MetSource> = match case.met.kind.as_str() {
            "netcdf" => Box::new(NetcdfMet::open(
                &case.resolve(case.met.file.as_ref().unwrap()),
                &grid,
                case.physics.kz_min_m2s,
                seconds,
            )?),
            "reanalysis" => Box::new(crate::met::reanalysis::ReanalysisMet::open(
                &case.resolve(case.met.file.as_ref().unwrap()),
                &grid,
                case.physics.kz_min_m2s,
                seconds,
            )?),
            "wrf" => {
                let files: Vec<std::path::PathBuf> =
                    case.met.files.iter().map(|f| case.resolve(f)).collect();
                Box::new(crate::met::wrf::WrfMet::open(
                    &files,
                    &grid,
                    start,
                    seconds,
                    case.physics.kz_min_m2s,
                )?)
            }
            "diagnostic" if case.met.file.is_some() => {
                let coarse = crate::met::reanalysis::ReanalysisMet::open(
                    &case.resolve(case.met.file.as_ref().unwrap()),
                    &grid,
                    case.physics.kz_min_m2s,
                    (seconds / 3600.0).ceil() * 3600.0,
                )?;
                let terrain_file = case
                    .met
                    .terrain
                    .as_ref()
                    .and_then(|t| t.file.as_ref())
                    .map(|f| case.resolve(f));
                let terrain = crate::met::terrain::Terrain::build(
                    &grid,
                    case.met.terrain.as_ref(),
                    terrain_file.as_deref(),
                )?;
                Box::new(crate::met::adjusted::TerrainAdjustedMet::new(
                    coarse, &grid, terrain,
                ))
            }
            "diagnostic" => {
                let stations = case.met.stations.as_ref().map(|p| case.resolve(p));
                Box::new(crate::met::regime::RegimeMet::new(
                    &grid,
                    &case.met,
                    start,
                    case.physics.kz_min_m2s,
                    stations
                        .as_deref()
                        .map(|p| (p, case.run.hours.ceil() as usize)),
                    case.met
                        .terrain
                        .as_ref()
                        .and_then(|t| t.file.as_ref())
                        .map(|f| case.resolve(f)),
                )?)
            }
            _ => Box::new(AnalyticMet::new(
                &grid,
                &case.met,
                start,
                case.physics.kz_min_m2s,
            )),
        };
        let inventory = Inventory::load(case, &grid, &names)?;
        let outside_domain = inventory.outside_domain.clone();
        let met_now = met.at(0.0)?;
        let tracers = TracerSet::new(species);
        let mut state = State::new(&grid, tracers, &met_now.density);
        // Background and initial values are given in ug/m3 at the domain-mean
        // surface-layer density and applied as a uniform mixing ratio (a
        // well-mixed column), which transport leaves unchanged.
        let surface = met_now.density.index_axis(ndarray::Axis(0), 0);
        let rho_surface = surface.sum() / surface.len() as f64;
        let ratio_of = |table: &std::collections::BTreeMap<String, f64>, s: &Species| {
            table.get(s.name).copied().unwrap_or(0.0) * UG / rho_surface
        };
        let ntr = state.tracers.len();
        let mut lateral = vec![0.0; ntr];
        let mut top = vec![0.0; ntr];
        for tr in 0..ntr {
            let sp = *state.tracers.species_of(tr);
            lateral[tr] = ratio_of(&case.boundary.background_ugm3, &sp);
            top[tr] = lateral[tr];
            let init = ratio_of(&case.boundary.initial_ugm3, &sp);
            if init > 0.0 {
                let air = state.air_mass.clone();
                state
                    .mass
                    .index_axis_mut(ndarray::Axis(0), tr)
                    .zip_mut_with(&air, |m, &a| *m = init * a);
            }
        }
        let p = &case.physics;
        let mut processes: Vec<Box<dyn Process>> = vec![Box::new(EmissionInjection { inventory })];
        if p.advection {
            processes.push(Box::new(Advection::new(p.max_courant)));
        }
        if p.horizontal_kh_m2s > 0.0 {
            processes.push(Box::new(HorizontalDiffusion {
                kh: p.horizontal_kh_m2s,
            }));
        }
        if p.vertical_diffusion {
            processes.push(Box::new(VerticalDiffusion {
                theta: p.vertical_diffusion_theta,
            }));
        }
        if case.chemistry.enabled && Chemistry::applies(&names) {
            processes.push(Box::new(Chemistry {
                oh_peak_cm3: case.chemistry.oh_peak_cm3,
                oh_fixed_cm3: case.chemistry.oh_cm3,
                ozone_ppb: case.chemistry.ozone_ppb,
                h2o2_ppb: case.chemistry.h2o2_ppb,
                cloud_ph: case.chemistry.cloud_ph,
                start,
            }));
        }
        if p.dry_deposition {
            processes.push(Box::new(DryDeposition));
        }
        if p.wet_deposition {
            processes.push(Box::new(WetDeposition));
        }
        let budget = Budget::new(&state.totals());
        Ok(Model {
            grid,
            state,
            met,
            processes,
            boundary: Boundary { lateral, top },
            budget,
            dt: case.run.dt_s,
            step_index: 0,
            outside_domain,
            met_now,
        })
    }

    /// Advance one outer step of length `dt`.
    pub fn step(&mut self, dt: f64) -> Result<()> {
        let t0 = self.state.time;
        let met_mid = self.met.at(t0 + 0.5 * dt)?;
        let met_end = self.met.at(t0 + dt)?;
        {
            let ctx = StepContext {
                grid: &self.grid,
                met_start: &self.met_now,
                met_mid: &met_mid,
                met_end: &met_end,
                dt,
                time: t0,
                step_index: self.step_index,
                boundary: &self.boundary,
            };
            for p in self.processes.iter_mut() {
                p.apply(&ctx, &mut self.state, &mut self.budget)?;
            }
        }
        self.met_now = met_end;
        self.state.time = t0 + dt;
        self.step_index += 1;
        Ok(())
    }

    /// The met at the current model time.
    pub fn current_met(&self) -> &MetFields {
        &self.met_now
    }

    /// Refuse non-finite or clearly negative mass (beyond round-off).
    pub fn check_state(&self) -> Result<()> {
        for tr in 0..self.state.tracers.len() {
            let m = self.state.tracer(tr);
            let max = m.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
            if let Some(((k, j, i), v)) = m
                .indexed_iter()
                .find(|(_, v)| !v.is_finite() || **v < -1e-10 * max)
            {
                return Err(Error::Numerics {
                    process: "state check".into(),
                    detail: format!(
                        "tracer {} has mass {v} kg in cell (k={k}, j={j}, i={i})",
                        self.state.tracers.species_of(tr).name
                    ),
                });
            }
        }
        Ok(())
    }

    pub fn close_budget(&mut self) {
        let totals = self.state.totals();
        self.budget.close(&totals);
    }

    /// Concentration of every species (tags summed), ug/m3, lowest `nlev` layers.
    pub fn species_concentrations(&self, nlev: usize) -> Vec<Vec<f64>> {
        let g = &self.grid;
        let t = &self.state.tracers;
        (0..t.species.len())
            .map(|s| {
                let mut out = vec![0.0; nlev * g.ny * g.nx];
                for tag in 0..t.tags.len() {
                    let m = self.state.tracer(t.index(s, tag));
                    for k in 0..nlev {
                        for j in 0..g.ny {
                            for i in 0..g.nx {
                                out[(k * g.ny + j) * g.nx + i] +=
                                    m[[k, j, i]] / g.volume(k, j, i) / UG;
                            }
                        }
                    }
                }
                out
            })
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct SpeciesBudget {
    pub species: String,
    #[serde(flatten)]
    pub budget: crate::budget::TracerBudget,
    pub residual_kg: f64,
    pub relative_residual: f64,
}

#[derive(Debug, Serialize)]
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
    pub output_file: String,
    pub budget: Vec<SpeciesBudget>,
    pub worst_relative_residual: f64,
    /// Run mean of the domain-mean surface-layer concentration, ug/m3, per
    /// output variable (species and PM25_TOTAL).
    pub surface_mean_ugm3: std::collections::BTreeMap<String, f64>,
    /// Share of each particulate species in surface PM2.5, percent.
    pub pm25_composition_percent: std::collections::BTreeMap<String, f64>,
    /// Meteorological statistics at the case's sites.
    pub sites: Vec<crate::met::stats::SiteStats>,
    pub emissions_outside_domain: Vec<String>,
}

pub struct RunOptions {
    pub output_dir: Option<PathBuf>,
    pub progress: bool,
}

/// Run a case end to end: outputs go to `<dir>/<run.name>.nc` and
/// `<dir>/<run.name>.summary.json`.
pub fn run_case(case: &Case, opts: &RunOptions) -> Result<RunSummary> {
    let wall = std::time::Instant::now();
    let mut model = Model::from_case(case)?;
    let dir = opts
        .output_dir
        .clone()
        .unwrap_or_else(|| case.resolve(&case.output.dir));
    std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
    let dir = dir.canonicalize().map_err(|e| Error::output(&dir, e))?;
    let nc_path = dir.join(format!("{}.nc", case.run.name));
    let json_path = dir.join(format!("{}.summary.json", case.run.name));
    let species: Vec<String> = model
        .state
        .tracers
        .species
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    // Particulate species, summed into PM25_TOTAL for the composition.
    let particles: Vec<usize> = (0..species.len())
        .filter(|&s| {
            matches!(
                model.state.tracers.species[s].phase,
                crate::species::Phase::Particle { .. }
            )
        })
        .collect();
    let pm25_components: Vec<String> = particles.iter().map(|&s| species[s].clone()).collect();
    // SOA products, also summed into SOA_TOTAL.
    let soa_particles: Vec<usize> = particles
        .iter()
        .copied()
        .filter(|&s| crate::processes::soa::is_soa_particle(&species[s]))
        .collect();
    let mut variables = species.clone();
    if !particles.is_empty() {
        variables.push(crate::output::PM25_TOTAL.to_string());
    }
    if !soa_particles.is_empty() {
        variables.push(crate::output::SOA_TOTAL.to_string());
    }
    let mut surface_sum = vec![0.0; variables.len()];
    let mut samplers = Vec::with_capacity(case.sites.len());
    for (n, site) in case.sites.iter().enumerate() {
        let cell = model.grid.cell_of(site.lon, site.lat).ok_or_else(|| {
            Error::config(
                &case.file,
                format!("sites[{n}] ({})", site.name),
                format!(
                    "a site inside the grid; ({}, {}) is outside it",
                    site.lon, site.lat
                ),
            )
        })?;
        samplers.push(crate::met::stats::SiteSampler::new(
            &site.name, site.lon, site.lat, cell,
        ));
    }
    let nlev = case
        .output
        .layers
        .unwrap_or(model.grid.nz)
        .clamp(1, model.grid.nz);
    let met_desc = model.met.description();
    let synthetic = model.met.synthetic();
    let case_file = case.file.display().to_string();
    let mut writer = NetcdfWriter::create(
        &nc_path,
        &model.grid,
        nlev,
        &variables,
        &Provenance {
            title: &case.run.name,
            start: &case.run.start,
            met: &met_desc,
            synthetic_met: synthetic,
            case_file: &case_file,
            mode: &case.output.mode,
            pm25_components: &pm25_components,
        },
    )?;
    // Steps per output interval; dt is shortened if needed to divide it.
    let interval_s = case.output.interval_hours * 3600.0;
    let per_interval = (interval_s / case.run.dt_s).ceil().max(1.0) as usize;
    let dt = interval_s / per_interval as f64;
    let intervals = (case.run.hours / case.output.interval_hours).round() as usize;
    let mean = case.output.mode == "mean";
    let bar = progress_bar(opts.progress, intervals as u64);
    for n in 0..intervals {
        let mut acc: Option<Vec<Vec<f64>>> = None;
        for _ in 0..per_interval {
            model.step(dt)?;
            if mean {
                let c = model.species_concentrations(nlev);
                let a = acc.get_or_insert_with(|| c.iter().map(|v| vec![0.0; v.len()]).collect());
                for (a, c) in a.iter_mut().zip(&c) {
                    for (a, &c) in a.iter_mut().zip(c) {
                        *a += c / per_interval as f64;
                    }
                }
            }
        }
        model.check_state()?;
        for sampler in samplers.iter_mut() {
            sampler.sample(&model.grid, model.current_met());
        }
        // Fields stay f64 until they are written (the file stores float32).
        let mut fields = match acc {
            Some(a) => a,
            None => model.species_concentrations(nlev),
        };
        for group in [&particles, &soa_particles] {
            if !group.is_empty() {
                let mut total = vec![0.0; fields[0].len()];
                for &s in group.iter() {
                    total.iter_mut().zip(&fields[s]).for_each(|(t, v)| *t += v);
                }
                fields.push(total);
            }
        }
        // Run-mean of the domain-mean surface concentration, per variable.
        let plane = model.grid.nx * model.grid.ny;
        for (acc, f) in surface_sum.iter_mut().zip(&fields) {
            *acc += f[..plane].iter().sum::<f64>() / plane as f64 / intervals as f64;
        }
        // Means are stamped at the end of their interval.
        let stored: Vec<Vec<f32>> = fields
            .iter()
            .map(|f| f.iter().map(|&v| v as f32).collect())
            .collect();
        writer.write_record((n + 1) as f64 * case.output.interval_hours, &stored)?;
        bar.set_message(format!(
            "{:.0} h simulated",
            (n + 1) as f64 * case.output.interval_hours
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();
    model.close_budget();
    let nc = writer.finish()?;
    let surface: std::collections::BTreeMap<String, f64> = variables
        .iter()
        .cloned()
        .zip(surface_sum.iter().copied())
        .collect();
    let summary = summarise(
        case,
        &model,
        dt,
        wall.elapsed().as_secs_f64(),
        &met_desc,
        synthetic,
        &nc,
        &surface,
        &pm25_components,
        samplers.iter().map(|s| s.finish()).collect(),
    );
    let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
    write_atomic(&json_path, &json)?;
    Ok(summary)
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} output intervals, {msg} ({per_sec}, eta {eta})")
            .expect("valid template"),
    );
    bar
}

fn summarise(
    case: &Case,
    model: &Model,
    dt: f64,
    wall: f64,
    met: &str,
    synthetic: bool,
    nc: &Path,
    surface: &std::collections::BTreeMap<String, f64>,
    pm25_components: &[String],
    sites: Vec<crate::met::stats::SiteStats>,
) -> RunSummary {
    let total = surface
        .get(crate::output::PM25_TOTAL)
        .copied()
        .unwrap_or(0.0);
    // Shares of surface PM2.5; the SOA products are reported together as SOA.
    let mut composition = std::collections::BTreeMap::new();
    for c in pm25_components {
        let key = if crate::processes::soa::is_soa_particle(c) {
            "SOA".to_string()
        } else {
            c.clone()
        };
        let share = if total > 0.0 {
            100.0 * surface[c] / total
        } else {
            0.0
        };
        *composition.entry(key).or_insert(0.0) += share;
    }
    let t = &model.state.tracers;
    let budget: Vec<SpeciesBudget> = t
        .species
        .iter()
        .enumerate()
        .map(|(s, sp)| {
            let mut b = crate::budget::TracerBudget::default();
            for tag in 0..t.tags.len() {
                let x = &model.budget.tracers[t.index(s, tag)];
                b.initial_kg += x.initial_kg;
                b.emitted_kg += x.emitted_kg;
                b.dry_deposited_kg += x.dry_deposited_kg;
                b.wet_deposited_kg += x.wet_deposited_kg;
                b.chemistry_kg += x.chemistry_kg;
                b.lateral_in_kg += x.lateral_in_kg;
                b.lateral_out_kg += x.lateral_out_kg;
                b.top_in_kg += x.top_in_kg;
                b.top_out_kg += x.top_out_kg;
                b.final_kg += x.final_kg;
            }
            SpeciesBudget {
                species: sp.name.to_string(),
                residual_kg: b.residual(),
                relative_residual: b.relative_residual(),
                budget: b,
            }
        })
        .collect();
    RunSummary {
        run: case.run.name.clone(),
        case_file: case.file.display().to_string(),
        start: case.run.start.clone(),
        hours: case.run.hours,
        steps: model.step_index,
        dt_s: dt,
        threads: rayon::current_num_threads(),
        wall_seconds: wall,
        meteorology: met.to_string(),
        synthetic_meteorology: synthetic,
        output_file: nc.display().to_string(),
        worst_relative_residual: budget
            .iter()
            .map(|b| b.relative_residual)
            .fold(0.0, f64::max),
        budget,
        surface_mean_ugm3: surface.clone(),
        sites,
        pm25_composition_percent: composition,
        emissions_outside_domain: model.outside_domain.clone(),
    }
}
