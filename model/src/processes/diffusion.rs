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
//! - Horizontal: explicit, constant K_h, both directions at once, with
//!   sub-steps keeping dt * sum(D)/M <= 1/2 (positivity of forward Euler),
//!   at most [`crate::limits::MAX_SUBSTEPS`] of them (else exit 5 naming
//!   the cell and the time).
//!   Open sides are closed to diffusion (advection carries exchange);
//!   periodic sides wrap; across Halo sides the neighbour's cells are
//!   exchanged every sub-step.
//!
//! Both are linear: the matrix (vertical) and conductances (horizontal) are
//! built once per step from the met and applied to every tracer.

use super::deposition::DryDeposition;
use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::grid::Side;
use crate::limits::{num, MAX_SUBSTEPS};
use crate::parallel::halo;
use crate::state::State;
use ndarray::{s, Array2, Array3, ArrayViewMut2, Axis};
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

pub struct HorizontalDiffusion {
    pub kh: f64,
}

/// Mixing ratios beyond the Halo sides of one tracer (1 cell deep):
/// west/east [k, j], south/north [k, i].
#[derive(Default)]
struct HaloRatios {
    west: Option<Array2<f64>>,
    east: Option<Array2<f64>>,
    south: Option<Array2<f64>>,
    north: Option<Array2<f64>>,
}

impl HorizontalDiffusion {
    /// Conductances (kg/s) across x-faces [k, j, 0..=nx] and y-faces
    /// [k, 0..=ny, i]: rho_face K_h L dz / distance, with rho_face the mean
    /// of the two cells (the neighbour's from its halo across a Halo side).
    /// Open sides are closed to diffusion (advection carries exchange);
    /// a periodic seam is one face, counted on the low side.
    fn conductances(&self, ctx: &StepContext) -> (Array3<f64>, Array3<f64>) {
        let g = ctx.grid;
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        let rho = &ctx.met_mid.density;
        let e = g.edges;
        let mut cx = Array3::<f64>::zeros((nz, ny, nx + 1));
        let mut cy = Array3::<f64>::zeros((nz, ny + 1, nx));
        let strip =
            |side: Side, k: usize, along: usize| ctx.density_halo.adjacent(side, 0, k, along);
        for k in 0..nz {
            for j in 0..ny {
                for f in 0..=nx {
                    // Densities west and east of the face, if it carries diffusion.
                    let pair = if f > 0 && f < nx {
                        Some((rho[[k, j, f - 1]], rho[[k, j, f]]))
                    } else if e.periodic_x() {
                        (f == 0).then(|| (rho[[k, j, nx - 1]], rho[[k, j, 0]]))
                    } else if f == 0 {
                        strip(Side::West, k, j).map(|h| (h, rho[[k, j, 0]]))
                    } else {
                        strip(Side::East, k, j).map(|h| (rho[[k, j, nx - 1]], h))
                    };
                    if let Some((ra, rb)) = pair {
                        let rf = 0.5 * (ra + rb);
                        cx[[k, j, f]] =
                            rf * self.kh * g.x_face_len[[j, f]] * g.dz[k] / g.x_face_dist[[j, f]];
                    }
                }
            }
            for f in 0..=ny {
                for i in 0..nx {
                    let pair = if f > 0 && f < ny {
                        Some((rho[[k, f - 1, i]], rho[[k, f, i]]))
                    } else if e.periodic_y() {
                        (f == 0).then(|| (rho[[k, ny - 1, i]], rho[[k, 0, i]]))
                    } else if f == 0 {
                        strip(Side::South, k, i).map(|h| (h, rho[[k, 0, i]]))
                    } else {
                        strip(Side::North, k, i).map(|h| (rho[[k, ny - 1, i]], h))
                    };
                    if let Some((ra, rb)) = pair {
                        let rf = 0.5 * (ra + rb);
                        cy[[k, f, i]] =
                            rf * self.kh * g.y_face_len[[f, i]] * g.dz[k] / g.y_face_dist[[f, i]];
                    }
                }
            }
        }
        (cx, cy)
    }
}

/// One forward-Euler sub-step of one tracer block [k, j, i] (mass, kg):
/// each face moves c dts (r_a - r_b) from cell a to cell b, faces in
/// index order, x then y, so every cell's sum runs in the same order
/// whether or not the domain is divided. Across a Halo face only the
/// interior cell changes.
#[allow(clippy::too_many_arguments)]
fn diffuse_substep(
    block: &mut [f64],
    r: &mut [f64],
    air: &[f64],
    cx: &Array3<f64>,
    cy: &Array3<f64>,
    dts: f64,
    halo: &HaloRatios,
    (nz, ny, nx): (usize, usize, usize),
) {
    for (idx, v) in r.iter_mut().enumerate() {
        *v = block[idx] / air[idx];
    }
    // Faces in index order; the first and last faces of a line are the
    // edges (periodic seam, halo or closed), the rest are interior.
    let plane = ny * nx;
    for k in 0..nz {
        for j in 0..ny {
            let row = (k * ny + j) * nx;
            let c = cx.slice(s![k, j, ..]);
            let c = c.as_slice().expect("standard layout");
            let (b, r) = (&mut block[row..row + nx], &r[row..row + nx]);
            if c[0] != 0.0 {
                match &halo.west {
                    Some(h) => b[0] += c[0] * dts * (h[[k, j]] - r[0]),
                    None => {
                        // Periodic seam: from the last cell to the first.
                        let flow = c[0] * dts * (r[nx - 1] - r[0]);
                        b[nx - 1] -= flow;
                        b[0] += flow;
                    }
                }
            }
            for f in 1..nx {
                if c[f] == 0.0 {
                    continue;
                }
                let flow = c[f] * dts * (r[f - 1] - r[f]);
                b[f - 1] -= flow;
                b[f] += flow;
            }
            // The last face carries flow only across an east halo (a
            // periodic seam is counted on the first face).
            if let (true, Some(h)) = (c[nx] != 0.0, &halo.east) {
                b[nx - 1] -= c[nx] * dts * (r[nx - 1] - h[[k, j]]);
            }
        }
        let layer = k * plane;
        for f in 0..=ny {
            let c = cy.slice(s![k, f, ..]);
            let c = c.as_slice().expect("standard layout");
            let edge = if f == 0 {
                halo.south.as_ref().map(|h| (h, 0))
            } else if f == ny {
                halo.north.as_ref().map(|h| (h, ny - 1))
            } else {
                None
            };
            if let Some((h, jj)) = edge {
                let at = layer + jj * nx;
                for i in 0..nx {
                    if c[i] == 0.0 {
                        continue;
                    }
                    if f == 0 {
                        block[at + i] += c[i] * dts * (h[[k, i]] - r[at + i]);
                    } else {
                        block[at + i] -= c[i] * dts * (r[at + i] - h[[k, i]]);
                    }
                }
                continue;
            }
            let (ja, jb) = ((f + ny - 1) % ny, f % ny);
            let (ra, rb) = (layer + ja * nx, layer + jb * nx);
            for i in 0..nx {
                if c[i] == 0.0 {
                    continue;
                }
                let flow = c[i] * dts * (r[ra + i] - r[rb + i]);
                block[ra + i] -= flow;
                block[rb + i] += flow;
            }
        }
    }
}

impl Process for HorizontalDiffusion {
    fn name(&self) -> &'static str {
        "horizontal diffusion"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, _budget: &mut Budget) -> Result<()> {
        if self.kh <= 0.0 {
            return Ok(());
        }
        let g = ctx.grid;
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        let sides = [Side::West, Side::East, Side::South, Side::North];
        let halos = g.edges.any_halo();
        let (cx, cy) = self.conductances(ctx);
        // Forward Euler stays positive while dt * sum(D) / M <= 1/2 in every cell.
        let air = &state.air_mass;
        let (mut worst, mut at): (f64, [usize; 3]) = (0.0, [0, 0, 0]);
        for ((k, j, i), &m) in air.indexed_iter() {
            let mut sum = cx[[k, j, i]] + cx[[k, j, i + 1]] + cy[[k, j, i]] + cy[[k, j + 1, i]];
            if g.edges.periodic_x() && i == nx - 1 {
                sum += cx[[k, j, 0]];
            }
            if g.edges.periodic_y() && j == ny - 1 {
                sum += cy[[k, 0, i]];
            }
            let rate = sum / m;
            // Larger, or the first NaN (which f64::max would pass over).
            if rate > worst || (rate.is_nan() && !worst.is_nan()) {
                (worst, at) = (rate, [k, j, i]);
            }
        }
        let local = worst * ctx.dt / 0.5;
        // A NaN on any rank stops every rank: reduced as infinite.
        let need = ctx.comm.max(if local.is_finite() {
            local
        } else {
            f64::INFINITY
        });
        if need > MAX_SUBSTEPS as f64 {
            let [k, j, i] = at;
            let here = if local == need || !local.is_finite() {
                format!(
                    "at cell (k={k}, j={j}, i={i}) (air mass {} kg, density {} kg/m3)",
                    num(air[[k, j, i]]),
                    num(ctx.met_mid.density[[k, j, i]])
                )
            } else {
                "in another subdomain".to_string()
            };
            return Err(Error::Numerics {
                process: "horizontal diffusion".into(),
                detail: format!(
                    "Kh = {} m2/s needs {} explicit sub-steps {here} in step {} ({:.3} h after the start), more than the {MAX_SUBSTEPS} allowed; a smaller physics.horizontal_kh_m2s or run.dt_s, or check the met density there",
                    self.kh,
                    if need.is_finite() { format!("{:.0}", need.ceil()) } else { "a non-finite number of".into() },
                    ctx.step_index,
                    ctx.time / 3600.0,
                ),
            });
        }
        let nsub = (need.ceil() as usize).max(1);
        let dts = ctx.dt / nsub as f64;
        let dims = (nz, ny, nx);
        let cells = nz * ny * nx;
        if !halos {
            // Each tracer takes all its sub-steps while it is in cache.
            let air = air.as_slice().expect("standard layout");
            state
                .mass
                .as_slice_mut()
                .expect("standard layout")
                .par_chunks_mut(cells)
                .for_each(|block| {
                    let mut r = vec![0.0; block.len()];
                    for _ in 0..nsub {
                        diffuse_substep(
                            block,
                            &mut r,
                            air,
                            &cx,
                            &cy,
                            dts,
                            &HaloRatios::default(),
                            dims,
                        );
                    }
                });
            return Ok(());
        }
        // Divided domain: the neighbours' mixing ratios are exchanged before
        // every sub-step, so sub-steps run outermost.
        let air_halo = halo::exchange3(ctx.comm, &g.edges, air.view(), &sides);
        for _ in 0..nsub {
            let mass_halo = halo::exchange(ctx.comm, &g.edges, state.mass.view(), &sides);
            let air = state.air_mass.as_slice().expect("standard layout");
            state
                .mass
                .as_slice_mut()
                .expect("standard layout")
                .par_chunks_mut(cells)
                .enumerate()
                .for_each(|(tr, block)| {
                    let ratio = |side: Side| {
                        let (m, a) = (mass_halo.strip(side)?, air_halo.strip(side)?);
                        let m = m.index_axis(Axis(0), tr);
                        let a = a.index_axis(Axis(0), 0);
                        // The strip's one cell next to us: last column west/south, first east/north.
                        let r = match side {
                            Side::West => {
                                &m.index_axis(Axis(2), m.dim().2 - 1)
                                    / &a.index_axis(Axis(2), a.dim().2 - 1)
                            }
                            Side::East => &m.index_axis(Axis(2), 0) / &a.index_axis(Axis(2), 0),
                            Side::South => {
                                &m.index_axis(Axis(1), m.dim().1 - 1)
                                    / &a.index_axis(Axis(1), a.dim().1 - 1)
                            }
                            Side::North => &m.index_axis(Axis(1), 0) / &a.index_axis(Axis(1), 0),
                        };
                        Some(r)
                    };
                    let halo_r = HaloRatios {
                        west: ratio(Side::West),
                        east: ratio(Side::East),
                        south: ratio(Side::South),
                        north: ratio(Side::North),
                    };
                    let mut r = vec![0.0; block.len()];
                    diffuse_substep(block, &mut r, air, &cx, &cy, dts, &halo_r, dims);
                });
        }
        Ok(())
    }
}
