//! Attribution tags in advection: the flux-fraction form.
//!
//! PPM's limiter depends on the field it limits, so advecting each tag with
//! its own PPM fluxes would make the tags' sum drift from the bulk (3e-4 of
//! the peak after a day in our tests) and would make one tag's result depend
//! on how the others are cut. Instead the bulk (the sum of a species' tags)
//! is swept with PPM, and each face's bulk tracer flux is shared among the
//! tags in proportion to their shares of the upwind (donor) cell:
//!
//!   F_t(face) = F_bulk(face) m_t(donor) / m_bulk(donor),
//!
//! with inflow through an open side given wholly to the boundary tag: an
//! upwind flux-fraction form of tagged transport. (The alternative, each tag
//! advected with its own fluxes and the tags rescaled to the bulk, couples
//! every tag to every other; `docs/attribution.md` compares.) Its properties:
//! - the tags sum to the bulk to round-off, with no renormalisation;
//! - each tag's update is linear in that tag for the given bulk fluxes, so
//!   splitting a tag into two leaves every other tag unchanged and the
//!   halves sum to the original, to round-off;
//! - tags stay non-negative whenever the bulk does (a cell never gives more
//!   of a tag than it holds, because PPM never sends more bulk than it has);
//! - the cost per tag is a few passes over memory, not a PPM sweep.
//!
//! The price: a tag's *share* of a cell is carried by donor-cell (first
//! order) upwinding, so share fronts spread more than the bulk's
//! concentration does. The bulk itself keeps PPM's accuracy. The measured
//! spreading is in `docs/attribution.md`.

use super::kernels::{EndFluxes, Through};
use ndarray::{ArrayView2, ArrayViewMut2};

/// The share of a tag in the ghost cell beyond an open end: inflow belongs
/// to the boundary tag.
pub(super) fn ghost_share(tag: usize, boundary_tag: usize) -> f64 {
    if tag == boundary_tag {
        1.0
    } else {
        0.0
    }
}

multiversion! {
    /// 1 / bulk per cell, 0 where the bulk is 0 (PPM sends nothing out of an
    /// empty cell: its parabola is flat at 0).
    pub(super) fn inverse_bulk / inverse_bulk_portable = inverse_bulk_impl(bulk: &[f64], inv: &mut [f64]) -> ()
}

#[inline(always)]
fn inverse_bulk_impl(bulk: &[f64], inv: &mut [f64]) {
    for (i, &b) in inv.iter_mut().zip(bulk) {
        *i = if b > 0.0 { 1.0 / b } else { 0.0 };
    }
}

/// Move one tag along a contiguous line of n cells (an x-sweep).
/// `m`: the tag's masses before the sweep, updated in place; `inv_bulk`:
/// 1 / bulk before the sweep; `faces`: the bulk's tracer flux through the
/// n+1 faces; `air`: the air-mass flux (its sign picks the donor);
/// `ghost`: the tag's share beyond the low and high ends, `None` for a
/// periodic line. `work` is scratch. Returns what crossed the ends.
#[inline(always)]
fn apportion_line_impl(
    m: &mut [f64],
    inv_bulk: &[f64],
    faces: &[f64],
    air: &[f64],
    ghost: Option<[f64; 2]>,
    work: &mut Vec<f64>,
) -> EndFluxes {
    let n = m.len();
    work.resize(n + 1, 0.0);
    let (m_in, ib) = (&m[..n], &inv_bulk[..n]);
    let (faces, air, tf) = (&faces[..n + 1], &air[..n + 1], &mut work[..n + 1]);
    // The end faces, with the ghost's share beyond them (the wrapped cell's
    // when periodic).
    let share = |c: usize| m_in[c] * ib[c];
    let (lo, hi) = match ghost {
        Some([lo, hi]) => (lo, hi),
        None => (share(n - 1), share(0)),
    };
    tf[0] = faces[0] * if air[0] > 0.0 { lo } else { share(0) };
    tf[n] = faces[n] * if air[n] > 0.0 { share(n - 1) } else { hi };
    // Interior faces: both cells' shares computed in the loop, then the
    // choice between values (a choice between loaded shares becomes a
    // choice of address, which keeps the loop scalar).
    let (mw, me, iw, ie) = (&m_in[..n - 1], &m_in[1..n], &ib[..n - 1], &ib[1..n]);
    let (fi, ai, ti) = (&faces[1..n], &air[1..n], &mut tf[1..n]);
    for f in 0..n - 1 {
        let (below, above) = (mw[f] * iw[f], me[f] * ie[f]);
        ti[f] = fi[f] * if ai[f] > 0.0 { below } else { above };
    }
    let tf = &work[..n + 1];
    let (tin, tout) = (&tf[..n], &tf[1..n + 1]);
    for c in 0..n {
        m[c] += tin[c] - tout[c];
    }
    ends_of_faces(tf[0], tf[n], ghost.is_none())
}

/// Move one tag across the n rows of an [n, L] plane (a y- or z-sweep;
/// lanes independent). Arguments as in [`apportion_line`], with `faces`
/// (n+1) x L row-major and `air` [n+1, L]; `work` is scratch.
///
/// One pass over the rows: row c's shares, the flux through face c (below
/// row c) and row c-1's update, with the shares of the row below and the
/// last face's flux kept one row long (in L1), so the tag's plane is read
/// once and written once. The same IEEE operations as one pass per
/// quantity over whole planes.
#[inline(always)]
fn apportion_rows_impl(
    m: &mut ArrayViewMut2<f64>,
    inv_bulk: &ArrayView2<f64>,
    faces: &[f64],
    air: &ArrayView2<f64>,
    ghost: Option<[f64; 2]>,
    work: &mut Vec<f64>,
) -> EndFluxes {
    let (n, l) = m.dim();
    work.resize(4 * l, 0.0);
    let (below, rest) = work.split_at_mut(l);
    let (tf, rest) = rest.split_at_mut(l);
    let (face0, row0) = rest.split_at_mut(l);
    // The shares beyond the low end: the ghost's, or the wrapped row n-1's.
    match ghost {
        Some([lo, _]) => below.fill(lo),
        None => share_row(lanes(m.row(n - 1)), lanes(inv_bulk.row(n - 1)), below),
    }
    // Every slice cut to exactly l lanes: no bounds checks, so the loops vectorise.
    let (below, tf, face0, row0) = (
        &mut below[..l],
        &mut tf[..l],
        &mut face0[..l],
        &mut row0[..l],
    );
    for c in 0..n {
        let (a, ib) = (&lanes(air.row(c))[..l], &lanes(inv_bulk.row(c))[..l]);
        let fl = &faces[c * l..(c + 1) * l];
        if c == 0 {
            let here = &mut *row0;
            share_row(&lanes(m.row(0))[..l], ib, here);
            for q in 0..l {
                let t = fl[q] * if a[q] > 0.0 { below[q] } else { here[q] };
                (tf[q], face0[q], below[q]) = (t, t, here[q]);
            }
            continue;
        }
        let (lower, upper) = m.multi_slice_mut((ndarray::s![c - 1, ..], ndarray::s![c, ..]));
        let (lower, upper) = (&mut lanes_mut(lower)[..l], &lanes_mut(upper)[..l]);
        for q in 0..l {
            let here = upper[q] * ib[q];
            let t = fl[q] * if a[q] > 0.0 { below[q] } else { here };
            lower[q] += tf[q] - t;
            (tf[q], below[q]) = (t, here);
        }
    }
    // Face n: row n-1 against the ghost beyond the high end, or row 0.
    let a = &lanes(air.row(n))[..l];
    let fl = &faces[n * l..(n + 1) * l];
    let last_row = &mut lanes_mut(m.row_mut(n - 1))[..l];
    let mut total = EndFluxes::default();
    for q in 0..l {
        let beyond = match ghost {
            Some([_, hi]) => hi,
            None => row0[q],
        };
        let t = fl[q] * if a[q] > 0.0 { below[q] } else { beyond };
        last_row[q] += tf[q] - t;
        tf[q] = t;
    }
    for q in 0..l {
        total += ends_of_faces(face0[q], tf[q], ghost.is_none());
    }
    total
}

/// The shares m / bulk of one row's lanes.
#[inline(always)]
fn share_row(m: &[f64], inv_bulk: &[f64], out: &mut [f64]) {
    let out = &mut out[..m.len()];
    for ((o, &x), &ib) in out.iter_mut().zip(m).zip(inv_bulk) {
        *o = x * ib;
    }
}

/// A row of lanes as a slice (rows are contiguous along lanes).
#[inline(always)]
fn lanes(v: ndarray::ArrayView1<'_, f64>) -> &[f64] {
    v.to_slice().expect("lanes contiguous")
}

/// [`lanes`] for a mutable row.
#[inline(always)]
fn lanes_mut(v: ndarray::ArrayViewMut1<'_, f64>) -> &mut [f64] {
    v.into_slice().expect("lanes contiguous")
}

multiversion! {
    /// [`apportion_line_impl`] in the widest vector instruction set.
    pub(super) fn apportion_line / apportion_line_portable = apportion_line_impl(m: &mut [f64], inv_bulk: &[f64], faces: &[f64], air: &[f64], ghost: Option<[f64; 2]>, work: &mut Vec<f64>) -> EndFluxes
}

multiversion! {
    /// [`apportion_rows_impl`] in the widest vector instruction set.
    pub(super) fn apportion_rows / apportion_rows_portable = apportion_rows_impl(m: &mut ArrayViewMut2<f64>, inv_bulk: &ArrayView2<f64>, faces: &[f64], air: &ArrayView2<f64>, ghost: Option<[f64; 2]>, work: &mut Vec<f64>) -> EndFluxes
}

/// Add `plane` [rows, cols] (rows contiguous) to `bulk`, row by row.
#[inline(always)]
fn add_plane_impl(bulk: &mut [f64], plane: &ArrayView2<f64>) {
    let cols = plane.ncols();
    for (r, b) in bulk.chunks_exact_mut(cols).enumerate() {
        let m = &plane.row(r).to_slice().expect("lanes contiguous")[..cols];
        for q in 0..cols {
            b[q] += m[q];
        }
    }
}

multiversion! {
    /// A species' bulk as the sum of its tags: each tag plane added in turn.
    pub(super) fn add_plane / add_plane_portable = add_plane_impl(bulk: &mut [f64], plane: &ArrayView2<f64>) -> ()
}

/// The mass crossing the two ends of a line given its end faces' fluxes
/// (nothing leaves or enters a periodic line).
fn ends_of_faces(low: f64, high: f64, periodic: bool) -> EndFluxes {
    if periodic {
        return EndFluxes::default();
    }
    EndFluxes {
        low: Through {
            inflow: low.max(0.0),
            outflow: (-low).max(0.0),
        },
        high: Through {
            inflow: (-high).max(0.0),
            outflow: high.max(0.0),
        },
    }
}
