//! The physical model of one (sub)domain: the grid, the tracer state, the
//! meteorology that drives it, the boundary values, the mass budget and
//! the communicator. It knows nothing of files, clocks or outputs: the
//! [`crate::simulation::Simulation`] steps it.

use crate::budget::Budget;
use crate::config::Case;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::met::{MetFields, MetSource};
use crate::parallel::decomp::Subdomain;
use crate::parallel::Comm;
use crate::processes::Boundary;
use crate::state::{State, TracerSet};

/// ug/m3 -> kg/m3.
pub const UG: f64 = 1e-9;

pub struct Model {
    pub grid: Grid,
    pub state: State,
    pub met: Box<dyn MetSource>,
    pub boundary: Boundary,
    pub budget: Budget,
    pub comm: Box<dyn Comm>,
    /// The met at the clock's current time (the start of the next step).
    pub met_now: MetFields,
}

/// Rough bytes a run needs for `cells` grid cells and `ntracers` tracers
/// ([`crate::limits::memory_bytes`]).
pub fn estimate_bytes(cells: usize, ntracers: usize) -> f64 {
    crate::limits::memory_bytes(cells, ntracers)
}

/// Grid cells of `columns` columns of `layers` layers, saturating: a size
/// that does not fit a usize is refused by [`check_size`] as too big.
pub fn cells(columns: usize, layers: usize) -> usize {
    columns.saturating_mul(layers)
}

/// Refuse a case that cannot fit before allocating anything grid-sized
/// ([`crate::limits::check_memory`]).
pub fn check_size(case: &Case, cells: usize, tracers: &TracerSet) -> Result<()> {
    crate::limits::check_memory(&case.file, case.run.max_memory_gib, cells, tracers.len())
}

impl Model {
    /// The model of a case: the whole domain, or the `part` of it that one
    /// rank of a divided run owns (met read on the whole grid and cut to
    /// the part, so every rank sees the undivided run's values).
    pub fn new(
        case: &Case,
        tracers: TracerSet,
        part: Option<&Subdomain>,
        comm: Box<dyn Comm>,
    ) -> Result<Model> {
        if part.is_some() && tracers.is_tagged() {
            return Err(Error::config(
                &case.file,
                "attribution",
                "an undivided domain: tagged runs do not yet exchange tag shares between subdomains",
            ));
        }
        if part.is_some()
            && case.emissions.plume_in_grid.stacks != crate::config::PlumeInGridStacks::None
        {
            return Err(Error::config(
                &case.file,
                "emissions.plume_in_grid",
                "an undivided domain: plume-in-grid puffs do not yet move between subdomains",
            ));
        }
        // Size check before allocating anything grid-sized (even the grid).
        let columns = match part {
            Some(p) => (p.i.1 - p.i.0).saturating_mul(p.j.1 - p.j.0),
            None => case.grid.nx.saturating_mul(case.grid.ny),
        };
        check_size(case, cells(columns, case.grid.layer_tops_m.len()), &tracers)?;
        let whole = Grid::new(&case.grid);
        let grid = match part {
            Some(p) => p.grid(&whole),
            None => whole.clone(),
        };
        let mut met = crate::met::open_case(case, &whole)?;
        let first = met.at(0.0)?;
        // Inflow and initial values are given in ug/m3 at the whole
        // domain's mean surface-layer density and applied as a mixing ratio
        // uniform along each side and over the top (well-mixed columns); the
        // same value everywhere is a background transport leaves unchanged.
        let surface = first.density.index_axis(ndarray::Axis(0), 0);
        let rho_surface = surface.sum() / surface.len() as f64;
        let (met, met_now) = match part {
            Some(p) => (
                Box::new(crate::met::Window {
                    inner: met,
                    i: p.i,
                    j: p.j,
                }) as Box<dyn MetSource>,
                first.window(p.i, p.j),
            ),
            None => (met, first),
        };
        let mut state = State::new(&grid, tracers, &met_now.density);
        let ntr = state.tracers.len();
        let ratio = |ugm3: f64| ugm3 * UG / rho_surface;
        // Inflow (every side and the top) belongs to the boundary tag, initial
        // values to the initial tag.
        let air = state.air_mass.clone();
        let (boundary_tag, initial_tag) = (state.tracers.boundary_tag, state.tracers.initial_tag);
        let mut top = vec![0.0; ntr];
        let mut lateral: [Vec<f64>; 4] = std::array::from_fn(|_| vec![0.0; ntr]);
        for s in 0..state.tracers.species.len() {
            let tr = state.tracers.index(s, boundary_tag);
            top[tr] = ratio(case.boundary.background_ugm3[s]);
            for (side, values) in lateral.iter_mut().zip(&case.boundary.sides_ugm3) {
                side[tr] = ratio(values[s]);
            }
            let init = ratio(case.boundary.initial_ugm3[s]);
            if init > 0.0 {
                state
                    .mass
                    .index_axis_mut(ndarray::Axis(0), state.tracers.index(s, initial_tag))
                    .zip_mut_with(&air, |m, &a| *m = init * a);
            }
        }
        let budget = Budget::new(&state.totals());
        Ok(Model {
            grid,
            state,
            met,
            boundary: Boundary { lateral, top },
            budget,
            comm,
            met_now,
        })
    }

    /// Refuse non-finite or clearly negative mass (beyond round-off),
    /// naming where it was found.
    pub fn check_state(&self, checkpoint: &str) -> Result<()> {
        use rayon::prelude::*;
        // One parallel pass per tracer finds whether anything is wrong (the
        // largest |mass|, the smallest mass, and any non-finite value); only
        // then is the tracer scanned again for the first offending cell, in
        // index order, as before. Tracers in parallel; the first failing
        // tracer in order is the one reported.
        let state = &self.state;
        let failed = (0..state.tracers.len())
            .into_par_iter()
            .map(|tr| {
                let m = state.tracer(tr);
                let (max, min, finite) =
                    m.iter().fold((0.0f64, 0.0f64, true), |(mx, mn, ok), &v| {
                        let a = v.abs();
                        // Compare-selects, so the fold vectorises; a NaN fails `ok`.
                        (
                            if a > mx { a } else { mx },
                            if v < mn { v } else { mn },
                            ok & (a <= f64::MAX),
                        )
                    });
                if finite && min >= -1e-10 * max {
                    return None;
                }
                m.indexed_iter()
                    .find(|(_, v)| !v.is_finite() || **v < -1e-10 * max)
                    .map(|(at, &v)| (tr, at, v))
            })
            .find_first(|f| f.is_some())
            .flatten();
        if let Some((tr, (k, j, i), v)) = failed {
            let (i0, j0) = self.grid.origin;
            return Err(Error::Numerics {
                process: checkpoint.to_string(),
                detail: format!(
                    "tracer {} has mass {v} kg in cell (k={k}, j={}, i={})",
                    self.state.tracers.species_of(tr).name,
                    j + j0,
                    i + i0
                ),
            });
        }
        Ok(())
    }

    /// Set the budget's final burden from this rank's state.
    pub fn close_budget(&mut self) {
        let totals = self.state.totals();
        self.budget.close(&totals);
    }
}
