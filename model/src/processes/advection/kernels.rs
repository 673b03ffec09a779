//! The PPM kernels: one sweep along a contiguous line (`ppm_line`) and one
//! over n rows x L lanes (`ppm_rows`), each in the widest vector instruction
//! set the CPU has plus a baseline twin that gives the same bits. The 3-D
//! driver in `super` decides what a line is and how its ends are booked.

pub use crate::config::PpmEdges;
use ndarray::{ArrayView2, ArrayViewMut2};

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

/// Mass crossing one end of a line during one sweep, kg.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Through {
    pub inflow: f64,
    pub outflow: f64,
}

/// Mass crossing the low and high ends of a line (zero when periodic);
/// the driver books only the ends that are open sides of the domain.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EndFluxes {
    pub low: Through,
    pub high: Through,
}

impl std::ops::AddAssign for Through {
    fn add_assign(&mut self, o: Self) {
        self.inflow += o.inflow;
        self.outflow += o.outflow;
    }
}

impl std::ops::AddAssign for EndFluxes {
    fn add_assign(&mut self, o: Self) {
        self.low += o.low;
        self.high += o.high;
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
    /// When set, `ppm_rows` keeps every face's tracer flux in `faces`
    /// ([n+1, L], row-major) for the attribution's flux-fraction form.
    pub record_faces: bool,
    faces: Vec<f64>,
}

impl Scratch {
    /// Tracer mass through each face during the last sweep, kg, positive
    /// towards higher index: n+1 values after `ppm_line`, (n+1) x L after
    /// `ppm_rows` with `record_faces` set. A periodic line's faces 0 and n
    /// are the same face and hold the same value.
    pub fn face_fluxes(&self) -> &[f64] {
        &self.faces
    }
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
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    let inv: Vec<f64> = air.iter().map(|a| 1.0 / a).collect();
    ppm_line(mass, &inv, flux, ends, edges, s)
}

/// The same kernels compiled for the baseline instruction set only, so tests
/// can check that every variant gives bit-identical results.
#[doc(hidden)]
pub mod portable {
    pub use super::{ppm_line_portable as ppm_line, ppm_rows_portable as ppm_rows};
}

multiversion! {
    /// `ppm_sweep` with 1 / air given: the x-sweep kernel (vectorised along the line).
    pub fn ppm_line / ppm_line_portable = ppm_line_impl(mass: &mut [f64], inv_air: &[f64], flux: &[f64], ends: LineEnds, edges: PpmEdges, s: &mut Scratch) -> EndFluxes
}

/// The edge rule is chosen once per call: each arm is its own monomorphised
/// loop nest, so the hot loops carry no branch on it.
#[inline(always)]
fn ppm_line_impl(
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    ends: LineEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    match edges {
        PpmEdges::Cw84Limited => ppm_line_with::<LimitedSlopes>(mass, inv_air, flux, ends, s),
        PpmEdges::FourthOrder => ppm_line_with::<FourthOrder>(mass, inv_air, flux, ends, s),
    }
}

#[inline(always)]
fn ppm_line_with<E: EdgeRule>(
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
        edge[f] = edge_value::<E>(e0[f], e1[f], e2[f], e3[f]);
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
            ends_total.low = Through {
                inflow: tf[0].max(0.0),
                outflow: (-tf[0]).max(0.0),
            };
            ends_total.high = Through {
                inflow: (-tf[n]).max(0.0),
                outflow: tf[n].max(0.0),
            };
        }
    }
    let (tin, tout) = (&tf[..n], &tf[1..n + 1]);
    for c in 0..n {
        mass[c] += tin[c] - tout[c];
    }
    if s.record_faces {
        s.faces.clear();
        s.faces.extend_from_slice(&s.tflux[..n + 1]);
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
pub(super) fn row<'a>(v: &'a ArrayView2<f64>, p: usize) -> &'a [f64] {
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
    pub fn ppm_rows / ppm_rows_portable = ppm_rows_impl(mass: &mut ArrayViewMut2<f64>, inv_air: &ArrayView2<f64>, flux: &ArrayView2<f64>, ends: RowEnds, edges: PpmEdges, s: &mut Scratch) -> EndFluxes
}

/// A rule for the value at the edge between cells b and c from the mixing
/// ratios a, b, c, d of the four nearest cells (CW84 eq. 1.6 on a uniform
/// grid with one choice of slopes). Both rules read the same four cells, so
/// the ghost rows and the halo width do not depend on the choice.
trait EdgeRule {
    fn edge(a: f64, b: f64, c: f64, d: f64) -> f64;
}

/// CW84 eq. 1.6 with the unlimited slopes of eq. 1.7: the fourth-order
/// interpolant (7 (b + c) - (a + d)) / 12.
struct FourthOrder;

impl EdgeRule for FourthOrder {
    #[inline(always)]
    fn edge(a: f64, b: f64, c: f64, d: f64) -> f64 {
        (7.0 * (b + c) - (a + d)) * (1.0 / 12.0)
    }
}

/// CW84 eq. 1.6 with the monotonised slopes of eq. 1.8, as CMAQ
/// (`CCTM/src/hadv/ppm/hppm.F`) and CAMx (`hadvppm.f`) compute them:
/// (b + c)/2 - (dm(c) - dm(b))/6. The result lies between b and c
/// (within b + (c - b)/6 .. b + 5 (c - b)/6) before any bounding.
struct LimitedSlopes;

impl EdgeRule for LimitedSlopes {
    #[inline(always)]
    fn edge(a: f64, b: f64, c: f64, d: f64) -> f64 {
        0.5 * (b + c) - (limited_slope(b, c, d) - limited_slope(a, b, c)) * (1.0 / 6.0)
    }
}

/// CW84 eq. 1.8: the slope of the middle cell of (l, m, r), van Leer
/// limited: the centred slope (r - l)/2 bounded in size by twice each
/// one-sided difference, and 0 where m is a local extremum.
#[inline(always)]
fn limited_slope(l: f64, m: f64, r: f64) -> f64 {
    let (dl, dr) = (m - l, r - m);
    let centred = 0.5 * (r - l);
    // Compare-selects (inputs are finite) so the loops stay vectorised.
    let (al, ar, ac) = (2.0 * dl.abs(), 2.0 * dr.abs(), centred.abs());
    let one_sided = if al < ar { al } else { ar };
    let size = if ac < one_sided { ac } else { one_sided };
    if dl * dr > 0.0 {
        size.copysign(centred)
    } else {
        0.0
    }
}

/// The edge between b and c by rule `E`, bounded by b and c. The bound is
/// what keeps the fourth-order edge monotone; the limited-slope edge is
/// already inside it, so there it only guards round-off.
#[inline(always)]
fn edge_value<E: EdgeRule>(a: f64, b: f64, c: f64, d: f64) -> f64 {
    // Plain compare-selects (inputs are finite): min/max without NaN handling.
    let v = E::edge(a, b, c, d);
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

/// As [`ppm_line_impl`]: one monomorphised kernel per edge rule.
#[inline(always)]
fn ppm_rows_impl(
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    ends: RowEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    match edges {
        PpmEdges::Cw84Limited => ppm_rows_with::<LimitedSlopes>(mass, inv_air, flux, ends, s),
        PpmEdges::FourthOrder => ppm_rows_with::<FourthOrder>(mass, inv_air, flux, ends, s),
    }
}

#[inline(always)]
fn ppm_rows_with<E: EdgeRule>(
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
    if s.record_faces {
        s.faces.resize((n + 1) * l, 0.0);
    }
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
            s.edge[q] = edge_value::<E>(a[q], b[q], c[q], d[q]);
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
                up[q] = edge_value::<E>(a[q], b[q], cc[q], d[q]);
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
                        ends_total.low.inflow += t.max(0.0);
                        ends_total.low.outflow += (-t).max(0.0);
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
            if s.record_faces {
                s.faces[..l].copy_from_slice(&s.tflux[..l]);
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
            if s.record_faces {
                s.faces[c * l..(c + 1) * l].copy_from_slice(tf);
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
    if s.record_faces {
        s.faces[n * l..(n + 1) * l].copy_from_slice(last);
        if let RowEnds::Periodic = ends {
            s.faces.copy_within(n * l..(n + 1) * l, 0);
        }
    }
    match ends {
        RowEnds::Open { .. } => {
            for &t in last.iter() {
                ends_total.high.inflow += (-t).max(0.0);
                ends_total.high.outflow += t.max(0.0);
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
