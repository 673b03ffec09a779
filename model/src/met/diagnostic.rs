//! Diagnostic wind model in the CALMET family (Scire et al. 2000, CALMET
//! User's Guide, sec. 2.2): a first-guess 3-D wind from a synoptic (or
//! station) wind and the terrain, then a mass-consistent adjustment.
//!
//! First guess, at cell centres of the terrain-following grid:
//! 1. profile: the reference wind at 10 m follows the neutral log law up to
//!    the mixing height and is constant above it (or the whole 3-D first
//!    guess comes from coarse gridded winds);
//! 2. cold-air pools: at stable times, air in a closed depression below the
//!    dividing-streamline height (pass height - U/N, Sheppard 1956, Q. J. R.
//!    Meteorol. Soc. 82, 528) cannot be lifted out and keeps no synoptic wind
//!    (or, when the caller gives the pool depths, below those: a pool the
//!    day has not broken, see `regime`);
//! 3. slope flows: Prandtl's (1942) solution for a heated or cooled slope,
//!    u(n) = dT sqrt(g / (theta gamma)) exp(-n/l) sin(n/l),
//!    l = (4 K^2 / (N^2 sin^2 a))^(1/4), up-slope by day, down-slope at night
//!    (Whiteman 2000, Mountain Meteorology, sec. 9.2);
//! 4. terrain blocking: where the local Froude number Fr = V / (N dh) (dh:
//!    the highest terrain within the search radius above the level) is below
//!    1, the up-hill component is removed and the wind turned along the
//!    contours at its own speed (CALMET eq. 2-19 and after);
//! 5. kinematic terrain effect: w = (V . grad h) exp(-N z / |V|) (Liu &
//!    Yocke 1980, CALMET eq. 2-16), i.e. W = w - V . grad h through the
//!    terrain-following surfaces.
//!
//! Mass-consistent adjustment (Sherman 1978, J. Appl. Meteorol. 17, 312):
//! minimise sum over faces of alpha^2 (u - u0)^2 dV subject to zero mass
//! divergence in every cell, with the ground and the model top closed and
//! the lateral boundaries open (lambda = 0 there). The Euler-Lagrange
//! condition is a 7-point elliptic equation for the multiplier, solved by
//! conjugate gradients preconditioned with one multigrid V-cycle (vertical-
//! line relaxation, coarsening in x and y only; see `multigrid`), to the
//! same divergence tolerance whatever the preconditioner. Hour after hour
//! ([`DiagnosticWind::solve_next`]) the solve starts from the previous
//! hour's multiplier. The ratio of
//! horizontal to vertical weights alpha_h/alpha_v is the local Froude number
//! (after Ross et al. 1988, J. Appl. Meteorol. 27, 785): stable air adjusts
//! sideways, around an obstacle; neutral air adjusts vertically, over it.

pub use super::multigrid::Preconditioner;
use super::multigrid::{Operator, Precondition};
use super::terrain::Terrain;
use super::{x_face_mean, y_face_mean, GRAVITY};
use crate::error::{Error, Result};
use crate::grid::Grid;
use ndarray::Array3;
use rayon::prelude::*;

/// Critical Froude number below which blocking applies (CALMET CRITFN default).
pub const CRITICAL_FROUDE: f64 = 1.0;
/// Eddy diffusivity of the slope-flow layer in Prandtl's solution, m2/s.
pub const SLOPE_FLOW_K: f64 = 1.0;
/// Convergence target of the adjustment: the largest cell mass divergence
/// divided by the cell's air mass, 1/s.
pub const DIVERGENCE_TOLERANCE: f64 = 1e-10;
/// Iteration limit of the conjugate-gradient solve.
const MAX_ITERATIONS: usize = 20_000;

/// The large-scale forcing of one hour.
#[derive(Debug, Clone)]
pub struct Forcing {
    /// Grid-relative wind at 10 m, m/s, the same everywhere...
    pub u10: f64,
    pub v10: f64,
    /// ...or per column [j, i] (from station reports), overriding u10, v10.
    pub surface_wind: Option<(ndarray::Array2<f64>, ndarray::Array2<f64>)>,
    /// ...or a whole 3-D first guess at cell centres [k, j, i] (coarse
    /// gridded winds), replacing the profile.
    pub first_guess_winds: Option<(Array3<f64>, Array3<f64>)>,
    /// Depth above ground of a cold pool per column [j, i], m: air below it
    /// keeps no synoptic wind, by day too (a persisting pool). None: the
    /// dividing-streamline depth at stable times (step 2 of the module notes).
    pub cold_pool: Option<ndarray::Array2<f64>>,
    /// Brunt-Vaisala frequency of the lower atmosphere, 1/s.
    pub brunt_vaisala: f64,
    /// Surface potential-temperature anomaly driving slope flows, K
    /// (positive: heated slopes by day; negative: cooled slopes at night).
    pub slope_dtheta: f64,
    /// Mixing height, m, and reference potential temperature, K.
    pub mixing_height: f64,
    pub theta: f64,
    /// Roughness length for the log profile, m.
    pub z0: f64,
}

/// What one adjustment did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct AdjustReport {
    /// Conjugate-gradient iterations, and whether they started from the
    /// previous hour's multiplier.
    pub iterations: usize,
    pub warm_start: bool,
    /// Largest |mass divergence| / air mass of any cell, 1/s, before and after.
    pub max_divergence_before: f64,
    pub max_divergence_after: f64,
    /// Wall seconds of the adjustment (timing only, not an answer).
    pub seconds: f64,
}

/// Running totals of the hourly adjustments of one met source.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SolveTotals {
    pub hours: usize,
    pub iterations: usize,
    /// Hours that started from the previous hour's multiplier.
    pub warm_starts: usize,
    pub seconds: f64,
}

impl SolveTotals {
    fn add(&mut self, r: &AdjustReport) {
        self.hours += 1;
        self.iterations += r.iterations;
        self.warm_starts += r.warm_start as usize;
        self.seconds += r.seconds;
    }
}

/// A 3-D wind on the C grid: face winds and the terrain-following vertical
/// velocity W at layer tops ([k] = top of layer k; the top of the last layer is the lid).
#[derive(Debug, Clone)]
pub struct Wind {
    pub u_face: Array3<f64>,
    pub v_face: Array3<f64>,
    pub w_top: Array3<f64>,
}

pub struct DiagnosticWind {
    pub grid: Grid,
    pub terrain: Terrain,
    /// Preconditioner of the adjustment (multigrid unless changed).
    pub preconditioner: Preconditioner,
    /// Whether [`Self::solve_next`] starts from the previous hour's multiplier.
    pub warm_start: bool,
    /// The multiplier of the last [`Self::solve_next`].
    multiplier: Option<Vec<f64>>,
    /// Totals over the [`Self::solve_next`] calls.
    pub totals: SolveTotals,
}

impl DiagnosticWind {
    pub fn new(grid: &Grid, terrain: Terrain) -> Self {
        DiagnosticWind {
            grid: grid.clone(),
            terrain,
            preconditioner: Preconditioner::Multigrid,
            warm_start: true,
            multiplier: None,
            totals: SolveTotals::default(),
        }
    }

    /// The first-guess wind (steps 1-5 of the module notes).
    pub fn first_guess(&self, f: &Forcing) -> Wind {
        let g = &self.grid;
        let t = &self.terrain;
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        let n = f.brunt_vaisala.max(1e-6);
        let stable = f.slope_dtheta < 0.0;
        let mut uc = Array3::zeros((nz, ny, nx));
        let mut vc = Array3::zeros((nz, ny, nx));
        let mut wt = Array3::zeros((nz, ny, nx));
        let gamma = n * n * f.theta / GRAVITY;
        let mu = (GRAVITY / (f.theta * gamma)).sqrt();
        for j in 0..ny {
            for i in 0..nx {
                let (gx, gy) = (t.grad_x[[j, i]], t.grad_y[[j, i]]);
                let slope = gx.hypot(gy);
                let sin_a = (slope / (1.0 + slope * slope).sqrt()).max(1e-12);
                let l = (4.0 * SLOPE_FLOW_K * SLOPE_FLOW_K / (n * n * sin_a * sin_a)).powf(0.25);
                let (u10, v10) = match (&f.first_guess_winds, &f.surface_wind) {
                    (Some((u, v)), _) => (u[[0, j, i]], v[[0, j, i]]),
                    (None, Some((u, v))) => (u[[j, i]], v[[j, i]]),
                    (None, None) => (f.u10, f.v10),
                };
                let dividing = match &f.cold_pool {
                    Some(depth) => depth[[j, i]],
                    None if stable => t.pool_depth[[j, i]] - u10.hypot(v10) / n,
                    None => f64::NEG_INFINITY,
                };
                for k in 0..nz {
                    let z = g.z_mid[k];
                    let zp = z.min(f.mixing_height.max(10.0));
                    let profile = (zp / f.z0).ln() / (10.0 / f.z0).ln();
                    let (mut u, mut v) = match &f.first_guess_winds {
                        Some((uu, vv)) => (uu[[k, j, i]], vv[[k, j, i]]),
                        None => (u10 * profile, v10 * profile),
                    };
                    if z < dividing {
                        (u, v) = (0.0, 0.0);
                    }
                    if slope > 0.0 {
                        let s = f.slope_dtheta * mu * (-z / l).exp() * (z / l).sin();
                        u += s * gx / slope;
                        v += s * gy / slope;
                    }
                    let speed = u.hypot(v);
                    let uphill = u * gx + v * gy;
                    let above = t.highest_near[[j, i]] - (t.height[[j, i]] + z);
                    if uphill > 0.0 && above > 0.0 && slope > 0.0 {
                        let froude = speed / (n * above);
                        if froude < CRITICAL_FROUDE {
                            let (ux, uy) = (
                                u - uphill * gx / (slope * slope),
                                v - uphill * gy / (slope * slope),
                            );
                            let along = ux.hypot(uy);
                            if along > 0.0 {
                                (u, v) = (ux * speed / along, uy * speed / along);
                            } else {
                                (u, v) = (0.0, 0.0);
                            }
                        }
                    }
                    uc[[k, j, i]] = u;
                    vc[[k, j, i]] = v;
                    if k + 1 < nz {
                        let zt = g.z_top[k];
                        let dot = u * gx + v * gy;
                        let decay = if speed > 0.0 {
                            (-n * zt / speed).exp()
                        } else {
                            0.0
                        };
                        wt[[k, j, i]] = dot * (decay - 1.0);
                    }
                }
            }
        }
        let (u_face, v_face) = super::faces_from_centres(&uc, &vc);
        Wind {
            u_face,
            v_face,
            w_top: wt,
        }
    }

    /// Local Froude number of each cell for a forcing (infinite where no
    /// terrain rises above the level within the search radius).
    pub fn froude(&self, f: &Forcing, wind: &Wind) -> Array3<f64> {
        let g = &self.grid;
        let t = &self.terrain;
        let n = f.brunt_vaisala.max(1e-6);
        Array3::from_shape_fn((g.nz, g.ny, g.nx), |(k, j, i)| {
            let above = t.highest_near[[j, i]] - (t.height[[j, i]] + g.z_mid[k]);
            let u = 0.5 * (wind.u_face[[k, j, i]] + wind.u_face[[k, j, i + 1]]);
            let v = 0.5 * (wind.v_face[[k, j, i]] + wind.v_face[[k, j + 1, i]]);
            if above > 0.0 {
                u.hypot(v) / (n * above)
            } else {
                f64::INFINITY
            }
        })
    }

    /// First guess plus mass-consistent adjustment, from lambda = 0.
    pub fn solve(&self, f: &Forcing, density: &Array3<f64>) -> Result<(Wind, AdjustReport)> {
        let mut wind = self.first_guess(f);
        let froude = self.froude(f, &wind);
        let (report, _) = adjust_with(
            &self.grid,
            &mut wind,
            density,
            &froude,
            self.preconditioner,
            None,
        )?;
        Ok((wind, report))
    }

    /// [`Self::solve`] for the next met hour: the adjustment starts from the
    /// previous call's multiplier (the first from zero; every call when
    /// `warm_start` is off) and the totals count it. Answers differ from a
    /// cold solve only within [`DIVERGENCE_TOLERANCE`]; since the start
    /// depends on the hours solved before, hours must be solved in the same
    /// order for bit-identical runs (they are: the run asks for them in time
    /// order, whatever the thread count or decomposition).
    pub fn solve_next(
        &mut self,
        f: &Forcing,
        density: &Array3<f64>,
    ) -> Result<(Wind, AdjustReport)> {
        let mut wind = self.first_guess(f);
        let froude = self.froude(f, &wind);
        let start = self.multiplier.as_deref().filter(|_| self.warm_start);
        let (report, lambda) = adjust_with(
            &self.grid,
            &mut wind,
            density,
            &froude,
            self.preconditioner,
            start,
        )?;
        self.multiplier = Some(lambda);
        self.totals.add(&report);
        Ok((wind, report))
    }
}

/// Net outward mass flux of every cell divided by its air mass, 1/s, [k, j, i].
pub fn mass_divergence(g: &Grid, wind: &Wind, density: &Array3<f64>) -> Array3<f64> {
    let (nz, ny, nx) = (g.nz, g.ny, g.nx);
    let rho_x = |k: usize, j: usize, i: usize| x_face_mean(density, k, j, i);
    let rho_y = |k: usize, j: usize, i: usize| y_face_mean(density, k, j, i);
    Array3::from_shape_fn((nz, ny, nx), |(k, j, i)| {
        let fx =
            |ii: usize| rho_x(k, j, ii) * wind.u_face[[k, j, ii]] * g.x_face_len[[j, ii]] * g.dz[k];
        let fy =
            |jj: usize| rho_y(k, jj, i) * wind.v_face[[k, jj, i]] * g.y_face_len[[jj, i]] * g.dz[k];
        let fz = |kk: usize| {
            0.5 * (density[[kk, j, i]] + density[[(kk + 1).min(nz - 1), j, i]])
                * wind.w_top[[kk, j, i]]
                * g.area[[j, i]]
        };
        let mut out = fx(i + 1) - fx(i) + fy(j + 1) - fy(j);
        if k + 1 < nz {
            out += fz(k);
        }
        if k > 0 {
            out -= fz(k - 1);
        }
        out / (density[[k, j, i]] * g.volume(k, j, i))
    })
}

/// Sum in fixed chunks, so the result does not depend on the thread count.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const CHUNK: usize = 8192;
    let parts: Vec<f64> = a
        .par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum())
        .collect();
    parts.iter().sum()
}

/// Make `wind` mass-consistent with the least weighted change (module notes),
/// by multigrid-preconditioned conjugate gradients from lambda = 0.
/// `froude` sets the local ratio of horizontal to vertical weights.
pub fn adjust(
    g: &Grid,
    wind: &mut Wind,
    density: &Array3<f64>,
    froude: &Array3<f64>,
) -> Result<AdjustReport> {
    adjust_with(g, wind, density, froude, Preconditioner::Multigrid, None).map(|(r, _)| r)
}

/// [`adjust`] with a choice of preconditioner and a first guess of the
/// multiplier (column-major, [(j*nx+i)*nz + k], as returned); returns the
/// multiplier found. The first guess is used only where the wind needs
/// adjusting at all and where it leaves a smaller residual than lambda = 0.
pub fn adjust_with(
    g: &Grid,
    wind: &mut Wind,
    density: &Array3<f64>,
    froude: &Array3<f64>,
    preconditioner: Preconditioner,
    start: Option<&[f64]>,
) -> Result<(AdjustReport, Vec<f64>)> {
    let clock = std::time::Instant::now();
    let (nz, ny, nx) = (g.nz, g.ny, g.nx);
    let ncell = nz * ny * nx;
    let before = mass_divergence(g, wind, density);
    let max_before = before.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    // Vertical weight alpha_v^2 relative to alpha_h = 1: (1/Fr)^2, bounded.
    let alpha_v2 = |k: usize, j: usize, i: usize| {
        let fr = froude[[k, j, i]].clamp(0.1, 10.0);
        1.0 / (fr * fr)
    };
    let rho_x = |k: usize, j: usize, i: usize| x_face_mean(density, k, j, i);
    let rho_y = |k: usize, j: usize, i: usize| y_face_mean(density, k, j, i);
    // Boundary faces reach the lambda = 0 boundary in half a cell.
    let x_dist = |j: usize, i: usize| {
        if i == 0 || i == nx {
            0.5 * g.x_face_dist[[j, i]]
        } else {
            g.x_face_dist[[j, i]]
        }
    };
    let y_dist = |j: usize, i: usize| {
        if j == 0 || j == ny {
            0.5 * g.y_face_dist[[j, i]]
        } else {
            g.y_face_dist[[j, i]]
        }
    };
    let mut kx = vec![0.0; ny * (nx + 1) * nz];
    let mut ky = vec![0.0; (ny + 1) * nx * nz];
    let mut kv = vec![0.0; ny * nx * nz];
    for j in 0..ny {
        for i in 0..=nx {
            for k in 0..nz {
                let r = rho_x(k, j, i);
                kx[(j * (nx + 1) + i) * nz + k] =
                    r * r * g.x_face_len[[j, i]] * g.dz[k] / x_dist(j, i);
            }
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            for k in 0..nz {
                let r = rho_y(k, j, i);
                ky[(j * nx + i) * nz + k] = r * r * g.y_face_len[[j, i]] * g.dz[k] / y_dist(j, i);
            }
        }
    }
    for j in 0..ny {
        for i in 0..nx {
            for k in 0..nz.saturating_sub(1) {
                let r = 0.5 * (density[[k, j, i]] + density[[k + 1, j, i]]);
                let a2 = 0.5 * (alpha_v2(k, j, i) + alpha_v2(k + 1, j, i));
                kv[(j * nx + i) * nz + k] =
                    r * r * g.area[[j, i]] / (a2 * (g.z_mid[k + 1] - g.z_mid[k]));
            }
        }
    }
    let mut pre = Precondition::new(Operator::new(nz, ny, nx, kx, ky, kv), preconditioner);
    // Right-hand side: the first guess's net outward mass flux, and the
    // scale that turns a residual into a divergence (1/s).
    let mut b = vec![0.0; ncell];
    let mut scale = vec![0.0; ncell];
    for j in 0..ny {
        for i in 0..nx {
            for k in 0..nz {
                let c = (j * nx + i) * nz + k;
                scale[c] = density[[k, j, i]] * g.volume(k, j, i);
                b[c] = before[[k, j, i]] * scale[c];
            }
        }
    }
    let max_div = |r: &[f64]| {
        r.iter()
            .zip(&scale)
            .fold(0.0f64, |m, (x, s)| m.max((x / s).abs()))
    };
    let mut phi = vec![0.0; ncell];
    let mut r = b.clone();
    let mut z = vec![0.0; ncell];
    let mut q = vec![0.0; ncell];
    let mut warm_start = false;
    if let Some(first) = start.filter(|s| s.len() == ncell && max_div(&b) > DIVERGENCE_TOLERANCE) {
        pre.operator().apply(first, &mut q);
        let r0: Vec<f64> = b.iter().zip(&q).map(|(bb, qq)| bb - qq).collect();
        if dot(&r0, &r0) < dot(&b, &b) {
            phi.copy_from_slice(first);
            r = r0;
            warm_start = true;
        }
    }
    pre.apply(&r, &mut z);
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let mut iterations = 0;
    while max_div(&r) > DIVERGENCE_TOLERANCE {
        if iterations >= MAX_ITERATIONS {
            return Err(Error::Numerics {
                process: "diagnostic winds".into(),
                detail: format!(
                    "the mass-consistent adjustment did not reach a divergence of {DIVERGENCE_TOLERANCE:e} /s in {MAX_ITERATIONS} iterations (left {:e} /s)",
                    max_div(&r)
                ),
            });
        }
        pre.operator().apply(&p, &mut q);
        let alpha = rz / dot(&p, &q);
        phi.par_iter_mut()
            .zip(&p)
            .for_each(|(x, pp)| *x += alpha * pp);
        r.par_iter_mut()
            .zip(&q)
            .for_each(|(x, qq)| *x -= alpha * qq);
        pre.apply(&r, &mut z);
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        p.par_iter_mut()
            .zip(&z)
            .for_each(|(x, zz)| *x = zz + beta * *x);
        iterations += 1;
    }
    // Velocity corrections: u += (rho / (alpha^2 d)) (phi_R - phi_L), lambda = 0 outside.
    let at = |k: usize, j: isize, i: isize| -> f64 {
        if j < 0 || i < 0 || j >= ny as isize || i >= nx as isize {
            0.0
        } else {
            phi[(j as usize * nx + i as usize) * nz + k]
        }
    };
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..=nx {
                let d = at(k, j as isize, i as isize) - at(k, j as isize, i as isize - 1);
                wind.u_face[[k, j, i]] += rho_x(k, j, i) / x_dist(j, i) * d;
            }
        }
        for j in 0..=ny {
            for i in 0..nx {
                let d = at(k, j as isize, i as isize) - at(k, j as isize - 1, i as isize);
                wind.v_face[[k, j, i]] += rho_y(k, j, i) / y_dist(j, i) * d;
            }
        }
    }
    for j in 0..ny {
        for i in 0..nx {
            for k in 0..nz.saturating_sub(1) {
                let r = 0.5 * (density[[k, j, i]] + density[[k + 1, j, i]]);
                let a2 = 0.5 * (alpha_v2(k, j, i) + alpha_v2(k + 1, j, i));
                let d = at(k + 1, j as isize, i as isize) - at(k, j as isize, i as isize);
                wind.w_top[[k, j, i]] += r / (a2 * (g.z_mid[k + 1] - g.z_mid[k])) * d;
            }
            wind.w_top[[nz - 1, j, i]] = 0.0;
        }
    }
    let after = mass_divergence(g, wind, density);
    let report = AdjustReport {
        iterations,
        warm_start,
        max_divergence_before: max_before,
        max_divergence_after: after.iter().fold(0.0f64, |m, d| m.max(d.abs())),
        seconds: clock.elapsed().as_secs_f64(),
    };
    Ok((report, phi))
}

/// Earth-relative 10 m wind from a speed and the direction it blows from.
pub fn wind_from(speed: f64, from_deg: f64) -> (f64, f64) {
    let a = from_deg.to_radians();
    (-speed * a.sin(), -speed * a.cos())
}
