//! Turbulent diffusion of mixing ratio, in flux form so that mass is
//! conserved to round-off:  d(rho r)/dt = div(rho K grad r).
//!
//! - Vertical: theta-method (backward Euler by default, Crank-Nicolson at
//!   theta = 0.5) with Kz at layer tops from the met. The tridiagonal matrix
//!   depends only on the column, so it is factorised once per step (Thomas
//!   algorithm, e.g. Press et al., Numerical Recipes, 2.4) and applied to all
//!   tracers, vectorised along x. Backward Euler gives an M-matrix, so the
//!   solution stays positive for any step.
//! - Horizontal ([`horizontal`]): explicit, constant K_h, both directions
//!   at once, sub-stepped for positivity, each horizontal plane taking all
//!   its sub-steps while it is in cache.
//!
//! Both are linear: the matrix (vertical) and conductances (horizontal) are
//! built once per step from the met and applied to every tracer.

use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::Result;
use crate::state::State;
use rayon::prelude::*;

pub struct VerticalDiffusion {
    pub theta: f64,
}

impl Process for VerticalDiffusion {
    fn name(&self) -> &'static str {
        "vertical diffusion"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, _budget: &mut Budget) -> Result<()> {
        let g = ctx.grid;
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        if nz < 2 {
            return Ok(());
        }
        let plane = ny * nx;
        let air = state.air_mass.as_slice().expect("standard layout");
        let rho = &ctx.met_mid.density;
        let kz = &ctx.met_mid.kz;
        // Conductance across the top of layer k, kg/s: rho K A / distance.
        let mut cond = vec![0.0; (nz - 1) * plane];
        for k in 0..nz - 1 {
            let dist = g.z_mid[k + 1] - g.z_mid[k];
            for j in 0..ny {
                for i in 0..nx {
                    let rho_face = 0.5 * (rho[[k, j, i]] + rho[[k + 1, j, i]]);
                    cond[k * plane + j * nx + i] = rho_face * kz[[k, j, i]] * g.area[[j, i]] / dist;
                }
            }
        }
        let (th, dt) = (self.theta, ctx.dt);
        let d = |k: isize, p: usize| {
            if k < 0 || k as usize >= nz - 1 {
                0.0
            } else {
                cond[k as usize * plane + p]
            }
        };
        // Thomas factorisation: sub = -th D_{k-1}, diag = M/dt + th (D_{k-1}+D_k), sup = -th D_k.
        let mut cp = vec![0.0; nz * plane];
        let mut inv = vec![0.0; nz * plane];
        for p in 0..plane {
            let mut prev_cp = 0.0;
            for k in 0..nz {
                let ki = k as isize;
                let sub = -th * d(ki - 1, p);
                let diag = air[k * plane + p] / dt + th * (d(ki - 1, p) + d(ki, p));
                let sup = -th * d(ki, p);
                let den = 1.0 / (diag - sub * prev_cp);
                inv[k * plane + p] = den;
                cp[k * plane + p] = sup * den;
                prev_cp = cp[k * plane + p];
            }
        }
        // Shared by every tracer: the conductance below and above each
        // cell (0 at the ground and the top), theta times the one below,
        // and air / dt.
        let (mut below, mut above) = (vec![0.0; nz * plane], vec![0.0; nz * plane]);
        for k in 0..nz {
            for p in 0..plane {
                below[k * plane + p] = d(k as isize - 1, p);
                above[k * plane + p] = d(k as isize, p);
            }
        }
        let th_below: Vec<f64> = below.iter().map(|&b| th * b).collect();
        let air_dt: Vec<f64> = air.iter().map(|&a| a / dt).collect();
        state
            .mass
            .as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(nz * plane)
            .for_each(|block| {
                // Mixing ratios with a zero layer below and above, so the
                // ground and top rows need no branches (their conductance
                // there is 0).
                let mut r = vec![0.0; (nz + 2) * plane];
                for (v, (&m, &a)) in r[plane..(nz + 1) * plane]
                    .iter_mut()
                    .zip(block.iter().zip(air))
                {
                    *v = m / a;
                }
                let mut rhs = vec![0.0; (nz + 1) * plane];
                for k in 0..nz {
                    let at = k * plane;
                    let (r_lo, r_k, r_up) = (
                        &r[at..at + plane],
                        &r[at + plane..at + 2 * plane],
                        &r[at + 2 * plane..at + 3 * plane],
                    );
                    let (prev, out) = rhs[at..at + 2 * plane].split_at_mut(plane);
                    let (lo, up, thl, ad, iv) = (
                        &below[at..at + plane],
                        &above[at..at + plane],
                        &th_below[at..at + plane],
                        &air_dt[at..at + plane],
                        &inv[at..at + plane],
                    );
                    for p in 0..plane {
                        let mut v = ad[p] * r_k[p];
                        if th < 1.0 {
                            let upward = up[p] * (r_up[p] - r_k[p]);
                            let downward = lo[p] * (r_k[p] - r_lo[p]);
                            v += (1.0 - th) * (upward - downward);
                        }
                        out[p] = (v + thl[p] * prev[p]) * iv[p];
                    }
                }
                let rhs = &mut rhs[plane..];
                for k in (0..nz - 1).rev() {
                    let (here, next) = rhs[k * plane..(k + 2) * plane].split_at_mut(plane);
                    let c = &cp[k * plane..(k + 1) * plane];
                    for p in 0..plane {
                        here[p] -= c[p] * next[p];
                    }
                }
                for (v, (&x, &a)) in block.iter_mut().zip(rhs.iter().zip(air)) {
                    *v = x * a;
                }
            });
        Ok(())
    }
}

mod horizontal;
pub use horizontal::HorizontalDiffusion;
