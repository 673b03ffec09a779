//! The Simulation: one clock, the ordered process list, hooks and output
//! sinks around a [`Model`]. The CLI, the tests and the benches all step
//! through it (Oceananigans' Model/Simulation split; InMAP's run loop as a
//! list). The step loop:
//!
//! ```text
//! met at mid and end of the step
//! for each process: hooks(before) -> apply -> hooks(after)
//! clock.tick(); hooks(end of step); every sink sees the step
//! ```
//!
//! Hooks check and measure (timers, NaN and negativity checks, budget
//! closure) at named checkpoints; sinks write outputs on their own
//! schedules into the run's staging directory, and [`Simulation::finish`]
//! lets them close their files. Moving them into place is the business of
//! whoever owns the [`crate::output::OutputSet`] (`run::run_case`), once
//! everything the run writes is done.
//!
//! A SIGINT or SIGTERM (when the CLI has installed its handler,
//! [`crate::interrupt`]) is noticed at the start of each step and between
//! processes, and the step returns `Error::Interrupted`: the run unwinds
//! through the same path as any error, so the staging directory is removed
//! by its `Drop`.

pub mod hooks;
pub mod report;

pub use report::{RunSummary, SpeciesBudget};

use crate::attribution::tagging::Tagging;
use crate::config::Case;
use crate::emissions::Inventory;
use crate::error::Result;
use crate::grid::Side;
use crate::met::MetFields;
use crate::model::Model;
use crate::parallel::decomp::Subdomain;
use crate::parallel::halo::{self, Halo};
use crate::parallel::{Comm, Serial};
use crate::processes::{Process, StepContext};
use crate::state::TracerSet;
use crate::time::{Clock, Schedule};
use std::path::PathBuf;

/// What hooks and sinks may read: the model and the clock.
pub struct View<'a> {
    pub model: &'a Model,
    pub clock: &'a Clock,
}

/// Where in a step a hook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    BeforeProcess(&'static str),
    AfterProcess(&'static str),
    /// After the clock has ticked.
    EndOfStep,
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Checkpoint::BeforeProcess(p) => write!(f, "before {p}"),
            Checkpoint::AfterProcess(p) => write!(f, "after {p}"),
            Checkpoint::EndOfStep => write!(f, "at the end of the step"),
        }
    }
}

/// Something called at every checkpoint of every step: checks and timers.
pub trait Hook: Send {
    fn at(&mut self, point: Checkpoint, view: &View) -> Result<()>;
    /// Add what it measured to the run's summary.
    fn report(&self, _summary: &mut RunSummary) {}
}

/// An output: sees every step and writes on its own schedule.
pub trait Sink: Send {
    fn name(&self) -> &'static str;
    fn after_step(&mut self, view: &View) -> Result<()>;
    /// Finish writing (in the staging directory) and add to the summary.
    fn finish(&mut self, view: &View, summary: &mut RunSummary) -> Result<()>;
}

/// The met a step needs besides the model's current met: its middle and
/// end, and (in a divided run) the neighbours' mid-step density beyond
/// each halo side, which advection and diffusion both need at their
/// interface faces.
pub struct StepMet {
    pub mid: MetFields,
    pub end: MetFields,
    pub density_halo: Halo,
}

pub struct Simulation {
    pub model: Model,
    pub clock: Clock,
    pub processes: Vec<Box<dyn Process>>,
    pub hooks: Vec<Box<dyn Hook>>,
    pub sinks: Vec<Box<dyn Sink>>,
    /// Emissions outside the domain and similar notes for the user.
    pub warnings: Vec<String>,
    /// Run facts for the summary.
    pub case_file: PathBuf,
    pub run_name: String,
    pub hours: f64,
    pub started: std::time::Instant,
    /// The attribution setup of a tagged run.
    pub tagging: Option<Tagging>,
}

impl Simulation {
    /// The case on one rank: the whole domain, the standard process list and
    /// the standard hooks (timers; state and budget checks every output
    /// interval). No sinks: the caller adds what it wants written.
    /// With an `[attribution]` table the run is tagged: the regions are
    /// read, the inventory routed to the tags, and the setup kept in
    /// `tagging` for the attribution sinks.
    pub fn from_case(case: &Case) -> Result<Simulation> {
        if case.attribution.is_none() {
            return Simulation::build(
                case,
                TracerSet::new(case.species.clone()),
                None,
                Box::new(Serial),
            );
        }
        let (tagging, inventory) = Simulation::tagged_inventory(case)?;
        let tracers = tagging.tracers(case.species.clone());
        let mut sim = Simulation::with_inventory(case, tracers, inventory, None, Box::new(Serial))?;
        sim.tagging = Some(tagging);
        Ok(sim)
    }

    /// The case's attribution setup and its routed inventory, on the whole grid.
    pub fn tagged_inventory(case: &Case) -> Result<(Tagging, Inventory)> {
        // The size check comes before anything grid-sized (Model::new
        // repeats it with the tags counted).
        let cells = crate::model::cells(
            case.grid.nx.saturating_mul(case.grid.ny),
            case.grid.layer_tops_m.len(),
        );
        crate::model::check_size(case, cells, &TracerSet::new(case.species.clone()))?;
        let grid = crate::grid::Grid::new(&case.grid);
        let names: Vec<&str> = case.species.iter().map(|s| s.name).collect();
        let mut inventory = Inventory::load(&case.emissions, &grid, &names)?;
        let tagging = Tagging::new(case, &grid, &mut inventory)?;
        Ok((tagging, inventory))
    }

    /// The case with explicit tracers (species x tags), on the whole domain
    /// or on one rank's `part` of it with its communicator.
    pub fn build(
        case: &Case,
        tracers: TracerSet,
        part: Option<&Subdomain>,
        comm: Box<dyn Comm>,
    ) -> Result<Simulation> {
        let model = Model::new(case, tracers, part, comm)?;
        let names: Vec<&str> = model.state.tracers.species.iter().map(|s| s.name).collect();
        let inventory = Inventory::load(&case.emissions, &model.grid, &names)?;
        Simulation::assemble(case, model, inventory)
    }

    /// As [`Simulation::build`] with the inventory given (already routed to
    /// the tags, or scaled for a brute-force run), on the grid of `part`.
    pub fn with_inventory(
        case: &Case,
        tracers: TracerSet,
        inventory: Inventory,
        part: Option<&Subdomain>,
        comm: Box<dyn Comm>,
    ) -> Result<Simulation> {
        let model = Model::new(case, tracers, part, comm)?;
        Simulation::assemble(case, model, inventory)
    }

    fn assemble(case: &Case, model: Model, inventory: Inventory) -> Result<Simulation> {
        let warnings = inventory.outside_domain.clone();
        let processes = crate::processes::standard_split(case, inventory, &model.state.tracers)?;
        let clock = case.clock();
        let every_interval = Schedule::every(clock.steps_per_period);
        Ok(Simulation {
            hooks: vec![
                Box::new(hooks::ProcessTimer::default()),
                Box::new(hooks::StateCheck::every(every_interval)),
                Box::new(hooks::BudgetCheck::every(every_interval)),
            ],
            model,
            clock,
            processes,
            sinks: vec![],
            warnings,
            case_file: case.file.clone(),
            run_name: case.run.name.clone(),
            hours: case.run.hours,
            started: std::time::Instant::now(),
            tagging: None,
        })
    }

    /// The met at the middle and end of the next step.
    pub fn met_for_step(&mut self) -> Result<StepMet> {
        let (t0, dt) = (self.clock.time(), self.clock.dt);
        let mid = self.model.met.at(t0 + 0.5 * dt)?;
        let edges = self.model.grid.edges;
        let density_halo = if edges.any_halo() {
            halo::exchange3(&*self.model.comm, &edges, mid.density.view(), &Side::ALL)
        } else {
            Halo::default()
        };
        Ok(StepMet {
            mid,
            end: self.model.met.at(t0 + dt)?,
            density_halo,
        })
    }

    /// Apply every process once over the next step, with hooks around each.
    /// The clock does not move (benches repeat this on a fixed met).
    pub fn run_processes(&mut self, met: &StepMet) -> Result<()> {
        self.run_some_processes(met, |_| true)
    }

    /// Apply only the processes `wanted` picks by name, in their order, with
    /// hooks around each (the bench times one process at a time this way).
    pub fn run_some_processes(
        &mut self,
        met: &StepMet,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let m = &mut self.model;
        let clock = &self.clock;
        let ctx = StepContext {
            grid: &m.grid,
            met_start: &m.met_now,
            met_mid: &met.mid,
            met_end: &met.end,
            density_halo: &met.density_halo,
            dt: clock.dt,
            time: clock.time(),
            step_index: clock.step,
            start: clock.start,
            boundary: &m.boundary,
            comm: &*m.comm,
        };
        for p in self.processes.iter_mut() {
            let name = p.name();
            if !wanted(name) {
                continue;
            }
            crate::interrupt::check()?;
            for h in self.hooks.iter_mut() {
                h.at(Checkpoint::BeforeProcess(name), &View { model: &*m, clock })?;
            }
            p.apply(&ctx, &mut m.state, &mut m.budget)?;
            for h in self.hooks.iter_mut() {
                h.at(Checkpoint::AfterProcess(name), &View { model: &*m, clock })?;
            }
        }
        Ok(())
    }

    /// Advance one outer step.
    pub fn step(&mut self) -> Result<()> {
        crate::interrupt::check()?;
        let met = self.met_for_step()?;
        self.run_processes(&met)?;
        self.model.met_now = met.end;
        self.clock.tick();
        let view = View {
            model: &self.model,
            clock: &self.clock,
        };
        for h in self.hooks.iter_mut() {
            h.at(Checkpoint::EndOfStep, &view)?;
        }
        for s in self.sinks.iter_mut() {
            s.after_step(&view)?;
        }
        Ok(())
    }

    /// Step to the end of the run, then [`finish`](Self::finish).
    pub fn run(mut self) -> Result<RunSummary> {
        while !self.clock.done() {
            self.step()?;
        }
        self.finish()
    }

    /// Close the budget (summed over ranks), let hooks report and sinks
    /// finish their files (in the staging directory: nothing is moved
    /// into place here).
    pub fn finish(mut self) -> Result<RunSummary> {
        self.model.close_budget();
        self.model.budget.reduce(&*self.model.comm);
        let mut summary = RunSummary::new(&self);
        for h in &self.hooks {
            h.report(&mut summary);
        }
        let view = View {
            model: &self.model,
            clock: &self.clock,
        };
        for s in self.sinks.iter_mut() {
            s.finish(&view, &mut summary)?;
        }
        Ok(summary)
    }
}
