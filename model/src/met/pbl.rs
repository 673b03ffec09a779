//! Boundary-layer similarity: eddy diffusivity profiles and the surface-layer
//! stability functions used by diffusion and dry deposition.

use super::{CP_DRY, GRAVITY, KARMAN};

/// Stability function for heat, phi_h(z/L). Unstable (1 - 16 z/L)^-1/2 and
/// stable 1 + 5 z/L up to z/L = 1 (Businger-Dyer; Dyer 1974,
/// Boundary-Layer Meteorol. 7, 363-372); beyond z/L = 1, 5 + z/L
/// (Holtslag & Boville 1993, J. Climate 6, 1825-1842, sec. 2), which joins
/// the log-linear law continuously at z/L = 1 (both 6) and grows only
/// linearly, so very stable mixing tends to k u* L (1 - z/h)^2 rather than
/// to zero as z/L grows.
pub fn phi_h(zeta: f64) -> f64 {
    if zeta > 1.0 {
        5.0 + zeta
    } else if zeta >= 0.0 {
        1.0 + 5.0 * zeta
    } else {
        (1.0 - 16.0 * zeta).powf(-0.5)
    }
}

/// Integrated stability correction for heat, psi_h(z/L) = integral from 0
/// to z/L of (1 - phi_h(s))/s ds (Paulson 1970, J. Appl. Meteorol. 9, 857;
/// Dyer 1974): unstable 2 ln((1+x^2)/2) with x = (1 - 16 z/L)^(1/4); stable
/// -5 z/L up to z/L = 1 and, with [`phi_h`]'s very stable branch,
/// -4 - 4 ln(z/L) - z/L beyond.
pub fn psi_h(zeta: f64) -> f64 {
    if zeta > 1.0 {
        -4.0 - 4.0 * zeta.ln() - zeta
    } else if zeta >= 0.0 {
        -5.0 * zeta
    } else {
        let x = (1.0 - 16.0 * zeta).powf(0.25);
        2.0 * ((1.0 + x * x) / 2.0).ln()
    }
}

/// Vertical eddy diffusivity at height z, Holtslag & Boville (1993),
/// J. Climate 6, 1825-1842, eq. 3.9: K = k w_t z (1 - z/h)^2 inside the
/// mixed layer, with the turbulent velocity scale w_t = u*/phi_h(z/L) in the
/// surface layer and stable conditions, and w_t = (u*^3 + 0.6 w*^3)^(1/3)/Pr
/// (eq. 3.10-3.12, Pr = 1 approximated) above 0.1 h in convective conditions,
/// where w*^3 = -u*^3 h / (k L). Stable: phi_h of [`phi_h`], 1 + 5 z/L up to
/// z/L = 1 and 5 + z/L beyond (HB93 sec. 2). Zero above h (the caller
/// applies a floor).
pub fn kz_holtslag_boville(z: f64, h: f64, ustar: f64, obukhov: f64) -> f64 {
    if z >= h || h <= 0.0 {
        return 0.0;
    }
    let zs = if obukhov < 0.0 { z.min(0.1 * h) } else { z };
    let zeta = zs / obukhov;
    let wt = if obukhov < 0.0 && z > 0.1 * h {
        let wstar3 = -ustar.powi(3) * h / (KARMAN * obukhov);
        (ustar.powi(3) + 0.6 * wstar3).cbrt()
    } else {
        ustar / phi_h(if obukhov.is_finite() { zeta } else { 0.0 })
    };
    KARMAN * wt * z * (1.0 - z / h).powi(2)
}

/// Integrated stability correction for momentum, psi_m(z/L) (Paulson 1970,
/// J. Appl. Meteorol. 9, 857, eq. 10; Dyer 1974): -5 z/L stable; unstable
/// 2 ln((1+x)/2) + ln((1+x^2)/2) - 2 atan x + pi/2 with x = (1 - 16 z/L)^(1/4).
pub fn psi_m(zeta: f64) -> f64 {
    if zeta >= 0.0 {
        -5.0 * zeta
    } else {
        let x = (1.0 - 16.0 * zeta).powf(0.25);
        2.0 * ((1.0 + x) / 2.0).ln() + ((1.0 + x * x) / 2.0).ln() - 2.0 * x.atan()
            + std::f64::consts::FRAC_PI_2
    }
}

/// Obukhov length from the surface kinematic heat flux,
/// L = -rho cp T u*^3 / (k g H) (Stull 1988, eq. 5.7c); infinite when H = 0.
pub fn obukhov_length(ustar: f64, heat_flux_wm2: f64, rho: f64, temperature: f64) -> f64 {
    if heat_flux_wm2 == 0.0 {
        f64::INFINITY
    } else {
        -rho * CP_DRY * temperature * ustar.powi(3) / (KARMAN * GRAVITY * heat_flux_wm2)
    }
}

/// Friction velocity and Obukhov length from one wind speed at height z over
/// roughness z0 and the surface sensible heat flux: the Monin-Obukhov
/// profile u* = k U / (ln(z/z0) - psi_m(z/L) + psi_m(z0/L)) iterated with L
/// (Stull 1988, sec. 9.7). z/L is held at most 1 while iterating, the
/// usual limit of the log-linear stable law; u* is floored at 0.01 m/s so a
/// dead calm still has a finite L.
pub fn surface_layer(
    speed: f64,
    z: f64,
    z0: f64,
    heat_flux_wm2: f64,
    rho: f64,
    temperature: f64,
) -> (f64, f64) {
    let neutral = (z / z0).ln();
    let mut ustar = (KARMAN * speed / neutral).max(0.01);
    let mut l = obukhov_length(ustar, heat_flux_wm2, rho, temperature);
    for _ in 0..50 {
        let zeta = (z / l).min(1.0);
        let zeta0 = (z0 / l).min(1.0);
        let next = (KARMAN * speed / (neutral - psi_m(zeta) + psi_m(zeta0))).max(0.01);
        let converged = (next - ustar).abs() < 1e-9;
        ustar = next;
        l = obukhov_length(ustar, heat_flux_wm2, rho, temperature);
        if converged {
            break;
        }
    }
    (ustar, l)
}

/// Convective velocity scale w* = (g H h / (rho cp T))^(1/3) (Deardorff 1970,
/// J. Atmos. Sci. 27, 1211); zero when the surface does not heat the air.
pub fn convective_velocity(heat_flux_wm2: f64, h: f64, rho: f64, temperature: f64) -> f64 {
    if heat_flux_wm2 <= 0.0 {
        0.0
    } else {
        (GRAVITY * heat_flux_wm2 * h / (rho * CP_DRY * temperature)).cbrt()
    }
}

/// Coriolis parameter f = 2 Omega sin(lat), 1/s.
pub fn coriolis(lat_deg: f64) -> f64 {
    2.0 * 7.2921e-5 * lat_deg.to_radians().sin()
}

/// Mixing height that CALMET never goes below (its HTMIN default), m
/// (Scire et al. 2000, CALMET User's Guide, input group 6).
pub const MIN_MIXING_HEIGHT: f64 = 50.0;

/// Stable (night-time) boundary-layer height h = 0.4 sqrt(u* L / |f|)
/// (Zilitinkevich 1972, Boundary-Layer Meteorol. 3, 141), no deeper than the
/// neutral height 0.3 u*/|f| (Garratt 1992, The Atmospheric Boundary Layer,
/// sec. 6.4), floored at [`MIN_MIXING_HEIGHT`]. |f| is held at least that of
/// 5 degrees latitude so the formula stays finite near the equator.
pub fn stable_mixing_height(ustar: f64, obukhov: f64, lat_deg: f64) -> f64 {
    let f = coriolis(lat_deg).abs().max(coriolis(5.0));
    let neutral = 0.3 * ustar / f;
    let h = if obukhov > 0.0 && obukhov.is_finite() {
        (0.4 * (ustar * obukhov / f).sqrt()).min(neutral)
    } else {
        neutral
    };
    h.max(MIN_MIXING_HEIGHT)
}

/// Entrainment ratio A of the convective boundary layer's heat budget
/// (Tennekes 1973, J. Atmos. Sci. 30, 558; A = 0.2).
pub const ENTRAINMENT_RATIO: f64 = 0.2;

/// Grow a convective mixed layer by a surface heat input (the sensible heat
/// flux integrated over time, J/m2) into air with potential-temperature
/// lapse rate gamma (K/m): the slab model dh/dt = (1 + 2A) H / (rho cp gamma h)
/// (Carson 1973, Q. J. R. Meteorol. Soc. 99, 450; Batchvarova & Gryning 1991
/// without the mechanical term) depends on H only through its integral, and
/// integrates exactly to h^2 growing by 2 (1+2A) (integral of H) / (rho cp gamma).
/// A non-positive input leaves h unchanged.
pub fn grow_convective_layer(h: f64, heat_input_j_m2: f64, rho: f64, gamma: f64) -> f64 {
    if heat_input_j_m2 <= 0.0 {
        return h;
    }
    (h * h + 2.0 * (1.0 + 2.0 * ENTRAINMENT_RATIO) * heat_input_j_m2 / (rho * CP_DRY * gamma))
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_kz_is_the_surface_layer_law_with_the_cubic_taper() {
        // L -> infinity: K = k u* z (1 - z/h)^2.
        let (z, h, us) = (50.0, 1000.0, 0.4);
        let k = kz_holtslag_boville(z, h, us, f64::INFINITY);
        assert!((k - KARMAN * us * z * (1.0f64 - z / h).powi(2)).abs() < 1e-12);
        assert_eq!(kz_holtslag_boville(1200.0, h, us, -50.0), 0.0);
    }

    #[test]
    fn stability_reduces_mixing_and_convection_raises_it() {
        let (z, h, us) = (300.0, 1000.0, 0.3);
        let neutral = kz_holtslag_boville(z, h, us, 1e9);
        assert!(kz_holtslag_boville(z, h, us, 50.0) < neutral);
        assert!(kz_holtslag_boville(z, h, us, -20.0) > neutral);
    }

    #[test]
    fn psi_h_matches_the_integral_of_one_minus_phi_h() {
        // psi_h(zeta) = integral_0^zeta (1 - phi_h(s)) / s ds (Paulson 1970).
        for zeta in [-2.0, -0.5, -0.05, 0.05, 0.5, 1.0, 2.5, 8.0] {
            let n = 200_000;
            let h = zeta / n as f64;
            let integral: f64 = (0..n)
                .map(|i| {
                    let s = (i as f64 + 0.5) * h;
                    (1.0 - phi_h(s)) / s * h
                })
                .sum();
            assert!(
                (integral - psi_h(zeta)).abs() < 1e-6,
                "zeta {zeta}: {integral} vs {}",
                psi_h(zeta)
            );
        }
    }

    #[test]
    fn very_stable_kz_follows_the_hb93_branch_on_both_sides_of_z_over_l_one() {
        // u* = 0.1 m/s, L = 20 m, h = 200 m, k = 0.4; by hand:
        // z = 10 m: z/L = 0.5, phi = 1 + 5(0.5) = 3.5,
        //   K = 0.4 (0.1/3.5) 10 (1 - 0.05)^2 = 0.4 * 0.0285714 * 10 * 0.9025 = 0.103143 m2/s;
        // z = 60 m: z/L = 3, phi = 5 + 3 = 8 (the log-linear law would give 16),
        //   K = 0.4 (0.1/8) 60 (1 - 0.3)^2 = 0.4 * 0.0125 * 60 * 0.49 = 0.147 m2/s.
        let (h, us, l) = (200.0, 0.1, 20.0);
        let below = kz_holtslag_boville(10.0, h, us, l);
        let above = kz_holtslag_boville(60.0, h, us, l);
        assert!((below - 0.103_142_857_142_857).abs() < 1e-12, "{below}");
        assert!((above - 0.147).abs() < 1e-12, "{above}");
        // Twice the log-linear value at z/L = 3 (phi 8 instead of 16).
        let log_linear = KARMAN * us / (1.0 + 5.0 * 3.0) * 60.0 * 0.49;
        assert!((above / log_linear - 2.0).abs() < 1e-12);
        // Continuous at z/L = 1 (z = L = 20 m): phi = 6 from either side.
        assert_eq!(phi_h(1.0), 6.0);
        assert!((phi_h(1.0 + 1e-12) - 6.0).abs() < 1e-11);
        let k = |z: f64| kz_holtslag_boville(z, h, us, l);
        assert!((k(20.0 + 1e-9) - k(20.0 - 1e-9)).abs() < 1e-9);
        // psi_h is continuous at 1 too.
        assert!((psi_h(1.0 + 1e-12) - psi_h(1.0)).abs() < 1e-10);
    }

    #[test]
    fn neutral_surface_layer_is_the_log_law() {
        let (us, l) = surface_layer(5.0, 10.0, 0.1, 0.0, 1.2, 290.0);
        assert!((us - KARMAN * 5.0 / (100.0f64).ln()).abs() < 1e-12);
        assert!(l.is_infinite());
    }

    #[test]
    fn surface_layer_is_self_consistent_when_stable_and_unstable() {
        for heat in [-30.0, 200.0] {
            let (us, l) = surface_layer(3.0, 10.0, 0.1, heat, 1.2, 290.0);
            // Re-deriving U from (u*, L) by the same profile gives the input wind.
            let u = us / KARMAN * ((100.0f64).ln() - psi_m((10.0 / l).min(1.0)) + psi_m(0.1 / l));
            assert!((u - 3.0).abs() < 1e-6, "heat {heat}: U {u}");
            assert!((l - obukhov_length(us, heat, 1.2, 290.0)).abs() < 1e-9 * l.abs());
            assert_eq!(l > 0.0, heat < 0.0);
        }
        // Convection mixes momentum down: more stress than neutral; stable less.
        let neutral = surface_layer(3.0, 10.0, 0.1, 0.0, 1.2, 290.0).0;
        assert!(surface_layer(3.0, 10.0, 0.1, 200.0, 1.2, 290.0).0 > neutral);
        assert!(surface_layer(3.0, 10.0, 0.1, -30.0, 1.2, 290.0).0 < neutral);
    }

    #[test]
    fn mixing_heights_follow_their_closed_forms() {
        // Zilitinkevich: 0.4 sqrt(u* L / f) at 27 N.
        let f = coriolis(27.0);
        let h = stable_mixing_height(0.2, 40.0, 27.0);
        assert!((h - 0.4 * (0.2 * 40.0 / f).sqrt()).abs() < 1e-9);
        assert_eq!(stable_mixing_height(0.02, 2.0, 27.0), MIN_MIXING_HEIGHT);
        // Slab growth: 100 W/m2 for 6 h into 5 K/km from 200 m, by hand
        // h^2 = 200^2 + 2 * 1.4 * 100 * 21600 / (1.2 * 1004.7 * 0.005).
        let h = grow_convective_layer(200.0, 100.0 * 21600.0, 1.2, 0.005);
        let hand = (40000.0f64 + 2.0 * 1.4 * 100.0 * 21600.0 / (1.2 * CP_DRY * 0.005)).sqrt();
        assert!((h - hand).abs() < 1e-9 && h > 1000.0 && h < 2000.0, "{h}");
        assert_eq!(
            grow_convective_layer(300.0, -10.0 * 3600.0, 1.2, 0.005),
            300.0
        );
        let ws = convective_velocity(200.0, 1200.0, 1.2, 300.0);
        assert!(ws > 1.5 && ws < 2.5, "w* {ws}");
    }
}
