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
    /// Limited slopes (CW84 eq. 1.8), once per cell: the line's, or the
    /// rows' rolling pair (the row below and above the next edge).
    slope: Vec<f64>,
    slope_next: Vec<f64>,
    edge: Vec<f64>,
    edge_next: Vec<f64>,
    par: [Vec<f64>; 3],
    prev: [Vec<f64>; 3],
    first: [Vec<f64>; 3],
    tflux: Vec<f64>,
    /// Face weights when the caller gives none (the single-call API).
    own_shx: Vec<f64>,
    own_sgx: Vec<f64>,
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
    ($(#[$attr:meta])* $vis:vis fn $name:ident / $portable:ident = $imp:ident ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) -> $ret {
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
        #[allow(dead_code)]
        $vis fn $portable($($arg: $ty),*) -> $ret {
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
    /// `ppm_line` with the sweep's face weights given ([`face_weights_line`],
    /// computed once and shared by every tracer of the sweep).
    pub fn ppm_line_weighted / ppm_line_weighted_portable = ppm_line_impl(mass: &mut [f64], inv_air: &[f64], flux: &[f64], weights: (&[f64], &[f64]), ends: LineEnds, edges: PpmEdges, s: &mut Scratch) -> EndFluxes
}

/// `ppm_sweep` with 1 / air given: the x-sweep kernel (vectorised along the line).
pub fn ppm_line(
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    ends: LineEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    line_with_own_weights(ppm_line_weighted, mass, inv_air, flux, ends, edges, s)
}

/// The baseline-instruction-set twin of [`ppm_line`] (for tests).
#[doc(hidden)]
pub fn ppm_line_portable(
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    ends: LineEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    line_with_own_weights(
        ppm_line_weighted_portable,
        mass,
        inv_air,
        flux,
        ends,
        edges,
        s,
    )
}

type LineKernel =
    fn(&mut [f64], &[f64], &[f64], (&[f64], &[f64]), LineEnds, PpmEdges, &mut Scratch) -> EndFluxes;

/// A line kernel with its face weights computed here, for one tracer.
fn line_with_own_weights(
    kernel: LineKernel,
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    ends: LineEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    let (mut shx, mut sgx) = own_weights(s, flux.len());
    face_weights_line(inv_air, flux, &mut shx, &mut sgx);
    let e = kernel(mass, inv_air, flux, (&shx, &sgx), ends, edges, s);
    (s.own_shx, s.own_sgx) = (shx, sgx);
    e
}

/// The scratch's weight buffers, taken out and sized to `len`.
fn own_weights(s: &mut Scratch, len: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut shx, mut sgx) = (
        std::mem::take(&mut s.own_shx),
        std::mem::take(&mut s.own_sgx),
    );
    shx.resize(len, 0.0);
    sgx.resize(len, 0.0);
    (shx, sgx)
}

/// The tracer-independent part of a face's flux (CW84 eq. 1.12): with x
/// the swept fraction |F| / M of the upwind cell, the swept mean is
/// ar - h (from the low side) or al + h (from the high side), where
/// h = (x/2) ((ar - al) -+ (1 - 2x/3) a6). Folding the sign of the upwind
/// side into the two factors gives `(shx, sgx)` = -+(x/2, 1 - 2x/3), and
/// [`weighted_face_flux`] evaluates the same IEEE operations as the
/// per-tracer form did (a sign flip is exact), so sharing them across
/// tracers changes no bit.
#[inline(always)]
fn face_weights(f: f64, inv_west: f64, inv_east: f64) -> (f64, f64) {
    let from_west = f > 0.0;
    let x = if from_west {
        f * inv_west
    } else {
        -f * inv_east
    };
    let (hx, gx) = (0.5 * x, 1.0 - 2.0 / 3.0 * x);
    if from_west {
        (-hx, -gx)
    } else {
        (hx, gx)
    }
}

/// Face weights ([`face_weights`]) of the interior faces 1..n of a line of
/// n cells (`flux` n+1 faces); the end faces are left as they are (the
/// kernels treat the ends on their own).
pub fn face_weights_line(inv_air: &[f64], flux: &[f64], shx: &mut [f64], sgx: &mut [f64]) {
    let n = flux.len() - 1;
    if n < 2 {
        return;
    }
    let (iw, ie, f) = (&inv_air[..n - 1], &inv_air[1..n], &flux[1..n]);
    let (h, g) = (&mut shx[1..n], &mut sgx[1..n]);
    for q in 0..n - 1 {
        (h[q], g[q]) = face_weights(f[q], iw[q], ie[q]);
    }
}

/// Face weights of the interior faces (rows 1..n) between the n rows of
/// `inv_air` [n, L], `flux` [n+1, L], into `shx`, `sgx` [n+1, L].
pub fn face_weights_rows(
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    shx: &mut ArrayViewMut2<f64>,
    sgx: &mut ArrayViewMut2<f64>,
) {
    let (n, l) = inv_air.dim();
    for c in 1..n {
        let (iw, ie, f) = (
            &row(inv_air, c - 1)[..l],
            &row(inv_air, c)[..l],
            &row(flux, c)[..l],
        );
        let (mut hr, mut gr) = (shx.row_mut(c), sgx.row_mut(c));
        let (h, g) = (
            &mut hr.as_slice_mut().expect("lanes contiguous")[..l],
            &mut gr.as_slice_mut().expect("lanes contiguous")[..l],
        );
        for q in 0..l {
            (h[q], g[q]) = face_weights(f[q], iw[q], ie[q]);
        }
    }
}

/// The edge rule is chosen once per call: each arm is its own monomorphised
/// loop nest, so the hot loops carry no branch on it.
#[inline(always)]
fn ppm_line_impl(
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    weights: (&[f64], &[f64]),
    ends: LineEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    match edges {
        PpmEdges::Cw84Limited => {
            ppm_line_with::<LimitedSlopes>(mass, inv_air, flux, weights, ends, s)
        }
        PpmEdges::FourthOrder => {
            ppm_line_with::<FourthOrder>(mass, inv_air, flux, weights, ends, s)
        }
    }
}

#[inline(always)]
fn ppm_line_with<E: EdgeRule>(
    mass: &mut [f64],
    inv_air: &[f64],
    flux: &[f64],
    (shx, sgx): (&[f64], &[f64]),
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
    // Each cell's slope once (ext cells 1..=n+2), then each edge from the
    // slopes of its two cells.
    s.slope.resize(n + 2, 0.0);
    let slope = &mut s.slope[..n + 2];
    if E::SLOPES {
        let (l, m, r) = (&ext[..n + 2], &ext[1..n + 3], &ext[2..n + 4]);
        for c in 0..n + 2 {
            slope[c] = limited_slope(l[c], m[c], r[c]);
        }
    }
    let (sb, sc) = (&slope[..n + 1], &slope[1..n + 2]);
    let edge = &mut s.edge[..n + 1];
    for f in 0..n + 1 {
        edge[f] = edge_value::<E>(e0[f], e1[f], e2[f], e3[f], sb[f], sc[f]);
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
        let (lw, rw, cw) = (&pl[..m], &pr[..m], &pc[..m]);
        let (le, re, ce) = (&pl[1..n], &pr[1..n], &pc[1..n]);
        let (fl, h, g, t) = (&flux[1..n], &shx[1..n], &sgx[1..n], &mut tf[1..n]);
        for f in 0..m {
            t[f] = weighted_face_flux(
                fl[f],
                (h[f], g[f]),
                (lw[f], rw[f], cw[f]),
                (le[f], re[f], ce[f]),
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
    /// `ppm_rows` with the sweep's face weights given ([`face_weights_rows`],
    /// [n+1, L], computed once and shared by every tracer of the sweep).
    pub fn ppm_rows_weighted / ppm_rows_weighted_portable = ppm_rows_impl(mass: &mut ArrayViewMut2<f64>, inv_air: &ArrayView2<f64>, flux: &ArrayView2<f64>, weights: (&ArrayView2<f64>, &ArrayView2<f64>), ends: RowEnds, edges: PpmEdges, s: &mut Scratch) -> EndFluxes
}

/// One PPM sweep over `n` rows of `L` independent lanes.
///
/// `mass` [n, L]: tracer mass, updated in place. `inv_air` [n, L]: 1 / air
/// mass at the start of the sweep. `flux` [n+1, L]: air mass crossing face f
/// (between rows f-1 and f) during the sweep, positive towards higher rows.
/// Returns the mass that crossed the two ends, summed over lanes.
pub fn ppm_rows(
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    ends: RowEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    rows_with_own_weights(ppm_rows_weighted, mass, inv_air, flux, ends, edges, s)
}

/// The baseline-instruction-set twin of [`ppm_rows`] (for tests).
#[doc(hidden)]
pub fn ppm_rows_portable(
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    ends: RowEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    rows_with_own_weights(
        ppm_rows_weighted_portable,
        mass,
        inv_air,
        flux,
        ends,
        edges,
        s,
    )
}

type RowsKernel = fn(
    &mut ArrayViewMut2<f64>,
    &ArrayView2<f64>,
    &ArrayView2<f64>,
    (&ArrayView2<f64>, &ArrayView2<f64>),
    RowEnds,
    PpmEdges,
    &mut Scratch,
) -> EndFluxes;

/// A rows kernel with its face weights computed here, for one tracer.
fn rows_with_own_weights(
    kernel: RowsKernel,
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    ends: RowEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    let (n1, l) = flux.dim();
    let (mut shx, mut sgx) = own_weights(s, n1 * l);
    {
        let mut h = ArrayViewMut2::from_shape((n1, l), &mut shx[..]).expect("weights shape");
        let mut g = ArrayViewMut2::from_shape((n1, l), &mut sgx[..]).expect("weights shape");
        face_weights_rows(inv_air, flux, &mut h, &mut g);
    }
    let h = ArrayView2::from_shape((n1, l), &shx[..]).expect("weights shape");
    let g = ArrayView2::from_shape((n1, l), &sgx[..]).expect("weights shape");
    let e = kernel(mass, inv_air, flux, (&h, &g), ends, edges, s);
    (s.own_shx, s.own_sgx) = (shx, sgx);
    e
}

/// A rule for the value at the edge between cells b and c from the mixing
/// ratios a, b, c, d of the four nearest cells (CW84 eq. 1.6 on a uniform
/// grid with one choice of slopes). Both rules read the same four cells, so
/// the ghost rows and the halo width do not depend on the choice.
trait EdgeRule {
    /// Whether `edge` reads the limited slopes of the two cells (computed
    /// once per cell by the kernels) rather than the outer cells.
    const SLOPES: bool;
    /// The edge between b and c; `sb`, `sc` are b's and c's limited slopes
    /// ([`limited_slope`]) when `SLOPES`, else unspecified.
    fn edge(a: f64, b: f64, c: f64, d: f64, sb: f64, sc: f64) -> f64;
}

/// CW84 eq. 1.6 with the unlimited slopes of eq. 1.7: the fourth-order
/// interpolant (7 (b + c) - (a + d)) / 12.
struct FourthOrder;

impl EdgeRule for FourthOrder {
    const SLOPES: bool = false;
    #[inline(always)]
    fn edge(a: f64, b: f64, c: f64, d: f64, _sb: f64, _sc: f64) -> f64 {
        (7.0 * (b + c) - (a + d)) * (1.0 / 12.0)
    }
}

/// CW84 eq. 1.6 with the monotonised slopes of eq. 1.8, as CMAQ
/// (`CCTM/src/hadv/ppm/hppm.F`) and CAMx (`hadvppm.f`) compute them:
/// (b + c)/2 - (dm(c) - dm(b))/6. The result lies between b and c
/// (within b + (c - b)/6 .. b + 5 (c - b)/6) before any bounding.
struct LimitedSlopes;

impl EdgeRule for LimitedSlopes {
    const SLOPES: bool = true;
    #[inline(always)]
    fn edge(_a: f64, b: f64, c: f64, _d: f64, sb: f64, sc: f64) -> f64 {
        0.5 * (b + c) - (sc - sb) * (1.0 / 6.0)
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
fn edge_value<E: EdgeRule>(a: f64, b: f64, c: f64, d: f64, sb: f64, sc: f64) -> f64 {
    // Plain compare-selects (inputs are finite): min/max without NaN handling.
    let v = E::edge(a, b, c, d, sb, sc);
    let (lo, hi) = if b < c { (b, c) } else { (c, b) };
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// Row `p` of `ext` ([rows, L]).
#[inline(always)]
fn ext_row(ext: &[f64], l: usize, p: usize) -> &[f64] {
    &ext[p * l..(p + 1) * l]
}

/// The limited slope of every lane of ext row `p` ([p, L] rows of `ext`)
/// from rows p-1..=p+1, into `out` (nothing when the rule needs none).
#[inline(always)]
fn slopes_of<E: EdgeRule>(ext: &[f64], l: usize, p: usize, out: &mut [f64]) {
    if E::SLOPES {
        let (lo, m, hi) = (
            &ext[(p - 1) * l..p * l],
            &ext[p * l..(p + 1) * l],
            &ext[(p + 1) * l..(p + 2) * l],
        );
        let out = &mut out[..l];
        for q in 0..l {
            out[q] = limited_slope(lo[q], m[q], hi[q]);
        }
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
/// `swept_mean_left` exactly, branch-free and vectorised. For a face whose
/// weights are not shared (the ends of a line): the interior faces take the
/// same two steps with the weights computed once per sweep.
#[inline(always)]
fn face_flux(
    f: f64,
    west: (f64, f64, f64),
    inv_west: f64,
    east: (f64, f64, f64),
    inv_east: f64,
) -> f64 {
    weighted_face_flux(f, face_weights(f, inv_west, inv_east), west, east)
}

/// The face flux ([`face_flux`]) with the face's tracer-independent
/// weights ([`face_weights`]) given.
#[inline(always)]
fn weighted_face_flux(
    f: f64,
    weights: (f64, f64),
    west: (f64, f64, f64),
    east: (f64, f64, f64),
) -> f64 {
    donor_flux(
        f,
        weights,
        (west.1, west.1 - west.0, west.2),
        (east.0, east.1 - east.0, east.2),
    )
}

/// [`weighted_face_flux`] with each side's parabola given as the donor
/// needs it: the west cell as (ar, ar - al, a6), the east as
/// (al, ar - al, a6). The donor is chosen first and one mean evaluated,
/// base + shx ((ar - al) + sgx a6): the same IEEE operations on the same
/// values as choosing between both sides' terms, with one product fewer.
/// Choosing between values, not addresses, also keeps LLVM from emitting a
/// gather (12 % of the rows kernel in a profile).
#[inline(always)]
fn donor_flux(f: f64, (shx, sgx): (f64, f64), west: (f64, f64, f64), east: (f64, f64, f64)) -> f64 {
    let (base, d, a6) = if f > 0.0 { west } else { east };
    f * (base + shx * (d + sgx * a6))
}

/// One row c >= 1 of a rows sweep in a single pass over its lanes, every
/// intermediate in registers: the slope of ext row c+3 (kept in `slope`
/// for the next row), the edge above row c (kept in `edge`, whose old
/// value is the edge below), row c's parabola (kept in `prev` as the
/// donor west of face c+1 needs it, (ar, ar - al, a6); its old value is
/// row c-1's), the flux through face c (kept in `tflux`, whose
/// old value is face c-1's) and the update of row c-1's mass `m`. `ext` is
/// ext rows c+1..=c+4, `face` the face's air flux and weights. The same
/// IEEE operations as one loop per quantity, so the same bits; one pass
/// instead of four saves their loads and stores (the arguments are
/// distinct slices, so LLVM vectorises it without alias checks).
#[inline(always)]
fn row_pass<E: EdgeRule>(
    ext: [&[f64]; 4],
    slope: &mut [f64],
    edge: &mut [f64],
    prev: [&mut [f64]; 3],
    face: [&[f64]; 3],
    m: &mut [f64],
    tflux: &mut [f64],
) {
    let l = m.len();
    let [a, b, c, d] = ext.map(|e| &e[..l]);
    let (slope, edge, tflux) = (&mut slope[..l], &mut edge[..l], &mut tflux[..l]);
    let [ql, qr, qc] = prev;
    let (ql, qr, qc) = (&mut ql[..l], &mut qr[..l], &mut qc[..l]);
    let [fl, h, g] = face.map(|f| &f[..l]);
    for q in 0..l {
        let above = if E::SLOPES {
            limited_slope(b[q], c[q], d[q])
        } else {
            0.0
        };
        let up = edge_value::<E>(a[q], b[q], c[q], d[q], slope[q], above);
        slope[q] = above;
        let lo = edge[q];
        edge[q] = up;
        let (pl, pr, pc) = limited_parabola(b[q], lo, up);
        let d = pr - pl;
        let t = donor_flux(fl[q], (h[q], g[q]), (ql[q], qr[q], qc[q]), (pl, d, pc));
        (ql[q], qr[q], qc[q]) = (pr, d, pc);
        m[q] += tflux[q] - t;
        tflux[q] = t;
    }
}

/// As [`ppm_line_impl`]: one monomorphised kernel per edge rule.
#[inline(always)]
fn ppm_rows_impl(
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    weights: (&ArrayView2<f64>, &ArrayView2<f64>),
    ends: RowEnds,
    edges: PpmEdges,
    s: &mut Scratch,
) -> EndFluxes {
    match edges {
        PpmEdges::Cw84Limited => {
            ppm_rows_with::<LimitedSlopes>(mass, inv_air, flux, weights, ends, s)
        }
        PpmEdges::FourthOrder => {
            ppm_rows_with::<FourthOrder>(mass, inv_air, flux, weights, ends, s)
        }
    }
}

#[inline(always)]
fn ppm_rows_with<E: EdgeRule>(
    mass: &mut ArrayViewMut2<f64>,
    inv_air: &ArrayView2<f64>,
    flux: &ArrayView2<f64>,
    (shx, sgx): (&ArrayView2<f64>, &ArrayView2<f64>),
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
    for v in [
        &mut s.edge,
        &mut s.edge_next,
        &mut s.tflux,
        &mut s.slope,
        &mut s.slope_next,
    ]
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
    // Edge at face 0 (between ghost row -1 and row 0), from the slopes of
    // ext rows 1 and 2; `slope` then holds ext row 2's, which the next
    // edge needs again.
    slopes_of::<E>(ext, l, 1, &mut s.slope_next);
    slopes_of::<E>(ext, l, 2, &mut s.slope);
    {
        let (a, b, c, d) = (
            ext_row(ext, l, 0),
            ext_row(ext, l, 1),
            ext_row(ext, l, 2),
            ext_row(ext, l, 3),
        );
        let (sb, sc) = (&s.slope_next[..l], &s.slope[..l]);
        for q in 0..l {
            s.edge[q] = edge_value::<E>(a[q], b[q], c[q], d[q], sb[q], sc[q]);
        }
    }
    let mut ends_total = EndFluxes::default();
    // Row 0: the edge above it and its parabola (into `prev`, and into
    // `first` for the far end), then face 0, which is an end.
    {
        let (a, b, cc, d) = (
            ext_row(ext, l, 1),
            ext_row(ext, l, 2),
            ext_row(ext, l, 3),
            ext_row(ext, l, 4),
        );
        slopes_of::<E>(ext, l, 3, &mut s.slope_next);
        let (sb, sc) = (&s.slope[..l], &s.slope_next[..l]);
        let up = &mut s.edge_next[..l];
        for q in 0..l {
            up[q] = edge_value::<E>(a[q], b[q], cc[q], d[q], sb[q], sc[q]);
        }
        std::mem::swap(&mut s.slope, &mut s.slope_next);
        let (lo, up) = (&s.edge[..l], &s.edge_next[..l]);
        let [pl, pr, pc] = &mut s.prev;
        let (pl, pr, pc) = (&mut pl[..l], &mut pr[..l], &mut pc[..l]);
        for q in 0..l {
            (pl[q], pr[q], pc[q]) = limited_parabola(b[q], lo[q], up[q]);
        }
        std::mem::swap(&mut s.edge, &mut s.edge_next);
        let (fl, ie) = (&row(flux, 0)[..l], &row(inv_air, 0)[..l]);
        let tf = &mut s.tflux[..l];
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
        for (dst, src) in s.first.iter_mut().zip(&s.prev) {
            dst.clear();
            dst.extend_from_slice(&src[..l]);
        }
        // `prev` as the rows below need it: (ar, ar - al, a6).
        let [pl, pr, _] = &mut s.prev;
        for (al, ar) in pl[..l].iter_mut().zip(&mut pr[..l]) {
            (*al, *ar) = (*ar, *ar - *al);
        }
        if s.record_faces {
            s.faces[..l].copy_from_slice(&s.tflux[..l]);
        }
    }
    // Rows 1..n, one pass each (`row_pass`): row c's parabola, the flux
    // through face c from rows c-1 (`prev`) and c, and row c-1's update.
    for c in 1..n {
        let mut mv = mass.row_mut(c - 1);
        let [ql, qr, qc] = &mut s.prev;
        row_pass::<E>(
            [
                ext_row(ext, l, c + 1),
                ext_row(ext, l, c + 2),
                ext_row(ext, l, c + 3),
                ext_row(ext, l, c + 4),
            ],
            &mut s.slope[..l],
            &mut s.edge[..l],
            [&mut ql[..l], &mut qr[..l], &mut qc[..l]],
            [&row(flux, c)[..l], &row(shx, c)[..l], &row(sgx, c)[..l]],
            &mut mv.as_slice_mut().expect("lanes contiguous")[..l],
            &mut s.tflux[..l],
        );
        if s.record_faces {
            s.faces[c * l..(c + 1) * l].copy_from_slice(&s.tflux[..l]);
        }
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
    // Row n-1's parabola in `prev` is already in its donor form.
    let [wr, wd, wc] = &s.prev;
    let (wr, wd, wc) = (&wr[..l], &wd[..l], &wc[..l]);
    let (el, er, ec) = (&s.first[0][..l], &s.first[1][..l], &s.first[2][..l]);
    let (tf, last) = (&s.tflux[..l], &mut s.edge_next[..l]);
    {
        let mut mv = mass.row_mut(n - 1);
        let m = &mut mv.as_slice_mut().expect("lanes contiguous")[..l];
        for q in 0..l {
            last[q] = donor_flux(
                fl[q],
                face_weights(fl[q], iw[q], ie[q]),
                (wr[q], wd[q], wc[q]),
                (el[q], er[q] - el[q], ec[q]),
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
