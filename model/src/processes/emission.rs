//! Emission injection: adds each inventory entry's mass for the step to the
//! tracer of its species and tag (attribution routes entries to tags before
//! the run, `crate::attribution::routing`), and books it. Stacks are split over
//! layers by their plume rise in the step's mid-point met
//! ([`super::plume_rise`]). Linear: it touches each tracer alone, except
//! that the NO in fresh NOx titrates carried ozone in the cell it enters
//! (NO + O3 -> NO2 + O2 within a minute; [`super::chemistry::night`]),
//! booked as ozone's chemistry term. With temporal profiles, every rate is
//! scaled by its sector's mean factor over the step
//! ([`crate::emissions::temporal`], annual mean 1). Ozone is untagged, so every tag's
//! emission stays linear.

use super::plume_rise::layer_fractions;
use super::ProcessKind;
use super::{Process, StepContext};
use crate::budget::Budget;
use crate::emissions::Inventory;
use crate::error::Result;
use crate::state::{State, TracerSet};

pub struct EmissionInjection {
    pub inventory: Inventory,
    /// NOx species, its molar mass (g/mol), and the carried O3 tracer with
    /// its molar mass, when both are in the run.
    titration: Option<Titration>,
}

#[derive(Debug, Clone, Copy)]
struct Titration {
    nox: usize,
    o3: usize,
    /// kg of O3 removed per kg of NOx emitted: NO mole fraction x M_O3 / M_NOx.
    o3_per_nox: f64,
}

impl EmissionInjection {
    pub fn new(inventory: Inventory, tracers: &TracerSet, no_fraction: f64) -> Self {
        let nox = tracers.species_index("NOX");
        let o3 = tracers.species_index("O3");
        let titration = match (nox, o3) {
            (Some(nox), Some(o3)) if no_fraction > 0.0 => Some(Titration {
                nox,
                o3: tracers.index(o3, 0),
                o3_per_nox: no_fraction * tracers.species[o3].molar_mass
                    / tracers.species[nox].molar_mass,
            }),
            _ => None,
        };
        EmissionInjection {
            inventory,
            titration,
        }
    }

    /// The titration to apply after adding mass of `species`, if any.
    fn titration_of(&self, species: usize) -> Option<Titration> {
        self.titration.filter(|t| t.nox == species)
    }
}

impl Titration {
    /// Removes the ozone that `nox_kg` of fresh NOx titrates in a cell.
    fn apply(self, state: &mut State, budget: &mut Budget, nox_kg: f64, cell: [usize; 3]) {
        let o3 = &mut state.mass[[self.o3, cell[0], cell[1], cell[2]]];
        let lost = (nox_kg * self.o3_per_nox).min(o3.max(0.0));
        *o3 -= lost;
        budget.tracers[self.o3].chemistry_kg -= lost;
        budget.tracers[self.o3].chemistry_gross_kg += lost;
    }
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
        // Each sector's mean temporal factor over the step (1 without profiles).
        let t0 = ctx.start.epoch_seconds() + ctx.time;
        let nsec = self.inventory.sectors.len();
        let factor: Vec<f64> = match &mut self.inventory.temporal {
            Some(p) => (0..nsec).map(|s| p.mean_factor(s, t0, t0 + dt)).collect(),
            None => vec![1.0; nsec],
        };
        for c in &self.inventory.cells {
            let tr = state.tracers.index(c.species, c.tag);
            let m = c.rate * dt * factor[c.sector];
            state.mass[[tr, c.k, c.j, c.i]] += m;
            budget.tracers[tr].emitted_kg += m;
            if let Some(t) = self.titration_of(c.species) {
                t.apply(state, budget, m, [c.k, c.j, c.i]);
            }
        }
        for p in &self.inventory.points {
            let frac = layer_fractions(p, ctx.grid, ctx.met_mid);
            for &(s, rate) in &p.rates {
                let tr = state.tracers.index(s, p.tag);
                for (k, &f) in frac.iter().enumerate() {
                    if f > 0.0 {
                        let m = rate * dt * f * factor[p.sector];
                        state.mass[[tr, k, p.j, p.i]] += m;
                        budget.tracers[tr].emitted_kg += m;
                        if let Some(t) = self.titration_of(s) {
                            t.apply(state, budget, m, [k, p.j, p.i]);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
