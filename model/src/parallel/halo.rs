//! Halo strips: copies of the cells just beyond a subdomain's `Halo` sides,
//! exchanged through a [`Comm`] before a stencil reaches across.

use super::Comm;
use crate::grid::{Edge, Edges, Side};
use ndarray::{s, Array4, ArrayView3, ArrayView4, Axis};

/// The cells beyond some sides of a field [t, k, j, i]: west/east strips are
/// [t, k, ny, w] (columns in increasing i: the strip west of column 0 holds
/// columns -w..-1), south/north strips are [t, k, w, nx].
#[derive(Debug, Clone, Default)]
pub struct Halo {
    strips: [Option<Array4<f64>>; 4],
}

impl Halo {
    /// The strip beyond `side`, if that side is a halo that was exchanged.
    pub fn strip(&self, side: Side) -> Option<&Array4<f64>> {
        self.strips[side.index()].as_ref()
    }

    /// The neighbour's cell right next to ours across `side`, for field
    /// `t`, layer `k`, at position `along` the side (j for west/east, i for
    /// south/north).
    pub fn adjacent(&self, side: Side, t: usize, k: usize, along: usize) -> Option<f64> {
        let h = self.strip(side)?;
        let (_, _, hy, hx) = h.dim();
        Some(match side {
            Side::West => h[[t, k, along, hx - 1]],
            Side::East => h[[t, k, along, 0]],
            Side::South => h[[t, k, hy - 1, along]],
            Side::North => h[[t, k, 0, along]],
        })
    }
}

/// The cells of `field` nearest to `side`, `w` deep, as sent to the neighbour.
fn nearest(field: &ArrayView4<f64>, side: Side, w: usize) -> Vec<f64> {
    let (_, _, ny, nx) = field.dim();
    let v = match side {
        Side::West => field.slice(s![.., .., .., 0..w]),
        Side::East => field.slice(s![.., .., .., nx - w..nx]),
        Side::South => field.slice(s![.., .., 0..w, ..]),
        Side::North => field.slice(s![.., .., ny - w..ny, ..]),
    };
    v.iter().copied().collect()
}

/// Exchange the halos of `sides` (those that are `Halo` edges) for a 4-D
/// field. Every rank must call this with the same `sides`, in step.
pub fn exchange(comm: &dyn Comm, edges: &Edges, field: ArrayView4<f64>, sides: &[Side]) -> Halo {
    let (nt, nk, ny, nx) = field.dim();
    let mut halo = Halo::default();
    for &side in sides {
        let Edge::Halo { width: w } = edges.side(side) else {
            continue;
        };
        let got = comm.exchange(side, nearest(&field, side, w));
        let shape = match side {
            Side::West | Side::East => (nt, nk, ny, w),
            Side::South | Side::North => (nt, nk, w, nx),
        };
        let strip =
            Array4::from_shape_vec(shape, got).expect("neighbour sent a strip of the agreed shape");
        halo.strips[side.index()] = Some(strip);
    }
    halo
}

/// [`exchange`] for a 3-D field [k, j, i]; strips come back as [1, k, ., .].
pub fn exchange3(comm: &dyn Comm, edges: &Edges, field: ArrayView3<f64>, sides: &[Side]) -> Halo {
    exchange(comm, edges, field.insert_axis(Axis(0)), sides)
}

/// The sides along x and along y.
pub const X_SIDES: [Side; 2] = [Side::West, Side::East];
pub const Y_SIDES: [Side; 2] = [Side::South, Side::North];
