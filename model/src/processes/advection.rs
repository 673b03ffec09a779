//! Advection: the piecewise parabolic method (PPM) of Colella & Woodward
//! (1984), J. Comput. Phys. 54, 174-201, in flux form, applied to mixing
//! ratios in air-mass coordinates with dimensional splitting.
//!
//! - Each 1-D sweep updates tracer mass and air mass with the same air-mass
//!   fluxes, so the air mass is Easter's (1993) pseudo-density (Mon. Wea. Rev.
//!   121, 297-304): a uniform mixing ratio stays exactly uniform, and the new
//!   mixing ratio is a convex combination of limited parabola means, hence
//!   positive and free of new extrema whenever the outflow from a cell is below
//!   its air mass.
//! - The vertical air-mass flux is diagnosed from continuity so that, after
//!   the vertical sweep, every cell holds exactly the air mass the met density
//!   prescribes (the mass-consistency approach of CMAQ; Byun 1999,
//!   J. Atmos. Sci. 56, 3789-3807). The residual flux leaves or enters through
//!   the model top.
//! - Edge values: CW84 eq. 1.6 (fourth-order, uniform index space, as in CAMx
//!   and CMAQ); monotonicity limiter CW84 eq. 1.10; swept-region means CW84
//!   eq. 1.12.
//! - Sub-steps: the total horizontal outflow of any cell per sub-step is kept
//!   below `max_courant` of its air mass, which bounds the y-sweep after the
//!   x-sweep as well; the vertical sweep is sub-divided on its own.
//! - Sweep order alternates x-y / y-x between steps (Strang-type symmetry).

use super::{Process, StepContext};
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::state::State;
use ndarray::{Array3, Axis};
use rayon::prelude::*;

/// How a 1-D line ends.
#[derive(Debug, Clone, Copy)]
pub enum LineEnds {
    Periodic,
    /// Inflow mixing ratios (kg tracer / kg air) at the low and high ends.
    Open {
        low: f64,
        high: f64,
    },
}

/// Mass crossing the ends of a line during one sweep, kg.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndFluxes {
    pub inflow: f64,
    pub outflow: f64,
}

impl std::ops::AddAssign for EndFluxes {
    fn add_assign(&mut self, o: Self) {
        self.inflow += o.inflow;
        self.outflow += o.outflow;
    }
}

/// Work arrays for one line, reused across lines of a plane.
#[derive(Default)]
pub struct Scratch {
    ext: Vec<f64>,
    edge: Vec<f64>,
    left: Vec<f64>,
    right: Vec<f64>,
    curv: Vec<f64>,
    tflux: Vec<f64>,
}

/// One PPM sweep along a line of `n` cells.
///
/// `air[i]`: air mass of cell i at the start of the sweep (kg).
/// `flux[f]`: air mass crossing face f during the sweep (kg), face f lies
/// between cells f-1 and f, positive towards higher index; n+1 faces.
/// `mass[i]`: tracer mass, updated in place. Returns mass through the ends.
pub fn ppm_sweep(
    air: &[f64],
    flux: &[f64],
    mass: &mut [f64],
    ends: LineEnds,
    s: &mut Scratch,
) -> EndFluxes {
    let n = air.len();
    debug_assert_eq!(flux.len(), n + 1);
    debug_assert_eq!(mass.len(), n);
    s.ext.resize(n + 4, 0.0);
    s.edge.resize(n + 1, 0.0);
    s.left.resize(n, 0.0);
    s.right.resize(n, 0.0);
    s.curv.resize(n, 0.0);
    s.tflux.resize(n + 1, 0.0);
    let ext = &mut s.ext;
    for i in 0..n {
        ext[i + 2] = mass[i] / air[i];
    }
    match ends {
        LineEnds::Periodic => {
            ext[0] = ext[n];
            ext[1] = ext[n + 1];
            ext[n + 2] = ext[2];
            ext[n + 3] = ext[3];
        }
        LineEnds::Open { low, high } => {
            // Inflow ends see the boundary value; outflow ends extrapolate flat.
            let lo = if flux[0] > 0.0 { low } else { ext[2] };
            let hi = if flux[n] < 0.0 { high } else { ext[n + 1] };
            ext[0] = lo;
            ext[1] = lo;
            ext[n + 2] = hi;
            ext[n + 3] = hi;
        }
    }
    // CW84 eq. 1.6 on a uniform index grid, bounded by its two neighbours.
    for f in 0..=n {
        let (a, b, c, d) = (ext[f], ext[f + 1], ext[f + 2], ext[f + 3]);
        let v = (7.0 * (b + c) - (a + d)) / 12.0;
        s.edge[f] = v.clamp(b.min(c), b.max(c));
    }
    // CW84 eq. 1.10: monotone parabola per cell.
    for i in 0..n {
        let r = ext[i + 2];
        let (mut al, mut ar) = (s.edge[i], s.edge[i + 1]);
        if (ar - r) * (r - al) <= 0.0 {
            al = r;
            ar = r;
        } else {
            let da = ar - al;
            let a6 = 6.0 * (r - 0.5 * (al + ar));
            if da * a6 > da * da {
                al = 3.0 * r - 2.0 * ar;
            } else if -da * da > da * a6 {
                ar = 3.0 * r - 2.0 * al;
            }
        }
        s.left[i] = al;
        s.right[i] = ar;
        s.curv[i] = 6.0 * (r - 0.5 * (al + ar));
    }
    // CW84 eq. 1.12: mean of the parabola over the swept fraction x.
    let from_right = |c: usize, x: f64| {
        let (al, ar, a6) = (s.left[c], s.right[c], s.curv[c]);
        ar - 0.5 * x * ((ar - al) - (1.0 - 2.0 / 3.0 * x) * a6)
    };
    let from_left = |c: usize, x: f64| {
        let (al, ar, a6) = (s.left[c], s.right[c], s.curv[c]);
        al + 0.5 * x * ((ar - al) + (1.0 - 2.0 / 3.0 * x) * a6)
    };
    for f in 0..=n {
        let fl = flux[f];
        s.tflux[f] = if fl > 0.0 {
            match (f, ends) {
                (0, LineEnds::Open { low, .. }) => fl * low,
                _ => {
                    let c = if f == 0 { n - 1 } else { f - 1 };
                    fl * from_right(c, fl / air[c])
                }
            }
        } else if fl < 0.0 {
            match ends {
                LineEnds::Open { high, .. } if f == n => fl * high,
                _ => {
                    let c = if f == n { 0 } else { f };
                    fl * from_left(c, -fl / air[c])
                }
            }
        } else {
            0.0
        };
    }
    if let LineEnds::Periodic = ends {
        s.tflux[0] = s.tflux[n];
    }
    for i in 0..n {
        mass[i] += s.tflux[i] - s.tflux[i + 1];
    }
    match ends {
        LineEnds::Periodic => EndFluxes::default(),
        LineEnds::Open { .. } => {
            let (a, b) = (s.tflux[0], s.tflux[n]);
            EndFluxes {
                inflow: a.max(0.0) + (-b).max(0.0),
                outflow: (-a).max(0.0) + b.max(0.0),
            }
        }
    }
}

/// Apply a sweep's air-mass fluxes to the air mass of one line.
fn update_air(air: &mut [f64], flux: &[f64], periodic: bool) {
    let n = air.len();
    for i in 0..n {
        air[i] += flux[i] - flux[i + 1];
    }
    if periodic {
        // Faces 0 and n are one face; `flux` holds the same value at both.
        debug_assert!(flux[0] == flux[n]);
    }
}

pub struct Advection {
    pub max_courant: f64,
}

/// Air-mass fluxes of one outer step, kg per step: x-faces [k, j, 0..=nx],
/// y-faces [k, 0..=ny, i].
struct FaceFluxes {
    x: Array3<f64>,
    y: Array3<f64>,
}

fn face_fluxes(ctx: &StepContext) -> FaceFluxes {
    let g = ctx.grid;
    let m = ctx.met_mid;
    let (nz, ny, nx) = (g.nz, g.ny, g.nx);
    let mut x = Array3::zeros((nz, ny, nx + 1));
    let mut y = Array3::zeros((nz, ny + 1, nx));
    for k in 0..nz {
        let dz = g.dz[k];
        for j in 0..ny {
            for f in 0..=nx {
                let (a, b) = if g.periodic {
                    ((f + nx - 1) % nx, f % nx)
                } else {
                    (f.saturating_sub(1), f.min(nx - 1))
                };
                let rho = 0.5 * (m.density[[k, j, a]] + m.density[[k, j, b]]);
                x[[k, j, f]] = rho * m.u_face[[k, j, f]] * g.x_face_len[[j, f]] * dz * ctx.dt;
            }
        }
        for f in 0..=ny {
            for i in 0..nx {
                let (a, b) = if g.periodic {
                    ((f + ny - 1) % ny, f % ny)
                } else {
                    (f.saturating_sub(1), f.min(ny - 1))
                };
                let rho = 0.5 * (m.density[[k, a, i]] + m.density[[k, b, i]]);
                y[[k, f, i]] = rho * m.v_face[[k, f, i]] * g.y_face_len[[f, i]] * dz * ctx.dt;
            }
        }
        if g.periodic {
            // One physical face at each periodic seam: use the low side's value.
            for j in 0..ny {
                x[[k, j, nx]] = x[[k, j, 0]];
            }
            for i in 0..nx {
                y[[k, ny, i]] = y[[k, 0, i]];
            }
        }
    }
    FaceFluxes { x, y }
}

/// Largest total horizontal outflow of a cell as a fraction of its air mass.
fn horizontal_courant(f: &FaceFluxes, air: &Array3<f64>) -> f64 {
    let (nz, ny, nx) = air.dim();
    let mut worst: f64 = 0.0;
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let out = (-f.x[[k, j, i]]).max(0.0)
                    + f.x[[k, j, i + 1]].max(0.0)
                    + (-f.y[[k, j, i]]).max(0.0)
                    + f.y[[k, j + 1, i]].max(0.0);
                worst = worst.max(out / air[[k, j, i]]);
            }
        }
    }
    worst
}

#[derive(Clone, Copy)]
enum Dir {
    X,
    Y,
}

impl Advection {
    /// Sweep every tracer along x or y with air-mass fluxes `flux` (already
    /// scaled to the sub-step), then update the air mass. Returns lateral
    /// in/out per tracer.
    fn horizontal_sweep(
        &self,
        g: &Grid,
        dir: Dir,
        flux: &Array3<f64>,
        state: &mut State,
        bnd: &[f64],
        rho_edge: &Array3<f64>,
    ) -> Vec<EndFluxes> {
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        let plane = ny * nx;
        let air = &state.air_mass;
        let periodic = g.periodic;
        let per_plane: Vec<EndFluxes> = state
            .mass
            .as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(plane)
            .enumerate()
            .map(|(p, cells)| {
                let (tr, k) = (p / nz, p % nz);
                let mut s = Scratch::default();
                let mut ends_total = EndFluxes::default();
                let ends_for = |lo: f64, hi: f64| {
                    if periodic {
                        LineEnds::Periodic
                    } else {
                        LineEnds::Open {
                            low: bnd[tr] / lo,
                            high: bnd[tr] / hi,
                        }
                    }
                };
                match dir {
                    Dir::X => {
                        for j in 0..ny {
                            let a = air.slice(ndarray::s![k, j, ..]);
                            let f = flux.slice(ndarray::s![k, j, ..]);
                            let ends = ends_for(rho_edge[[k, j, 0]], rho_edge[[k, j, nx - 1]]);
                            let line = &mut cells[j * nx..(j + 1) * nx];
                            ends_total += ppm_sweep(
                                a.as_slice().unwrap(),
                                f.as_slice().unwrap(),
                                line,
                                ends,
                                &mut s,
                            );
                        }
                    }
                    Dir::Y => {
                        let mut col = vec![0.0; ny];
                        let mut acol = vec![0.0; ny];
                        let mut fcol = vec![0.0; ny + 1];
                        for i in 0..nx {
                            for j in 0..ny {
                                col[j] = cells[j * nx + i];
                                acol[j] = air[[k, j, i]];
                                fcol[j] = flux[[k, j, i]];
                            }
                            fcol[ny] = flux[[k, ny, i]];
                            let ends = ends_for(rho_edge[[k, 0, i]], rho_edge[[k, ny - 1, i]]);
                            ends_total += ppm_sweep(&acol, &fcol, &mut col, ends, &mut s);
                            for j in 0..ny {
                                cells[j * nx + i] = col[j];
                            }
                        }
                    }
                }
                ends_total
            })
            .collect();
        // Air mass follows the same fluxes (pseudo-density).
        let air = &mut state.air_mass;
        for k in 0..nz {
            match dir {
                Dir::X => {
                    for j in 0..ny {
                        let f = flux.slice(ndarray::s![k, j, ..]);
                        let mut a = air.slice_mut(ndarray::s![k, j, ..]);
                        update_air(a.as_slice_mut().unwrap(), f.as_slice().unwrap(), periodic);
                    }
                }
                Dir::Y => {
                    for i in 0..nx {
                        let f: Vec<f64> = flux.slice(ndarray::s![k, .., i]).to_vec();
                        let mut a: Vec<f64> = air.slice(ndarray::s![k, .., i]).to_vec();
                        update_air(&mut a, &f, periodic);
                        air.slice_mut(ndarray::s![k, .., i])
                            .assign(&ndarray::Array1::from(a));
                    }
                }
            }
        }
        sum_per_tracer(&per_plane, nz)
    }

    /// Vertical sweep with air-mass fluxes diagnosed from continuity so the
    /// air mass ends at `target`. Returns top in/out per tracer.
    fn vertical_sweep(
        &self,
        g: &Grid,
        state: &mut State,
        target: &Array3<f64>,
        top_bnd: &[f64],
        rho_top: &ndarray::Array2<f64>,
    ) -> Result<Vec<EndFluxes>> {
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        // W[k] = air mass crossing the top of layer k upward, from the bottom up.
        let mut w = Array3::<f64>::zeros((nz + 1, ny, nx));
        let mut courant: f64 = 0.0;
        for j in 0..ny {
            for i in 0..nx {
                for k in 0..nz {
                    w[[k + 1, j, i]] = w[[k, j, i]] + state.air_mass[[k, j, i]] - target[[k, j, i]];
                    let out = (-w[[k, j, i]]).max(0.0) + w[[k + 1, j, i]].max(0.0);
                    courant = courant.max(out / state.air_mass[[k, j, i]].min(target[[k, j, i]]));
                }
            }
        }
        if !courant.is_finite() {
            return Err(Error::Numerics {
                process: "advection".into(),
                detail: "non-finite vertical Courant number (zero air mass?)".into(),
            });
        }
        let pieces = ((courant / self.max_courant).ceil() as usize).max(1);
        let scale = 1.0 / pieces as f64;
        w.mapv_inplace(|v| v * scale);
        let mut per_tracer = vec![EndFluxes::default(); state.tracers.len()];
        for _ in 0..pieces {
            let air = state.air_mass.clone();
            let res: Vec<EndFluxes> = state
                .mass
                .as_slice_mut()
                .unwrap()
                .par_chunks_mut(nz * ny * nx)
                .enumerate()
                .map(|(tr, block)| {
                    let mut s = Scratch::default();
                    let (mut col, mut acol, mut fcol) =
                        (vec![0.0; nz], vec![0.0; nz], vec![0.0; nz + 1]);
                    let mut total = EndFluxes::default();
                    for j in 0..ny {
                        for i in 0..nx {
                            for k in 0..nz {
                                col[k] = block[(k * ny + j) * nx + i];
                                acol[k] = air[[k, j, i]];
                                fcol[k] = w[[k, j, i]];
                            }
                            fcol[nz] = w[[nz, j, i]];
                            // Ground is closed (flux 0); the top is open to the background.
                            let ends = LineEnds::Open {
                                low: 0.0,
                                high: top_bnd[tr] / rho_top[[j, i]],
                            };
                            total += ppm_sweep(&acol, &fcol, &mut col, ends, &mut s);
                            for k in 0..nz {
                                block[(k * ny + j) * nx + i] = col[k];
                            }
                        }
                    }
                    total
                })
                .collect();
            for (acc, r) in per_tracer.iter_mut().zip(res) {
                *acc += r;
            }
            for j in 0..ny {
                for i in 0..nx {
                    for k in 0..nz {
                        state.air_mass[[k, j, i]] += w[[k, j, i]] - w[[k + 1, j, i]];
                    }
                }
            }
        }
        // Continuity holds to round-off; pin the air mass to the target exactly.
        state.air_mass.assign(target);
        Ok(per_tracer)
    }
}

fn sum_per_tracer(per_plane: &[EndFluxes], nz: usize) -> Vec<EndFluxes> {
    per_plane
        .chunks(nz)
        .map(|c| {
            let mut t = EndFluxes::default();
            for e in c {
                t += *e;
            }
            t
        })
        .collect()
}

impl Process for Advection {
    fn name(&self) -> &'static str {
        "advection"
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let g = ctx.grid;
        let mut fluxes = face_fluxes(ctx);
        let start_air = state.air_mass.clone();
        let end_air = crate::state::air_mass_of(g, &ctx.met_end.density);
        let courant = horizontal_courant(
            &fluxes,
            &start_air
                .iter()
                .zip(end_air.iter())
                .map(|(a, b)| a.min(*b))
                .collect::<ndarray::Array1<f64>>()
                .into_shape_with_order(start_air.dim())
                .unwrap(),
        );
        if !courant.is_finite() {
            return Err(Error::Numerics {
                process: "advection".into(),
                detail: "non-finite Courant number: check the met winds and density".into(),
            });
        }
        let nsub = ((courant / self.max_courant).ceil() as usize).max(1);
        let frac = 1.0 / nsub as f64;
        fluxes.x.mapv_inplace(|v| v * frac);
        fluxes.y.mapv_inplace(|v| v * frac);
        let rho = &ctx.met_mid.density;
        let rho_top = rho.index_axis(Axis(0), g.nz - 1).to_owned();
        for sub in 0..nsub {
            let x_first = (ctx.step_index as usize * nsub + sub) % 2 == 0;
            let order = if x_first {
                [Dir::X, Dir::Y]
            } else {
                [Dir::Y, Dir::X]
            };
            for dir in order {
                let f = match dir {
                    Dir::X => &fluxes.x,
                    Dir::Y => &fluxes.y,
                };
                let ends = self.horizontal_sweep(g, dir, f, state, &ctx.boundary.lateral, rho);
                for (b, e) in budget.tracers.iter_mut().zip(ends) {
                    b.lateral_in_kg += e.inflow;
                    b.lateral_out_kg += e.outflow;
                }
            }
            let w = (sub + 1) as f64 * frac;
            let target = &start_air + &((&end_air - &start_air) * w);
            let ends = self.vertical_sweep(g, state, &target, &ctx.boundary.top, &rho_top)?;
            for (b, e) in budget.tracers.iter_mut().zip(ends) {
                b.top_in_kg += e.inflow;
                b.top_out_kg += e.outflow;
            }
        }
        Ok(())
    }
}
