//! Plume rise of stacks and the split of each plume over the model layers.
//!
//! The rise is the plume model's ([`crate::plume::rise::briggs`]: Briggs
//! buoyant and momentum rise, stable and neutral/unstable, with stack-tip
//! downwash; ISC3 user's guide vol. II section 1.1.4), so the Gaussian and
//! Eulerian halves share one rise. Stability comes from the column's
//! Obukhov length and roughness through the Pasquill class (Golder 1972;
//! classes E and F take ISC3's dθ/dz of 0.020 and 0.035 K/m). The grid has
//! no lid to penetrate: the whole plume is placed by its final rise above
//! the downwashed stack height h'. It is spread evenly between
//! h' + 0.5 dh and h' + 1.5 dh, the layer-fraction rule of SMOKE's
//! laypoint program.

use crate::emissions::PointSource;
use crate::grid::Grid;
use crate::met::MetFields;
use crate::plume::rise::{self, RiseMet, Stack};

/// Briggs final rise above the downwashed stack height, and that height,
/// m, for a stack in ambient temperature `ta` (K), wind `u` (m/s) at stack
/// top, Obukhov length `l` (m) and roughness `z0` (m).
pub fn briggs_rise(p: &PointSource, ta: f64, u: f64, l: f64, z0: f64) -> (f64, f64) {
    let r = rise::briggs(&Stack::from(p), &RiseMet::from_obukhov(u, ta, l, z0), true);
    (r.final_rise, r.release_height)
}

/// The rise of stack `p` in the met of its cell at stack height: (final
/// rise, downwashed stack height h'), m. Emission injection and
/// plume-in-grid both take it from here.
pub fn stack_rise(p: &PointSource, g: &Grid, met: &MetFields) -> (f64, f64) {
    let (i, j) = (p.i, p.j);
    let k = g.layer_of(p.height);
    let u = 0.5 * (met.u_face[[k, j, i]] + met.u_face[[k, j, i + 1]]);
    let v = 0.5 * (met.v_face[[k, j, i]] + met.v_face[[k, j + 1, i]]);
    briggs_rise(
        p,
        met.temperature[[k, j, i]],
        u.hypot(v),
        met.obukhov[[j, i]],
        met.z0[[j, i]],
    )
}

/// Fraction of the plume in each layer (sums to 1).
pub fn layer_fractions(p: &PointSource, g: &Grid, met: &MetFields) -> Vec<f64> {
    let (dh, h) = stack_rise(p, g, met);
    let top_of_model = *g.z_top.last().unwrap();
    let (bot, top) = (
        (h + 0.5 * dh).min(top_of_model),
        (h + 1.5 * dh).min(top_of_model),
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
    fn the_split_uses_the_plume_models_rise() {
        // Neutral (L -> inf): the same numbers as plume::rise::briggs.
        let (ta, u) = (283.0, 5.0);
        let (dh, h) = briggs_rise(&stack(423.0), ta, u, -1e9, 0.1);
        let met = RiseMet::from_obukhov(u, ta, -1e9, 0.1);
        let r = rise::briggs(&Stack::from(&stack(423.0)), &met, true);
        assert_eq!((dh, h), (r.final_rise, r.release_height));
        // F = g v d^2 (Ts - Ta) / (4 Ts) >= 55: dh = 38.71 F^0.6 / u.
        let f = crate::met::GRAVITY * 15.0 * 36.0 * (423.0 - ta) / (4.0 * 423.0);
        assert!((dh - 38.71 * f.powf(0.6) / u).abs() < 1e-9);
        assert_eq!(h, 120.0); // v = 15 > 1.5 u: no downwash
    }

    #[test]
    fn stable_air_caps_the_rise_and_cold_plumes_rise_by_momentum_only() {
        let (unstable, _) = briggs_rise(&stack(423.0), 283.0, 3.0, -50.0, 0.1);
        let (stable, _) = briggs_rise(&stack(423.0), 283.0, 3.0, 20.0, 0.1);
        assert!(stable < unstable);
        // A cold jet: 3 d v / u = 3 * 6 * 15 / 3 = 90 m (neutral momentum rise).
        let (cold, _) = briggs_rise(&stack(280.0), 283.0, 3.0, -1e9, 0.1);
        assert!((cold - 90.0).abs() < 1e-9, "{cold}");
    }
}
