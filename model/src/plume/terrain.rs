//! Terrain: the dividing-streamline height of stably stratified flow
//! towards a hill.
//!
//! Snyder et al. (1985, "The structure of strongly stratified flow over
//! hills: dividing-streamline concept", J. Fluid Mech. 152, 249-288): fluid
//! below the height `Hc` lacks the kinetic energy to climb to the hill top
//! `H` against the stratification and goes round, fluid above goes over.
//! `Hc` solves
//!
//! ```text
//! ½ u²(Hc) = ∫_Hc^H N²(z) (H − z) dz,          N² = (g/θ) dθ/dz
//! ```
//!
//! (CTDMPLUS user's guide, Perry et al. 1989, eq. 32; AERMOD formulation
//! document EPA-454/B-23-010, section on the terrain weighting / Cimorelli
//! et al. 2005, JAM 44:682, where `H` is the receptor's hill height scale
//! above the stack base, capped at the plume height above the receptor's
//! base as in AERMOD's CRITDS routine). In convective and neutral hours
//! AERMOD takes `Hc = 0`; callers then pass no profile.
//!
//! The profile is piecewise linear in wind speed and piecewise constant in
//! N² between levels, so on each layer both sides of the equation are
//! quadratics in `Hc` and the root is solved in closed form, layer by
//! layer as AERMOD's CRITDS does. Where several heights satisfy the
//! balance, CRITDS takes the lowest; we take the highest below which the
//! flow lacks the energy (scanning down from the hill top). For the usual
//! monotone profiles there is a single root and the two agree.

use super::site::ProfileLevel;

/// Gravity, m/s².
const G: f64 = 9.80665;
/// Dry adiabatic lapse rate g/cp, K/m (cp = 1004 J/kg/K).
const GAMMA_D: f64 = G / 1004.0;

/// A wind and stratification profile, heights above the stack base (m):
/// wind speed linear between knots and constant above the top knot, N²
/// constant per layer and `n2_top` above the top knot.
#[derive(Debug, Clone, PartialEq)]
pub struct StratifiedProfile {
    /// Knot heights, ascending, `z[0] = 0`.
    z: Vec<f64>,
    /// Wind speed at the knots, m/s.
    u: Vec<f64>,
    /// N² on layer `[z[i], z[i+1]]`, s⁻²; `n2.len() == z.len() - 1`.
    n2: Vec<f64>,
    /// N² above the top knot.
    n2_top: f64,
    /// Cumulative ∫_0^z N² dz' and ∫_0^z N² z' dz' at the knots.
    a: Vec<f64>,
    b: Vec<f64>,
}

impl StratifiedProfile {
    /// A profile from knot heights (ascending, m above the stack base),
    /// wind speeds at the knots (m/s), N² on each of the `z.len() - 1`
    /// layers and N² above the top. A knot at 0 is added if missing (wind
    /// held at the lowest value below the lowest knot, N² of the lowest
    /// layer, or `n2_top` with a single knot).
    ///
    /// Returns `None` unless the heights ascend strictly, all values are
    /// finite and the speeds are non-negative.
    pub fn new(z: &[f64], u: &[f64], n2_layers: &[f64], n2_top: f64) -> Option<Self> {
        if z.is_empty()
            || u.len() != z.len()
            || n2_layers.len() + 1 != z.len()
            || !n2_top.is_finite()
            || z.iter().chain(u).chain(n2_layers).any(|v| !v.is_finite())
            || u.iter().any(|&v| v < 0.0)
            || z[0] < 0.0
            || z.windows(2).any(|w| w[1] <= w[0])
        {
            return None;
        }
        let (mut zz, mut uu, mut nn) = (z.to_vec(), u.to_vec(), n2_layers.to_vec());
        if zz[0] > 0.0 {
            zz.insert(0, 0.0);
            uu.insert(0, u[0]);
            nn.insert(0, n2_layers.first().copied().unwrap_or(n2_top));
        }
        let mut a = vec![0.0; zz.len()];
        let mut b = vec![0.0; zz.len()];
        for i in 1..zz.len() {
            let (z0, z1, n) = (zz[i - 1], zz[i], nn[i - 1]);
            a[i] = a[i - 1] + n * (z1 - z0);
            b[i] = b[i - 1] + n * 0.5 * (z1 * z1 - z0 * z0);
        }
        Some(StratifiedProfile {
            z: zz,
            u: uu,
            n2: nn,
            n2_top,
            a,
            b,
        })
    }

    /// Uniform wind `u` and buoyancy frequency `n` (s⁻¹) at all heights.
    pub fn uniform(u: f64, n: f64) -> Option<Self> {
        Self::new(&[0.0], &[u], &[], n * n)
    }

    /// A profile from a site hour's `.PFL` levels (heights above ground are
    /// taken as heights above the stack base, as AERMOD does): wind speed
    /// from the levels that have one, N² = (g/θ) Δθ/Δz between consecutive
    /// levels that both have a temperature (θ = T + (g/c_p) z), and the
    /// hour's `vptg` (K/m, AERMET's gradient above the mixed layer) for the
    /// layers without two temperatures and above the top. `None` without
    /// any valid wind speed.
    pub fn from_levels(levels: &[ProfileLevel], vptg: f64, theta_ref: f64) -> Option<Self> {
        let mut lv: Vec<&ProfileLevel> = levels
            .iter()
            .filter(|l| l.height.is_finite() && l.height >= 0.0)
            .collect();
        lv.sort_by(|p, q| p.height.total_cmp(&q.height));
        lv.dedup_by(|p, q| p.height == q.height);
        let winds: Vec<(f64, f64)> = lv
            .iter()
            .filter_map(|l| {
                l.wind_speed
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|w| (l.height, w))
            })
            .collect();
        if winds.is_empty() || !theta_ref.is_finite() || theta_ref <= 0.0 || !vptg.is_finite() {
            return None;
        }
        let n2_default = G / theta_ref * vptg;
        let z: Vec<f64> = lv.iter().map(|l| l.height).collect();
        // Wind at every level: interpolated between the levels that have one.
        let u: Vec<f64> = z.iter().map(|&zk| interp(&winds, zk)).collect();
        let n2: Vec<f64> = lv
            .windows(2)
            .map(|w| match (w[0].temperature, w[1].temperature) {
                (Some(t0), Some(t1)) if t0.is_finite() && t1.is_finite() && t0 > 0.0 => {
                    let th0 = t0 + GAMMA_D * w[0].height;
                    let th1 = t1 + GAMMA_D * w[1].height;
                    G / (0.5 * (th0 + th1)) * (th1 - th0) / (w[1].height - w[0].height)
                }
                _ => n2_default,
            })
            .collect();
        Self::new(&z, &u, &n2, n2_default)
    }

    fn layer_of(&self, h: f64) -> usize {
        // Index i with z[i] <= h < z[i+1] (or the top knot).
        self.z.partition_point(|&zk| zk <= h).saturating_sub(1)
    }

    /// Wind speed, N² of the layer starting at knot `i` (the top layer
    /// extends to infinity).
    fn layer(&self, i: usize) -> (f64, f64, f64) {
        let top = self.z.len() - 1;
        if i >= top {
            (self.u[top], 0.0, self.n2_top)
        } else {
            let s = (self.u[i + 1] - self.u[i]) / (self.z[i + 1] - self.z[i]);
            (self.u[i], s, self.n2[i])
        }
    }

    /// ∫_0^h N² dz and ∫_0^h N² z dz.
    fn cumulative(&self, h: f64) -> (f64, f64) {
        let i = self.layer_of(h);
        let (_, _, n) = self.layer(i);
        let z0 = self.z[i];
        (
            self.a[i] + n * (h - z0),
            self.b[i] + n * 0.5 * (h * h - z0 * z0),
        )
    }

    /// The dividing-streamline height (m above the stack base) for a hill
    /// top `h_hill` m above the stack base; 0 when `h_hill <= 0`.
    pub fn dividing_streamline(&self, h_hill: f64) -> f64 {
        if h_hill.is_nan() || h_hill <= 0.0 {
            return 0.0;
        }
        let (a_h, b_h) = self.cumulative(h_hill);
        // P(z) = ∫_z^H N² (H − z') dz' = H (A(H) − A(z)) − (B(H) − B(z)).
        let p_of = |z: f64| {
            let (a, b) = self.cumulative(z);
            h_hill * (a_h - a) - (b_h - b)
        };
        let mut i = self.layer_of(h_hill);
        let mut top = h_hill;
        loop {
            let za = self.z[i];
            let (ua, s, n) = self.layer(i);
            let len = top - za;
            if len > 0.0 {
                // D(w) = ½u(za+w)² − P(za+w) on w ∈ [0, len] is the
                // quadratic α w² + β w + γ: with u = ua + s w and
                // P(za+w) = P(top) + n (len − w)(c − w/2), c = H − za − len/2,
                // expanding gives α = (s² − n)/2, β = s ua + n (H − za),
                // γ = ua²/2 − P(top) − n len c (D(len) = ½u(top)² − P(top)).
                let p_top = p_of(top);
                let c = h_hill - za - 0.5 * len;
                let alpha = 0.5 * (s * s - n);
                let beta = s * ua + n * (h_hill - za);
                let gamma = 0.5 * ua * ua - p_top - n * len * c;
                if let Some(w) = largest_root(alpha, beta, gamma, len) {
                    return za + w;
                }
            }
            if i == 0 {
                return 0.0;
            }
            top = za;
            i -= 1;
        }
    }
}

/// Linear interpolation in sorted (x, y) pairs, constant beyond the ends.
fn interp(pts: &[(f64, f64)], x: f64) -> f64 {
    let k = pts.partition_point(|p| p.0 <= x);
    if k == 0 {
        pts[0].1
    } else if k == pts.len() {
        pts[k - 1].1
    } else {
        let (x0, y0) = pts[k - 1];
        let (x1, y1) = pts[k];
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }
}

/// The largest root in [0, len] of α w² + β w + γ where the quadratic is
/// negative just below it (a sign change from − to +, or the value at 0
/// being negative with the root above); `None` if D ≥ 0 on the interval.
fn largest_root(alpha: f64, beta: f64, gamma: f64, len: f64) -> Option<f64> {
    let d = |w: f64| (alpha * w + beta) * w + gamma;
    let scale = alpha.abs() * len * len + beta.abs() * len + gamma.abs();
    let tiny = 1e-14 * scale.max(f64::MIN_POSITIVE);
    let mut roots = [f64::NAN; 2];
    if alpha.abs() * len * len <= 1e-12 * scale {
        if beta != 0.0 {
            roots[0] = -gamma / beta;
        }
    } else {
        let disc = beta * beta - 4.0 * alpha * gamma;
        if disc >= 0.0 {
            // Numerically stable pair.
            let q = -0.5 * (beta + beta.signum() * disc.sqrt());
            roots[0] = q / alpha;
            if q != 0.0 {
                roots[1] = gamma / q;
            }
        }
    }
    let mut best: Option<f64> = None;
    for r in roots {
        if r.is_finite() && r >= -1e-12 * len && r <= len * (1.0 + 1e-12) {
            let r = r.clamp(0.0, len);
            // Negative just below r (or r at 0 with D(0) <= 0).
            let below = d((r - 1e-9 * len).max(0.0));
            if below <= tiny && best.is_none_or(|b| r > b) {
                best = Some(r);
            }
        }
    }
    if best.is_none() && d(0.0) < 0.0 {
        // D < 0 at the bottom and no root: the root is the top itself.
        return Some(len);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform N and u: ½u² = N² (H − Hc)²/2, so Hc = H − u/N (hand solved).
    #[test]
    fn uniform_profile_gives_h_minus_u_over_n() {
        let p = StratifiedProfile::uniform(2.0, 0.02).unwrap();
        assert!((p.dividing_streamline(300.0) - 200.0).abs() < 1e-9);
        assert_eq!(p.dividing_streamline(80.0), 0.0);
        assert_eq!(p.dividing_streamline(-5.0), 0.0);
    }

    /// Two layers: Hc found in the lower one; compare with bisection on the
    /// defining integral evaluated by brute-force quadrature.
    #[test]
    fn layered_profile_matches_bisection_on_the_integral() {
        let z = [0.0, 50.0, 120.0, 400.0];
        let u = [1.0, 2.0, 3.5, 5.0];
        let n2 = [4e-4, 1e-3, 2e-4];
        let p = StratifiedProfile::new(&z, &u, &n2, 1e-4).unwrap();
        for &h in &[60.0, 150.0, 350.0, 700.0] {
            let speed =
                |zz: f64| interp(&[(0.0, 1.0), (50.0, 2.0), (120.0, 3.5), (400.0, 5.0)], zz);
            let nsq = |zz: f64| {
                if zz < 50.0 {
                    4e-4
                } else if zz < 120.0 {
                    1e-3
                } else if zz < 400.0 {
                    2e-4
                } else {
                    1e-4
                }
            };
            // Midpoint rule on panels split at the layer tops: exact for
            // the integrand N² (H − z), linear within a layer.
            let pe = |zc: f64| {
                let mut cuts = vec![zc];
                cuts.extend([50.0, 120.0, 400.0].iter().filter(|&&c| c > zc && c < h));
                cuts.push(h);
                let mut sum = 0.0;
                for w in cuts.windows(2) {
                    let n = 100;
                    let dz = (w[1] - w[0]) / n as f64;
                    for k in 0..n {
                        let zz = w[0] + (k as f64 + 0.5) * dz;
                        sum += nsq(zz) * (h - zz) * dz;
                    }
                }
                sum
            };
            let f = |zc: f64| 0.5 * speed(zc).powi(2) - pe(zc);
            let expected = if f(0.0) >= 0.0 {
                0.0
            } else {
                let (mut lo, mut hi) = (0.0, h);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if f(mid) < 0.0 {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                0.5 * (lo + hi)
            };
            let got = p.dividing_streamline(h);
            assert!((got - expected).abs() < 1e-6, "H {h}: {got} vs {expected}");
        }
    }

    #[test]
    fn from_levels_uses_temperatures_and_vptg() {
        let lvl = |h: f64, ws: f64, t: Option<f64>| ProfileLevel {
            height: h,
            wind_dir: Some(270.0),
            wind_speed: Some(ws),
            temperature: t,
            sigma_theta: None,
            sigma_w: None,
        };
        // θ rises 0.02 K/m between 10 and 100 m: T1 = T0 + (0.02 − Γd) 90.
        let t0 = 280.0;
        let t1 = t0 + (0.02 - GAMMA_D) * 90.0;
        let p = StratifiedProfile::from_levels(
            &[lvl(100.0, 2.0, Some(t1)), lvl(10.0, 2.0, Some(t0))],
            0.005,
            280.0,
        )
        .unwrap();
        let n2_expected = G / (t0 + GAMMA_D * 10.0 + 0.9) * 0.02;
        assert!((p.n2[1] - n2_expected).abs() < 1e-12);
        assert!((p.n2_top - G / 280.0 * 0.005).abs() < 1e-15);
        assert!(StratifiedProfile::from_levels(&[], 0.01, 280.0).is_none());
    }
}
