//! Turbulent diffusion of mixing ratio, in flux form so that mass is
//! conserved to round-off:  d(rho r)/dt = div(rho K grad r).
//!
//! - Vertical: theta-method (backward Euler by default, Crank-Nicolson at
//!   theta = 0.5) with Kz at layer tops from the met. The tridiagonal matrix
//!   depends only on the column, so it is factorised once per step (Thomas
//!   algorithm, e.g. Press et al., Numerical Recipes, 2.4) and applied to all
//!   tracers, vectorised along x. Backward Euler gives an M-matrix, so the
//!   solution stays positive for any step.
//! - Horizontal: explicit, constant K_h, both directions at once, with
//!   sub-steps keeping dt * sum(D)/M <= 1/2 (positivity of forward Euler).
//!   Lateral boundaries are closed to diffusion (advection carries exchange).

use super::{Process, StepContext};
use crate::budget::Budget;
use crate::error::Result;
use crate::state::State;
use ndarray::Array3;
use rayon::prelude::*;

pub struct VerticalDiffusion {
    pub theta: f64,
}

impl Process for VerticalDiffusion {
    fn name(&self) -> &'static str {
        "vertical diffusion"
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
        state
            .mass
            .as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(nz * plane)
            .for_each(|block| {
                let mut r = vec![0.0; nz * plane];
                for (idx, v) in r.iter_mut().enumerate() {
                    *v = block[idx] / air[idx];
                }
                // Right-hand side, then forward elimination, in place.
                let mut rhs = vec![0.0; nz * plane];
                for k in 0..nz {
                    let ki = k as isize;
                    for p in 0..plane {
                        let idx = k * plane + p;
                        let mut v = air[idx] / dt * r[idx];
                        if th < 1.0 {
                            let up = if k + 1 < nz {
                                d(ki, p) * (r[idx + plane] - r[idx])
                            } else {
                                0.0
                            };
                            let down = if k > 0 {
                                d(ki - 1, p) * (r[idx] - r[idx - plane])
                            } else {
                                0.0
                            };
                            v += (1.0 - th) * (up - down);
                        }
                        let sub = -th * d(ki - 1, p);
                        let prev = if k > 0 { rhs[idx - plane] } else { 0.0 };
                        rhs[idx] = (v - sub * prev) * inv[idx];
                    }
                }
                for k in (0..nz - 1).rev() {
                    for p in 0..plane {
                        let idx = k * plane + p;
                        rhs[idx] -= cp[idx] * rhs[idx + plane];
                    }
                }
                for (idx, v) in block.iter_mut().enumerate() {
                    *v = rhs[idx] * air[idx];
                }
            });
        Ok(())
    }
}

pub struct HorizontalDiffusion {
    pub kh: f64,
}

impl Process for HorizontalDiffusion {
    fn name(&self) -> &'static str {
        "horizontal diffusion"
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, _budget: &mut Budget) -> Result<()> {
        if self.kh <= 0.0 {
            return Ok(());
        }
        let g = ctx.grid;
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        let rho = &ctx.met_mid.density;
        let periodic = g.periodic;
        // Conductances (kg/s) across x-faces [k, j, 0..=nx] and y-faces [k, 0..=ny, i].
        let mut cx = Array3::<f64>::zeros((nz, ny, nx + 1));
        let mut cy = Array3::<f64>::zeros((nz, ny + 1, nx));
        for k in 0..nz {
            for j in 0..ny {
                for f in 0..=nx {
                    let interior = f > 0 && f < nx;
                    if interior || periodic {
                        let (a, b) = ((f + nx - 1) % nx, f % nx);
                        let rf = 0.5 * (rho[[k, j, a]] + rho[[k, j, b]]);
                        cx[[k, j, f]] =
                            rf * self.kh * g.x_face_len[[j, f]] * g.dz[k] / g.x_face_dist[[j, f]];
                    }
                }
            }
            for f in 0..=ny {
                for i in 0..nx {
                    let interior = f > 0 && f < ny;
                    if interior || periodic {
                        let (a, b) = ((f + ny - 1) % ny, f % ny);
                        let rf = 0.5 * (rho[[k, a, i]] + rho[[k, b, i]]);
                        cy[[k, f, i]] =
                            rf * self.kh * g.y_face_len[[f, i]] * g.dz[k] / g.y_face_dist[[f, i]];
                    }
                }
            }
            if periodic {
                // Faces 0 and n are one face; count it once (on the low side).
                for j in 0..ny {
                    cx[[k, j, nx]] = 0.0;
                }
                for i in 0..nx {
                    cy[[k, ny, i]] = 0.0;
                }
            }
        }
        let air = &state.air_mass;
        let mut worst: f64 = 0.0;
        for ((k, j, i), &m) in air.indexed_iter() {
            let (iw, ie) = (i, i + 1);
            let (js, jn) = (j, j + 1);
            let mut sum = cx[[k, j, iw]] + cx[[k, j, ie]] + cy[[k, js, i]] + cy[[k, jn, i]];
            if periodic {
                if i == nx - 1 {
                    sum += cx[[k, j, 0]];
                }
                if j == ny - 1 {
                    sum += cy[[k, 0, i]];
                }
            }
            worst = worst.max(sum / m);
        }
        let nsub = ((worst * ctx.dt / 0.5).ceil() as usize).max(1);
        let dts = ctx.dt / nsub as f64;
        let air = air.as_slice().unwrap();
        state
            .mass
            .as_slice_mut()
            .unwrap()
            .par_chunks_mut(nz * ny * nx)
            .for_each(|block| {
                let mut r = vec![0.0; block.len()];
                for _ in 0..nsub {
                    for (idx, v) in r.iter_mut().enumerate() {
                        *v = block[idx] / air[idx];
                    }
                    for k in 0..nz {
                        for j in 0..ny {
                            let row = (k * ny + j) * nx;
                            for f in 0..=nx {
                                let c = cx[[k, j, f]];
                                if c == 0.0 {
                                    continue;
                                }
                                let (a, b) = ((f + nx - 1) % nx, f % nx);
                                let flow = c * dts * (r[row + a] - r[row + b]);
                                block[row + a] -= flow;
                                block[row + b] += flow;
                            }
                        }
                        for f in 0..=ny {
                            let (a, b) = ((f + ny - 1) % ny, f % ny);
                            for i in 0..nx {
                                let c = cy[[k, f, i]];
                                if c == 0.0 {
                                    continue;
                                }
                                let (ia, ib) = ((k * ny + a) * nx + i, (k * ny + b) * nx + i);
                                let flow = c * dts * (r[ia] - r[ib]);
                                block[ia] -= flow;
                                block[ib] += flow;
                            }
                        }
                    }
                }
            });
        Ok(())
    }
}
