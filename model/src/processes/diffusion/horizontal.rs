//! Horizontal turbulent diffusion, explicit, in flux form:
//! d(rho r)/dt = div(rho K_h grad r) with constant K_h. Each face between
//! cells a and b moves c dts (r_a - r_b) kg from a to b, with the
//! conductance c = rho_face K_h L dz / distance (the finite-volume
//! discretisation, e.g. LeVeque, Finite Volume Methods for Hyperbolic
//! Problems, 2002, 4.2), so mass is conserved to round-off. Forward Euler
//! stays positive while dt * sum(c)/M <= 1/2 in every cell; the step is cut
//! into that many sub-steps, at most [`crate::limits::MAX_SUBSTEPS`] (else
//! exit 5 naming the cell and the time). Open sides are closed to
//! diffusion (advection carries exchange); periodic sides wrap; across Halo
//! sides the neighbour's cells are exchanged every sub-step.
//!
//! Layout for speed (the answer does not depend on it):
//! - The conductances depend on the met only: they are computed once per
//!   step per face, one 2-D set per layer, in parallel over layers, and
//!   shared by every tracer (and tag).
//! - Layers do not exchange mass here, so each horizontal plane (tracer t,
//!   layer k: one contiguous [j, i] block) takes all its sub-steps while it
//!   is in cache, planes in parallel, layer-major so that a layer's air mass
//!   and conductances stay in cache across its tracers. A divided domain
//!   exchanges halos before every sub-step, so there sub-steps run
//!   outermost.
//! - Within a plane, rows are swept once per sub-step: the mixing ratios of
//!   the two rows a face touches and the flows of one row's faces live in
//!   row buffers; the inner loops are branch-free over contiguous slices.
//!
//! Every cell sums its flows in one fixed order, the order of a scatter
//! over faces in index order, x faces then y faces (a periodic seam is the
//! first face of its line): the same whether or not the domain is divided,
//! and whatever the thread count. A face whose conductance is 0 (a closed
//! side) adds -0.0, which leaves every value, -0.0 and NaN included, as it
//! was: bit for bit the same as skipping the face.

use super::super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::grid::{Edge, Side};
use crate::limits::{num, MAX_SUBSTEPS};
use crate::parallel::halo::{self, Halo};
use crate::state::State;
use rayon::prelude::*;

pub struct HorizontalDiffusion {
    pub kh: f64,
    /// Conductances (kg/s) of the current step, layer after layer: x faces
    /// [j, 0..=nx] then y faces [0..=ny, i]. Kept between steps so the
    /// buffer is not allocated anew each step.
    conductance: Vec<f64>,
}

impl HorizontalDiffusion {
    pub fn new(kh: f64) -> HorizontalDiffusion {
        HorizontalDiffusion {
            kh,
            conductance: Vec::new(),
        }
    }
}

/// What lies beyond one side of a plane.
#[derive(Clone, Copy)]
enum Beyond<'a> {
    /// Closed to diffusion (an Open side): its faces have conductance 0.
    Closed,
    /// The opposite side of the same plane.
    Periodic,
    /// A neighbouring subdomain: its mixing ratios next to the side, along it.
    Halo(&'a [f64]),
}

/// One layer's coefficients and sides, shared by the planes of that layer.
struct Layer<'a> {
    nx: usize,
    ny: usize,
    /// Air mass [j, i] (kg).
    air: &'a [f64],
    /// Conductances (kg/s): x faces [j, 0..=nx], y faces [0..=ny, i].
    cx: &'a [f64],
    cy: &'a [f64],
    west: Beyond<'a>,
    east: Beyond<'a>,
    south: Beyond<'a>,
    north: Beyond<'a>,
}

/// Row buffers of one plane's sweep (a few rows: they stay in L1).
struct Rows {
    /// Mixing ratios of the current row, the next row and (periodic y) the
    /// last row, taken before any of them is updated.
    cur: Vec<f64>,
    next: Vec<f64>,
    last: Vec<f64>,
    /// The x faces of the current row: +flow for the cell east of the
    /// face, -flow for the cell west of it ([0..=nx]).
    x_gain: Vec<f64>,
    x_loss: Vec<f64>,
    /// +flow through the y faces below the current row, +flow and -flow
    /// through those above it, and -flow through face 0 (periodic seam).
    y_gain: Vec<f64>,
    y_gain_next: Vec<f64>,
    y_loss_next: Vec<f64>,
    seam_loss: Vec<f64>,
}

impl Rows {
    fn new(nx: usize) -> Rows {
        let row = || vec![0.0; nx];
        Rows {
            cur: row(),
            next: row(),
            last: row(),
            x_gain: vec![0.0; nx + 1],
            x_loss: vec![0.0; nx + 1],
            y_gain: row(),
            y_gain_next: row(),
            y_loss_next: row(),
            seam_loss: row(),
        }
    }
}

/// The sign bit: -0.0.
const NEG_ZERO: u64 = 1 << 63;

/// The flow c dts (r_a - r_b) through one face as the addends of its two
/// cells: (+flow for b, -flow for a). A face with c == 0 gives (-0.0,
/// -0.0): x + -0.0 is x for every x, so it is the same as no face. Written
/// with bit masks so that the loop over a row vectorises.
#[inline(always)]
fn flow(c: f64, dts: f64, ra: f64, rb: f64) -> (f64, f64) {
    let f = (c * dts * (ra - rb)).to_bits();
    let keep = u64::from(c != 0.0).wrapping_neg();
    (
        f64::from_bits((f & keep) | (NEG_ZERO & !keep)),
        f64::from_bits(((f ^ NEG_ZERO) & keep) | (NEG_ZERO & !keep)),
    )
}

/// [`flow`] through a run of faces.
#[inline(always)]
fn flows(c: &[f64], dts: f64, ra: &[f64], rb: &[f64], gain: &mut [f64], loss: &mut [f64]) {
    let n = c.len();
    let (ra, rb, gain, loss) = (&ra[..n], &rb[..n], &mut gain[..n], &mut loss[..n]);
    for i in 0..n {
        (gain[i], loss[i]) = flow(c[i], dts, ra[i], rb[i]);
    }
}

/// Mixing ratio of a row: mass / air mass.
#[inline(always)]
fn ratio(out: &mut [f64], mass: &[f64], air: &[f64]) {
    for ((o, &m), &a) in out.iter_mut().zip(mass).zip(air) {
        *o = m / a;
    }
}

/// One forward-Euler sub-step of one plane [j, i] (kg). Each cell adds, in
/// this order: +flow through its west face, -flow through its east face,
/// +flow through its south face, -flow through its north face; except that
/// a periodic seam (face 0 of its line, scattered first) comes first for
/// the last cell of the line. Across a Halo face only the interior cell
/// changes. This is the order of the scatter "for each face in index order,
/// x faces then y faces" that the test below holds it to.
fn substep(b: &mut [f64], l: &Layer, dts: f64, w: &mut Rows) {
    let (nx, ny) = (l.nx, l.ny);
    let row = |j: usize| j * nx..(j + 1) * nx;
    ratio(&mut w.cur, &b[row(0)], &l.air[row(0)]);
    // Face 0 of every column: the south side.
    let c0 = &l.cy[..nx];
    match l.south {
        Beyond::Halo(h) => flows(c0, dts, h, &w.cur, &mut w.y_gain, &mut w.seam_loss),
        Beyond::Periodic => {
            ratio(&mut w.last, &b[row(ny - 1)], &l.air[row(ny - 1)]);
            flows(c0, dts, &w.last, &w.cur, &mut w.y_gain, &mut w.seam_loss);
        }
        Beyond::Closed => w.y_gain.fill(-0.0),
    }
    let seam_y = matches!(l.south, Beyond::Periodic);
    let seam_x = matches!(l.west, Beyond::Periodic);
    for j in 0..ny {
        // The y faces above row j.
        let c = &l.cy[(j + 1) * nx..(j + 2) * nx];
        if j + 1 < ny {
            ratio(&mut w.next, &b[row(j + 1)], &l.air[row(j + 1)]);
            flows(
                c,
                dts,
                &w.cur,
                &w.next,
                &mut w.y_gain_next,
                &mut w.y_loss_next,
            );
        } else if let Beyond::Halo(h) = l.north {
            flows(c, dts, &w.cur, h, &mut w.y_gain_next, &mut w.y_loss_next);
        } else {
            // Closed, or periodic (the seam is face 0).
            w.y_loss_next.fill(-0.0);
        }
        // The x faces of row j: the first and last are the sides.
        let c = &l.cx[j * (nx + 1)..(j + 1) * (nx + 1)];
        let r = &w.cur;
        flows(
            &c[1..nx],
            dts,
            &r[..nx - 1],
            &r[1..],
            &mut w.x_gain[1..nx],
            &mut w.x_loss[1..nx],
        );
        (w.x_gain[0], w.x_loss[0]) = match l.west {
            Beyond::Halo(h) => flow(c[0], dts, h[j], r[0]),
            Beyond::Periodic => flow(c[0], dts, r[nx - 1], r[0]),
            Beyond::Closed => (-0.0, -0.0),
        };
        (w.x_gain[nx], w.x_loss[nx]) = match l.east {
            Beyond::Halo(h) => flow(c[nx], dts, r[nx - 1], h[j]),
            // Closed, or periodic (the seam is face 0).
            _ => (-0.0, -0.0),
        };
        let out = &mut b[row(j)];
        let last = out[nx - 1];
        let (xg, xl) = (&w.x_gain[..nx], &w.x_loss[1..]);
        let (yg, yl) = (&w.y_gain[..], &w.y_loss_next[..]);
        if seam_y && j == ny - 1 {
            let s = &w.seam_loss[..];
            for i in 0..nx {
                out[i] = out[i] + xg[i] + xl[i] + s[i] + yg[i] + yl[i];
            }
        } else {
            for i in 0..nx {
                out[i] = out[i] + xg[i] + xl[i] + yg[i] + yl[i];
            }
        }
        if seam_x {
            // The last cell of the row met the seam first.
            let i = nx - 1;
            let mut v = last + w.x_loss[0] + w.x_gain[i] + w.x_loss[nx];
            if seam_y && j == ny - 1 {
                v += w.seam_loss[i];
            }
            out[i] = v + yg[i] + yl[i];
        }
        std::mem::swap(&mut w.cur, &mut w.next);
        std::mem::swap(&mut w.y_gain, &mut w.y_gain_next);
    }
}

/// Conductances (kg/s) of layer k into `out` (x faces [j, 0..=nx], then y
/// faces [0..=ny, i]): rho_face K_h L dz / distance, with rho_face the mean
/// of the two cells (the neighbour's from its halo across a Halo side).
/// Open sides are closed to diffusion; a periodic seam is one face, counted
/// on the low side. Returns the largest dt-free rate sum(c)/M of the layer
/// and where (the first NaN, else the first maximum; 0 if none is positive).
fn layer_conductances(
    kh: f64,
    ctx: &StepContext,
    air: &[f64],
    k: usize,
    out: &mut [f64],
) -> (f64, [usize; 2]) {
    let g = ctx.grid;
    let (ny, nx) = (g.ny, g.nx);
    let e = g.edges;
    let rho = ctx.met_mid.density.index_axis(ndarray::Axis(0), k);
    let rho = rho.as_standard_layout();
    let rho = rho.as_slice().expect("standard layout");
    let (xl, xd) = (
        g.x_face_len.as_standard_layout(),
        g.x_face_dist.as_standard_layout(),
    );
    let (yl, yd) = (
        g.y_face_len.as_standard_layout(),
        g.y_face_dist.as_standard_layout(),
    );
    let [xl, xd, yl, yd] = [&xl, &xd, &yl, &yd].map(|a| a.as_slice().expect("standard layout"));
    let strip = |side: Side, along: usize| ctx.density_halo.adjacent(side, 0, k, along);
    let (cx, cy) = out.split_at_mut(ny * (nx + 1));
    let dz = g.dz[k];
    // rho_face K_h L dz / distance from the densities either side.
    let cond = |pair: Option<(f64, f64)>, len: f64, dist: f64| match pair {
        Some((ra, rb)) => 0.5 * (ra + rb) * kh * len * dz / dist,
        None => 0.0,
    };
    for j in 0..ny {
        let faces = j * (nx + 1)..(j + 1) * (nx + 1);
        let (c, len, dist) = (&mut cx[faces.clone()], &xl[faces.clone()], &xd[faces]);
        let r = &rho[j * nx..(j + 1) * nx];
        for f in 1..nx {
            c[f] = 0.5 * (r[f - 1] + r[f]) * kh * len[f] * dz / dist[f];
        }
        // The sides: densities west and east of the face, if it carries diffusion.
        let (west, east) = if e.periodic_x() {
            (Some((r[nx - 1], r[0])), None)
        } else {
            (
                strip(Side::West, j).map(|h| (h, r[0])),
                strip(Side::East, j).map(|h| (r[nx - 1], h)),
            )
        };
        c[0] = cond(west, len[0], dist[0]);
        c[nx] = cond(east, len[nx], dist[nx]);
    }
    for f in 1..ny {
        let faces = f * nx..(f + 1) * nx;
        let (c, len, dist) = (&mut cy[faces.clone()], &yl[faces.clone()], &yd[faces]);
        let (ra, rb) = (&rho[(f - 1) * nx..f * nx], &rho[f * nx..(f + 1) * nx]);
        for i in 0..nx {
            c[i] = 0.5 * (ra[i] + rb[i]) * kh * len[i] * dz / dist[i];
        }
    }
    let top = ny * nx;
    for i in 0..nx {
        let (south, north) = if e.periodic_y() {
            (Some((rho[(ny - 1) * nx + i], rho[i])), None)
        } else {
            (
                strip(Side::South, i).map(|h| (h, rho[i])),
                strip(Side::North, i).map(|h| (rho[(ny - 1) * nx + i], h)),
            )
        };
        cy[i] = cond(south, yl[i], yd[i]);
        cy[top + i] = cond(north, yl[top + i], yd[top + i]);
    }
    let (cx, cy) = (&*cx, &*cy);
    let (mut worst, mut at) = (0.0_f64, [0, 0]);
    for j in 0..ny {
        for i in 0..nx {
            let xr = j * (nx + 1);
            let mut sum = cx[xr + i] + cx[xr + i + 1] + cy[j * nx + i] + cy[(j + 1) * nx + i];
            if e.periodic_x() && i == nx - 1 {
                sum += cx[xr];
            }
            if e.periodic_y() && j == ny - 1 {
                sum += cy[i];
            }
            let rate = sum / air[j * nx + i];
            // Larger, or the first NaN (which f64::max would pass over).
            if rate > worst || (rate.is_nan() && !worst.is_nan()) {
                (worst, at) = (rate, [j, i]);
            }
        }
    }
    (worst, at)
}

/// What lies beyond `side` of a plane: for a Halo side, the neighbour's
/// mixing ratios next to us (its last column west/south, first east/north)
/// of tracer `t`, layer `k`, into `buf`.
fn beyond<'a>(
    edge: Edge,
    side: Side,
    halos: Option<(&Halo, &Halo)>,
    (t, k): (usize, usize),
    buf: &'a mut Vec<f64>,
) -> Beyond<'a> {
    match edge {
        Edge::Open => Beyond::Closed,
        Edge::Periodic => Beyond::Periodic,
        Edge::Halo { .. } => {
            let Some((mass, air)) = halos else {
                return Beyond::Closed;
            };
            let (Some(m), Some(a)) = (mass.strip(side), air.strip(side)) else {
                return Beyond::Closed;
            };
            let (_, _, hy, hx) = m.dim();
            buf.clear();
            match side {
                Side::West | Side::East => {
                    let i = if side == Side::West { hx - 1 } else { 0 };
                    buf.extend((0..hy).map(|j| m[[t, k, j, i]] / a[[0, k, j, i]]));
                }
                Side::South | Side::North => {
                    let j = if side == Side::South { hy - 1 } else { 0 };
                    buf.extend((0..hx).map(|i| m[[t, k, j, i]] / a[[0, k, j, i]]));
                }
            }
            Beyond::Halo(buf)
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
        if nz * ny * nx == 0 {
            return Ok(());
        }
        let plane = ny * nx;
        let per_layer = ny * (nx + 1) + (ny + 1) * nx;
        self.conductance.resize(nz * per_layer, 0.0);
        let air = state.air_mass.as_slice().expect("standard layout");
        let kh = self.kh;
        // Forward Euler stays positive while dt * sum(c) / M <= 1/2 in every cell.
        let layers: Vec<(f64, [usize; 2])> = self
            .conductance
            .par_chunks_mut(per_layer)
            .enumerate()
            .map(|(k, out)| layer_conductances(kh, ctx, &air[k * plane..(k + 1) * plane], k, out))
            .collect();
        // In layer order: the first NaN, else the first largest, as a scan
        // of the cells in index order would find.
        let (mut worst, mut at) = (0.0_f64, [0, 0, 0]);
        for (k, &(rate, [j, i])) in layers.iter().enumerate() {
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
                    num(state.air_mass[[k, j, i]]),
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
        let cond = &self.conductance[..];
        let layer = |k: usize| {
            let c = &cond[k * per_layer..(k + 1) * per_layer];
            let (cx, cy) = c.split_at(ny * (nx + 1));
            (&air[k * plane..(k + 1) * plane], cx, cy)
        };
        let sides = [Side::West, Side::East, Side::South, Side::North];
        if !g.edges.any_halo() {
            // Each plane takes all its sub-steps while it is in cache;
            // layer-major, so a layer's coefficients serve all its tracers.
            let mut planes: Vec<(usize, &mut [f64])> = state
                .mass
                .as_slice_mut()
                .expect("standard layout")
                .chunks_mut(plane)
                .enumerate()
                .map(|(p, b)| (p % nz, b))
                .collect();
            planes.sort_by_key(|&(k, _)| k);
            let e = g.edges;
            planes.into_par_iter().for_each_init(
                || Rows::new(nx),
                |rows, (k, b)| {
                    let (air, cx, cy) = layer(k);
                    let [west, east, south, north] = sides.map(|s| match e.side(s) {
                        Edge::Periodic => Beyond::Periodic,
                        _ => Beyond::Closed,
                    });
                    let l = Layer {
                        nx,
                        ny,
                        air,
                        cx,
                        cy,
                        west,
                        east,
                        south,
                        north,
                    };
                    for _ in 0..nsub {
                        substep(b, &l, dts, rows);
                    }
                },
            );
            return Ok(());
        }
        // Divided domain: the neighbours' mixing ratios are exchanged before
        // every sub-step, so sub-steps run outermost.
        let air_halo = halo::exchange3(ctx.comm, &g.edges, state.air_mass.view(), &sides);
        for _ in 0..nsub {
            let mass_halo = halo::exchange(ctx.comm, &g.edges, state.mass.view(), &sides);
            let e = g.edges;
            state
                .mass
                .as_slice_mut()
                .expect("standard layout")
                .par_chunks_mut(plane)
                .enumerate()
                .for_each_init(
                    || (Rows::new(nx), std::array::from_fn(|_| Vec::new())),
                    |(rows, bufs): &mut (Rows, [Vec<f64>; 4]), (p, b)| {
                        let (t, k) = (p / nz, p % nz);
                        let (air, cx, cy) = layer(k);
                        let hs = Some((&mass_halo, &air_halo));
                        let [bw, be, bs, bn] = bufs;
                        let l = Layer {
                            nx,
                            ny,
                            air,
                            cx,
                            cy,
                            west: beyond(e.west, Side::West, hs, (t, k), bw),
                            east: beyond(e.east, Side::East, hs, (t, k), be),
                            south: beyond(e.south, Side::South, hs, (t, k), bs),
                            north: beyond(e.north, Side::North, hs, (t, k), bn),
                        };
                        substep(b, &l, dts, rows);
                    },
                );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: the scatter the sweep reproduces, written plainly.
    /// Faces in index order, x then y; each face with c != 0 moves
    /// c dts (r_a - r_b) from a to b (only the interior cell across a Halo).
    fn scatter(b: &mut [f64], l: &Layer, dts: f64) {
        let (nx, ny) = (l.nx, l.ny);
        let r: Vec<f64> = b.iter().zip(l.air).map(|(m, a)| m / a).collect();
        for j in 0..ny {
            let at = |i: usize| j * nx + i;
            for f in 0..=nx {
                let c = l.cx[j * (nx + 1) + f];
                if c == 0.0 {
                    continue;
                }
                let (a, bb, ra, rb) = if f == 0 {
                    match l.west {
                        Beyond::Halo(h) => (None, Some(at(0)), h[j], r[at(0)]),
                        Beyond::Periodic => {
                            (Some(at(nx - 1)), Some(at(0)), r[at(nx - 1)], r[at(0)])
                        }
                        Beyond::Closed => panic!("closed face with c != 0"),
                    }
                } else if f == nx {
                    match l.east {
                        Beyond::Halo(h) => (Some(at(nx - 1)), None, r[at(nx - 1)], h[j]),
                        _ => panic!("east face with c != 0"),
                    }
                } else {
                    (Some(at(f - 1)), Some(at(f)), r[at(f - 1)], r[at(f)])
                };
                let fl = c * dts * (ra - rb);
                if let Some(a) = a {
                    b[a] -= fl;
                }
                if let Some(bb) = bb {
                    b[bb] += fl;
                }
            }
        }
        for f in 0..=ny {
            for i in 0..nx {
                let c = l.cy[f * nx + i];
                if c == 0.0 {
                    continue;
                }
                let at = |j: usize| j * nx + i;
                let (a, bb, ra, rb) = if f == 0 {
                    match l.south {
                        Beyond::Halo(h) => (None, Some(at(0)), h[i], r[at(0)]),
                        Beyond::Periodic => {
                            (Some(at(ny - 1)), Some(at(0)), r[at(ny - 1)], r[at(0)])
                        }
                        Beyond::Closed => panic!("closed face with c != 0"),
                    }
                } else if f == ny {
                    match l.north {
                        Beyond::Halo(h) => (Some(at(ny - 1)), None, r[at(ny - 1)], h[i]),
                        _ => panic!("north face with c != 0"),
                    }
                } else {
                    (Some(at(f - 1)), Some(at(f)), r[at(f - 1)], r[at(f)])
                };
                let fl = c * dts * (ra - rb);
                if let Some(a) = a {
                    b[a] -= fl;
                }
                if let Some(bb) = bb {
                    b[bb] += fl;
                }
            }
        }
    }

    /// A deterministic spread of values (a linear congruential sequence).
    fn values(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect()
    }

    #[test]
    fn the_row_sweep_is_bit_identical_to_the_face_scatter() {
        use Beyond::*;
        let kinds = ["closed", "periodic", "halo"];
        for &(nx, ny) in &[(1, 1), (1, 4), (5, 1), (2, 2), (7, 6)] {
            for (ax, kx) in kinds.iter().enumerate() {
                for (ay, ky) in kinds.iter().enumerate() {
                    let seed = (nx * 100 + ny * 10 + ax * 3 + ay) as u64;
                    let air = values(nx * ny, seed, 0.5, 2.0);
                    let mut cx = values(ny * (nx + 1), seed + 1, 0.0, 0.1);
                    let mut cy = values((ny + 1) * nx, seed + 2, 0.0, 0.1);
                    // Some interior faces closed too (zero face length).
                    if nx > 2 {
                        cx[2] = 0.0;
                    }
                    if ny > 2 {
                        cy[2 * nx] = 0.0;
                    }
                    for j in 0..ny {
                        if ax != 2 {
                            cx[j * (nx + 1) + nx] = 0.0;
                        }
                        if ax == 0 {
                            cx[j * (nx + 1)] = 0.0;
                        }
                    }
                    for i in 0..nx {
                        if ay != 2 {
                            cy[ny * nx + i] = 0.0;
                        }
                        if ay == 0 {
                            cy[i] = 0.0;
                        }
                    }
                    let hw = values(ny, seed + 3, 0.0, 3.0);
                    let he = values(ny, seed + 4, 0.0, 3.0);
                    let hs = values(nx, seed + 5, 0.0, 3.0);
                    let hn = values(nx, seed + 6, 0.0, 3.0);
                    let side = |kind: &str, h: &'static [f64]| match kind {
                        "closed" => Closed,
                        "periodic" => Periodic,
                        _ => Halo(h),
                    };
                    let leak = |v: Vec<f64>| -> &'static [f64] { Box::leak(v.into_boxed_slice()) };
                    let (hw, he, hs, hn) = (leak(hw), leak(he), leak(hs), leak(hn));
                    let l = Layer {
                        nx,
                        ny,
                        air: &air,
                        cx: &cx,
                        cy: &cy,
                        west: side(kx, hw),
                        east: side(kx, he),
                        south: side(ky, hs),
                        north: side(ky, hn),
                    };
                    let mut mass = values(nx * ny, seed + 7, 0.0, 2.0);
                    // Zeros of both signs.
                    mass[0] = -0.0;
                    if nx * ny > 3 {
                        mass[nx * ny - 1] = 0.0;
                    }
                    let start = mass.clone();
                    let mut want = mass.clone();
                    let mut rows = Rows::new(nx);
                    for _ in 0..3 {
                        scatter(&mut want, &l, 0.7);
                        substep(&mut mass, &l, 0.7, &mut rows);
                    }
                    for (n, (a, b)) in mass.iter().zip(&want).enumerate() {
                        assert_eq!(
                            a.to_bits(),
                            b.to_bits(),
                            "{nx}x{ny} x {kx}, y {ky}: cell {n}: {a:e} vs {b:e}"
                        );
                    }
                    // Mass is conserved up to what crosses halo faces.
                    if ax != 2 && ay != 2 {
                        let (s0, s1): (f64, f64) = (start.iter().sum(), mass.iter().sum());
                        assert!((s1 - s0).abs() <= 1e-12 * s0.abs().max(1.0));
                    }
                }
            }
        }
    }

    #[test]
    fn a_nan_stays_behind_closed_faces_and_spreads_through_open_ones() {
        // 3 x 1, closed sides, the face between cells 1 and 2 closed.
        let air = [1.0; 3];
        let cx = [0.0, 0.1, 0.0, 0.0];
        let cy = [0.0; 6];
        let l = Layer {
            nx: 3,
            ny: 1,
            air: &air,
            cx: &cx,
            cy: &cy,
            west: Beyond::Closed,
            east: Beyond::Closed,
            south: Beyond::Closed,
            north: Beyond::Closed,
        };
        let mut mass = [f64::NAN, 1.0, -0.0];
        substep(&mut mass, &l, 1.0, &mut Rows::new(3));
        assert!(mass[0].is_nan() && mass[1].is_nan());
        assert_eq!(mass[2].to_bits(), (-0.0_f64).to_bits());
    }
}
