//! Gaussian puffs: the calm-hour mode of `airshed plume` and the
//! near-source half of plume-in-grid.
//!
//! A puff is a packet of mass (one value per tracer slot, so attribution
//! tags ride along) whose concentration is the classic puff formula
//! (Scire et al. 2000, *A User's Guide for the CALPUFF Dispersion Model*,
//! Earth Tech, sec. 2.1 "Solution of the puff equations"):
//!
//! ```text
//! C(x, y, z) = M / (2 pi sy^2) exp(-r^2 / (2 sy^2)) g(z)
//! g(z) = sum over images of exp(-(z - H_n)^2 / (2 sz^2)) / (sqrt(2 pi) sz)
//! ```
//!
//! with `r` the horizontal distance from the centre and `g` the vertical
//! density reflected at the ground and, while the centre is below it, at
//! the mixing lid `h` (images at `+-H + 2 n h`, CALPUFF sec. 2.1); once
//! `sz > 2 h` the column is taken as well mixed, `g = 1/h` (the image sum
//! differs from it by less than `exp(-2 pi^2) = 3e-9`; CALPUFF switches at
//! `sz > 1.6 h`).
//!
//! Growth (horizontal and vertical alike) is Taylor's (1921) statistical
//! theory (Taylor 1921, Proc. London Math. Soc. 20, 196-212) with an
//! exponential Lagrangian autocorrelation `exp(-t / T_L)`, the form behind
//! Hanna's (1982) time scales:
//!
//! ```text
//! sigma^2(t) = 2 sigma_v^2 T_L^2 (t / T_L - 1 + exp(-t / T_L))
//! ```
//!
//! `sigma_v t` at short travel times, `sqrt(2 sigma_v^2 T_L t)` at long ones.
//! It is a function of travel *time*, so a puff in a calm stays and still
//! spreads from the turbulence alone. When the turbulence changes from one
//! step to the next, the puff continues from its *virtual* age, the time
//! the new turbulence would need to grow it to its present size (CALPUFF's
//! virtual source, Scire et al. 2000, sec. 2.2). `sigma_v` and `sigma_w`
//! are floored at [`Floors`] (AERMOD's 0.2 and 0.02 m/s).
//!
//! Dry deposition depletes the puff (source depletion, CALPUFF sec. 2.7.1):
//! the deposition flux is `vd C(x, y, 0)`, which integrates over the ground
//! to `dM/dt = -vd g(0) M`. Over a step it is applied as the exact
//! exponential `M exp(-vd g0 dt)` with `g0` the mean of `g(0)` at the
//! start and end of the step, and what it removes is booked as deposited.
//!
//! Every kilogram is booked per slot: emitted = in puffs + deposited +
//! carried out (a puff whose centre leaves the domain box) + handed off
//! (taken by the caller, plume-in-grid), to round-off.
//!
//! Sampling: [`PuffSet::concentration`] is the instantaneous sum over puffs;
//! [`PuffSet::step_mean_concentration`] is the mean over the last step of
//! each puff sliding along its path with its end-of-step sigmas (the
//! integrated puff sampling function of CALPUFF, sec. 2.1.1, in closed
//! form with erf), so a puff train sampled once per step is smooth even
//! when the puffs are further apart than their size. An hour average is
//! the mean of `step_mean_concentration` over the hour's (equal) sub-steps.
//! The sub-step is the caller's `dt`; puffs are released once per sub-step,
//! so it sets the train's spacing `u dt` as well.

use super::Floors;

/// One puff: centre (m, local frame; `z` above ground), size, age and mass.
#[derive(Debug, Clone, PartialEq)]
pub struct Puff {
    pub x: f64,
    pub y: f64,
    pub z: f64,
    pub sigma_y: f64,
    pub sigma_z: f64,
    /// Seconds since release.
    pub age: f64,
    /// kg per tracer slot.
    pub mass: Vec<f64>,
    /// Centre at the start of the last step (the sampled path).
    pub x_prev: f64,
    pub y_prev: f64,
    /// Mixing height seen in the last step, m (infinite: no lid).
    pub lid: f64,
}

/// What a puff sees where it is, over one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PuffMet {
    /// Wind, m/s, along x and y.
    pub u: f64,
    pub v: f64,
    /// Lateral and vertical turbulence, m/s (floored by [`Floors`]).
    pub sigma_v: f64,
    pub sigma_w: f64,
    /// Lagrangian time scales of the lateral and vertical motion, s.
    pub tl_y: f64,
    pub tl_z: f64,
    /// Mixing height, m above ground (`f64::INFINITY`: no lid).
    pub mixing_height: f64,
}

/// An axis-aligned box; a puff whose centre leaves it is carried out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DomainBox {
    pub x_min: f64,
    pub x_max: f64,
    pub y_min: f64,
    pub y_max: f64,
}

impl DomainBox {
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x_min && x <= self.x_max && y >= self.y_min && y <= self.y_max
    }
}

/// Puffs with their per-slot mass books.
#[derive(Debug, Clone)]
pub struct PuffSet {
    pub puffs: Vec<Puff>,
    pub floors: Floors,
    /// Puffs whose centre leaves it are carried out (None: never).
    pub domain: Option<DomainBox>,
    /// kg per slot.
    pub emitted: Vec<f64>,
    pub deposited: Vec<f64>,
    pub carried_out: Vec<f64>,
    pub handed_off: Vec<f64>,
}

impl PuffSet {
    pub fn new(slots: usize, floors: Floors, domain: Option<DomainBox>) -> PuffSet {
        PuffSet {
            puffs: vec![],
            floors,
            domain,
            emitted: vec![0.0; slots],
            deposited: vec![0.0; slots],
            carried_out: vec![0.0; slots],
            handed_off: vec![0.0; slots],
        }
    }

    pub fn slots(&self) -> usize {
        self.emitted.len()
    }

    /// Release a puff of `mass` (kg per slot) at (x, y, z) with initial
    /// sigmas (m); the mass is booked as emitted.
    pub fn release(&mut self, x: f64, y: f64, z: f64, sigma_y: f64, sigma_z: f64, mass: Vec<f64>) {
        assert_eq!(mass.len(), self.slots(), "one mass per tracer slot");
        for (e, m) in self.emitted.iter_mut().zip(&mass) {
            *e += m;
        }
        self.puffs.push(Puff {
            x,
            y,
            z: z.max(0.0),
            sigma_y: sigma_y.max(0.0),
            sigma_z: sigma_z.max(0.0),
            age: 0.0,
            mass,
            x_prev: x,
            y_prev: y,
            lid: f64::INFINITY,
        });
    }

    /// Advance every puff by `dt` s: move with the wind at its centre
    /// (midpoint rule: the wind at the start, then at the half-way point),
    /// grow by the turbulence there, deplete by dry deposition at
    /// `deposition[slot]` m/s, and carry out the puffs whose centre left the
    /// domain box.
    pub fn step(&mut self, dt: f64, met: impl Fn(f64, f64, f64) -> PuffMet, deposition: &[f64]) {
        assert_eq!(
            deposition.len(),
            self.slots(),
            "one deposition velocity per slot"
        );
        let floors = self.floors;
        for p in &mut self.puffs {
            let m0 = met(p.x, p.y, p.z);
            let (xh, yh) = (p.x + 0.5 * dt * m0.u, p.y + 0.5 * dt * m0.v);
            let m = met(xh, yh, p.z);
            let sv = m.sigma_v.max(floors.min_sigma_v_m_s);
            let sw = m.sigma_w.max(floors.min_sigma_w_m_s);
            let g0_start = vertical_density(0.0, p.z, p.sigma_z, m.mixing_height);
            p.sigma_y = grow(p.sigma_y, sv, m.tl_y, dt);
            p.sigma_z = grow(p.sigma_z, sw, m.tl_z, dt);
            let g0_end = vertical_density(0.0, p.z, p.sigma_z, m.mixing_height);
            let rate = 0.5 * (g0_start + g0_end);
            for ((mass, &vd), dep) in p.mass.iter_mut().zip(deposition).zip(&mut self.deposited) {
                if vd > 0.0 && *mass != 0.0 {
                    let left = *mass * (-vd * rate * dt).exp();
                    *dep += *mass - left;
                    *mass = left;
                }
            }
            p.x_prev = p.x;
            p.y_prev = p.y;
            p.x += dt * m.u;
            p.y += dt * m.v;
            p.lid = m.mixing_height;
            p.age += dt;
        }
        if let Some(b) = self.domain {
            let out = &mut self.carried_out;
            self.puffs.retain(|p| {
                let inside = b.contains(p.x, p.y);
                if !inside {
                    for (o, m) in out.iter_mut().zip(&p.mass) {
                        *o += m;
                    }
                }
                inside
            });
        }
    }

    /// Remove the puffs `take` selects and book their mass as handed off;
    /// the caller puts it somewhere (plume-in-grid: the grid).
    pub fn take_where(&mut self, mut take: impl FnMut(&Puff) -> bool) -> Vec<Puff> {
        let mut taken = vec![];
        let mut kept = Vec::with_capacity(self.puffs.len());
        for p in self.puffs.drain(..) {
            if take(&p) {
                for (h, m) in self.handed_off.iter_mut().zip(&p.mass) {
                    *h += m;
                }
                taken.push(p);
            } else {
                kept.push(p);
            }
        }
        self.puffs = kept;
        taken
    }

    /// Mass in the puffs now, kg per slot (summed in puff order).
    pub fn in_puffs(&self) -> Vec<f64> {
        let mut sum = vec![0.0; self.slots()];
        for p in &self.puffs {
            for (s, m) in sum.iter_mut().zip(&p.mass) {
                *s += m;
            }
        }
        sum
    }

    /// Per slot: emitted - (in puffs + deposited + carried out + handed off),
    /// and the emitted mass it is to be judged against.
    pub fn imbalance(&self) -> Vec<(f64, f64)> {
        let held = self.in_puffs();
        (0..self.slots())
            .map(|s| {
                let accounted =
                    held[s] + self.deposited[s] + self.carried_out[s] + self.handed_off[s];
                (self.emitted[s] - accounted, self.emitted[s])
            })
            .collect()
    }

    /// Instantaneous concentration at (x, y, z), kg/m3 per slot.
    pub fn concentration(&self, x: f64, y: f64, z: f64) -> Vec<f64> {
        let mut c = vec![0.0; self.slots()];
        for p in &self.puffs {
            let w = horizontal_density(x - p.x, y - p.y, p.sigma_y)
                * vertical_density(z, p.z, p.sigma_z, p.lid);
            if w > 0.0 {
                for (c, m) in c.iter_mut().zip(&p.mass) {
                    *c += m * w;
                }
            }
        }
        c
    }

    /// Mean concentration at (x, y, z) over the last step, kg/m3 per slot:
    /// each puff slides from its previous centre to its present one with
    /// its present sigmas (CALPUFF's integrated sampling function).
    pub fn step_mean_concentration(&self, x: f64, y: f64, z: f64) -> Vec<f64> {
        let mut c = vec![0.0; self.slots()];
        for p in &self.puffs {
            let w = path_mean_horizontal(x, y, p) * vertical_density(z, p.z, p.sigma_z, p.lid);
            if w > 0.0 {
                for (c, m) in c.iter_mut().zip(&p.mass) {
                    *c += m * w;
                }
            }
        }
        c
    }
}

/// `t / T - 1 + exp(-t / T)` for x = t / T, without cancellation near 0.
fn taylor_shape(x: f64) -> f64 {
    if x < 1e-3 {
        x * x * (0.5 - x * (1.0 / 6.0 - x / 24.0))
    } else {
        x + (-x).exp_m1()
    }
}

/// Taylor's sigma^2 after travel time `t` in turbulence `sv` with time scale `tl`.
pub fn taylor_variance(sv: f64, tl: f64, t: f64) -> f64 {
    2.0 * sv * sv * tl * tl * taylor_shape(t / tl)
}

/// The travel time after which Taylor's growth reaches `variance` (the
/// virtual age): Newton's method from above on the convex, increasing
/// variance, which converges monotonically.
fn virtual_age(variance: f64, sv: f64, tl: f64) -> f64 {
    if variance <= 0.0 {
        return 0.0;
    }
    let a = 2.0 * sv * sv * tl;
    // sigma^2 >= 2 sv^2 T (t - T): this t is at or beyond the root.
    let mut t = variance / a + tl;
    for _ in 0..200 {
        let f = taylor_variance(sv, tl, t) - variance;
        let df = a * (-(-t / tl).exp_m1());
        if df <= 0.0 {
            break;
        }
        let next = t - f / df;
        if next.is_nan() || next >= t || next <= 0.0 {
            // No further decrease: converged to round-off.
            return next.clamp(0.0, t);
        }
        if (t - next) <= 1e-15 * t {
            return next;
        }
        t = next;
    }
    t
}

/// sigma after a step of `dt` s from `sigma`, by Taylor's growth from the
/// virtual age under the present turbulence.
fn grow(sigma: f64, sv: f64, tl: f64, dt: f64) -> f64 {
    let tl = tl.max(1e-3);
    let t = virtual_age(sigma * sigma, sv, tl);
    taylor_variance(sv, tl, t + dt).max(sigma * sigma).sqrt()
}

/// Horizontal density of a round Gaussian, 1/m2.
pub fn horizontal_density(dx: f64, dy: f64, sigma_y: f64) -> f64 {
    if sigma_y <= 0.0 {
        return 0.0;
    }
    let s2 = sigma_y * sigma_y;
    (-(dx * dx + dy * dy) / (2.0 * s2)).exp() / (2.0 * std::f64::consts::PI * s2)
}

/// Mean over the last step of the horizontal density at (x, y) as the puff
/// slides along its path: the cross-path factor times the along-path
/// integral `(1/L) int exp(-(a0 + s)^2 / (2 sy^2)) ds` in erf form.
fn path_mean_horizontal(x: f64, y: f64, p: &Puff) -> f64 {
    let sy = p.sigma_y;
    if sy <= 0.0 {
        return 0.0;
    }
    let (dx, dy) = (p.x - p.x_prev, p.y - p.y_prev);
    let len = dx.hypot(dy);
    if len < 1e-6 * sy {
        return horizontal_density(x - p.x, y - p.y, sy);
    }
    let (ex, ey) = (dx / len, dy / len);
    // Receptor relative to the path start: along and across the path.
    let (rx, ry) = (x - p.x_prev, y - p.y_prev);
    let along = rx * ex + ry * ey;
    let across = -rx * ey + ry * ex;
    let s2 = sy * std::f64::consts::SQRT_2;
    // Distance along the path from the puff to the receptor: along - s.
    let mean_along = 0.5 * s2 * std::f64::consts::PI.sqrt() / len
        * (libm::erf(along / s2) - libm::erf((along - len) / s2));
    mean_along * (-(across * across) / (2.0 * sy * sy)).exp()
        / (2.0 * std::f64::consts::PI * sy * sy)
}

/// Whether the lid reflects a puff centred at `h`: with the centre at or
/// above the lid, or no lid, only the ground reflects.
fn lid_applies(h: f64, lid: f64) -> bool {
    lid.is_finite() && lid > 0.0 && h < lid
}

/// Vertical density at height `z` of a puff centred at `h` with `sz`,
/// reflected at the ground and (when the centre is below it) at the lid,
/// 1/m; 0 above the lid in that case.
pub fn vertical_density(z: f64, h: f64, sz: f64, lid: f64) -> f64 {
    if sz <= 0.0 {
        return 0.0;
    }
    let phi = |d: f64| (-(d * d) / (2.0 * sz * sz)).exp();
    let norm = 1.0 / ((2.0 * std::f64::consts::PI).sqrt() * sz);
    if !lid_applies(h, lid) {
        return norm * (phi(z - h) + phi(z + h));
    }
    if z > lid {
        return 0.0;
    }
    if sz > 2.0 * lid {
        return 1.0 / lid;
    }
    let n = image_count(sz, lid);
    let mut g = 0.0;
    for i in -n..=n {
        let shift = 2.0 * i as f64 * lid;
        g += phi(z - h - shift) + phi(z + h - shift);
    }
    norm * g
}

/// Images on each side needed for the lid sum: beyond 9 sigma they add
/// less than 1e-17 of the total.
fn image_count(sz: f64, lid: f64) -> i64 {
    (9.0 * sz / (2.0 * lid)).ceil() as i64 + 1
}

/// Fraction of the puff between the ground and `z` (same reflections as
/// [`vertical_density`]); 1 at and above the lid when the lid applies.
pub fn vertical_fraction_below(z: f64, h: f64, sz: f64, lid: f64) -> f64 {
    let z = z.max(0.0);
    if sz <= 0.0 {
        return if z >= h { 1.0 } else { 0.0 };
    }
    let cdf = |d: f64| 0.5 * (1.0 + libm::erf(d / (std::f64::consts::SQRT_2 * sz)));
    if !lid_applies(h, lid) {
        // Source at h and its image at -h, over [0, z].
        return (cdf(z - h) - cdf(-h)) + (cdf(z + h) - cdf(h));
    }
    if z >= lid {
        return 1.0;
    }
    if sz > 2.0 * lid {
        return z / lid;
    }
    let n = image_count(sz, lid);
    let mut f = 0.0;
    for i in -n..=n {
        let shift = 2.0 * i as f64 * lid;
        f += (cdf(z - h - shift) - cdf(-h - shift)) + (cdf(z + h - shift) - cdf(h - shift));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vertical_density_integrates_to_its_fraction_and_to_one() {
        // Trapezoid quadrature of the density against the erf form.
        for &(h, sz, lid) in &[
            (50.0, 30.0, f64::INFINITY),
            (50.0, 30.0, 400.0),
            (300.0, 250.0, 400.0),
            (100.0, 700.0, 400.0),
            (500.0, 80.0, 400.0),
        ] {
            let top = if lid_applies(h, lid) {
                lid
            } else {
                h + 12.0 * sz
            };
            let n = 20000;
            let dz = top / n as f64;
            let mut int = 0.0;
            for i in 0..n {
                let (a, b) = (i as f64 * dz, (i + 1) as f64 * dz);
                int +=
                    0.5 * dz * (vertical_density(a, h, sz, lid) + vertical_density(b, h, sz, lid));
            }
            let f = vertical_fraction_below(top, h, sz, lid);
            assert!((int - f).abs() < 1e-6, "{h} {sz} {lid}: {int} vs {f}");
            assert!((f - 1.0).abs() < 1e-9, "{h} {sz} {lid}: {f}");
        }
    }

    #[test]
    fn virtual_age_inverts_the_taylor_variance() {
        for &(sv, tl, t) in &[(0.5, 300.0, 1.0), (0.5, 300.0, 3600.0), (0.02, 50.0, 1e5)] {
            let v = taylor_variance(sv, tl, t);
            let back = virtual_age(v, sv, tl);
            assert!((back - t).abs() < 1e-9 * t, "{sv} {tl} {t}: {back}");
        }
    }
}
