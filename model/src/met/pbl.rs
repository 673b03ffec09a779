//! Boundary-layer similarity: eddy diffusivity profiles and the surface-layer
//! stability functions used by diffusion and dry deposition.

use super::KARMAN;

/// Businger-Dyer stability function for heat, phi_h(z/L) (Dyer 1974,
/// Boundary-Layer Meteorol. 7, 363-372): 1 + 5 z/L stable, (1 - 16 z/L)^-1/2 unstable.
pub fn phi_h(zeta: f64) -> f64 {
    if zeta >= 0.0 {
        1.0 + 5.0 * zeta
    } else {
        (1.0 - 16.0 * zeta).powf(-0.5)
    }
}

/// Integrated stability correction for heat, psi_h(z/L) (Paulson 1970,
/// J. Appl. Meteorol. 9, 857; Dyer 1974): -5 z/L stable, 2 ln((1+x^2)/2) unstable
/// with x = (1 - 16 z/L)^(1/4).
pub fn psi_h(zeta: f64) -> f64 {
    if zeta >= 0.0 {
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
/// where w*^3 = -u*^3 h / (k L). Zero above h (the caller applies a floor).
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
        for zeta in [-2.0, -0.5, -0.05, 0.05, 0.5] {
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
}
