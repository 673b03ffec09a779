//! The mass budget. Every process books what it adds or removes, per tracer,
//! so that at any time
//!   burden_now - burden_start = emitted - dry - wet + chemistry
//!                               + boundary_in - boundary_out
//! to round-off. The residual is reported, never hidden.

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
}

impl TracerBudget {
    pub fn expected_final(&self) -> f64 {
        self.initial_kg + self.emitted_kg - self.dry_deposited_kg - self.wet_deposited_kg
            + self.chemistry_kg
            + self.lateral_in_kg
            - self.lateral_out_kg
            + self.top_in_kg
            - self.top_out_kg
    }
    pub fn residual(&self) -> f64 {
        self.final_kg - self.expected_final()
    }
    /// Largest gross term: the scale against which the residual is judged.
    pub fn throughput(&self) -> f64 {
        [
            self.initial_kg,
            self.emitted_kg,
            self.dry_deposited_kg,
            self.wet_deposited_kg,
            self.chemistry_kg.abs(),
            self.lateral_in_kg,
            self.lateral_out_kg,
            self.top_in_kg,
            self.top_out_kg,
            self.final_kg,
        ]
        .into_iter()
        .fold(0.0, f64::max)
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

    pub fn worst_relative_residual(&self) -> f64 {
        self.tracers
            .iter()
            .map(TracerBudget::relative_residual)
            .fold(0.0, f64::max)
    }
}
