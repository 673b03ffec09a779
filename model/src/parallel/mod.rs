//! The seam for domain decomposition. Every global reduction (Courant
//! maxima, sub-step counts, budget sums) and every halo exchange goes
//! through [`Comm`]; a serial run uses [`Serial`], which reduces over one
//! rank and never exchanges. An MPI binding will be one more `Comm`.
//! [`local::LocalComm`] runs ranks as threads of one process with
//! channels, which is how the tests prove that a decomposed run is
//! bit-identical to the undivided one.
//!
//! Reductions combine contributions in rank order, so every rank gets the
//! same bits and results do not depend on timing.

pub mod decomp;
pub mod halo;
pub mod local;

use crate::grid::Side;

/// Communication between the ranks of a decomposed run.
pub trait Comm: Send + Sync {
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// The maximum over all ranks (every rank gets it).
    fn max(&self, x: f64) -> f64;
    /// Element-wise sum over all ranks, added in rank order.
    fn sum(&self, x: &mut [f64]);
    /// Send `data` to the neighbour across `side`; return what that
    /// neighbour sent across its opposite side (to us).
    fn exchange(&self, side: Side, data: Vec<f64>) -> Vec<f64>;
}

/// One rank, no neighbours: reductions are the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct Serial;

impl Comm for Serial {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn max(&self, x: f64) -> f64 {
        x
    }
    fn sum(&self, _x: &mut [f64]) {}
    fn exchange(&self, side: Side, _data: Vec<f64>) -> Vec<f64> {
        // Only Halo sides exchange, and a serial grid has none.
        panic!(
            "serial run asked to exchange across {side:?}: no Halo edges without a decomposition"
        )
    }
}
