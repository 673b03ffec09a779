//! Turbulent diffusion of mixing ratio, in flux form so that mass is
//! conserved to round-off:  d(rho r)/dt = div(rho K grad r).
//!
//! - Vertical: theta-method (backward Euler by default, Crank-Nicolson at
//!   theta = 0.5) with Kz at layer tops from the met. The tridiagonal matrix
//!   depends only on the column, so it is factorised once per step (Thomas
//!   algorithm, e.g. Press et al., Numerical Recipes, 2.4) and applied to all
//!   tracers, vectorised along x. Backward Euler gives an M-matrix, so the
//!   solution stays positive for any step. The pass runs by rows of columns
//!   (one j, all k): a row's factors are built once and every tracer's row
//!   (nz x nx values) is solved while it is in cache. When no chemistry
//!   sits between them ([`super::standard_split`]), dry deposition is the
//!   column's lower boundary in the same pass, as in CMAQ (`vdiffacmx.F`:
//!   the lowest layer decays by exp(-v_d dt / dz1) inside the vertical
//!   mixing, ISAM tags by the same factor) and CAMx (`vdiffimp.f`: v_d in
//!   the lowest diagonal): right after the solve the lowest layer keeps
//!   exp(-v_d dt / dz0) of its mass (the exact decay of
//!   [`super::deposition`], one factor per species and cell for all its
//!   tags), which equals diffusion followed by deposition bit for bit.
//! - Horizontal ([`horizontal`]): explicit, constant K_h, both directions
//!   at once, sub-stepped for positivity, each horizontal plane taking all
//!   its sub-steps while it is in cache.
//!
//! Both are linear: the matrix (vertical) and conductances (horizontal) are
//! built once per step from the met and applied to every tracer.

use super::deposition::DryDeposition;
use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::Result;
use crate::state::State;
use ndarray::{s, Array3, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// Vertical diffusion with dry deposition as its lower boundary, in one
/// pass over rows of columns (module notes). `theta: None` (or a single
/// layer) leaves diffusion out, `dry_deposition: None` deposition.
pub struct VerticalDiffusion {
    pub theta: Option<f64>,
    pub dry_deposition: Option<DryDeposition>,
}

/// One row's tridiagonal system, [k][i] with i along the row: built from
/// the met once per step and shared by every tracer.
struct RowSystem {
    /// Conductance below and above each cell (0 at the ground and the
    /// top), theta times the one below, air / dt, and the Thomas factors.
    below: Vec<f64>,
    above: Vec<f64>,
    th_below: Vec<f64>,
    air_dt: Vec<f64>,
    inv: Vec<f64>,
    cp: Vec<f64>,
}

impl RowSystem {
    /// Row `j`: conductance across the top of layer k, kg/s, rho K A /
    /// distance; sub = -th D_{k-1}, diag = M/dt + th (D_{k-1}+D_k),
    /// sup = -th D_k, factorised by the Thomas algorithm.
    fn new(ctx: &StepContext, air: &Array3<f64>, j: usize, th: f64) -> RowSystem {
        let g = ctx.grid;
        let (nz, nx, dt) = (g.nz, g.nx, ctx.dt);
        let (rho, kz) = (&ctx.met_mid.density, &ctx.met_mid.kz);
        let mut cond = vec![0.0; (nz - 1) * nx];
        for k in 0..nz - 1 {
            let dist = g.z_mid[k + 1] - g.z_mid[k];
            for i in 0..nx {
                let rho_face = 0.5 * (rho[[k, j, i]] + rho[[k + 1, j, i]]);
                cond[k * nx + i] = rho_face * kz[[k, j, i]] * g.area[[j, i]] / dist;
            }
        }
        let d = |k: isize, i: usize| {
            if k < 0 || k as usize >= nz - 1 {
                0.0
            } else {
                cond[k as usize * nx + i]
            }
        };
        let n = nz * nx;
        let (mut cp, mut inv) = (vec![0.0; n], vec![0.0; n]);
        for i in 0..nx {
            let mut prev_cp = 0.0;
            for k in 0..nz {
                let ki = k as isize;
                let sub = -th * d(ki - 1, i);
                let diag = air[[k, j, i]] / dt + th * (d(ki - 1, i) + d(ki, i));
                let sup = -th * d(ki, i);
                let den = 1.0 / (diag - sub * prev_cp);
                inv[k * nx + i] = den;
                cp[k * nx + i] = sup * den;
                prev_cp = cp[k * nx + i];
            }
        }
        let (mut below, mut above) = (vec![0.0; n], vec![0.0; n]);
        let mut air_dt = vec![0.0; n];
        for k in 0..nz {
            for i in 0..nx {
                below[k * nx + i] = d(k as isize - 1, i);
                above[k * nx + i] = d(k as isize, i);
                air_dt[k * nx + i] = air[[k, j, i]] / dt;
            }
        }
        let th_below = below.iter().map(|&b| th * b).collect();
        RowSystem {
            below,
            above,
            th_below,
            air_dt,
            inv,
            cp,
        }
    }

    /// One tracer's row [k][i]: mass to mixing ratio, the forward sweep,
    /// back substitution, mixing ratio to mass. `r` ((nz + 2) nx) and `rhs`
    /// ((nz + 1) nx) are scratch; `air` is the row's air mass [k][i].
    fn solve(
        &self,
        th: f64,
        m: &mut ArrayViewMut2<f64>,
        air: &[f64],
        r: &mut [f64],
        rhs: &mut [f64],
    ) {
        let (nz, nx) = m.dim();
        // Mixing ratios with a zero layer below and above, so the ground
        // and top rows need no branches (their conductance there is 0).
        for k in 0..nz {
            let line = m.row(k);
            let line = line.as_slice().expect("standard layout");
            let a = &air[k * nx..(k + 1) * nx];
            for ((v, &x), &a) in r[(k + 1) * nx..(k + 2) * nx].iter_mut().zip(line).zip(a) {
                *v = x / a;
            }
        }
        for k in 0..nz {
            let at = k * nx;
            let (r_lo, r_k, r_up) = (
                &r[at..at + nx],
                &r[at + nx..at + 2 * nx],
                &r[at + 2 * nx..at + 3 * nx],
            );
            let (prev, out) = rhs[at..at + 2 * nx].split_at_mut(nx);
            let (lo, up, thl, ad, iv) = (
                &self.below[at..at + nx],
                &self.above[at..at + nx],
                &self.th_below[at..at + nx],
                &self.air_dt[at..at + nx],
                &self.inv[at..at + nx],
            );
            for p in 0..nx {
                let mut v = ad[p] * r_k[p];
                if th < 1.0 {
                    let upward = up[p] * (r_up[p] - r_k[p]);
                    let downward = lo[p] * (r_k[p] - r_lo[p]);
                    v += (1.0 - th) * (upward - downward);
                }
                out[p] = (v + thl[p] * prev[p]) * iv[p];
            }
        }
        let x = &mut rhs[nx..];
        for k in (0..nz - 1).rev() {
            let (here, next) = x[k * nx..(k + 2) * nx].split_at_mut(nx);
            let c = &self.cp[k * nx..(k + 1) * nx];
            for p in 0..nx {
                here[p] -= c[p] * next[p];
            }
        }
        for k in 0..nz {
            let mut line = m.row_mut(k);
            let line = line.as_slice_mut().expect("standard layout");
            let (x, a) = (&x[k * nx..(k + 1) * nx], &air[k * nx..(k + 1) * nx]);
            for ((v, &x), &a) in line.iter_mut().zip(x).zip(a) {
                *v = x * a;
            }
        }
    }
}

impl Process for VerticalDiffusion {
    fn name(&self) -> &'static str {
        match (self.theta.is_some(), self.dry_deposition.is_some()) {
            (true, true) => "vertical diffusion and dry deposition",
            (true, false) => "vertical diffusion",
            (false, _) => "dry deposition",
        }
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let g = ctx.grid;
        let (nz, nx) = (g.nz, g.nx);
        let theta = self.theta.filter(|_| nz >= 2);
        let dry = self
            .dry_deposition
            .map(|d| d.prepare(ctx, &state.tracers.species));
        if theta.is_none() && dry.is_none() {
            return Ok(());
        }
        let (tracers, air) = (&state.tracers, &state.air_mass);
        let ntr = tracers.len();
        // Rows of columns in parallel; each row's result is its own and its
        // losses are summed in a fixed order, so the answer does not depend
        // on the thread count (or on a division of the domain).
        let lost: Vec<Vec<f64>> = state
            .mass
            .axis_iter_mut(Axis(2))
            .into_par_iter()
            .enumerate()
            .map(|(j, mut row)| {
                let mut lost = vec![0.0; ntr];
                let system = theta.map(|th| (th, RowSystem::new(ctx, air, j, th)));
                let air_row: Vec<f64> = air.slice(s![.., j, ..]).iter().copied().collect();
                let (mut r, mut rhs) = (vec![0.0; (nz + 2) * nx], vec![0.0; (nz + 1) * nx]);
                let mut kept = vec![1.0; nx];
                for s in 0..tracers.species.len() {
                    if let Some(dry) = &dry {
                        dry.surviving_row(s, j, &mut kept);
                    }
                    for tr in tracers.tracers_of(s) {
                        let mut block = row.index_axis_mut(Axis(0), tr);
                        if let Some((th, system)) = &system {
                            system.solve(*th, &mut block, &air_row, &mut r, &mut rhs);
                        }
                        if dry.is_some() {
                            // The lowest layer decays exactly: m0 <- m0 exp(-v_d dt / dz0).
                            let mut ground = block.row_mut(0);
                            let ground = ground.as_slice_mut().expect("standard layout");
                            let mut sum = 0.0;
                            for (v, &f) in ground.iter_mut().zip(&kept) {
                                let left = *v * f;
                                sum += *v - left;
                                *v = left;
                            }
                            lost[tr] = sum;
                        }
                    }
                }
                lost
            })
            .collect();
        if dry.is_some() {
            for (tr, b) in budget.tracers.iter_mut().enumerate().take(ntr) {
                b.dry_deposited_kg += lost.iter().map(|row| row[tr]).sum::<f64>();
            }
        }
        Ok(())
    }
}

mod horizontal;
pub use horizontal::HorizontalDiffusion;
