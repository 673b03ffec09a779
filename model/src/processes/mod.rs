//! Physical processes, one module each, applied in sequence by operator
//! splitting (the CMAQ/CAMx structure). Each process sees the same
//! `StepContext` and books its own budget terms; adding a process (puff
//! hand-over, attribution wrappers) adds a module and one line in
//! [`standard_split`], not a change to the driver.
//!
//! A process is *linear* when it acts on each tracer alone with
//! coefficients from the met and the grid (advection, diffusion,
//! deposition, emission): its coefficients are computed once per cell and
//! applied to every tracer, so tags ride along at the cost of memory
//! traffic only. Diffusion, deposition and emission are also additive (the
//! tags' sum moves as the bulk); PPM advection is not quite, because its
//! limiter depends on each tracer's own field, which the attribution
//! wrapper corrects. A *nonlinear* process couples tracers within a cell
//! (chemistry); attribution wraps it to apportion what it converts.

pub mod advection;
pub mod chemistry;
pub mod deposition;
pub mod diffusion;
pub mod emission;
pub mod plume_in_grid;
pub mod plume_rise;
pub use chemistry::soa;
pub mod surface_resistance;
pub mod tagged_chemistry;

use crate::budget::Budget;
use crate::config::Case;
use crate::emissions::Inventory;
use crate::error::Result;
use crate::grid::{Grid, Side};
use crate::met::MetFields;
use crate::parallel::halo::Halo;
use crate::parallel::Comm;
use crate::state::{State, TracerSet};
use crate::time::StartTime;

/// Boundary conditions per tracer: the inflow mixing ratio (kg tracer per kg
/// air) through each `Open` lateral side and through the model top. It
/// enters only where the air-mass flux points into the domain (outflow
/// carries the interior's values). Equal values on every side and the top
/// are a well-mixed background, which transport leaves exactly unchanged.
/// Only the boundary tag has non-zero values.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// Per side, in [`Side::ALL`] order (west, east, south, north).
    pub lateral: [Vec<f64>; 4],
    pub top: Vec<f64>,
}

impl Boundary {
    /// The same inflow through every side and the top.
    pub fn uniform(values: Vec<f64>) -> Boundary {
        Boundary {
            lateral: std::array::from_fn(|_| values.clone()),
            top: values,
        }
    }

    /// Inflow through `side`, per tracer.
    pub fn side(&self, side: Side) -> &[f64] {
        &self.lateral[side.index()]
    }
}

/// What every process may read during one outer step.
pub struct StepContext<'a> {
    pub grid: &'a Grid,
    /// Met at the start, middle and end of the step (winds from the middle,
    /// the end density is the continuity target).
    pub met_start: &'a MetFields,
    pub met_mid: &'a MetFields,
    pub met_end: &'a MetFields,
    /// The neighbours' mid-step density beyond each Halo side (empty when
    /// the domain is undivided).
    pub density_halo: &'a Halo,
    pub dt: f64,
    /// Seconds since the run start, at the start of the step.
    pub time: f64,
    pub step_index: u64,
    /// The run's UTC start (solar time for photolysis-driven rates).
    pub start: StartTime,
    pub boundary: &'a Boundary,
    /// Global reductions and halo exchange ([`crate::parallel::Serial`] when undivided).
    pub comm: &'a dyn Comm,
}

/// Whether a process acts on each tracer alone (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKind {
    Linear,
    Nonlinear,
}

pub trait Process: Send {
    fn name(&self) -> &'static str;
    fn kind(&self) -> ProcessKind;
    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()>;
    /// The puffs the process holds (plume-in-grid), for sampling and checks.
    fn puffs(&self) -> &[plume_in_grid::StackPuffs] {
        &[]
    }
}

/// The operator-splitting sequence of a case (the CMAQ/CAMx order):
/// emissions -> advection (x/y alternating, then z by continuity)
/// -> horizontal diffusion -> vertical diffusion -> chemistry (when the run
/// carries secondary species) -> dry deposition -> wet deposition
/// (-> plume-in-grid puffs, when stacks are flagged). Without chemistry,
/// vertical diffusion and dry deposition run as one column pass
/// ([`diffusion::VerticalDiffusion`]).
/// Processes switched off in the case are left out. Stacks flagged for
/// plume-in-grid leave the inventory for the puffs, which hand their mass
/// to the grid after every grid process of the step.
pub fn standard_split(
    case: &Case,
    mut inventory: Inventory,
    tracers: &TracerSet,
) -> Result<Vec<Box<dyn Process>>> {
    let p = &case.physics;
    let plume_in_grid = plume_in_grid::PlumeInGrid::take_stacks(case, &mut inventory, tracers)?;
    let mut list: Vec<Box<dyn Process>> = vec![Box::new(emission::EmissionInjection::new(
        inventory,
        tracers,
        // Fresh NO titrates ozone only where chemistry runs.
        if case.chemistry.enabled {
            case.chemistry.no_fraction_of_nox
        } else {
            0.0
        },
    ))];
    if p.advection {
        list.push(Box::new(advection::Advection::new(
            p.max_courant,
            p.ppm_edges,
        )));
    }
    if p.horizontal_kh_m2s > 0.0 {
        list.push(Box::new(diffusion::HorizontalDiffusion::new(
            p.horizontal_kh_m2s,
        )));
    }
    // Dry deposition is the lower boundary of vertical mixing (CMAQ's
    // vdiffacmx, CAMx's vdiffimp): one column pass when no chemistry sits
    // between them (then it equals diffusion followed by deposition bit for
    // bit). With chemistry it stays after chemistry (a pass of its own):
    // moving it before chemistry moved the default case's secondary PM by
    // 3-4 %, beyond its regression's 1 % (docs/performance.md).
    let dry_deposition = if p.dry_deposition {
        let default_land_use =
            crate::met::land_use::LandUse::from_name(&p.land_use).ok_or_else(|| {
                crate::error::Error::config(
                    &case.file,
                    "physics.land_use",
                    "a Wesely land-use name",
                )
            })?;
        Some(deposition::DryDeposition { default_land_use })
    } else {
        None
    };
    let names: Vec<&str> = tracers.species.iter().map(|s| s.name).collect();
    let chemistry = (case.chemistry.enabled && chemistry::Chemistry::applies(&names))
        .then(|| chemistry::Chemistry::new(&case.chemistry));
    let theta = p.vertical_diffusion.then_some(p.vertical_diffusion_theta);
    let (with_diffusion, after_chemistry) = match chemistry {
        Some(_) => (None, dry_deposition),
        None => (dry_deposition, None),
    };
    if theta.is_some() || with_diffusion.is_some() {
        list.push(Box::new(diffusion::VerticalDiffusion {
            theta,
            dry_deposition: with_diffusion,
        }));
    }
    if let Some(chemistry) = chemistry {
        if tracers.is_tagged() {
            let wrapper = tagged_chemistry::TaggedChemistry::new(chemistry, tracers)
                .map_err(|e| crate::error::Error::config(&case.file, "attribution.species", e))?;
            list.push(Box::new(wrapper));
        } else {
            list.push(Box::new(chemistry));
        }
    }
    if let Some(dry) = after_chemistry {
        list.push(Box::new(diffusion::VerticalDiffusion {
            theta: None,
            dry_deposition: Some(dry),
        }));
    }
    if p.wet_deposition {
        list.push(Box::new(deposition::WetDeposition));
    }
    if let Some(pig) = plume_in_grid {
        list.push(Box::new(pig));
    }
    Ok(list)
}
