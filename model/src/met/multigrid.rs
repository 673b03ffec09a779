//! The elliptic operator of the mass-consistent adjustment and its
//! preconditioners: exact vertical-line solves, or a geometric multigrid
//! V-cycle with vertical-line relaxation and coarsening in x and y only.
//!
//! The operator is a 7-point conductance stencil on columns of the
//! terrain-following grid: every cell is active (the terrain is in the
//! coordinates, not a mask); lateral boundary faces lead to lambda = 0 half
//! a cell outside (Dirichlet, open boundaries), the ground and the lid carry
//! no flux (Neumann). Since dz << dx the vertical coupling dominates almost
//! everywhere, but not in the thick stable upper layers, so the smoother
//! solves whole vertical lines (tridiagonal) and the coarse grids merge
//! columns 2 x 2 while keeping every layer: z-line relaxation with x-y
//! semicoarsening, the robust choice for a problem strongly coupled in one
//! direction (Trottenberg, Oosterlee & Schuller 2001, Multigrid, sec. 5.1
//! and 5.2). The coarse operator is the same conductance stencil
//! rediscretised on the merged columns (cell-centred multigrid, Wesseling
//! 1992, An Introduction to Multigrid Methods, sec. 5.6): vertical
//! conductances add (the column areas add), a horizontal face's conductance
//! is the sum over the fine faces it covers times fine over coarse centre
//! distance; the lateral Dirichlet faces follow the same rule, so the
//! boundary conditions carry over to every level. Residuals are summed over
//! the merged columns and corrections copied back (piecewise constant,
//! restriction = prolongation transposed).
//!
//! As a preconditioner for conjugate gradients (MGCG, Tatebe 1993, Proc. 6th
//! Copper Mountain Conf. on Multigrid Methods, NASA CP-3224, 621) the
//! V-cycle must be symmetric positive definite: it starts from zero, smooths
//! with red-black line Gauss-Seidel (red then black columns) before the
//! coarse correction and with its adjoint (black then red) after, and solves
//! the single coarsest column exactly. Block Gauss-Seidel M has
//! M + M^T - A = the block (line) diagonal, positive definite, and every
//! coarse operator is symmetric positive definite, so the cycle is too
//! (Tatebe 1993, sec. 2). Every column of one colour is updated from the
//! other colour only, and sums run in a fixed order, so results do not
//! depend on the thread count.

use rayon::prelude::*;

/// Face conductances of one level, column-major ([column][k]).
pub(super) struct Operator {
    pub nz: usize,
    pub ny: usize,
    pub nx: usize,
    /// x-faces [(j*(nx+1)+i)*nz + k], y-faces [(j*nx+i)*nz + k] for j in 0..=ny,
    /// vertical faces [(j*nx+i)*nz + k] = top of layer k (last = lid, 0).
    pub kx: Vec<f64>,
    pub ky: Vec<f64>,
    pub kv: Vec<f64>,
    pub diag: Vec<f64>,
}

/// Columns of a level at or below which loops run on one thread (the
/// answer is the same either way; this only saves scheduling overhead).
const SERIAL_COLUMNS: usize = 256;

/// Run `f(column, out_column)` over every column of `out`.
fn each_column(out: &mut [f64], nz: usize, f: impl Fn(usize, &mut [f64]) + Sync + Send) {
    if out.len() / nz.max(1) <= SERIAL_COLUMNS {
        out.chunks_mut(nz).enumerate().for_each(|(c, o)| f(c, o));
    } else {
        out.par_chunks_mut(nz)
            .enumerate()
            .for_each(|(c, o)| f(c, o));
    }
}

impl Operator {
    /// An operator from its face conductances; the diagonal follows.
    pub fn new(nz: usize, ny: usize, nx: usize, kx: Vec<f64>, ky: Vec<f64>, kv: Vec<f64>) -> Self {
        let mut diag = vec![0.0; nz * ny * nx];
        for j in 0..ny {
            for i in 0..nx {
                let base = (j * nx + i) * nz;
                for k in 0..nz {
                    let mut d = kx[(j * (nx + 1) + i) * nz + k]
                        + kx[(j * (nx + 1) + i + 1) * nz + k]
                        + ky[(j * nx + i) * nz + k]
                        + ky[((j + 1) * nx + i) * nz + k]
                        + kv[base + k];
                    if k > 0 {
                        d += kv[base + k - 1];
                    }
                    diag[base + k] = d;
                }
            }
        }
        Operator {
            nz,
            ny,
            nx,
            kx,
            ky,
            kv,
            diag,
        }
    }

    pub fn cells(&self) -> usize {
        self.nz * self.ny * self.nx
    }

    /// Sum over the horizontal neighbours of conductance x value, layer k
    /// of column c.
    #[inline]
    fn neighbours(&self, p: &[f64], c: usize, k: usize) -> f64 {
        let (nz, nx, ny) = (self.nz, self.nx, self.ny);
        let (j, i) = (c / nx, c % nx);
        let base = c * nz;
        let mut acc = 0.0;
        if i > 0 {
            acc += self.kx[(j * (nx + 1) + i) * nz + k] * p[base - nz + k];
        }
        if i + 1 < nx {
            acc += self.kx[(j * (nx + 1) + i + 1) * nz + k] * p[base + nz + k];
        }
        if j > 0 {
            acc += self.ky[(j * nx + i) * nz + k] * p[base - nx * nz + k];
        }
        if j + 1 < ny {
            acc += self.ky[((j + 1) * nx + i) * nz + k] * p[base + nx * nz + k];
        }
        acc
    }

    /// out = L p for one column.
    fn apply_column(&self, p: &[f64], c: usize, out: &mut [f64]) {
        let nz = self.nz;
        let base = c * nz;
        for k in 0..nz {
            let mut acc = self.diag[base + k] * p[base + k] - self.neighbours(p, c, k);
            if k > 0 {
                acc -= self.kv[base + k - 1] * p[base + k - 1];
            }
            if k + 1 < nz {
                acc -= self.kv[base + k] * p[base + k + 1];
            }
            out[k] = acc;
        }
    }

    /// out = L p.
    pub fn apply(&self, p: &[f64], out: &mut [f64]) {
        each_column(out, self.nz, |c, o| self.apply_column(p, c, o));
    }

    /// out = b - L x.
    fn residual(&self, b: &[f64], x: &[f64], out: &mut [f64]) {
        let nz = self.nz;
        each_column(out, nz, |c, o| {
            self.apply_column(x, c, o);
            for (k, v) in o.iter_mut().enumerate() {
                *v = b[c * nz + k] - *v;
            }
        });
    }

    /// The operator on columns merged 2 x 2 (1 where a dimension is 1 or
    /// at an odd end), and each fine column's coarse column.
    fn coarsen(&self) -> (Operator, Vec<usize>) {
        let (nz, ny, nx) = (self.nz, self.ny, self.nx);
        let half = |n: usize| n.div_ceil(2);
        let (cx, cy) = (half(nx), half(ny));
        // Width in fine cells of coarse cell I along a dimension of n cells.
        let width = |n: usize, i: usize| if 2 * i + 1 < n { 2.0 } else { 1.0 };
        // Fine over coarse centre distance across coarse face I (0..=nc):
        // a boundary face's distance is half its cell's width.
        let ratio = |n: usize, nc: usize, face: usize| {
            if face == 0 {
                1.0 / width(n, 0)
            } else if face == nc {
                1.0 / width(n, nc - 1)
            } else {
                2.0 / (width(n, face - 1) + width(n, face))
            }
        };
        let mut kx = vec![0.0; cy * (cx + 1) * nz];
        for cj in 0..cy {
            for ci in 0..=cx {
                let fi = (2 * ci).min(nx);
                let r = ratio(nx, cx, ci);
                for j in 2 * cj..(2 * cj + 2).min(ny) {
                    for k in 0..nz {
                        kx[(cj * (cx + 1) + ci) * nz + k] +=
                            r * self.kx[(j * (nx + 1) + fi) * nz + k];
                    }
                }
            }
        }
        let mut ky = vec![0.0; (cy + 1) * cx * nz];
        for cj in 0..=cy {
            let fj = (2 * cj).min(ny);
            let r = ratio(ny, cy, cj);
            for ci in 0..cx {
                for i in 2 * ci..(2 * ci + 2).min(nx) {
                    for k in 0..nz {
                        ky[(cj * cx + ci) * nz + k] += r * self.ky[(fj * nx + i) * nz + k];
                    }
                }
            }
        }
        let mut kv = vec![0.0; cy * cx * nz];
        let mut parent = vec![0; ny * nx];
        for j in 0..ny {
            for i in 0..nx {
                let c = (j / 2) * cx + i / 2;
                parent[j * nx + i] = c;
                for k in 0..nz {
                    kv[c * nz + k] += self.kv[(j * nx + i) * nz + k];
                }
            }
        }
        (Operator::new(nz, cy, cx, kx, ky, kv), parent)
    }
}

/// Thomas-algorithm factors of every column's vertical (tridiagonal) block:
/// c' and 1 / pivot per cell.
struct LineFactors {
    cprime: Vec<f64>,
    inv_pivot: Vec<f64>,
}

impl LineFactors {
    fn new(op: &Operator) -> Self {
        let nz = op.nz;
        let mut cprime = vec![0.0; op.cells()];
        let mut inv_pivot = vec![0.0; op.cells()];
        for base in (0..op.cells()).step_by(nz.max(1)) {
            let mut prev = 0.0;
            for k in 0..nz {
                let a = if k > 0 { -op.kv[base + k - 1] } else { 0.0 };
                let c = if k + 1 < nz { -op.kv[base + k] } else { 0.0 };
                let inv = 1.0 / (op.diag[base + k] - a * prev);
                inv_pivot[base + k] = inv;
                cprime[base + k] = c * inv;
                prev = cprime[base + k];
            }
        }
        LineFactors { cprime, inv_pivot }
    }

    /// Solve the vertical block of column c for `rhs`, in place.
    #[inline]
    fn solve(&self, kv: &[f64], c: usize, x: &mut [f64]) {
        let nz = x.len();
        let base = c * nz;
        let mut prev = 0.0;
        for k in 0..nz {
            // a_k = -kv[k-1]: x_k = (r_k - a_k x_{k-1}) / pivot.
            let below = if k > 0 { kv[base + k - 1] * prev } else { 0.0 };
            x[k] = (x[k] + below) * self.inv_pivot[base + k];
            prev = x[k];
        }
        for k in (0..nz.saturating_sub(1)).rev() {
            x[k] -= self.cprime[base + k] * x[k + 1];
        }
    }
}

/// How the conjugate-gradient solve is preconditioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Preconditioner {
    /// Exact vertical-line solves (block Jacobi over columns).
    VerticalLines,
    /// One symmetric multigrid V-cycle (module notes).
    Multigrid,
}

struct Level {
    op: Operator,
    lines: LineFactors,
    /// Coarse column of each column of this level (empty on the coarsest).
    parent: Vec<usize>,
    /// Right-hand side, iterate, and scratch (residual / new colour values).
    b: Vec<f64>,
    x: Vec<f64>,
    scratch: Vec<f64>,
}

/// A preconditioner z = M^-1 r for the adjustment operator.
pub(super) struct Precondition {
    kind: Preconditioner,
    levels: Vec<Level>,
}

impl Precondition {
    pub fn new(op: Operator, kind: Preconditioner) -> Self {
        let mut levels = Vec::new();
        let mut op = op;
        loop {
            let lines = LineFactors::new(&op);
            let n = op.cells();
            let last = kind == Preconditioner::VerticalLines || op.nx * op.ny == 1;
            let (next, parent) = if last {
                (None, Vec::new())
            } else {
                let (c, p) = op.coarsen();
                (Some(c), p)
            };
            levels.push(Level {
                op,
                lines,
                parent,
                b: vec![0.0; n],
                x: vec![0.0; n],
                scratch: vec![0.0; n],
            });
            match next {
                Some(c) => op = c,
                None => break,
            }
        }
        Precondition { kind, levels }
    }

    /// The finest level's operator.
    pub fn operator(&self) -> &Operator {
        &self.levels[0].op
    }

    /// z = M^-1 r.
    pub fn apply(&mut self, r: &[f64], z: &mut [f64]) {
        match self.kind {
            Preconditioner::VerticalLines => {
                let l = &self.levels[0];
                let nz = l.op.nz;
                each_column(z, nz, |c, zc| {
                    zc.copy_from_slice(&r[c * nz..(c + 1) * nz]);
                    l.lines.solve(&l.op.kv, c, zc);
                });
            }
            Preconditioner::Multigrid => {
                self.levels[0].b.copy_from_slice(r);
                v_cycle(&mut self.levels);
                z.copy_from_slice(&self.levels[0].x);
            }
        }
    }
}

/// One red-black line Gauss-Seidel half sweep: every column of `colour`
/// ((i + j) % 2) solved with its neighbours' current values.
fn relax(l: &mut Level, colour: usize) {
    let (op, lines, b, x) = (&l.op, &l.lines, &l.b, &l.x);
    let nz = op.nz;
    let nx = op.nx;
    each_column(&mut l.scratch, nz, |c, s| {
        if (c / nx + c % nx) % 2 != colour {
            return;
        }
        for (k, v) in s.iter_mut().enumerate() {
            *v = b[c * nz + k] + op.neighbours(x, c, k);
        }
        lines.solve(&op.kv, c, s);
    });
    let scratch = &l.scratch;
    each_column(&mut l.x, nz, |c, xc| {
        if (c / nx + c % nx) % 2 == colour {
            xc.copy_from_slice(&scratch[c * nz..(c + 1) * nz]);
        }
    });
}

/// x = V-cycle approximation of L^-1 b on levels[0], from x = 0.
fn v_cycle(levels: &mut [Level]) {
    let (this, coarser) = levels.split_first_mut().expect("at least one level");
    this.x.iter_mut().for_each(|v| *v = 0.0);
    let Some(next) = coarser.first_mut() else {
        // The coarsest level is one column: its line solve is exact.
        let nz = this.op.nz;
        let (lines, kv, b) = (&this.lines, &this.op.kv, &this.b);
        each_column(&mut this.x, nz, |c, xc| {
            xc.copy_from_slice(&b[c * nz..(c + 1) * nz]);
            lines.solve(kv, c, xc);
        });
        return;
    };
    relax(this, 0);
    relax(this, 1);
    this.op.residual(&this.b, &this.x, &mut this.scratch);
    // Restrict: sum the residuals of the merged columns, in a fixed order.
    let (nz, ny, nx, cx) = (this.op.nz, this.op.ny, this.op.nx, next.op.nx);
    let r = &this.scratch;
    each_column(&mut next.b, nz, |c, bc| {
        let (cj, ci) = (c / cx, c % cx);
        bc.iter_mut().for_each(|v| *v = 0.0);
        for j in 2 * cj..(2 * cj + 2).min(ny) {
            for i in 2 * ci..(2 * ci + 2).min(nx) {
                let f = (j * nx + i) * nz;
                for (k, v) in bc.iter_mut().enumerate() {
                    *v += r[f + k];
                }
            }
        }
    });
    v_cycle(coarser);
    let (parent, xc) = (&this.parent, &coarser[0].x);
    each_column(&mut this.x, nz, |c, x| {
        let p = parent[c] * nz;
        for (k, v) in x.iter_mut().enumerate() {
            *v += xc[p + k];
        }
    });
    relax(this, 1);
    relax(this, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operator with uneven conductances on an odd-sized grid (so the
    /// coarse levels have single-column ends).
    fn operator(nz: usize, ny: usize, nx: usize) -> Operator {
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            0.1 + (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let kx = (0..ny * (nx + 1) * nz).map(|_| next()).collect();
        let ky = (0..(ny + 1) * nx * nz).map(|_| next()).collect();
        let kv = (0..ny * nx * nz)
            .map(|c| {
                if c % nz == nz - 1 {
                    0.0
                } else {
                    300.0 * next()
                }
            })
            .collect();
        Operator::new(nz, ny, nx, kx, ky, kv)
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_v_cycle_is_symmetric_and_positive_definite() {
        let op = operator(4, 7, 9);
        let n = op.cells();
        let mut pre = Precondition::new(op, Preconditioner::Multigrid);
        assert_eq!(
            pre.levels.len(),
            5,
            "9 x 7 -> 5 x 4 -> 3 x 2 -> 2 x 1 -> 1 x 1"
        );
        let a: Vec<f64> = (0..n).map(|c| ((c * 7919) % 23) as f64 - 11.0).collect();
        let b: Vec<f64> = (0..n).map(|c| ((c * 104729) % 17) as f64 - 8.0).collect();
        let (mut ma, mut mb) = (vec![0.0; n], vec![0.0; n]);
        pre.apply(&a, &mut ma);
        pre.apply(&b, &mut mb);
        let (ab, ba) = (dot(&ma, &b), dot(&a, &mb));
        assert!(
            (ab - ba).abs() <= 1e-12 * ab.abs().max(ba.abs()),
            "{ab} vs {ba}"
        );
        assert!(dot(&ma, &a) > 0.0 && dot(&mb, &b) > 0.0);
    }

    /// Preconditioned CG iterations to cut the residual norm by 1e8.
    fn pcg_iterations(op: Operator, kind: Preconditioner) -> usize {
        let n = op.cells();
        let b: Vec<f64> = (0..n).map(|c| ((c * 31) % 13) as f64 - 6.0).collect();
        let mut pre = Precondition::new(op, kind);
        let (mut x, mut r, mut z, mut q) = (vec![0.0; n], b.clone(), vec![0.0; n], vec![0.0; n]);
        pre.apply(&r, &mut z);
        let mut p = z.clone();
        let mut rz = dot(&r, &z);
        let target = 1e-8 * dot(&b, &b).sqrt();
        for it in 0..10_000 {
            if dot(&r, &r).sqrt() <= target {
                return it;
            }
            pre.operator().apply(&p, &mut q);
            let alpha = rz / dot(&p, &q);
            x.iter_mut().zip(&p).for_each(|(a, d)| *a += alpha * d);
            r.iter_mut().zip(&q).for_each(|(a, d)| *a -= alpha * d);
            pre.apply(&r, &mut z);
            let rz_new = dot(&r, &z);
            p.iter_mut()
                .zip(&z)
                .for_each(|(a, d)| *a = d + rz_new / rz * *a);
            rz = rz_new;
        }
        usize::MAX
    }

    #[test]
    fn multigrid_cuts_the_cg_iterations_on_uneven_coefficients() {
        // CG needs O(n) iterations for the horizontal coupling of an n x n
        // grid under line preconditioning, O(1) under a working multigrid.
        let lines = pcg_iterations(operator(6, 63, 64), Preconditioner::VerticalLines);
        let mg = pcg_iterations(operator(6, 63, 64), Preconditioner::Multigrid);
        println!(
            "64 x 63 x 6, residual / 1e8: vertical lines {lines}, multigrid {mg} CG iterations"
        );
        assert!(mg <= 20 && 4 * mg <= lines, "lines {lines}, multigrid {mg}");
    }
}
