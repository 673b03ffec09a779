//! The mass budget. Every process books what it adds or removes, per tracer,
//! so that at any time
//!   burden_now + in_puffs - burden_start = emitted - dry - wet + chemistry
//!                                          + boundary_in - boundary_out
//! to round-off, where `in_puffs` is the mass plume-in-grid puffs hold and
//! have not yet handed to the grid ([`crate::processes::plume_in_grid`]).
//! The residual is reported, never hidden.

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TracerBudget {
    pub initial_kg: f64,
    pub emitted_kg: f64,
    pub dry_deposited_kg: f64,
    pub wet_deposited_kg: f64,
    /// Net chemical production (negative = loss).
    pub chemistry_kg: f64,
    pub lateral_in_kg: f64,
    pub lateral_out_kg: f64,
    pub top_in_kg: f64,
    pub top_out_kg: f64,
    pub final_kg: f64,
    /// Sum of the magnitudes of chemistry's per-layer, per-step changes:
    /// a scale for round-off where production and loss cancel (a night
    /// reservoir that returns by day), not a term of the balance.
    pub chemistry_gross_kg: f64,
    /// Mass held in plume-in-grid puffs now (emitted, not yet handed to the
    /// grid): a stock beside `final_kg`, set by the plume-in-grid process.
    pub in_puffs_kg: f64,
}

impl TracerBudget {
    const TERMS: usize = 12;

    /// The terms in declaration order.
    fn terms(&self) -> [f64; Self::TERMS] {
        [
            self.initial_kg,
            self.emitted_kg,
            self.dry_deposited_kg,
            self.wet_deposited_kg,
            self.chemistry_kg,
            self.lateral_in_kg,
            self.lateral_out_kg,
            self.top_in_kg,
            self.top_out_kg,
            self.final_kg,
            self.chemistry_gross_kg,
            self.in_puffs_kg,
        ]
    }

    fn from_terms(t: &[f64]) -> TracerBudget {
        TracerBudget {
            initial_kg: t[0],
            emitted_kg: t[1],
            dry_deposited_kg: t[2],
            wet_deposited_kg: t[3],
            chemistry_kg: t[4],
            lateral_in_kg: t[5],
            lateral_out_kg: t[6],
            top_in_kg: t[7],
            top_out_kg: t[8],
            final_kg: t[9],
            chemistry_gross_kg: t[10],
            in_puffs_kg: t[11],
        }
    }

    /// Add another budget's terms to this one.
    pub fn add(&mut self, o: &TracerBudget) {
        let sum: Vec<f64> = self
            .terms()
            .iter()
            .zip(o.terms())
            .map(|(a, b)| a + b)
            .collect();
        *self = TracerBudget::from_terms(&sum);
    }

    pub fn expected_final(&self) -> f64 {
        self.initial_kg + self.emitted_kg - self.dry_deposited_kg - self.wet_deposited_kg
            + self.chemistry_kg
            + self.lateral_in_kg
            - self.lateral_out_kg
            + self.top_in_kg
            - self.top_out_kg
    }
    /// Grid burden plus the mass held in puffs, minus what the terms say.
    pub fn residual(&self) -> f64 {
        self.final_kg + self.in_puffs_kg - self.expected_final()
    }
    /// Largest gross term: the scale against which the residual is judged.
    pub fn throughput(&self) -> f64 {
        self.terms().into_iter().map(f64::abs).fold(0.0, f64::max)
    }
    pub fn relative_residual(&self) -> f64 {
        let t = self.throughput();
        if t == 0.0 {
            0.0
        } else {
            self.residual().abs() / t
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Budget {
    pub tracers: Vec<TracerBudget>,
}

impl Budget {
    pub fn new(initial: &[f64]) -> Self {
        Budget {
            tracers: initial
                .iter()
                .map(|&m| TracerBudget {
                    initial_kg: m,
                    final_kg: m,
                    ..Default::default()
                })
                .collect(),
        }
    }

    pub fn close(&mut self, totals: &[f64]) {
        for (b, &m) in self.tracers.iter_mut().zip(totals) {
            b.final_kg = m;
        }
    }

    /// Sum the budgets of every rank (in rank order) so each holds the
    /// whole domain's.
    pub fn reduce(&mut self, comm: &dyn crate::parallel::Comm) {
        let mut flat: Vec<f64> = self.tracers.iter().flat_map(TracerBudget::terms).collect();
        comm.sum(&mut flat);
        for (b, t) in self
            .tracers
            .iter_mut()
            .zip(flat.chunks(TracerBudget::TERMS))
        {
            *b = TracerBudget::from_terms(t);
        }
    }

    /// Per-species budgets: each species' tags summed.
    pub fn by_species(&self, tracers: &crate::state::TracerSet) -> Vec<TracerBudget> {
        (0..tracers.species.len())
            .map(|s| {
                let mut sum = TracerBudget::default();
                for tr in tracers.tracers_of(s) {
                    sum.add(&self.tracers[tr]);
                }
                sum
            })
            .collect()
    }

    pub fn worst_relative_residual(&self) -> f64 {
        self.tracers
            .iter()
            .map(TracerBudget::relative_residual)
            .fold(0.0, f64::max)
    }
}
