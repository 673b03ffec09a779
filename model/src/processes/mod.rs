//! Physical processes, one module each, applied in sequence by operator
//! splitting (the CMAQ/CAMx structure). Each process sees the same
//! `StepContext` and books its own budget terms; adding a process (chemistry,
//! plume-in-grid hand-over, attribution wrappers) adds a module, not a change
//! to the driver.

pub mod advection;
pub mod chemistry;
pub mod deposition;
pub mod diffusion;
pub mod emission;
pub mod soa;

use crate::budget::Budget;
use crate::error::Result;
use crate::grid::Grid;
use crate::met::MetFields;
use crate::state::State;

/// Boundary conditions per tracer: the inflow mixing ratio (kg tracer per kg
/// air) on the lateral sides and through the model top. A uniform mixing
/// ratio is a well-mixed background, which transport leaves exactly
/// unchanged. Attribution will give the background tag these values and
/// every other tag zero.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub lateral: Vec<f64>,
    pub top: Vec<f64>,
}

/// What every process may read during one outer step.
pub struct StepContext<'a> {
    pub grid: &'a Grid,
    /// Met at the start, middle and end of the step (winds from the middle,
    /// the end density is the continuity target).
    pub met_start: &'a MetFields,
    pub met_mid: &'a MetFields,
    pub met_end: &'a MetFields,
    pub dt: f64,
    /// Seconds since the run start, at the start of the step.
    pub time: f64,
    pub step_index: u64,
    pub boundary: &'a Boundary,
}

pub trait Process: Send {
    fn name(&self) -> &'static str;
    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()>;
}
