//! Plume rise of stacks and the split of each plume over the model layers.
//!
//! Briggs (1975), "Plume rise predictions", in Lectures on Air Pollution
//! and Environmental Impact Analyses, AMS, 59-111, final buoyant rise as
//! summarised in the EPA ISC3 user's guide vol. II (1995), eqs. 1-8 to 1-12
//! (neutral/unstable: 21.425 F^(3/4)/u for F < 55, 38.71 F^(3/5)/u
//! otherwise; stable: 2.6 (F/(u s))^(1/3); calm stable: 4 F^(1/4) s^(-3/8)).
//! The plume is spread evenly between h + 0.5 dh and h + 1.5 dh, the
//! layer-fraction rule of SMOKE's laypoint program. The Gaussian plume and
//! puff model will share the rise.

use crate::emissions::PointSource;
use crate::grid::Grid;
use crate::met::{MetFields, GRAVITY};

/// Potential temperature gradient assumed in stable conditions, K/m
/// (ISC3: 0.02 for class E, 0.035 for class F; we use E).
const STABLE_DTHETA_DZ: f64 = 0.02;

/// Briggs final plume rise, m, for a stack in ambient temperature `ta` (K),
/// wind `u` (m/s) at stack top and Obukhov length `l` (m).
pub fn briggs_rise(p: &PointSource, ta: f64, u: f64, l: f64) -> f64 {
    if p.temperature <= ta {
        return 0.0; // no buoyancy; momentum rise neglected
    }
    let f = GRAVITY * p.velocity * p.diameter * p.diameter * (p.temperature - ta)
        / (4.0 * p.temperature);
    let u = u.max(1.0); // ISC3 minimum wind speed
    if l > 0.0 && l.is_finite() {
        let s = GRAVITY / ta * STABLE_DTHETA_DZ;
        let windy = 2.6 * (f / (u * s)).cbrt();
        let calm = 4.0 * f.powf(0.25) * s.powf(-0.375);
        windy.min(calm)
    } else if f < 55.0 {
        21.425 * f.powf(0.75) / u
    } else {
        38.71 * f.powf(0.6) / u
    }
}

/// Fraction of the plume in each layer (sums to 1).
pub fn layer_fractions(p: &PointSource, g: &Grid, met: &MetFields) -> Vec<f64> {
    let (i, j) = (p.i, p.j);
    let k = g.layer_of(p.height);
    let u = 0.5 * (met.u_face[[k, j, i]] + met.u_face[[k, j, i + 1]]);
    let v = 0.5 * (met.v_face[[k, j, i]] + met.v_face[[k, j + 1, i]]);
    let dh = briggs_rise(
        p,
        met.temperature[[k, j, i]],
        u.hypot(v),
        met.obukhov[[j, i]],
    );
    let top_of_model = *g.z_top.last().unwrap();
    let (bot, top) = (
        (p.height + 0.5 * dh).min(top_of_model),
        (p.height + 1.5 * dh).min(top_of_model),
    );
    let mut frac = vec![0.0; g.nz];
    if top - bot < 1e-6 {
        frac[g.layer_of(bot)] = 1.0;
        return frac;
    }
    let mut below: f64 = 0.0;
    for (k, &t) in g.z_top.iter().enumerate() {
        let overlap = (t.min(top) - below.max(bot)).max(0.0);
        frac[k] = overlap / (top - bot);
        below = t;
    }
    let s: f64 = frac.iter().sum();
    frac.iter_mut().for_each(|f| *f /= s);
    frac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(t: f64) -> PointSource {
        PointSource {
            city: None,
            name: "s".into(),
            lon: 0.0,
            lat: 0.0,
            i: 0,
            j: 0,
            height: 120.0,
            diameter: 6.0,
            velocity: 15.0,
            temperature: t,
            sector: 0,
            rates: vec![],
            tag: 0,
        }
    }

    #[test]
    fn briggs_neutral_rise_matches_the_formula() {
        // F = g v d^2 (Ts - Ta) / (4 Ts); F >= 55: dh = 38.71 F^0.6 / u.
        let (ta, u) = (283.0, 5.0);
        let f = GRAVITY * 15.0 * 36.0 * (423.0 - ta) / (4.0 * 423.0);
        let dh = briggs_rise(&stack(423.0), ta, u, -1e9);
        assert!((dh - 38.71 * f.powf(0.6) / u).abs() < 1e-9);
        assert!(dh > 100.0 && dh < 1000.0, "{dh}");
    }

    #[test]
    fn stable_air_caps_the_rise_and_cold_plumes_do_not_rise() {
        let unstable = briggs_rise(&stack(423.0), 283.0, 3.0, -50.0);
        let stable = briggs_rise(&stack(423.0), 283.0, 3.0, 50.0);
        assert!(stable < unstable);
        assert_eq!(briggs_rise(&stack(280.0), 283.0, 3.0, -50.0), 0.0);
    }
}
