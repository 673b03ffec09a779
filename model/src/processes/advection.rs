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
//! - Sub-steps: the fewest that keep every sweep's outflow from a cell below
//!   `max_courant` of the air mass it has at that sweep (the second sweep sees
//!   the air mass the first one left), in either sweep order; the vertical
//!   sweep is sub-divided on its own.
//! - Layout for speed: one kernel works on n rows x L lanes with every inner
//!   loop running along contiguous lanes (vectorised, branch-free selects).
//!   y- and z-sweeps run in place (lanes = x), x-sweeps on a cache-blocked
//!   transpose. Tracer-independent work (1/air, Courant fractions' inputs) is
//!   done once per sweep and stays in cache while all tracers pass through.
//! - Sweep order alternates x-y / y-x between steps (Strang-type symmetry).

use super::{Process, StepContext};
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::state::State;
use ndarray::{s, Array3, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

/// How a 1-D line ends (single-line API used by tests and tools).
#[derive(Debug, Clone, Copy)]
pub enum LineEnds {
    Periodic,
    /// Inflow mixing ratios (kg tracer / kg air) at the low and high ends.
    Open {
        low: f64,
        high: f64,
    },
}

/// How the rows of a sweep end, per lane.
#[derive(Debug, Clone, Copy)]
pub enum RowEnds<'a> {
    Periodic,
    /// Inflow mixing ratio per lane at the low and high ends.
    Open {
        low: &'a [f64],
        high: &'a [f64],
    },
}

/// Mass crossing the ends of a line during one sweep, kg.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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

/// Work arrays, reused across calls: the mixing ratios with ghost rows, and
/// one-row rolling buffers (row length = lanes) that stay in L1: the edge
/// above the current row, the parabolas (left, right, curvature) of the
/// current and previous rows and of row 0, and the last face's flux.
#[derive(Default)]
pub struct Scratch {
    ext: Vec<f64>,
    edge: Vec<f64>,
    edge_next: Vec<f64>,
    par: [Vec<f64>; 3],
    prev: [Vec<f64>; 3],
    first: [Vec<f64>; 3],
    tflux: Vec<f64>,
}

/// Most lanes per block in the y-sweep: long enough to amortise per-row
/// work, short enough to keep the scratch in L2.
const LANE_BLOCK: usize = 128;

/// Split `n` lanes into equal blocks of at most `LANE_BLOCK`.
fn lane_blocks(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let nb = n.div_ceil(LANE_BLOCK);
    let size = n.div_ceil(nb);
    (0..nb).map(move |b| (b * size, ((b + 1) * size).min(n)))
}

/// Define a kernel entry point that runs in the widest vector instruction
/// set the CPU has, plus its baseline twin. The variants perform the same IEEE operations in the same order (no FMA
/// contraction in Rust), so results are bit-identical whichever runs.
macro_rules! multiversion {
    ($(#[$attr:meta])* pub fn $name:ident / $portable:ident = $imp:ident ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        $(#[$attr])*
        pub fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512($($arg: $ty),*) -> $ret {
                $imp($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) -> $ret {
                $imp($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    return unsafe { avx2($($arg),*) };
                }
            }
            $imp($($arg),*)
        }

        /// The baseline-instruction-set build of the same kernel (for tests).
        #[doc(hidden)]
        pub fn $portable($($arg: $ty),*) -> $ret {
            $imp($($arg),*)
        }
    };
}

/// One PPM sweep along a contiguous line of `n` cells.
///
/// `air[i]`: air mass of cell i at the start of the sweep (kg); `flux[f]`:
/// air mass crossing face f (between cells f-1 and f) during the sweep,
/// positive towards higher index, n+1 faces; `mass[i]`: tracer mass,
/// updated in place. Returns the mass that crossed the two ends.
pub fn ppm_sweep(
    air: &[f64],
    flux: &[f64],
    mass: &mut [f64],
    ends: LineEnds,
    s: &mut Scratch,
) -> EndFluxes {
    let inv: Vec<f64> = air.iter().map(|a| 1.0 / a).collect();
    ppm_line(mass, &inv, flux, ends, s)
}

/// The same kernels compiled for the baseline instruction set only, so tests
/// can check that every variant gives bit-identical results.
#[doc(hidden)]
pub mod portable {
    pub use super::{ppm_line_portable as ppm_line, ppm_rows_portable as ppm_rows};
}

multiversion! {
    /// `ppm_sweep` with 1 / air given: the x-sweep kernel (vectorised along the line).
    pub fn ppm_line / ppm_line_portable = ppm_line_impl(mass: &mut [f64], inv_air: &[f64], flux: &[f64], ends: LineEnds, s: &mut Scratch) -> EndFluxes
}

#[inline(always)]
fn ppm_line_impl(
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    ends: LineEnds,
    s: &mut Scratch,
) -> EndFluxes {
    let n = mass.len();
    let (inv_air, flux) = (&inv_air[..n], &flux[..n + 1]);
    s.ext.resize(n + 4, 0.0);
    s.edge.resize(n + 1, 0.0);
    s.tflux.resize(n + 1, 0.0);
    for p in s.par.iter_mut() {
        p.resize(n, 0.0);
    }
    let ext = &mut s.ext[..n + 4];
    for i in 0..n {
        ext[i + 2] = mass[i] * inv_air[i];
    }
    match ends {
        LineEnds::Periodic => {
            (ext[0], ext[1], ext[n + 2], ext[n + 3]) = (ext[n], ext[n + 1], ext[2], ext[3]);
        }
        LineEnds::Open { low, high } => {
            // Inflow ends see the boundary value; outflow ends extrapolate flat.
            let lo = if flux[0] > 0.0 { low } else { ext[2] };
            let hi = if flux[n] < 0.0 { high } else { ext[n + 1] };
            (ext[0], ext[1], ext[n + 2], ext[n + 3]) = (lo, lo, hi, hi);
        }
    }
    // Shifted equal-length slices and exclusive ranges: no bounds checks,
    // so every loop below vectorises (`0..=n` would stop LLVM doing so).
    let ext = &s.ext[..n + 4];
    let (e0, e1, e2, e3) = (
        &ext[..n + 1],
        &ext[1..n + 2],
        &ext[2..n + 3],
        &ext[3..n + 4],
    );
    let edge = &mut s.edge[..n + 1];
    for f in 0..n + 1 {
        edge[f] = edge_value(e0[f], e1[f], e2[f], e3[f]);
    }
    let [pl, pr, pc] = &mut s.par;
    let (pl, pr, pc) = (&mut pl[..n], &mut pr[..n], &mut pc[..n]);
    let (r, el, er) = (&ext[2..n + 2], &edge[..n], &edge[1..n + 1]);
    for c in 0..n {
        (pl[c], pr[c], pc[c]) = limited_parabola(r[c], el[c], er[c]);
    }
    let tf = &mut s.tflux[..n + 1];
    {
        let m = n - 1;
        let (lw, rw, cw, iw) = (&pl[..m], &pr[..m], &pc[..m], &inv_air[..m]);
        let (le, re, ce, ie) = (&pl[1..n], &pr[1..n], &pc[1..n], &inv_air[1..n]);
        let (fl, t) = (&flux[1..n], &mut tf[1..n]);
        for f in 0..m {
            t[f] = face_flux(
                fl[f],
                (lw[f], rw[f], cw[f]),
                iw[f],
                (le[f], re[f], ce[f]),
                ie[f],
            );
        }
    }
    let (a, b) = (flux[0], flux[n]);
    let mut ends_total = EndFluxes::default();
    match ends {
        LineEnds::Periodic => {
            // Faces 0 and n are one face, between cell n-1 and cell 0.
            let t = face_flux(
                b,
                (pl[n - 1], pr[n - 1], pc[n - 1]),
                inv_air[n - 1],
                (pl[0], pr[0], pc[0]),
                inv_air[0],
            );
            (tf[0], tf[n]) = (t, t);
        }
        LineEnds::Open { low, high } => {
            tf[0] = a * if a > 0.0 {
                low
            } else {
                swept_mean_left(pl[0], pr[0], pc[0], -a * inv_air[0])
            };
            tf[n] = b * if b > 0.0 {
                swept_mean_right(pl[n - 1], pr[n - 1], pc[n - 1], b * inv_air[n - 1])
            } else {
                high
            };
            ends_total.inflow = tf[0].max(0.0) + (-tf[n]).max(0.0);
            ends_total.outflow = (-tf[0]).max(0.0) + tf[n].max(0.0);
        }
    }
    let (tin, tout) = (&tf[..n], &tf[1..n + 1]);
    for c in 0..n {
        mass[c] += tin[c] - tout[c];
    }
    ends_total
}

/// Mean of the parabola (al, ar, a6) over the rightmost fraction x of its cell.
#[inline(always)]
fn swept_mean_right(al: f64, ar: f64, a6: f64, x: f64) -> f64 {
    ar - 0.5 * x * ((ar - al) - (1.0 - 2.0 / 3.0 * x) * a6)
}

/// Mean of the parabola (al, ar, a6) over the leftmost fraction x of its cell.
#[inline(always)]
fn swept_mean_left(al: f64, ar: f64, a6: f64, x: f64) -> f64 {
    al + 0.5 * x * ((ar - al) + (1.0 - 2.0 / 3.0 * x) * a6)
}

#[inline(always)]
fn row<'a>(v: &'a ArrayView2<f64>, p: usize) -> &'a [f64] {
    // Rows are contiguous along lanes by construction of every caller.
    v.row(p).to_slice().expect("lanes contiguous")
}

multiversion! {
    /// One PPM sweep over `n` rows of `L` independent lanes.
    ///
    /// `mass` [n, L]: tracer mass, updated in place. `inv_air` [n, L]: 1 / air
    /// mass at the start of the sweep. `flux` [n+1, L]: air mass crossing face f
    /// (between rows f-1 and f) during the sweep, positive towards higher rows.
    /// Returns the mass that crossed the two ends, summed over lanes.
    pub fn ppm_rows / ppm_rows_portable = ppm_rows_impl(mass: &mut ArrayViewMut2<f64>, inv_air: &ArrayView2<f64>, flux: &ArrayView2<f64>, ends: RowEnds, s: &mut Scratch) -> EndFluxes
}

/// CW84 eq. 1.6 edge value from four mixing ratios, bounded by the middle two.
#[inline(always)]
fn edge_value(a: f64, b: f64, c: f64, d: f64) -> f64 {
    // Plain compare-selects (inputs are finite): min/max without NaN handling.
    let v = (7.0 * (b + c) - (a + d)) * (1.0 / 12.0);
    let (lo, hi) = if b < c { (b, c) } else { (c, b) };
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// CW84 eq. 1.10: the monotone parabola (al, ar, a6) of a cell with mean r.
#[inline(always)]
fn limited_parabola(r: f64, el: f64, er: f64) -> (f64, f64, f64) {
    let extremum = (er - r) * (r - el) <= 0.0;
    let al = if extremum { r } else { el };
    let ar = if extremum { r } else { er };
    let da = ar - al;
    let a6 = 6.0 * (r - 0.5 * (al + ar));
    let al2 = if da * a6 > da * da {
        3.0 * r - 2.0 * ar
    } else {
        al
    };
    let ar2 = if -da * da > da * a6 {
        3.0 * r - 2.0 * al
    } else {
        ar
    };
    (al2, ar2, 6.0 * (r - 0.5 * (al2 + ar2)))
}

/// Tracer flux through a face with air flux `f`: the upwind parabola's mean
/// over the swept fraction (west/south cell if f > 0, else east/north).
/// The upwind cell is selected first and one mean evaluated: with x = |f| /
/// air, the right-end mean ar - h and the left-end mean al + h share
/// h = x/2 ((ar - al) -+ (1 - 2x/3) a6), so this equals `swept_mean_right` /
/// `swept_mean_left` exactly, branch-free and vectorised.
#[inline(always)]
fn face_flux(
    f: f64,
    west: (f64, f64, f64),
    inv_west: f64,
    east: (f64, f64, f64),
    inv_east: f64,
) -> f64 {
    let from_west = f > 0.0;
    let (al, ar, a6) = if from_west { west } else { east };
    let x = if from_west {
        f * inv_west
    } else {
        -f * inv_east
    };
    let g = (1.0 - 2.0 / 3.0 * x) * a6;
    let h = 0.5 * x * ((ar - al) + if from_west { -g } else { g });
    f * if from_west { ar - h } else { al + h }
}

#[inline(always)]
fn ppm_rows_impl(
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    ends: RowEnds,
    s: &mut Scratch,
) -> EndFluxes {
    let (n, l) = mass.dim();
    debug_assert_eq!(inv_air.dim(), (n, l));
    debug_assert_eq!(flux.dim(), (n + 1, l));
    s.ext.resize((n + 4) * l, 0.0);
    for v in [&mut s.edge, &mut s.edge_next, &mut s.tflux]
        .into_iter()
        .chain(s.par.iter_mut())
        .chain(s.prev.iter_mut())
    {
        v.resize(l, 0.0);
    }
    let ext = &mut s.ext;
    // Mixing ratios, with two ghost rows at each end.
    for p in 0..n {
        let mv = mass.row(p);
        let (m, ia) = (
            &mv.to_slice().expect("lanes contiguous")[..l],
            &row(inv_air, p)[..l],
        );
        let e = &mut ext[(p + 2) * l..(p + 3) * l];
        for q in 0..l {
            e[q] = m[q] * ia[q];
        }
    }
    match ends {
        RowEnds::Periodic => {
            ext.copy_within(n * l..(n + 2) * l, 0);
            ext.copy_within(2 * l..4 * l, (n + 2) * l);
        }
        RowEnds::Open { low, high } => {
            // Inflow ends see the boundary value; outflow ends extrapolate flat.
            let (f0, fnn) = (row(flux, 0), row(flux, n));
            for q in 0..l {
                let lo = if f0[q] > 0.0 { low[q] } else { ext[2 * l + q] };
                let hi = if fnn[q] < 0.0 {
                    high[q]
                } else {
                    ext[(n + 1) * l + q]
                };
                ext[q] = lo;
                ext[l + q] = lo;
                ext[(n + 2) * l + q] = hi;
                ext[(n + 3) * l + q] = hi;
            }
        }
    }
    let ext = &s.ext;
    let r = |p: usize| &ext[p * l..(p + 1) * l];
    // Edge at face 0 (between ghost row -1 and row 0).
    {
        let (a, b, c, d) = (r(0), r(1), r(2), r(3));
        for q in 0..l {
            s.edge[q] = edge_value(a[q], b[q], c[q], d[q]);
        }
    }
    let mut ends_total = EndFluxes::default();
    // Row by row: (1) the edge above row c and row c's parabola into `par`;
    // (2) the flux through face c from rows c-1 (`prev`) and c, and the mass
    // update of row c-1. Two small loops instead of one big one: each has
    // few enough streams for LLVM to vectorise it.
    for c in 0..n {
        {
            let (a, b, cc, d) = (
                &r(c + 1)[..l],
                &r(c + 2)[..l],
                &r(c + 3)[..l],
                &r(c + 4)[..l],
            );
            let up = &mut s.edge_next[..l];
            for q in 0..l {
                up[q] = edge_value(a[q], b[q], cc[q], d[q]);
            }
            let (lo, up) = (&s.edge[..l], &s.edge_next[..l]);
            let [pl, pr, pc] = &mut s.par;
            let (pl, pr, pc) = (&mut pl[..l], &mut pr[..l], &mut pc[..l]);
            for q in 0..l {
                (pl[q], pr[q], pc[q]) = limited_parabola(b[q], lo[q], up[q]);
            }
            std::mem::swap(&mut s.edge, &mut s.edge_next);
        }
        let fl = &row(flux, c)[..l];
        let ie = &row(inv_air, c)[..l];
        let [pl, pr, pc] = &s.par;
        let (pl, pr, pc) = (&pl[..l], &pr[..l], &pc[..l]);
        let tf = &mut s.tflux[..l];
        if c == 0 {
            match ends {
                RowEnds::Open { low, .. } => {
                    // The inflow as a flat ghost parabola: its swept mean is
                    // exactly `low`, so the shared vectorised flux applies.
                    for q in 0..l {
                        tf[q] = face_flux(
                            fl[q],
                            (low[q], low[q], 0.0),
                            1.0,
                            (pl[q], pr[q], pc[q]),
                            ie[q],
                        );
                    }
                    // Budget sums apart: a reduction would keep the loop above scalar.
                    for &t in tf.iter() {
                        ends_total.inflow += t.max(0.0);
                        ends_total.outflow += (-t).max(0.0);
                    }
                }
                // Face 0 needs row n-1: row 0's parabola is kept in `first`
                // and face 0's flux into row 0 is added at the end.
                RowEnds::Periodic => tf.fill(0.0),
            }
            for (dst, src) in s.first.iter_mut().zip(&s.par) {
                dst.clear();
                dst.extend_from_slice(&src[..l]);
            }
        } else {
            let iw = &row(inv_air, c - 1)[..l];
            let [ql, qr, qc] = &s.prev;
            let (ql, qr, qc) = (&ql[..l], &qr[..l], &qc[..l]);
            let mut mv = mass.row_mut(c - 1);
            let m = &mut mv.as_slice_mut().expect("lanes contiguous")[..l];
            for q in 0..l {
                let t = face_flux(
                    fl[q],
                    (ql[q], qr[q], qc[q]),
                    iw[q],
                    (pl[q], pr[q], pc[q]),
                    ie[q],
                );
                m[q] += tf[q] - t;
                tf[q] = t;
            }
        }
        std::mem::swap(&mut s.prev, &mut s.par);
    }
    // Face n: row n-1 (`prev`) against what lies beyond it: row 0 when
    // periodic (kept in `first`), else the inflow as a flat ghost parabola,
    // whose swept mean is exactly the inflow whatever 1/air it is given.
    if let RowEnds::Open { high, .. } = ends {
        let [gl, gr, gc] = &mut s.first;
        gl[..l].copy_from_slice(&high[..l]);
        gr[..l].copy_from_slice(&high[..l]);
        gc[..l].fill(0.0);
    }
    let (fl, iw, ie) = (
        &row(flux, n)[..l],
        &row(inv_air, n - 1)[..l],
        &row(inv_air, 0)[..l],
    );
    let [pl, pr, pc] = &s.prev;
    let (pl, pr, pc) = (&pl[..l], &pr[..l], &pc[..l]);
    let (el, er, ec) = (&s.first[0][..l], &s.first[1][..l], &s.first[2][..l]);
    let (tf, last) = (&s.tflux[..l], &mut s.edge_next[..l]);
    {
        let mut mv = mass.row_mut(n - 1);
        let m = &mut mv.as_slice_mut().expect("lanes contiguous")[..l];
        for q in 0..l {
            last[q] = face_flux(
                fl[q],
                (pl[q], pr[q], pc[q]),
                iw[q],
                (el[q], er[q], ec[q]),
                ie[q],
            );
            m[q] += tf[q] - last[q];
        }
    }
    match ends {
        RowEnds::Open { .. } => {
            for &t in last.iter() {
                ends_total.inflow += (-t).max(0.0);
                ends_total.outflow += t.max(0.0);
            }
        }
        RowEnds::Periodic => {
            // Face n is face 0: its flux enters row 0.
            let mut mv0 = mass.row_mut(0);
            let m0 = &mut mv0.as_slice_mut().expect("lanes contiguous")[..l];
            for q in 0..l {
                m0[q] += last[q];
            }
        }
    }
    ends_total
}

pub struct Advection {
    pub max_courant: f64,
    work: Option<Work>,
}

impl Advection {
    pub fn new(max_courant: f64) -> Self {
        Advection {
            max_courant,
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
    /// 1 / air mass before the first and the second horizontal sweep.
    inv_air: Array3<f64>,
    inv_second: Array3<f64>,
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
            inv_air: c(),
            inv_second: c(),
            w: Array3::zeros((nz + 1, ny, nx)),
        }
    }
}

/// Air-mass fluxes through x- and y-faces over `dt`: rho u L dz dt, with rho
/// the mean of the two cells (periodic seams use the wrapped neighbour).
fn face_fluxes(ctx: &StepContext, fx: &mut Array3<f64>, fy: &mut Array3<f64>) {
    let g = ctx.grid;
    let m = ctx.met_mid;
    let (ny, nx) = (g.ny, g.nx);
    let dt = ctx.dt;
    fx.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(fy.axis_iter_mut(Axis(0)))
        .enumerate()
        .for_each(|(k, (mut x, mut y))| {
            let (c, rho, u, v) = (
                g.dz[k] * dt,
                m.density.index_axis(Axis(0), k),
                m.u_face.index_axis(Axis(0), k),
                m.v_face.index_axis(Axis(0), k),
            );
            for j in 0..ny {
                let (r, uu, len) = (rho.row(j), u.row(j), g.x_face_len.row(j));
                let (r, uu, len) = (
                    r.to_slice().expect("contiguous rows"),
                    uu.to_slice().expect("contiguous rows"),
                    len.to_slice().expect("contiguous rows"),
                );
                let mut xr = x.row_mut(j);
                let xr = xr.as_slice_mut().expect("contiguous rows");
                // Interior faces: density averaged over the two neighbours.
                let (rw, re) = (&r[..nx - 1], &r[1..nx]);
                let (ui, li, xi) = (&uu[1..nx], &len[1..nx], &mut xr[1..nx]);
                for f in 0..nx - 1 {
                    xi[f] = 0.5 * (rw[f] + re[f]) * ui[f] * li[f] * c;
                }
                // Edge faces: the wrapped neighbour (periodic) or the edge cell (open).
                let edge_rho = if g.periodic {
                    0.5 * (r[nx - 1] + r[0])
                } else {
                    r[0]
                };
                xr[0] = edge_rho * uu[0] * len[0] * c;
                let edge_rho = if g.periodic {
                    0.5 * (r[nx - 1] + r[0])
                } else {
                    r[nx - 1]
                };
                xr[nx] = edge_rho * uu[nx] * len[nx] * c;
                if g.periodic {
                    // One physical face at each periodic seam: use the low side's value.
                    xr[nx] = xr[0];
                }
            }
            for f in 0..=ny {
                let (a, b) = if g.periodic {
                    ((f + ny - 1) % ny, f % ny)
                } else {
                    (f.saturating_sub(1), f.min(ny - 1))
                };
                let (ra, rb) = (rho.row(a), rho.row(b));
                let (ra, rb) = (
                    ra.to_slice().expect("contiguous rows"),
                    rb.to_slice().expect("contiguous rows"),
                );
                let (vv, len) = (v.row(f), g.y_face_len.row(f));
                let (vv, len) = (
                    vv.to_slice().expect("contiguous rows"),
                    len.to_slice().expect("contiguous rows"),
                );
                let mut yr = y.row_mut(f);
                let yr = yr.as_slice_mut().expect("contiguous rows");
                for i in 0..nx {
                    yr[i] = 0.5 * (ra[i] + rb[i]) * vv[i] * len[i] * c;
                }
            }
            if g.periodic {
                let low = y.row(0).to_owned();
                y.row_mut(ny).assign(&low);
            }
        });
}

/// The fewest horizontal sub-steps n such that, with fluxes F/n, each sweep's
/// outflow from a cell stays below `c` times the air mass the cell holds at
/// that sweep, for either sweep order. The smaller of the `start` and `end`
/// air mass of a cell bounds what it holds at the start of every sub-step.
fn horizontal_substeps(
    fx: &Array3<f64>,
    fy: &Array3<f64>,
    start: &Array3<f64>,
    end: &Array3<f64>,
    c: f64,
) -> f64 {
    let air = start;
    let (nz, ny, nx) = air.dim();
    (0..nz)
        .into_par_iter()
        .map(|k| {
            let mut worst: f64 = 0.0;
            for j in 0..ny {
                let xr = &fx.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx + 1];
                let (ys, yn) = (
                    &fy.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx],
                    &fy.slice(s![k, j + 1, ..]).to_slice().expect("contiguous")[..nx],
                );
                let m0 = &air.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx];
                let m1 = &end.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx];
                for i in 0..nx {
                    // The smaller of the start and end air mass bounds every sub-step's.
                    let m = if m0[i] < m1[i] { m0[i] } else { m1[i] };
                    let (w, e, so, no) = (xr[i], xr[i + 1], ys[i], yn[i]);
                    let (ox, ix) = ((-w).max(0.0) + e.max(0.0), w.max(0.0) + (-e).max(0.0));
                    let (oy, iy) = ((-so).max(0.0) + no.max(0.0), so.max(0.0) + (-no).max(0.0));
                    // ox/n <= c m; oy/n <= c m; oy/n <= c (m + (ix - ox)/n); and x<->y.
                    let need = (ox / (c * m))
                        .max(oy / (c * m))
                        .max((oy / c - ix + ox) / m)
                        .max((ox / c - iy + oy) / m);
                    worst = worst.max(need);
                }
            }
            worst
        })
        .reduce(|| 0.0, f64::max)
}

#[derive(Clone, Copy)]
enum Dir {
    X,
    Y,
}

fn reciprocal_into(a: &Array3<f64>, inv: &mut Array3<f64>) {
    Zip::from(inv).and(a).par_for_each(|i, &a| *i = 1.0 / a);
}

fn sum_over_planes(per_plane: Vec<Vec<EndFluxes>>, ntr: usize) -> Vec<EndFluxes> {
    let mut total = vec![EndFluxes::default(); ntr];
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
    /// The inflow mixing ratio, one per lane.
    inflow: Vec<f64>,
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

/// One directional sweep of one tracer plane [ny, nx].
#[allow(clippy::too_many_arguments)]
fn sweep_plane(
    dir: Dir,
    plane: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    bnd: f64,
    periodic: bool,
    w: &mut SweepWork,
) -> EndFluxes {
    let nx = plane.ncols();
    let mut total = EndFluxes::default();
    match dir {
        Dir::X => {
            // Along the contiguous direction: one line per row.
            for (j, mut line) in plane.outer_iter_mut().enumerate() {
                let ends = if periodic {
                    LineEnds::Periodic
                } else {
                    LineEnds::Open {
                        low: bnd,
                        high: bnd,
                    }
                };
                let m = line.as_slice_mut().expect("rows contiguous");
                total += ppm_line(m, row(inv_air, j), row(flux, j), ends, &mut w.kernel);
            }
        }
        Dir::Y => {
            // Across rows, vectorised along x in lane blocks.
            w.inflow.clear();
            w.inflow.resize(nx, bnd);
            for (i0, i1) in lane_blocks(nx) {
                let ends = if periodic {
                    RowEnds::Periodic
                } else {
                    RowEnds::Open {
                        low: &w.inflow[i0..i1],
                        high: &w.inflow[i0..i1],
                    }
                };
                let mut m = plane.slice_mut(s![.., i0..i1]);
                total += ppm_rows(
                    &mut m,
                    &inv_air.slice(s![.., i0..i1]),
                    &flux.slice(s![.., i0..i1]),
                    ends,
                    &mut w.kernel,
                );
            }
        }
    }
    total
}

/// Add a sweep's air-mass convergence to a plane of air mass.
fn converge_air(dir: Dir, air: &mut ArrayViewMut2<f64>, flux: &ArrayView2<f64>) {
    let (ny, nx) = air.dim();
    match dir {
        Dir::X => Zip::from(air)
            .and(flux.slice(s![.., ..nx]))
            .and(flux.slice(s![.., 1..]))
            .for_each(|a, &w, &e| *a += w - e),
        Dir::Y => Zip::from(air)
            .and(flux.slice(s![..ny, ..]))
            .and(flux.slice(s![1.., ..]))
            .for_each(|a, &so, &no| *a += so - no),
    }
}

impl Advection {
    /// Both horizontal sweeps, fused per layer: the tracer-independent air
    /// mass bookkeeping (1/air before each sweep, the pseudo-density between
    /// them) is done once per layer, then each tracer plane is swept along
    /// `order[0]` and `order[1]` while it sits in cache. Returns lateral
    /// in/out per tracer.
    #[allow(clippy::too_many_arguments)]
    fn horizontal_step(
        g: &Grid,
        order: [Dir; 2],
        work: &mut Work,
        state: &mut State,
        bnd: &[f64],
    ) -> Vec<EndFluxes> {
        let ntr = state.tracers.len();
        let periodic = g.periodic;
        let (fx, fy) = (&work.fx, &work.fy);
        let flux_of = |d: Dir, k: usize| match d {
            Dir::X => fx.index_axis(Axis(0), k),
            Dir::Y => fy.index_axis(Axis(0), k),
        };
        let per_layer: Vec<Vec<EndFluxes>> = state
            .mass
            .axis_iter_mut(Axis(1))
            .into_par_iter()
            .zip(state.air_mass.axis_iter_mut(Axis(0)).into_par_iter())
            .zip(work.inv_air.axis_iter_mut(Axis(0)).into_par_iter())
            .zip(work.inv_second.axis_iter_mut(Axis(0)).into_par_iter())
            .enumerate()
            .map(|(k, (((mut planes, mut air), mut inv1), mut inv2))| {
                with_sweep_work(|w| {
                    let (f1, f2) = (flux_of(order[0], k), flux_of(order[1], k));
                    Zip::from(&mut inv1)
                        .and(&air)
                        .for_each(|i, &a| *i = 1.0 / a);
                    converge_air(order[0], &mut air, &f1);
                    Zip::from(&mut inv2)
                        .and(&air)
                        .for_each(|i, &a| *i = 1.0 / a);
                    converge_air(order[1], &mut air, &f2);
                    let mut out = vec![EndFluxes::default(); ntr];
                    for (tr, mut plane) in planes.outer_iter_mut().enumerate() {
                        out[tr] += sweep_plane(
                            order[0],
                            &mut plane,
                            &inv1.view(),
                            &f1,
                            bnd[tr],
                            periodic,
                            w,
                        );
                        out[tr] += sweep_plane(
                            order[1],
                            &mut plane,
                            &inv2.view(),
                            &f2,
                            bnd[tr],
                            periodic,
                            w,
                        );
                    }
                    out
                })
            })
            .collect();
        sum_over_planes(per_layer, ntr)
    }

    /// Vertical sweep with air-mass fluxes diagnosed from continuity so the
    /// air mass ends at `target`. Returns top in/out per tracer.
    fn vertical_sweep(
        &self,
        g: &Grid,
        state: &mut State,
        work: &mut Work,
        top_bnd: &[f64],
    ) -> Result<Vec<EndFluxes>> {
        let (nz, nx) = (g.nz, g.nx);
        let ntr = state.tracers.len();
        let (target, w, inv_air) = (&work.target, &mut work.w, &mut work.inv_air);
        let air = &state.air_mass;
        // W[k] = air mass crossing the bottom of layer k upward; W[0] = 0 at
        // the ground; continuity from the bottom up, column rows in parallel.
        let courant = w
            .axis_iter_mut(Axis(1))
            .into_par_iter()
            .enumerate()
            .map(|(j, mut wj)| {
                let mut worst: f64 = 0.0;
                wj.row_mut(0).fill(0.0);
                let mut lo = vec![0.0; nx];
                for k in 0..nz {
                    let m = &air.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx];
                    let t = &target.slice(s![k, j, ..]).to_slice().expect("contiguous")[..nx];
                    let mut up = wj.row_mut(k + 1);
                    let hi = &mut up.as_slice_mut().expect("contiguous")[..nx];
                    for i in 0..nx {
                        hi[i] = lo[i] + m[i] - t[i];
                        let least = if m[i] < t[i] { m[i] } else { t[i] };
                        let c = ((-lo[i]).max(0.0) + hi[i].max(0.0)) / least;
                        worst = if c > worst { c } else { worst };
                    }
                    lo.copy_from_slice(hi);
                }
                worst
            })
            .reduce(|| 0.0, f64::max);
        if !courant.is_finite() {
            return Err(Error::Numerics {
                process: "advection".into(),
                detail: "non-finite vertical Courant number (zero air mass?)".into(),
            });
        }
        let pieces = ((courant / self.max_courant).ceil() as usize).max(1);
        if pieces > 1 {
            w.par_mapv_inplace(|v| v / pieces as f64);
        }
        let w = &*w;
        let mut per_tracer = vec![EndFluxes::default(); ntr];
        for _ in 0..pieces {
            reciprocal_into(&state.air_mass, inv_air);
            let inv_air = &*inv_air;
            let per_row: Vec<Vec<EndFluxes>> = state
                .mass
                .axis_iter_mut(Axis(2))
                .into_par_iter()
                .enumerate()
                .map(|(j, mut slabs)| {
                    with_sweep_work(|buffers| {
                        let s = &mut buffers.kernel;
                        let ia = inv_air.slice(s![.., j, ..]);
                        let fl = w.slice(s![.., j, ..]);
                        let low = vec![0.0; nx];
                        let mut high = vec![0.0; nx];
                        let mut out = vec![EndFluxes::default(); ntr];
                        for (tr, mut slab) in slabs.outer_iter_mut().enumerate() {
                            // Ground closed (flux 0); the top open to the background above.
                            high.fill(top_bnd[tr]);
                            out[tr] += ppm_rows(
                                &mut slab,
                                &ia,
                                &fl,
                                RowEnds::Open {
                                    low: &low,
                                    high: &high,
                                },
                                s,
                            );
                        }
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
        // Continuity holds to round-off; pin the air mass to the target exactly.
        Zip::from(&mut state.air_mass)
            .and(target)
            .par_for_each(|a, &t| *a = t);
        Ok(per_tracer)
    }
}

impl Process for Advection {
    fn name(&self) -> &'static str {
        "advection"
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let g = ctx.grid;
        let mut work = match self.work.take() {
            Some(w) if w.start.dim() == state.air_mass.dim() => w,
            _ => Work::new(g.nz, g.ny, g.nx),
        };
        face_fluxes(ctx, &mut work.fx, &mut work.fy);
        crate::state::air_mass_into(g, &ctx.met_end.density, &mut work.end);
        let need = horizontal_substeps(
            &work.fx,
            &work.fy,
            &state.air_mass,
            &work.end,
            self.max_courant,
        );
        if !need.is_finite() {
            return Err(Error::Numerics {
                process: "advection".into(),
                detail: "non-finite Courant number: check the met winds and density".into(),
            });
        }
        let nsub = (need.ceil() as usize).max(1);
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
            let ends = Self::horizontal_step(g, order, &mut work, state, &ctx.boundary.lateral);
            for (b, e) in budget.tracers.iter_mut().zip(ends) {
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
            let ends = self.vertical_sweep(g, state, &mut work, &ctx.boundary.top)?;
            for (b, e) in budget.tracers.iter_mut().zip(ends) {
                b.top_in_kg += e.inflow;
                b.top_out_kg += e.outflow;
            }
        }
        self.work = Some(work);
        Ok(())
    }
}
