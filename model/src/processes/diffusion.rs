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
//!   (nz x nx values) is solved while it is in cache, in two passes (the
//!   forward sweep reads each layer's mass as mixing ratio, back
//!   substitution writes it back as mass: the same operations as four
//!   passes); each worker reuses its row buffers (those of dry deposition's
//!   per-column inputs too, found row by row). When no chemistry
//!   sits between them ([`super::standard_split`]), dry deposition is the
//!   column's lower boundary in the same pass, as in CMAQ (`vdiffacmx.F`:
//!   the lowest layer decays by exp(-v_d dt / dz1) inside the vertical
//!   mixing, ISAM tags by the same factor) and CAMx (`vdiffimp.f`: v_d in
//!   the lowest diagonal): right after the solve the lowest layer keeps
//!   exp(-v_d dt / dz0) of its mass (the exact decay of
//!   [`super::deposition`], one factor per cell for all the species of a
//!   deposition class and their tags, applied in the back substitution's
//!   last layer), which equals diffusion followed by deposition bit for bit.
//! - Horizontal ([`horizontal`]): explicit, constant K_h, both directions
//!   at once, sub-stepped for positivity, each horizontal plane taking all
//!   its sub-steps while it is in cache.
//!
//! Both are linear: the matrix (vertical) and conductances (horizontal) are
//! built once per step from the met and applied to every tracer.

use super::deposition::{DryDeposition, DryRow};
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
    /// The row's air mass [k][i].
    air: Vec<f64>,
}

impl RowSystem {
    fn new(nz: usize, nx: usize) -> RowSystem {
        let n = nz * nx;
        RowSystem {
            below: vec![0.0; n],
            above: vec![0.0; n],
            th_below: vec![0.0; n],
            air_dt: vec![0.0; n],
            inv: vec![0.0; n],
            cp: vec![0.0; n],
            air: vec![0.0; n],
        }
    }

    /// Row `j` (layer by layer along the row): conductance across the top
    /// of layer k, kg/s, rho K A / distance; sub = -th D_{k-1},
    /// diag = M/dt + th (D_{k-1}+D_k), sup = -th D_k, factorised by the Thomas
    /// algorithm. With `th` None only the air mass is filled.
    fn build(&mut self, ctx: &StepContext, air: &Array3<f64>, j: usize, th: Option<f64>) {
        let g = ctx.grid;
        let (nz, nx, dt) = (g.nz, g.nx, ctx.dt);
        for k in 0..nz {
            for (a, &m) in self.air[k * nx..(k + 1) * nx]
                .iter_mut()
                .zip(air.slice(s![k, j, ..]).iter())
            {
                *a = m;
            }
        }
        let Some(th) = th else { return };
        let (rho, kz) = (&ctx.met_mid.density, &ctx.met_mid.kz);
        self.below[..nx].fill(0.0);
        self.above[(nz - 1) * nx..].fill(0.0);
        for k in 0..nz - 1 {
            let dist = g.z_mid[k + 1] - g.z_mid[k];
            let hi = &mut self.below[(k + 1) * nx..(k + 2) * nx];
            let (r0, r1) = (rho.slice(s![k, j, ..]), rho.slice(s![k + 1, j, ..]));
            let (kz, area) = (kz.slice(s![k, j, ..]), g.area.row(j));
            let cells = self.above[k * nx..(k + 1) * nx]
                .iter_mut()
                .zip(hi.iter_mut())
                .zip(r0.iter())
                .zip(r1.iter())
                .zip(kz.iter())
                .zip(area.iter());
            for (((((up, down), &r0), &r1), &kz), &area) in cells {
                let rho_face = 0.5 * (r0 + r1);
                *up = rho_face * kz * area / dist;
                *down = *up;
            }
        }
        for k in 0..nz {
            let at = k * nx;
            for i in 0..nx {
                let (d_lo, d_up) = (self.below[at + i], self.above[at + i]);
                let prev_cp = if k == 0 { 0.0 } else { self.cp[at - nx + i] };
                let sub = -th * d_lo;
                let diag = self.air[at + i] / dt + th * (d_lo + d_up);
                let sup = -th * d_up;
                let den = 1.0 / (diag - sub * prev_cp);
                self.inv[at + i] = den;
                self.cp[at + i] = sup * den;
                self.air_dt[at + i] = self.air[at + i] / dt;
                self.th_below[at + i] = th * d_lo;
            }
        }
    }

    /// One tracer's row [k][i] in two passes: the forward sweep (reading
    /// each layer's mass as mixing ratio), then back substitution (writing
    /// each layer's mixing ratio back as mass, and the ground layer's
    /// surviving fraction `kept` of dry deposition, returning its loss).
    /// The operations are those of mass -> mixing ratio, Thomas, mixing
    /// ratio -> mass, decay in four passes. `r` ((nz + 2) nx) and `rhs`
    /// ((nz + 1) nx) are scratch whose first (and, for `r`, last) layer is
    /// 0.
    fn solve(
        &self,
        th: f64,
        m: &mut ArrayViewMut2<f64>,
        r: &mut [f64],
        rhs: &mut [f64],
        kept: Option<&[f64]>,
    ) -> f64 {
        let (nz, nx) = m.dim();
        let air = &self.air;
        let ratio = |m: &ArrayViewMut2<f64>, k: usize, r: &mut [f64]| {
            let line = m.row(k);
            let line = line.as_slice().expect("standard layout");
            let a = &air[k * nx..(k + 1) * nx];
            for ((v, &x), &a) in r.iter_mut().zip(line).zip(a) {
                *v = x / a;
            }
        };
        if th < 1.0 {
            // Mixing ratios with a zero layer below and above, so the ground
            // and top rows need no branches (their conductance there is 0).
            ratio(m, 0, &mut r[nx..2 * nx]);
        }
        for k in 0..nz {
            let at = k * nx;
            let (prev, out) = rhs[at..at + 2 * nx].split_at_mut(nx);
            let (lo, up, thl, ad, iv) = (
                &self.below[at..at + nx],
                &self.above[at..at + nx],
                &self.th_below[at..at + nx],
                &self.air_dt[at..at + nx],
                &self.inv[at..at + nx],
            );
            if th < 1.0 {
                if k + 1 < nz {
                    ratio(m, k + 1, &mut r[at + 2 * nx..at + 3 * nx]);
                }
                let (r_lo, r_k, r_up) = (
                    &r[at..at + nx],
                    &r[at + nx..at + 2 * nx],
                    &r[at + 2 * nx..at + 3 * nx],
                );
                for p in 0..nx {
                    let mut v = ad[p] * r_k[p];
                    let upward = up[p] * (r_up[p] - r_k[p]);
                    let downward = lo[p] * (r_k[p] - r_lo[p]);
                    v += (1.0 - th) * (upward - downward);
                    out[p] = (v + thl[p] * prev[p]) * iv[p];
                }
            } else {
                let line = m.row(k);
                let line = line.as_slice().expect("standard layout");
                let a = &air[at..at + nx];
                for p in 0..nx {
                    let v = ad[p] * (line[p] / a[p]);
                    out[p] = (v + thl[p] * prev[p]) * iv[p];
                }
            }
        }
        let x = &mut rhs[nx..];
        let mut lost = 0.0;
        for k in (0..nz).rev() {
            let (here, next) = x[k * nx..].split_at_mut(nx);
            if k + 1 < nz {
                let c = &self.cp[k * nx..(k + 1) * nx];
                for p in 0..nx {
                    here[p] -= c[p] * next[p];
                }
            }
            let mut line = m.row_mut(k);
            let line = line.as_slice_mut().expect("standard layout");
            let a = &air[k * nx..(k + 1) * nx];
            match kept {
                Some(kept) if k == 0 => {
                    for (((v, &x), &a), &f) in line.iter_mut().zip(&*here).zip(a).zip(kept) {
                        let mass = x * a;
                        let left = mass * f;
                        lost += mass - left;
                        *v = left;
                    }
                }
                _ => {
                    for ((v, &x), &a) in line.iter_mut().zip(&*here).zip(a) {
                        *v = x * a;
                    }
                }
            }
        }
        lost
    }
}

/// The lowest layer decays exactly, m0 <- m0 exp(-v_d dt / dz0); returns the loss.
fn decay_ground(m: &mut ArrayViewMut2<f64>, kept: &[f64]) -> f64 {
    let mut ground = m.row_mut(0);
    let ground = ground.as_slice_mut().expect("standard layout");
    let mut sum = 0.0;
    for (v, &f) in ground.iter_mut().zip(kept) {
        let left = *v * f;
        sum += *v - left;
        *v = left;
    }
    sum
}

/// A worker's scratch for rows of columns, reused from row to row.
struct ColumnScratch {
    system: RowSystem,
    r: Vec<f64>,
    rhs: Vec<f64>,
    kept: Vec<f64>,
    /// The row's per-column inputs of v_d.
    dry: DryRow,
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
        let nspecies = tracers.species.len();
        // Species in deposition classes (one v_d per cell for a class).
        let classes: Vec<(bool, Vec<usize>)> = match &dry {
            Some(dry) => (0..dry.classes())
                .map(|c| (dry.deposits(c), dry.members(c).to_vec()))
                .collect(),
            None => vec![(false, (0..nspecies).collect())],
        };
        // Rows of columns in parallel; each row's result is its own and its
        // losses are summed in a fixed order, so the answer does not depend
        // on the thread count (or on a division of the domain).
        let lost: Vec<Vec<f64>> = state
            .mass
            .axis_iter_mut(Axis(2))
            .into_par_iter()
            .enumerate()
            .map_init(
                || ColumnScratch {
                    system: RowSystem::new(nz, nx),
                    r: vec![0.0; (nz + 2) * nx],
                    rhs: vec![0.0; (nz + 1) * nx],
                    kept: vec![1.0; nx],
                    dry: DryRow::default(),
                },
                |scratch, (j, mut row)| {
                    let mut lost = vec![0.0; ntr];
                    let ColumnScratch {
                        system,
                        r,
                        rhs,
                        kept,
                        dry: dry_row,
                    } = scratch;
                    system.build(ctx, air, j, theta);
                    if let Some(dry) = &dry {
                        dry.row(j, dry_row);
                    }
                    for (c, (deposits, members)) in classes.iter().enumerate() {
                        let deposits = match &dry {
                            Some(dry) if *deposits => {
                                dry.surviving_row(c, dry_row, kept);
                                true
                            }
                            _ => false,
                        };
                        for tr in members.iter().flat_map(|&s| tracers.tracers_of(s)) {
                            let mut block = row.index_axis_mut(Axis(0), tr);
                            let kept = deposits.then_some(&kept[..]);
                            lost[tr] = match (theta, kept) {
                                (Some(th), kept) => system.solve(th, &mut block, r, rhs, kept),
                                (None, Some(kept)) => decay_ground(&mut block, kept),
                                (None, None) => 0.0,
                            };
                        }
                    }
                    lost
                },
            )
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
