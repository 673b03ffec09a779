//! Emission injection: adds each inventory entry's mass for the step to the
//! tracer of its species and tag (attribution routes entries to tags before
//! the run, `crate::attribution::routing`), and books it. Stacks are split over
//! layers by their plume rise in the step's mid-point met
//! ([`super::plume_rise`]). Linear: it touches each tracer alone.

use super::plume_rise::layer_fractions;
use super::ProcessKind;
use super::{Process, StepContext};
use crate::budget::Budget;
use crate::emissions::Inventory;
use crate::error::Result;
use crate::state::State;

pub struct EmissionInjection {
    pub inventory: Inventory,
}

impl Process for EmissionInjection {
    fn name(&self) -> &'static str {
        "emissions"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let dt = ctx.dt;
        for c in &self.inventory.cells {
            let tr = state.tracers.index(c.species, c.tag);
            let m = c.rate * dt;
            state.mass[[tr, c.k, c.j, c.i]] += m;
            budget.tracers[tr].emitted_kg += m;
        }
        for p in &self.inventory.points {
            let frac = layer_fractions(p, ctx.grid, ctx.met_mid);
            for &(s, rate) in &p.rates {
                let tr = state.tracers.index(s, p.tag);
                for (k, &f) in frac.iter().enumerate() {
                    if f > 0.0 {
                        let m = rate * dt * f;
                        state.mass[[tr, k, p.j, p.i]] += m;
                        budget.tracers[tr].emitted_kg += m;
                    }
                }
            }
        }
        Ok(())
    }
}
