//! Splitting the domain into rectangular subdomains, one per rank.

use crate::grid::{Edge, Edges, Grid, Side};

/// One rank's part of the domain.
#[derive(Debug, Clone, PartialEq)]
pub struct Subdomain {
    pub rank: usize,
    /// Cell ranges in the whole domain.
    pub i: (usize, usize),
    pub j: (usize, usize),
    /// What lies beyond each side: the whole domain's edge, or a halo.
    pub edges: Edges,
    /// The rank across each side (west, east, south, north), if any.
    pub neighbours: [Option<usize>; 4],
}

impl Subdomain {
    /// This subdomain's window of the whole grid.
    pub fn grid(&self, whole: &Grid) -> Grid {
        whole.window(self.i, self.j, self.edges)
    }
}

/// Split `whole` into `px` x `py` near-equal blocks (rank = bx + px * by),
/// with halos `halo` cells wide between them. Periodic directions wrap
/// round through halos when split.
pub fn split(whole: &Grid, px: usize, py: usize, halo: usize) -> Vec<Subdomain> {
    let ranges = |n: usize, p: usize| -> Vec<(usize, usize)> {
        (0..p).map(|b| (b * n / p, (b + 1) * n / p)).collect()
    };
    let (xs, ys) = (ranges(whole.nx, px), ranges(whole.ny, py));
    let mut out = Vec::with_capacity(px * py);
    for (by, &j) in ys.iter().enumerate() {
        for (bx, &i) in xs.iter().enumerate() {
            let mut edges = whole.edges;
            let mut neighbours = [None; 4];
            for (k, side) in Side::ALL.into_iter().enumerate() {
                let (b, p, step) = match side {
                    Side::West => (bx, px, -1isize),
                    Side::East => (bx, px, 1),
                    Side::South => (by, py, -1),
                    Side::North => (by, py, 1),
                };
                let next = b as isize + step;
                let wraps = whole.edges.side(side) == Edge::Periodic;
                let across = if (0..p as isize).contains(&next) {
                    Some(next as usize)
                } else if wraps && p > 1 {
                    Some(next.rem_euclid(p as isize) as usize)
                } else {
                    None
                };
                if let Some(nb) = across {
                    let (nbx, nby) = match side {
                        Side::West | Side::East => (nb, by),
                        Side::South | Side::North => (bx, nb),
                    };
                    neighbours[k] = Some(nbx + px * nby);
                    edges.set(side, Edge::Halo { width: halo });
                }
            }
            out.push(Subdomain {
                rank: bx + px * by,
                i,
                j,
                edges,
                neighbours,
            });
        }
    }
    out
}
