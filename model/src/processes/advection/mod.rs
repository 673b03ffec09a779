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
//! - Edge values: CW84 eq. 1.6 in uniform index space, with either the
//!   monotonised slopes of CW84 eq. 1.8 (`PpmEdges::Cw84Limited`, the
//!   default, as in CMAQ `hppm.F` and CAMx `hadvppm.f`) or the unlimited
//!   slopes of eq. 1.7 (`PpmEdges::FourthOrder`, the fourth-order edge),
//!   bounded by the two neighbours; monotonicity limiter CW84 eq. 1.10;
//!   swept-region means CW84 eq. 1.12.
//! - Sub-steps: the fewest that keep every sweep's outflow from a cell below
//!   `max_courant` of the air mass it has at that sweep (the second sweep sees
//!   the air mass the first one left), in either sweep order; the vertical
//!   sweep is sub-divided on its own. Either needing more than
//!   [`crate::limits::MAX_SUBSTEPS`] (or a non-finite number) stops the run
//!   (exit 5) naming the cell, the met wind there and the time.
//! - Layout for speed: one kernel works on n rows x L lanes with every inner
//!   loop running along contiguous lanes (vectorised, branch-free selects).
//!   y- and z-sweeps run in place (lanes = x), x-sweeps along each row.
//!   Tracer-independent work (1/air, face weights) is done once per sweep
//!   and layer (or block of columns) into thread-local buffers and stays in
//!   cache while all tracers pass through.
//! - Driver passes over the grid per step, each vectorised: one for the
//!   face fluxes, the end air mass and the horizontal sub-step check
//!   (row by row from cache); one for the vertical continuity and its
//!   check; the air mass ends by taking the target's array (no copy).
//! - Sweep order alternates x-y / y-x between steps (Strang-type symmetry).
//! - Edges come from the grid: `Open` sides take their own side's inflow
//!   values where air enters and are booked in the lateral budget, `Periodic` sides wrap, and across `Halo`
//!   sides (a divided domain) the neighbour's 3 nearest cells are exchanged
//!   before each sweep that reaches across; the sweep then runs on the line
//!   extended by those cells, so every interior face sees exactly the values
//!   the undivided run would. Sub-step counts are global maxima.
//!
//! The kernels are in `kernels`; this module is the 3-D driver. Linear: the
//! air-mass fluxes and 1/air are computed once per sweep and layer and every
//! tracer passes through them.

#[macro_use]
mod kernels;
mod tags;

pub use kernels::{
    face_weights_line, face_weights_rows, portable, ppm_line, ppm_line_weighted, ppm_rows,
    ppm_rows_weighted, ppm_sweep, EndFluxes, LineEnds, PpmEdges, RowEnds, Scratch, Through,
};

use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::grid::{Edge, Edges, Grid, Side};
use crate::limits::{num, MAX_SUBSTEPS};
use crate::parallel::halo::{self, Halo, X_SIDES, Y_SIDES};
use crate::parallel::Comm;
use crate::state::{State, TracerSet};
use kernels::row;
use ndarray::{s, Array2, Array3, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

/// Cells of the neighbour a PPM face flux depends on: the edge value at a
/// face uses two cells each side (with either `PpmEdges`: the limited
/// slopes of the two cells next to the face reach one cell further each
/// way, the same four cells), and the flux through the first face uses the
/// parabola of the cell beyond it, whose far edge reaches a third.
pub const HALO_WIDTH: usize = 3;

/// Most lanes per block in the y-sweep: long enough to amortise per-row
/// work, short enough to keep the scratch in L2.
const LANE_BLOCK: usize = 128;

/// f64 lanes of the widest vector unit the kernels are built for (AVX-512).
const VECTOR_LANES: usize = 8;

/// Lanes the vertical sweep aims for per block of rows: long enough that
/// each layer's part streams from memory as one run (a single row of a
/// 200-cell grid is only 1.6 kB), short enough that the block's scratch
/// (about 30 values per lane) stays in L2.
const COLUMN_LANES: usize = 1024;

/// Rows j per block of the vertical sweep for rows of `nx` cells.
fn column_rows(nx: usize, ny: usize) -> usize {
    (COLUMN_LANES / nx.max(1)).clamp(1, ny.max(1))
}

/// `v` [a, b, rows, nx], whose last two axes are a contiguous block of
/// rows, as [a, b, rows * nx] without a copy (ndarray's reshape refuses
/// views whose outer axes are strided).
fn merged_rows_mut(mut v: ndarray::ArrayViewMut4<'_, f64>) -> ndarray::ArrayViewMut3<'_, f64> {
    use ndarray::ShapeBuilder;
    let (a, b, rows, nx) = v.dim();
    let st = v.strides().to_vec();
    assert!(whole_rows(rows, nx, st[2], st[3]), "a block of whole rows");
    let shape = (a, b, rows * nx).strides((st[0].max(0) as usize, st[1].max(0) as usize, 1));
    // SAFETY: lane (row, i) is element row * nx + i of the block (checked by
    // `whole_rows`), so the new view addresses exactly the elements of `v`,
    // which it borrowed mutably for the same lifetime and is consumed here;
    // the outer strides are the view's own, so distinct (a, b) stay apart.
    unsafe { ndarray::ArrayViewMut3::from_shape_ptr(shape, v.as_mut_ptr()) }
}

/// The read-only twin of [`merged_rows_mut`]: [b, rows, nx] as [b, rows * nx].
fn merged_rows(v: ndarray::ArrayView3<'_, f64>) -> ArrayView2<'_, f64> {
    use ndarray::ShapeBuilder;
    let (b, rows, nx) = v.dim();
    let st = v.strides().to_vec();
    assert!(whole_rows(rows, nx, st[1], st[2]), "a block of whole rows");
    let shape = (b, rows * nx).strides((st[0].max(0) as usize, 1));
    // SAFETY: as in `merged_rows_mut`, for a shared borrow.
    unsafe { ArrayView2::from_shape_ptr(shape, v.as_ptr()) }
}

/// Whether `rows` rows of `nx` with these strides lie end to end (i unit
/// strided, rows nx apart; a length-1 axis may carry any stride).
fn whole_rows(rows: usize, nx: usize, row_stride: isize, lane_stride: isize) -> bool {
    (nx <= 1 || lane_stride == 1) && (rows <= 1 || row_stride == nx as isize)
}

/// Split `n` lanes into blocks of at most `LANE_BLOCK`, each but the last a
/// multiple of `VECTOR_LANES` (a block's odd lanes would run the kernel's
/// scalar remainder loops: 100-lane blocks cost 35 % more per cell than
/// 200-lane ones, `examples`-style timing of `ppm_rows` in cache).
fn lane_blocks(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let size = n
        .div_ceil(n.div_ceil(LANE_BLOCK).max(1))
        .next_multiple_of(VECTOR_LANES)
        .max(VECTOR_LANES);
    (0..n.div_ceil(size)).map(move |b| (b * size, ((b + 1) * size).min(n)))
}

pub struct Advection {
    pub max_courant: f64,
    /// How the kernels find cell-edge values.
    pub edges: PpmEdges,
    work: Option<Work>,
}

impl Advection {
    pub fn new(max_courant: f64, edges: PpmEdges) -> Self {
        Advection {
            max_courant,
            edges,
            work: None,
        }
    }
}

/// Grid-sized work arrays, kept between steps so no step allocates.
struct Work {
    /// Air-mass fluxes per sub-step, kg: x-faces [k, j, 0..=nx], y-faces [k, 0..=ny, i].
    fx: Array3<f64>,
    fy: Array3<f64>,
    /// Air mass at the start and end of the step, and a sub-step's target.
    start: Array3<f64>,
    end: Array3<f64>,
    target: Array3<f64>,
    /// Vertical air-mass flux through the bottom of each layer [0..=nz, j, i].
    w: Array3<f64>,
}

impl Work {
    fn new(nz: usize, ny: usize, nx: usize) -> Self {
        let c = || Array3::zeros((nz, ny, nx));
        Work {
            fx: Array3::zeros((nz, ny, nx + 1)),
            fy: Array3::zeros((nz, ny + 1, nx)),
            start: c(),
            end: c(),
            target: c(),
            w: Array3::zeros((nz + 1, ny, nx)),
        }
    }
}

/// The tracer-independent start of a step, one pass over the grid with
/// layers in parallel: the air-mass fluxes through x- and y-faces over `dt`
/// (into `fx`, `fy`), the air mass the met density prescribes at the end of
/// the step (into `end`, as [`crate::state::air_mass_into`]), and the
/// horizontal sub-steps those need with the current air mass `air` (see
/// [`courant_row`]). Row j is checked as soon as its faces are known, so
/// each row is read back from cache. Returns the need and the cell that
/// needs it (the first such; a NaN wins).
///
/// Face flux: rho u L dz dt, with rho the mean of the two cells. A periodic
/// seam uses the wrapped neighbour and is one face (the low side's value);
/// an open edge uses its own cell; a halo edge the neighbour's cell from the
/// context's density halo.
fn prepare_step(
    ctx: &StepContext,
    air: &Array3<f64>,
    work: &mut Work,
    c: f64,
) -> (f64, [usize; 3]) {
    let g = ctx.grid;
    let m = ctx.met_mid;
    let dens_end = &ctx.met_end.density;
    let (ny, nx) = (g.ny, g.nx);
    let dt = ctx.dt;
    let e = g.edges;
    let rho_halo = ctx.density_halo;
    let beyond = |side: Side, k: usize, along: usize| rho_halo.adjacent(side, 0, k, along);
    let area = g.area.as_slice().expect("standard layout");
    work.fx
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(work.fy.axis_iter_mut(Axis(0)))
        .zip(work.end.axis_iter_mut(Axis(0)))
        .enumerate()
        .map(|(k, ((mut x, mut y), mut end))| {
            let dz = g.dz[k];
            let (c_k, rho, u, v) = (
                dz * dt,
                m.density.index_axis(Axis(0), k),
                m.u_face.index_axis(Axis(0), k),
                m.v_face.index_axis(Axis(0), k),
            );
            let rho_end = dens_end.index_axis(Axis(0), k);
            let rho_end = rho_end.as_slice().expect("standard layout");
            let end = end.as_slice_mut().expect("standard layout");
            let air = air.index_axis(Axis(0), k);
            let air = air.as_slice().expect("standard layout");
            let x = x.as_slice_mut().expect("standard layout");
            let y = y.as_slice_mut().expect("standard layout");
            let x_face_row = |j: usize, xr: &mut [f64]| {
                let (r, uu, len) = (rho.row(j), u.row(j), g.x_face_len.row(j));
                let (r, uu, len) = (
                    r.to_slice().expect("contiguous rows"),
                    uu.to_slice().expect("contiguous rows"),
                    len.to_slice().expect("contiguous rows"),
                );
                // Interior faces: density averaged over the two neighbours.
                let (rw, re) = (&r[..nx - 1], &r[1..nx]);
                let (ui, li, xi) = (&uu[1..nx], &len[1..nx], &mut xr[1..nx]);
                for f in 0..nx - 1 {
                    xi[f] = 0.5 * (rw[f] + re[f]) * ui[f] * li[f] * c_k;
                }
                let (west_rho, east_rho) = match (e.west, e.east) {
                    (Edge::Periodic, _) => {
                        let seam = 0.5 * (r[nx - 1] + r[0]);
                        (seam, seam)
                    }
                    _ => (
                        beyond(Side::West, k, j).map_or(r[0], |h| 0.5 * (h + r[0])),
                        beyond(Side::East, k, j).map_or(r[nx - 1], |h| 0.5 * (r[nx - 1] + h)),
                    ),
                };
                xr[0] = west_rho * uu[0] * len[0] * c_k;
                xr[nx] = east_rho * uu[nx] * len[nx] * c_k;
                if e.periodic_x() {
                    // One physical face at each periodic seam: use the low side's value.
                    xr[nx] = xr[0];
                }
            };
            let y_face_row = |f: usize, yr: &mut [f64]| {
                let (vv, len) = (v.row(f), g.y_face_len.row(f));
                let (vv, len) = (
                    vv.to_slice().expect("contiguous rows"),
                    len.to_slice().expect("contiguous rows"),
                );
                let halo_side = match f {
                    0 if rho_halo.strip(Side::South).is_some() => Some(Side::South),
                    f if f == ny && rho_halo.strip(Side::North).is_some() => Some(Side::North),
                    _ => None,
                };
                if let Some(side) = halo_side {
                    let inner = rho.row(if side == Side::South { 0 } else { ny - 1 });
                    for i in 0..nx {
                        let h = beyond(side, k, i).unwrap_or(0.0);
                        let (ra, rb) = if side == Side::South {
                            (h, inner[i])
                        } else {
                            (inner[i], h)
                        };
                        yr[i] = 0.5 * (ra + rb) * vv[i] * len[i] * c_k;
                    }
                    return;
                }
                let (a, b) = if e.periodic_y() {
                    ((f + ny - 1) % ny, f % ny)
                } else {
                    (f.saturating_sub(1), f.min(ny - 1))
                };
                let (ra, rb) = (rho.row(a), rho.row(b));
                let (ra, rb) = (
                    ra.to_slice().expect("contiguous rows"),
                    rb.to_slice().expect("contiguous rows"),
                );
                for i in 0..nx {
                    yr[i] = 0.5 * (ra[i] + rb[i]) * vv[i] * len[i] * c_k;
                }
            };
            let mut worst = (0.0, [k, 0, 0]);
            with_sweep_work(|w| {
                let need = &mut w.courant;
                need.resize(nx, 0.0);
                let mut check = |j: usize, x: &[f64], y: &[f64], end: &[f64]| {
                    let cells = j * nx..(j + 1) * nx;
                    courant_row(
                        &x[j * (nx + 1)..(j + 1) * (nx + 1)],
                        (&y[cells.clone()], &y[cells.start + nx..cells.end + nx]),
                        (&air[cells.clone()], &end[cells]),
                        c,
                        need,
                    );
                    for (i, &n) in need.iter().enumerate() {
                        if exceeds(n, worst.0) {
                            worst = (n, [k, j, i]);
                        }
                    }
                };
                for j in 0..ny {
                    x_face_row(j, &mut x[j * (nx + 1)..(j + 1) * (nx + 1)]);
                    y_face_row(j, &mut y[j * nx..(j + 1) * nx]);
                    // The air mass at the end of the step.
                    let cells = j * nx..(j + 1) * nx;
                    crate::state::air_mass_of_cells(
                        &rho_end[cells.clone()],
                        &area[cells.clone()],
                        dz,
                        &mut end[cells],
                    );
                    if j > 0 {
                        check(j - 1, x, y, end);
                    }
                }
                y_face_row(ny, &mut y[ny * nx..]);
                if e.periodic_y() {
                    y.copy_within(..nx, ny * nx);
                }
                check(ny - 1, x, y, end);
            });
            worst
        })
        .reduce(
            || (0.0, [0, 0, 0]),
            |a, b| if exceeds(b.0, a.0) { b } else { a },
        )
}

multiversion! {
    /// The horizontal sub-steps each cell of a row needs: the fewest n such
    /// that, with fluxes F/n, each sweep's outflow from the cell stays below
    /// `c` times the air mass it holds at that sweep, for either sweep order.
    /// The smaller of the start and end air mass of a cell bounds what it
    /// holds at the start of every sub-step. `x`: the row's nx+1 x-face
    /// fluxes; `y`: its south and north face fluxes; `air`: start and end air
    /// mass. A NaN end air mass (the met density) gives NaN; a NaN flux is
    /// passed over by the `max` of the in- and outflows (the air mass it
    /// leaves is NaN, which the vertical sweep's continuity check reports).
    fn courant_row / courant_row_portable = courant_row_impl(x: &[f64], y: (&[f64], &[f64]), air: (&[f64], &[f64]), c: f64, need: &mut [f64]) -> ()
}

#[inline(always)]
fn courant_row_impl(
    x: &[f64],
    (ys, yn): (&[f64], &[f64]),
    (m0, m1): (&[f64], &[f64]),
    c: f64,
    need: &mut [f64],
) {
    let nx = need.len();
    let (xw, xe) = (&x[..nx], &x[1..nx + 1]);
    let (ys, yn, m0, m1) = (&ys[..nx], &yn[..nx], &m0[..nx], &m1[..nx]);
    for i in 0..nx {
        // The smaller of the start and end air mass bounds every sub-step's.
        let m = if m0[i] < m1[i] { m0[i] } else { m1[i] };
        let (w, e, so, no) = (xw[i], xe[i], ys[i], yn[i]);
        let (ox, ix) = ((-w).max(0.0) + e.max(0.0), w.max(0.0) + (-e).max(0.0));
        let (oy, iy) = ((-so).max(0.0) + no.max(0.0), so.max(0.0) + (-no).max(0.0));
        // ox/n <= c m; oy/n <= c m; oy/n <= c (m + (ix - ox)/n); and x<->y.
        let n = (ox / (c * m))
            .max(oy / (c * m))
            .max((oy / c - ix + ox) / m)
            .max((ox / c - iy + oy) / m);
        // A NaN air mass makes every term NaN, which max would pass over.
        need[i] = if (ox + oy + m).is_nan() { f64::NAN } else { n };
    }
}

/// `a` is worse than `b`: larger, or NaN where `b` is not (so a NaN is
/// reported, not passed over as `f64::max` would).
fn exceeds(a: f64, b: f64) -> bool {
    a > b || (a.is_nan() && !b.is_nan())
}

/// The sub-steps a sweep needs over all ranks, from this rank's `local`
/// need at its cell `at`: at most [`MAX_SUBSTEPS`], else (or when not
/// finite) exit 5 naming the cell, the met wind there and the time. A NaN
/// on any rank stops every rank, so it is reduced as infinite.
fn substeps_or_stop(
    ctx: &StepContext,
    sweep: &str,
    local: f64,
    at: [usize; 3],
    max_courant: f64,
) -> Result<usize> {
    let need = ctx.comm.max(if local.is_finite() {
        local
    } else {
        f64::INFINITY
    });
    if need <= MAX_SUBSTEPS as f64 {
        return Ok((need.ceil() as usize).max(1));
    }
    let [k, j, i] = at;
    let m = ctx.met_mid;
    let mine = if need.is_finite() {
        local == need
    } else {
        !local.is_finite()
    };
    let flux = if sweep == "vertical" {
        "the vertical air-mass flux diagnosed from the convergence of "
    } else {
        ""
    };
    let here = if mine {
        format!(
            "at cell (k={k}, j={j}, i={i}) {flux}the met wind (u = {} and {} m/s at its west and east faces, v = {} and {} m/s south and north, density {} kg/m3)",
            num(m.u_face[[k, j, i]]),
            num(m.u_face[[k, j, i + 1]]),
            num(m.v_face[[k, j, i]]),
            num(m.v_face[[k, j + 1, i]]),
            num(m.density[[k, j, i]]),
        )
    } else {
        format!("in another subdomain {flux}the met wind")
    };
    let what = if need.is_finite() {
        format!(
            "{sweep} advection needs {} sub-steps, more than the {MAX_SUBSTEPS} allowed (physics.max_courant {max_courant})",
            need.ceil()
        )
    } else {
        format!("{sweep} advection has a non-finite Courant number")
    };
    Err(Error::Numerics {
        process: "advection".into(),
        detail: format!(
            "{what} in step {} ({:.3} h after the start): {here} moves {} times a cell's air mass in the {} s step; check the met winds and density there, or shorten run.dt_s",
            ctx.step_index,
            ctx.time / 3600.0,
            if local.is_finite() { num(local * max_courant) } else { "a non-finite number of".into() },
            ctx.dt,
        ),
    })
}

#[derive(Clone, Copy)]
enum Dir {
    X,
    Y,
}

multiversion! {
    /// `inv` = 1 / `air`, element by element.
    fn reciprocal / reciprocal_portable = reciprocal_impl(air: &[f64], inv: &mut [f64]) -> ()
}

#[inline(always)]
fn reciprocal_impl(air: &[f64], inv: &mut [f64]) {
    for (i, &a) in inv.iter_mut().zip(air) {
        *i = 1.0 / a;
    }
}

multiversion! {
    /// The air-mass bookkeeping of a sweep of one layer along `dir`, one
    /// pass: `inv` = 1 / the air mass before the sweep, then the sweep's
    /// air-mass convergence added to `air` ([rows, nx]; `flux` x: [rows,
    /// nx+1], y: [rows+1, nx]).
    fn air_sweep / air_sweep_portable = air_sweep_impl(dir: Dir, air: &mut [f64], flux: &[f64], nx: usize, inv: &mut [f64]) -> ()
}

#[inline(always)]
fn air_sweep_impl(dir: Dir, air: &mut [f64], flux: &[f64], nx: usize, inv: &mut [f64]) {
    for (j, (a, iv)) in air
        .chunks_exact_mut(nx)
        .zip(inv.chunks_exact_mut(nx))
        .enumerate()
    {
        let (lo, hi) = match dir {
            Dir::X => {
                let f = &flux[j * (nx + 1)..(j + 1) * (nx + 1)];
                (&f[..nx], &f[1..])
            }
            Dir::Y => (
                &flux[j * nx..(j + 1) * nx],
                &flux[(j + 1) * nx..(j + 2) * nx],
            ),
        };
        for i in 0..nx {
            iv[i] = 1.0 / a[i];
            a[i] += lo[i] - hi[i];
        }
    }
}

fn sum_over_planes(per_plane: Vec<Vec<Through>>, ntr: usize) -> Vec<Through> {
    let mut total = vec![Through::default(); ntr];
    for plane in per_plane {
        for (t, e) in total.iter_mut().zip(plane) {
            *t += e;
        }
    }
    total
}

#[derive(Default)]
struct SweepWork {
    kernel: Scratch,
    /// The inflow mixing ratio at the low and high ends, one per lane.
    inflow: [Vec<f64>; 2],
    /// Tagged sweeps: the bulk plane, 1 / bulk, the bulk's face fluxes
    /// (x: [rows, cols+1]; y, z: [rows+1, cols]) and one tag's face fluxes.
    bulk: Vec<f64>,
    inv_bulk: Vec<f64>,
    faces: Vec<f64>,
    tag_faces: Vec<f64>,
    /// A row's Courant numbers or sub-step needs.
    courant: Vec<f64>,
    /// 1 / air mass before each of the sweeps in hand: a layer's for the
    /// horizontal ones, a block of columns' for the vertical one.
    inv: [Vec<f64>; 2],
    /// The face weights of the sweeps in hand, shared by every tracer.
    weights: [FaceWeights; 2],
}

/// The tracer-independent face weights of one sweep of a plane
/// ([`kernels::face_weights_line`] / [`kernels::face_weights_rows`]), laid
/// out like its face fluxes: x [rows, cols+1], y and z [rows+1, cols].
#[derive(Default)]
struct FaceWeights {
    shx: Vec<f64>,
    sgx: Vec<f64>,
    dim: (usize, usize),
}

impl FaceWeights {
    /// The weights of a sweep along `dir` with these 1/air and face fluxes.
    fn compute(&mut self, dir: Dir, inv_air: &ArrayView2<f64>, flux: &ArrayView2<f64>) {
        self.dim = flux.dim();
        let len = self.dim.0 * self.dim.1;
        self.shx.resize(len, 0.0);
        self.sgx.resize(len, 0.0);
        let (shx, sgx) = (&mut self.shx, &mut self.sgx);
        match dir {
            Dir::X => {
                let w = self.dim.1;
                for (j, (h, g)) in shx
                    .chunks_exact_mut(w)
                    .zip(sgx.chunks_exact_mut(w))
                    .enumerate()
                {
                    face_weights_line(row(inv_air, j), row(flux, j), h, g);
                }
            }
            Dir::Y => {
                let mut h = ArrayViewMut2::from_shape(self.dim, &mut shx[..]).expect("shape");
                let mut g = ArrayViewMut2::from_shape(self.dim, &mut sgx[..]).expect("shape");
                face_weights_rows(inv_air, flux, &mut h, &mut g);
            }
        }
    }

    fn view(&self) -> (ArrayView2<'_, f64>, ArrayView2<'_, f64>) {
        (
            ArrayView2::from_shape(self.dim, &self.shx[..]).expect("shape"),
            ArrayView2::from_shape(self.dim, &self.sgx[..]).expect("shape"),
        )
    }
}

thread_local! {
    /// Each worker thread keeps its sweep buffers for the whole run: the
    /// y-sweep scratch is above malloc's mmap threshold, and allocating it
    /// per task cost page faults on every step.
    static SWEEP_WORK: std::cell::RefCell<SweepWork> = std::cell::RefCell::new(SweepWork::default());
}

fn with_sweep_work<R>(f: impl FnOnce(&mut SweepWork) -> R) -> R {
    SWEEP_WORK.with(|w| f(&mut w.borrow_mut()))
}

/// The two ends of a sweep along `dir`: the grid's low and high sides.
fn ends_of(dir: Dir, edges: &Edges) -> [Edge; 2] {
    match dir {
        Dir::X => [edges.west, edges.east],
        Dir::Y => [edges.south, edges.north],
    }
}

/// The inflow mixing ratio of tracer `tr` at the low and high ends of a
/// sweep along `dir`: west and east, or south and north.
fn inflow_of(dir: Dir, lateral: &[Vec<f64>; 4], tr: usize) -> [f64; 2] {
    let [lo, hi] = match dir {
        Dir::X => [Side::West, Side::East],
        Dir::Y => [Side::South, Side::North],
    };
    [lateral[lo.index()][tr], lateral[hi.index()][tr]]
}

/// The part of a line's end fluxes that crosses open sides of the domain.
fn booked(ends: [Edge; 2], e: EndFluxes) -> Through {
    match ends {
        [Edge::Open, Edge::Open] => Through {
            inflow: e.low.inflow + e.high.inflow,
            outflow: e.low.outflow + e.high.outflow,
        },
        [Edge::Open, _] => e.low,
        [_, Edge::Open] => e.high,
        _ => Through::default(),
    }
}

/// One directional sweep of one tracer plane [rows, cols]. `bnd` is the
/// inflow mixing ratio beyond its low and high ends, `ends` the kinds of
/// those sides; a Halo end means the plane has already
/// been extended by the neighbour's cells and behaves as open (its far end
/// carries no flux), but is not booked.
#[allow(clippy::too_many_arguments)]
fn sweep_plane(
    dir: Dir,
    plane: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    weights: &FaceWeights,
    bnd: [f64; 2],
    ends: [Edge; 2],
    edges: PpmEdges,
    w: &mut SweepWork,
) -> Through {
    let nx = plane.ncols();
    let periodic = ends[0] == Edge::Periodic;
    let mut total = Through::default();
    let (shx, sgx) = weights.view();
    match dir {
        Dir::X => {
            // Along the contiguous direction: one line per row.
            for (j, mut line) in plane.outer_iter_mut().enumerate() {
                let line_ends = if periodic {
                    LineEnds::Periodic
                } else {
                    LineEnds::Open {
                        low: bnd[0],
                        high: bnd[1],
                    }
                };
                let m = line.as_slice_mut().expect("rows contiguous");
                let e = ppm_line_weighted(
                    m,
                    row(inv_air, j),
                    row(flux, j),
                    (row(&shx, j), row(&sgx, j)),
                    line_ends,
                    edges,
                    &mut w.kernel,
                );
                total += booked(ends, e);
                if w.kernel.record_faces {
                    w.faces[j * (nx + 1)..(j + 1) * (nx + 1)]
                        .copy_from_slice(w.kernel.face_fluxes());
                }
            }
        }
        Dir::Y => {
            // Across rows, vectorised along x in lane blocks.
            for (lane, &v) in w.inflow.iter_mut().zip(&bnd) {
                lane.clear();
                lane.resize(nx, v);
            }
            for (i0, i1) in lane_blocks(nx) {
                let row_ends = if periodic {
                    RowEnds::Periodic
                } else {
                    RowEnds::Open {
                        low: &w.inflow[0][i0..i1],
                        high: &w.inflow[1][i0..i1],
                    }
                };
                let mut m = plane.slice_mut(s![.., i0..i1]);
                let e = ppm_rows_weighted(
                    &mut m,
                    &inv_air.slice(s![.., i0..i1]),
                    &flux.slice(s![.., i0..i1]),
                    (&shx.slice(s![.., i0..i1]), &sgx.slice(s![.., i0..i1])),
                    row_ends,
                    edges,
                    &mut w.kernel,
                );
                total += booked(ends, e);
                if w.kernel.record_faces {
                    let block = i1 - i0;
                    for (f, src) in w.kernel.face_fluxes().chunks_exact(block).enumerate() {
                        w.faces[f * nx + i0..f * nx + i1].copy_from_slice(src);
                    }
                }
            }
        }
    }
    total
}

/// One sweep of one species' tags, `tags` [tag, rows, cols], in the
/// flux-fraction form (`tags` module): the bulk, the sum of the tags, is
/// swept with PPM, and each face's bulk flux is shared among the tags by
/// their shares of the donor cell. Arguments as in [`sweep_plane`], `bnd`
/// the species' inflow at the two ends (carried by `boundary_tag`). With `bulk_ready` the
/// bulk is the one the previous sweep of these tags left in `w.bulk`
/// (equal to their sum to round-off), so it is not summed again. Returns
/// what each tag moved through booked ends.
#[allow(clippy::too_many_arguments)]
fn sweep_tags(
    dir: Dir,
    tag_planes: &mut ndarray::ArrayViewMut3<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    weights: &FaceWeights,
    bnd: [f64; 2],
    ends: [Edge; 2],
    boundary_tag: usize,
    bulk_ready: bool,
    edges: PpmEdges,
    w: &mut SweepWork,
) -> Vec<Through> {
    let (ntags, rows, cols) = tag_planes.dim();
    let cells = rows * cols;
    let mut bulk = std::mem::take(&mut w.bulk);
    if !bulk_ready || bulk.len() != cells {
        bulk.clear();
        bulk.resize(cells, 0.0);
        // Row by row: a z-sweep's planes are strided between rows.
        for plane in tag_planes.outer_iter() {
            tags::add_plane(&mut bulk, &plane);
        }
    }
    let mut inv_bulk = std::mem::take(&mut w.inv_bulk);
    inv_bulk.resize(cells, 0.0);
    tags::inverse_bulk(&bulk, &mut inv_bulk);
    w.faces.resize(
        match dir {
            Dir::X => rows * (cols + 1),
            Dir::Y => (rows + 1) * cols,
        },
        0.0,
    );
    w.kernel.record_faces = true;
    {
        let mut b = ArrayViewMut2::from_shape((rows, cols), &mut bulk).expect("plane shape");
        sweep_plane(dir, &mut b, inv_air, flux, weights, bnd, ends, edges, w);
    }
    w.kernel.record_faces = false;
    let periodic = ends[0] == Edge::Periodic;
    let inv = ArrayView2::from_shape((rows, cols), &inv_bulk).expect("plane shape");
    let mut out = vec![Through::default(); ntags];
    for (t, mut plane) in tag_planes.outer_iter_mut().enumerate() {
        let ghost = (!periodic).then(|| [tags::ghost_share(t, boundary_tag); 2]);
        let e = match dir {
            Dir::X => {
                let mut e = EndFluxes::default();
                for j in 0..rows {
                    let mut line = plane.row_mut(j);
                    e += tags::apportion_line(
                        line.as_slice_mut().expect("rows contiguous"),
                        row(&inv, j),
                        &w.faces[j * (cols + 1)..(j + 1) * (cols + 1)],
                        row(flux, j),
                        ghost,
                        &mut w.tag_faces,
                    );
                }
                e
            }
            Dir::Y => {
                tags::apportion_rows(&mut plane, &inv, &w.faces, flux, ghost, &mut w.tag_faces)
            }
        };
        out[t] += booked(ends, e);
    }
    w.bulk = bulk;
    w.inv_bulk = inv_bulk;
    out
}

/// The planes ([tag, rows, cols]) of every tagged species, with its index
/// and tracer range; untagged species (their bulk) are left to the plain
/// per-tracer sweep, which skips tracers for which [`swept_with_tags`].
fn tagged_species<'a>(
    t: &TracerSet,
    mut planes: ndarray::ArrayViewMut3<'a, f64>,
) -> Vec<(
    usize,
    std::ops::Range<usize>,
    ndarray::ArrayViewMut3<'a, f64>,
)> {
    let mut out = Vec::new();
    for s in 0..t.species.len() {
        let range = t.tracers_of(s);
        let (species, rest) = planes.split_at(Axis(0), range.len());
        planes = rest;
        if t.species_is_tagged(s) {
            out.push((s, range, species));
        }
    }
    out
}

/// True when tracer `tr` is a tag moved by [`sweep_tags`] (tagged runs).
fn swept_with_tags(tagged: Option<&TracerSet>, tr: usize) -> bool {
    tagged.is_some_and(|t| t.tag_of(tr).is_some())
}

/// The axis a sweep along `dir` runs on, in a [rows, cols] plane.
fn axis_of(dir: Dir) -> Axis {
    match dir {
        Dir::X => Axis(1),
        Dir::Y => Axis(0),
    }
}

/// Field `t`, layer `k` of the strip beyond `side`, if it is a halo.
fn strip_of(h: &Halo, side: Side, t: usize, k: usize) -> Option<ArrayView2<'_, f64>> {
    h.strip(side)
        .map(|m| m.index_axis(Axis(0), t).index_axis_move(Axis(0), k))
}

/// `parts` laid end to end along `axis` (a plane extended by its halo
/// strips), row-major as the kernels need.
fn join(axis: Axis, parts: &[ArrayView2<f64>]) -> Array2<f64> {
    let mut dim = parts[0].raw_dim();
    dim[axis.index()] = parts.iter().map(|p| p.len_of(axis)).sum();
    let mut out = Array2::zeros(dim);
    let mut at = 0;
    for p in parts {
        let n = p.len_of(axis);
        out.slice_axis_mut(axis, ndarray::Slice::from(at..at + n))
            .assign(p);
        at += n;
    }
    out
}

impl Advection {
    /// Both horizontal sweeps, fused per layer: the tracer-independent air
    /// mass bookkeeping (1/air before each sweep, the pseudo-density between
    /// them) is done once per layer, then each tracer plane is swept along
    /// `order[0]` and `order[1]` while it sits in cache. Returns the lateral
    /// in/out per tracer through open sides. For undivided grids.
    fn horizontal_step(
        g: &Grid,
        order: [Dir; 2],
        work: &mut Work,
        state: &mut State,
        bnd: &[Vec<f64>; 4],
        edges: PpmEdges,
    ) -> Vec<Through> {
        let ntr = state.tracers.len();
        let tagged = state.tracers.is_tagged().then_some(&state.tracers);
        let (fx, fy) = (&work.fx, &work.fy);
        let flux_of = |d: Dir, k: usize| match d {
            Dir::X => fx.index_axis(Axis(0), k),
            Dir::Y => fy.index_axis(Axis(0), k),
        };
        let ends = [ends_of(order[0], &g.edges), ends_of(order[1], &g.edges)];
        let (ny, nx) = (g.ny, g.nx);
        let per_layer: Vec<Vec<Through>> = state
            .mass
            .axis_iter_mut(Axis(1))
            .into_par_iter()
            .zip(state.air_mass.axis_iter_mut(Axis(0)).into_par_iter())
            .enumerate()
            .map(|(k, (mut planes, mut air))| {
                with_sweep_work(|w| {
                    let (f1, f2) = (flux_of(order[0], k), flux_of(order[1], k));
                    // 1/air before each sweep and the pseudo-density they
                    // leave, into this thread's buffers (reused by its
                    // next layer, so they stay in cache).
                    let mut inv = std::mem::take(&mut w.inv);
                    let air = air.as_slice_mut().expect("standard layout");
                    for ((d, f), iv) in [(order[0], &f1), (order[1], &f2)].into_iter().zip(&mut inv)
                    {
                        iv.resize(ny * nx, 0.0);
                        air_sweep(d, air, f.as_slice().expect("standard layout"), nx, iv);
                    }
                    let inv1 = ArrayView2::from_shape((ny, nx), &inv[0][..]).expect("layer");
                    let inv2 = ArrayView2::from_shape((ny, nx), &inv[1][..]).expect("layer");
                    // Both sweeps' face weights once, for every tracer.
                    let mut wts = std::mem::take(&mut w.weights);
                    wts[0].compute(order[0], &inv1.view(), &f1);
                    wts[1].compute(order[1], &inv2.view(), &f2);
                    let mut out = vec![Through::default(); ntr];
                    if let Some(t) = tagged {
                        for (s, range, mut species) in tagged_species(t, planes.view_mut()) {
                            let inflow = t.index(s, t.boundary_tag);
                            for (d, inv, f, wt, end, second) in [
                                (order[0], inv1.view(), &f1, &wts[0], ends[0], false),
                                (order[1], inv2.view(), &f2, &wts[1], ends[1], true),
                            ] {
                                let moved = sweep_tags(
                                    d,
                                    &mut species,
                                    &inv,
                                    f,
                                    wt,
                                    inflow_of(d, bnd, inflow),
                                    end,
                                    t.boundary_tag,
                                    second,
                                    edges,
                                    w,
                                );
                                for (o, m) in out[range.clone()].iter_mut().zip(moved) {
                                    *o += m;
                                }
                            }
                        }
                    }
                    for (tr, mut plane) in planes.outer_iter_mut().enumerate() {
                        if swept_with_tags(tagged, tr) {
                            continue;
                        }
                        out[tr] += sweep_plane(
                            order[0],
                            &mut plane,
                            &inv1.view(),
                            &f1,
                            &wts[0],
                            inflow_of(order[0], bnd, tr),
                            ends[0],
                            edges,
                            w,
                        );
                        out[tr] += sweep_plane(
                            order[1],
                            &mut plane,
                            &inv2.view(),
                            &f2,
                            &wts[1],
                            inflow_of(order[1], bnd, tr),
                            ends[1],
                            edges,
                            w,
                        );
                    }
                    w.weights = wts;
                    w.inv = inv;
                    out
                })
            })
            .collect();
        sum_over_planes(per_layer, ntr)
    }

    /// The horizontal sweeps of a subdomain: before each sweep the tracer
    /// and air masses of the halos along it are exchanged, then every plane
    /// is swept on its extended lines. Same arithmetic per cell as
    /// `horizontal_step`, so the divided run matches the undivided one bit
    /// for bit.
    fn horizontal_step_divided(
        g: &Grid,
        order: [Dir; 2],
        work: &mut Work,
        state: &mut State,
        bnd: &[Vec<f64>; 4],
        edges: PpmEdges,
        comm: &dyn Comm,
    ) -> Vec<Through> {
        let ntr = state.tracers.len();
        let mut total = vec![Through::default(); ntr];
        for dir in order {
            let sides = match dir {
                Dir::X => X_SIDES,
                Dir::Y => Y_SIDES,
            };
            let mass_halo = halo::exchange(comm, &g.edges, state.mass.view(), &sides);
            let air_halo = halo::exchange3(comm, &g.edges, state.air_mass.view(), &sides);
            let flux = match dir {
                Dir::X => &work.fx,
                Dir::Y => &work.fy,
            };
            let ends = ends_of(dir, &g.edges);
            let axis = axis_of(dir);
            // Strips below and above the interior along the sweep (None at
            // an open or periodic side), and their widths.
            let width = |side: Side| {
                mass_halo
                    .strip(side)
                    .map_or(0, |m| m.len_of(Axis(axis.index() + 2)))
            };
            let (lo, hi) = (width(sides[0]), width(sides[1]));
            let per_layer: Vec<Vec<Through>> = state
                .mass
                .axis_iter_mut(Axis(1))
                .into_par_iter()
                .zip(state.air_mass.axis_iter_mut(Axis(0)).into_par_iter())
                .enumerate()
                .map(|(k, (mut planes, mut air))| {
                    with_sweep_work(|w| {
                        let f = flux.index_axis(Axis(0), k);
                        let (ny, nx) = air.dim();
                        let mut inv_buf = std::mem::take(&mut w.inv[0]);
                        inv_buf.resize(ny * nx, 0.0);
                        air_sweep(
                            dir,
                            air.as_slice_mut().expect("standard layout"),
                            f.as_slice().expect("standard layout"),
                            nx,
                            &mut inv_buf,
                        );
                        let inv = ArrayView2::from_shape((ny, nx), &inv_buf[..]).expect("layer");
                        // Tracer-independent: 1/air and the face fluxes of
                        // the extended lines, once per layer. Faces beyond
                        // the interior carry nothing: they only feed halo cells.
                        let inv_strip =
                            |side| strip_of(&air_halo, side, 0, k).map(|a| a.mapv(|a| 1.0 / a));
                        let (inv_lo, inv_hi) = (inv_strip(sides[0]), inv_strip(sides[1]));
                        let inv_parts: Vec<ArrayView2<f64>> = inv_lo
                            .iter()
                            .map(|a| a.view())
                            .chain([inv.view()])
                            .chain(inv_hi.iter().map(|a| a.view()))
                            .collect();
                        let inv_ext = join(axis, &inv_parts);
                        w.inv[0] = inv_buf;
                        let mut f_dim = inv_ext.raw_dim();
                        f_dim[axis.index()] += 1;
                        let mut f_ext = Array2::zeros(f_dim);
                        f_ext
                            .slice_axis_mut(axis, ndarray::Slice::from(lo..lo + f.len_of(axis)))
                            .assign(&f);
                        let n = planes.len_of(Axis(axis.index() + 1));
                        let mut wts = std::mem::take(&mut w.weights);
                        wts[0].compute(dir, &inv_ext.view(), &f_ext.view());
                        let mut out = vec![Through::default(); ntr];
                        for (tr, mut plane) in planes.outer_iter_mut().enumerate() {
                            let parts: Vec<ArrayView2<f64>> = strip_of(&mass_halo, sides[0], tr, k)
                                .into_iter()
                                .chain([plane.view()])
                                .chain(strip_of(&mass_halo, sides[1], tr, k))
                                .collect();
                            let mut ext = join(axis, &parts);
                            out[tr] += sweep_plane(
                                dir,
                                &mut ext.view_mut(),
                                &inv_ext.view(),
                                &f_ext.view(),
                                &wts[0],
                                inflow_of(dir, bnd, tr),
                                ends,
                                edges,
                                w,
                            );
                            plane.assign(&ext.slice_axis(axis, ndarray::Slice::from(lo..lo + n)));
                        }
                        debug_assert_eq!(inv_ext.len_of(axis), lo + n + hi);
                        w.weights = wts;
                        out
                    })
                })
                .collect();
            for (t, e) in total.iter_mut().zip(sum_over_planes(per_layer, ntr)) {
                *t += e;
            }
        }
        total
    }

    /// Vertical sweep with air-mass fluxes diagnosed from continuity so the
    /// air mass ends at `target`. Returns top in/out per tracer. The air
    /// mass ends as `work.target`'s array itself (swapped in, not copied);
    /// `work.target` is left holding the old air mass.
    fn vertical_sweep(
        &self,
        g: &Grid,
        state: &mut State,
        work: &mut Work,
        top_bnd: &[f64],
        ctx: &StepContext,
    ) -> Result<Vec<Through>> {
        let (nz, nx) = (g.nz, g.nx);
        let ntr = state.tracers.len();
        let tagged = state.tracers.is_tagged().then_some(&state.tracers);
        let (target, w) = (&work.target, &mut work.w);
        let air = &state.air_mass;
        // W[k] = air mass crossing the bottom of layer k upward; W[0] = 0 at
        // the ground; continuity from the bottom up, column rows in parallel.
        let courant = w
            .axis_iter_mut(Axis(1))
            .into_par_iter()
            .enumerate()
            .map(|(j, mut wj)| {
                let mut worst = (0.0, [0, j, 0]);
                wj.row_mut(0).fill(0.0);
                with_sweep_work(|buffers| {
                    let c = &mut buffers.courant;
                    c.resize(nx, 0.0);
                    for k in 0..nz {
                        let m = &air.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx];
                        let t = &target.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx];
                        let (lo, mut hi) = wj.multi_slice_mut((s![k, ..], s![k + 1, ..]));
                        vertical_courant_row(
                            lo.as_slice().expect("contiguous"),
                            (m, t),
                            hi.as_slice_mut().expect("contiguous"),
                            c,
                        );
                        for (i, &c) in c.iter().enumerate() {
                            if exceeds(c, worst.0) {
                                worst = (c, [k, j, i]);
                            }
                        }
                    }
                });
                worst
            })
            .reduce(
                || (0.0, [0, 0, 0]),
                |a, b| if exceeds(b.0, a.0) { b } else { a },
            );
        let pieces = substeps_or_stop(
            ctx,
            "vertical",
            courant.0 / self.max_courant,
            courant.1,
            self.max_courant,
        )?;
        if pieces > 1 {
            w.par_mapv_inplace(|v| v / pieces as f64);
        }
        let w = &*w;
        let mut per_tracer = vec![Through::default(); ntr];
        for _ in 0..pieces {
            let rows = column_rows(nx, g.ny);
            let air = &state.air_mass;
            let per_row: Vec<Vec<Through>> = state
                .mass
                .axis_chunks_iter_mut(Axis(2), rows)
                .into_par_iter()
                .enumerate()
                .map(|(b, slabs)| {
                    // A block of rows j0..j1 as one set of lanes (j, i): each
                    // layer's part is contiguous, so the sweep streams
                    // rows x nx values per layer, not nx.
                    let (j0, j1) = (b * rows, (b * rows + rows).min(g.ny));
                    let lanes = (j1 - j0) * nx;
                    let mut slabs = merged_rows_mut(slabs);
                    let fl = merged_rows(w.slice(s![.., j0..j1, ..]));
                    with_sweep_work(|buffers| {
                        // The block's 1/air (this thread's buffer, in cache)
                        // and face weights once, for every tracer.
                        let mut inv = std::mem::take(&mut buffers.inv[0]);
                        inv.resize(nz * lanes, 0.0);
                        let a = merged_rows(air.slice(s![.., j0..j1, ..]));
                        for (k, iv) in inv.chunks_exact_mut(lanes).enumerate() {
                            reciprocal(row(&a, k), iv);
                        }
                        let ia = ArrayView2::from_shape((nz, lanes), &inv[..]).expect("block");
                        let mut wts = std::mem::take(&mut buffers.weights);
                        wts[0].compute(Dir::Y, &ia, &fl);
                        let mut out = vec![Through::default(); ntr];
                        if let Some(t) = tagged {
                            // Ground flux is 0, so the low end's inflow is never used.
                            for (s, range, mut species) in tagged_species(t, slabs.view_mut()) {
                                let top = top_bnd[t.index(s, t.boundary_tag)];
                                let moved = sweep_tags(
                                    Dir::Y,
                                    &mut species,
                                    &ia,
                                    &fl,
                                    &wts[0],
                                    [top, top],
                                    [Edge::Open, Edge::Open],
                                    t.boundary_tag,
                                    false,
                                    self.edges,
                                    buffers,
                                );
                                for (o, m) in out[range].iter_mut().zip(moved) {
                                    *o += m;
                                }
                            }
                        }
                        // Ground closed (flux 0); the top open to the background above.
                        let [mut low, mut high] = std::mem::take(&mut buffers.inflow);
                        low.clear();
                        low.resize(lanes, 0.0);
                        high.resize(lanes, 0.0);
                        let s = &mut buffers.kernel;
                        for (tr, mut slab) in slabs.outer_iter_mut().enumerate() {
                            if swept_with_tags(tagged, tr) {
                                continue;
                            }
                            high.fill(top_bnd[tr]);
                            let (shx, sgx) = wts[0].view();
                            let e = ppm_rows_weighted(
                                &mut slab,
                                &ia,
                                &fl,
                                (&shx, &sgx),
                                RowEnds::Open {
                                    low: &low,
                                    high: &high,
                                },
                                self.edges,
                                s,
                            );
                            out[tr] += e.high;
                        }
                        buffers.inflow = [low, high];
                        buffers.weights = wts;
                        buffers.inv[0] = inv;
                        out
                    })
                })
                .collect();
            for (acc, e) in per_tracer.iter_mut().zip(sum_over_planes(per_row, ntr)) {
                *acc += e;
            }
            if pieces > 1 {
                Zip::from(&mut state.air_mass)
                    .and(w.slice(s![..nz, .., ..]))
                    .and(w.slice(s![1.., .., ..]))
                    .par_for_each(|a, &lo, &hi| *a += lo - hi);
            }
        }
        // Continuity holds to round-off; pin the air mass to the target
        // exactly (by taking the target's array: no copy).
        std::mem::swap(&mut state.air_mass, &mut work.target);
        Ok(per_tracer)
    }
}

multiversion! {
    /// One layer of a row of columns in the vertical continuity pass: the
    /// flux through the top of each cell, `hi` = `lo` + air - target (`lo`
    /// the flux through its bottom, upward positive), and its Courant
    /// number, the outflow over the smaller of its air mass and target. A
    /// NaN flux gives NaN; 0/0 (no air, no flux) gives 0.
    fn vertical_courant_row / vertical_courant_row_portable = vertical_courant_row_impl(lo: &[f64], air: (&[f64], &[f64]), hi: &mut [f64], courant: &mut [f64]) -> ()
}

#[inline(always)]
fn vertical_courant_row_impl(
    lo: &[f64],
    (m, t): (&[f64], &[f64]),
    hi: &mut [f64],
    courant: &mut [f64],
) {
    let n = courant.len();
    let (lo, m, t, hi) = (&lo[..n], &m[..n], &t[..n], &mut hi[..n]);
    for i in 0..n {
        hi[i] = lo[i] + m[i] - t[i];
        let least = if m[i] < t[i] { m[i] } else { t[i] };
        let c = ((-lo[i]).max(0.0) + hi[i].max(0.0)) / least;
        courant[i] = if (lo[i] + hi[i]).is_nan() {
            f64::NAN
        } else if c.is_nan() {
            0.0
        } else {
            c
        };
    }
}

impl Process for Advection {
    fn name(&self) -> &'static str {
        "advection"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let g = ctx.grid;
        let mut work = match self.work.take() {
            Some(w) if w.start.dim() == state.air_mass.dim() => w,
            _ => Work::new(g.nz, g.ny, g.nx),
        };
        let divided = g.edges.any_halo();
        let (need, at) = prepare_step(ctx, &state.air_mass, &mut work, self.max_courant);
        let nsub = substeps_or_stop(ctx, "horizontal", need, at, self.max_courant)?;
        let frac = 1.0 / nsub as f64;
        if nsub > 1 {
            work.fx.par_mapv_inplace(|v| v * frac);
            work.fy.par_mapv_inplace(|v| v * frac);
            // Sub-step targets interpolate from the start air mass.
            Zip::from(&mut work.start)
                .and(&state.air_mass)
                .par_for_each(|a, &b| *a = b);
        }
        for sub in 0..nsub {
            let x_first = (ctx.step_index as usize * nsub + sub) % 2 == 0;
            let order = if x_first {
                [Dir::X, Dir::Y]
            } else {
                [Dir::Y, Dir::X]
            };
            let bnd = &ctx.boundary.lateral;
            let lateral = if divided {
                Self::horizontal_step_divided(g, order, &mut work, state, bnd, self.edges, ctx.comm)
            } else {
                Self::horizontal_step(g, order, &mut work, state, bnd, self.edges)
            };
            for (b, e) in budget.tracers.iter_mut().zip(lateral) {
                b.lateral_in_kg += e.inflow;
                b.lateral_out_kg += e.outflow;
            }
            if nsub == 1 {
                std::mem::swap(&mut work.target, &mut work.end);
            } else {
                let wgt = (sub + 1) as f64 * frac;
                Zip::from(&mut work.target)
                    .and(&work.start)
                    .and(&work.end)
                    .par_for_each(|t, &a, &b| *t = a + (b - a) * wgt);
            }
            let top = self.vertical_sweep(g, state, &mut work, &ctx.boundary.top, ctx)?;
            for (b, e) in budget.tracers.iter_mut().zip(top) {
                b.top_in_kg += e.inflow;
                b.top_out_kg += e.outflow;
            }
        }
        self.work = Some(work);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_blocks_tile_the_lanes_in_whole_vectors() {
        for n in 1..3000 {
            let blocks: Vec<_> = lane_blocks(n).collect();
            // Contiguous from 0 to n, none empty.
            assert_eq!(blocks[0].0, 0, "n = {n}");
            assert_eq!(blocks.last().unwrap().1, n, "n = {n}");
            for w in blocks.windows(2) {
                assert_eq!(w[0].1, w[1].0, "n = {n}");
            }
            for (k, &(a, b)) in blocks.iter().enumerate() {
                assert!(
                    b > a && b - a < LANE_BLOCK + VECTOR_LANES,
                    "n = {n}: {a}..{b}"
                );
                if k + 1 < blocks.len() {
                    assert_eq!((b - a) % VECTOR_LANES, 0, "n = {n}: {a}..{b}");
                }
            }
        }
        assert_eq!(lane_blocks(200).collect::<Vec<_>>(), [(0, 104), (104, 200)]);
    }

    /// The horizontal need of one cell, derived by hand from the definition:
    /// air 1 (start) and 1.25 (end), c = 0.8; 0.5 leaves west, 0.3 east,
    /// 0.2 enters from the south, 0.1 leaves north. The x sweep alone needs
    /// 0.8/n <= 0.8, n >= 1; x then y: 0.1/n <= 0.8 (1 - 0.8/n), n >= 0.925;
    /// y then x: 0.8/n <= 0.8 (1 + 0.1/n), n >= 0.9. So n = 1, set by the
    /// smaller (start) air mass; with half the start air mass, n = 2
    /// (x alone: 0.8/n <= 0.4).
    #[test]
    fn courant_row_matches_a_hand_derived_need() {
        let mut need = [0.0; 2];
        courant_row(
            &[-0.5, 0.3, 0.3],
            (&[0.2, 0.0], &[0.1, 0.0]),
            (&[1.0, 0.5], &[1.25, 1.25]),
            0.8,
            &mut need[..],
        );
        // The second cell: 0.3 in from the first, 0.3 out east, nothing
        // across y, air 0.5: x alone 0.3/n <= 0.4; y then x the same; x
        // then y nothing moves. n = 0.75.
        assert!((need[0] - 1.0).abs() < 1e-15, "{need:?}");
        assert!((need[1] - 0.75).abs() < 1e-15, "{need:?}");
        let mut need = [0.0; 1];
        courant_row(
            &[-0.5, 0.3],
            (&[0.2], &[0.1]),
            (&[0.5], &[1.25]),
            0.8,
            &mut need[..],
        );
        assert!((need[0] - 2.0).abs() < 1e-15, "{need:?}");
        // A NaN (end) air mass is reported as NaN, not passed over.
        courant_row(
            &[-0.5, 0.3],
            (&[0.2], &[0.1]),
            (&[1.0], &[f64::NAN]),
            0.8,
            &mut need[..],
        );
        assert!(need[0].is_nan(), "{need:?}");
    }

    /// Continuity by hand: a column of three layers with air 2, 3, 1 and
    /// targets 1.5, 3.5, 1: the flux through the top of layer 0 is 0.5 up,
    /// through the top of layer 1 0.5 - 0.5 = 0, through the model top 0.
    /// Courant numbers: 0.5 / 1.5; 0.5 in from below, nothing out, 0; 0.
    #[test]
    fn vertical_courant_row_follows_continuity() {
        let (air, target) = ([2.0, 3.0, 1.0], [1.5, 3.5, 1.0]);
        let mut lo = [0.0];
        let (mut flux, mut courant) = (vec![], vec![]);
        for k in 0..3 {
            let (mut hi, mut c) = ([0.0], [0.0]);
            vertical_courant_row(&lo, (&air[k..k + 1], &target[k..k + 1]), &mut hi, &mut c);
            flux.push(hi[0]);
            courant.push(c[0]);
            lo = hi;
        }
        assert_eq!(flux, [0.5, 0.0, 0.0]);
        assert!((courant[0] - 1.0 / 3.0).abs() < 1e-15, "{courant:?}");
        assert_eq!(&courant[1..], [0.0, 0.0]);
        // No air and no flux: 0, not NaN; a NaN flux: NaN.
        let (mut hi, mut c) = ([0.0], [0.0]);
        vertical_courant_row(&[0.0], (&[0.0], &[0.0]), &mut hi, &mut c);
        assert_eq!(c[0], 0.0);
        vertical_courant_row(&[f64::NAN], (&[1.0], &[1.0]), &mut hi, &mut c);
        assert!(c[0].is_nan());
    }

    /// The vector builds of the driver's row passes give the baseline
    /// build's results bit for bit (thread-count and machine identity).
    #[test]
    fn driver_passes_match_their_portable_builds() {
        let n = 37;
        let v = |a: usize, b: usize| -> Vec<f64> {
            (0..n + 1)
                .map(|i| ((i * a + b) % 23) as f64 / 7.0 - 1.3)
                .collect()
        };
        let pos = |a: usize| -> Vec<f64> { v(a, 5).iter().map(|x| x.abs() + 0.1).collect() };
        let (mut x, ys, yn, mut m0, m1) = (v(5, 1), v(7, 2), v(11, 3), pos(3), pos(13));
        (x[4], m0[9]) = (f64::NAN, f64::NAN);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
        courant_row(&x, (&ys, &yn), (&m0, &m1), 0.9, &mut a);
        courant_row_portable(&x, (&ys, &yn), (&m0, &m1), 0.9, &mut b);
        assert_eq!(bits(&a), bits(&b));
        let (mut h1, mut h2) = (vec![0.0; n], vec![0.0; n]);
        vertical_courant_row(&x, (&m0, &m1), &mut h1, &mut a);
        vertical_courant_row_portable(&x, (&m0, &m1), &mut h2, &mut b);
        assert_eq!((bits(&h1), bits(&a)), (bits(&h2), bits(&b)));
        reciprocal(&m0, &mut a);
        reciprocal_portable(&m0, &mut b);
        assert_eq!(bits(&a), bits(&b));
        // One row of n cells: x faces n + 1, y faces 2 rows of n.
        for (dir, flux) in [(Dir::X, &x), (Dir::Y, &[&ys[..n], &yn[..n]].concat())] {
            let (mut air1, mut air2) = (m0[..n].to_vec(), m0[..n].to_vec());
            air_sweep(dir, &mut air1, flux, n, &mut a);
            air_sweep_portable(dir, &mut air2, flux, n, &mut b);
            assert_eq!((bits(&air1), bits(&a)), (bits(&air2), bits(&b)));
        }
    }
}
