//! The standard hooks: a timer per process, NaN and negativity checks, and
//! the mass budget's closure, each at named checkpoints.

use super::{Checkpoint, Hook, RunSummary, View};
use crate::error::{Error, Result};
use crate::time::Schedule;
use std::time::Instant;

/// Wall seconds spent in each process, in the order they run.
#[derive(Default)]
pub struct ProcessTimer {
    started: Option<Instant>,
    seconds: Vec<(&'static str, f64)>,
}

impl Hook for ProcessTimer {
    fn at(&mut self, point: Checkpoint, _view: &View) -> Result<()> {
        match point {
            Checkpoint::BeforeProcess(_) => self.started = Some(Instant::now()),
            Checkpoint::AfterProcess(name) => {
                let s = self
                    .started
                    .take()
                    .map_or(0.0, |t| t.elapsed().as_secs_f64());
                match self.seconds.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += s,
                    None => self.seconds.push((name, s)),
                }
            }
            Checkpoint::EndOfStep => {}
        }
        Ok(())
    }

    fn report(&self, summary: &mut RunSummary) {
        summary.process_seconds = self
            .seconds
            .iter()
            .map(|&(n, s)| (n.to_string(), s))
            .collect();
    }
}

/// Refuses non-finite or negative mass: at the end of every scheduled step,
/// and after every process when `after_each_process` is set (to find which
/// process made it).
pub struct StateCheck {
    pub schedule: Schedule,
    pub after_each_process: bool,
}

impl StateCheck {
    pub fn every(schedule: Schedule) -> StateCheck {
        StateCheck {
            schedule,
            after_each_process: false,
        }
    }
}

impl Hook for StateCheck {
    fn at(&mut self, point: Checkpoint, view: &View) -> Result<()> {
        let due = match point {
            Checkpoint::AfterProcess(_) => self.after_each_process,
            Checkpoint::EndOfStep => self.schedule.due(view.clock),
            Checkpoint::BeforeProcess(_) => false,
        };
        if !due {
            return Ok(());
        }
        view.model
            .check_state(&format!("state check {point} (step {})", view.clock.step))
    }
}

/// Checks that the burden equals what the budget says it should be:
/// initial + emitted - deposited + chemistry + net inflow (less what
/// plume-in-grid puffs still hold), summed over ranks, within `tolerance` of each species' largest term.
pub struct BudgetCheck {
    pub schedule: Schedule,
    pub tolerance: f64,
}

impl BudgetCheck {
    /// Round-off over a year of steps stays near 1e-12; 1e-9 flags a
    /// process that books less (or more) than it moves.
    pub fn every(schedule: Schedule) -> BudgetCheck {
        BudgetCheck {
            schedule,
            tolerance: 1e-9,
        }
    }
}

impl Hook for BudgetCheck {
    fn at(&mut self, point: Checkpoint, view: &View) -> Result<()> {
        if point != Checkpoint::EndOfStep || !self.schedule.due(view.clock) {
            return Ok(());
        }
        let m = view.model;
        let totals = m.state.totals();
        let n = totals.len();
        // [burden, expected burden, largest term] per tracer, summed over ranks.
        let mut v = Vec::with_capacity(3 * n);
        for (b, &t) in m.budget.tracers.iter().zip(&totals) {
            let mut now = b.clone();
            now.final_kg = t;
            // Mass held in plume-in-grid puffs counts with the burden.
            v.extend([t + b.in_puffs_kg, b.expected_final(), now.throughput()]);
        }
        m.comm.sum(&mut v);
        for (tr, x) in v.chunks(3).enumerate() {
            let (burden, expected, scale) = (x[0], x[1], x[2]);
            if (burden - expected).abs() > self.tolerance * scale {
                return Err(Error::Numerics {
                    process: format!("budget check at step {}", view.clock.step),
                    detail: format!(
                        "tracer {} holds {burden:e} kg but its budget says {expected:e} kg: a process moves mass it does not book",
                        m.state.tracers.species_of(tr).name
                    ),
                });
            }
        }
        Ok(())
    }
}
