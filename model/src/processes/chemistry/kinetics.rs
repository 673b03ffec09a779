//! Exact integration of the rate laws the chemistry uses over one step,
//! so that a result does not depend on how the hour is cut into steps
//! (for fixed rate coefficients).

/// Extent (mol/m3) after time `t` of a reaction a A + b B -> products with
/// rate r = k [A][B] (mol m-3 s-1), starting from `a0`, `b0` (mol/m3).
///
/// With the extent limits alpha = a0/a and beta = b0/b (alpha <= beta
/// after ordering) and K = k a b, d xi/dt = K (alpha - xi)(beta - xi), whose
/// solution by partial fractions (e.g. Atkins, Physical Chemistry, the
/// second-order A + B rate law) is
///   xi = alpha beta (1 - r) / (D + alpha (1 - r)),  r = exp(-K D t),
/// D = beta - alpha >= 0, written with expm1 so D -> 0 gives the limit
/// alpha^2 K t / (1 + alpha K t) without cancellation. The extent never
/// exceeds the limiting reactant (xi <= alpha).
pub fn second_order_extent(a0: f64, a: f64, b0: f64, b: f64, k: f64, t: f64) -> f64 {
    if !(a0 > 0.0 && b0 > 0.0 && k > 0.0 && t > 0.0) {
        return 0.0;
    }
    let (alpha, beta) = {
        let (x, y) = (a0 / a, b0 / b);
        if x <= y {
            (x, y)
        } else {
            (y, x)
        }
    };
    let kk = k * a * b;
    let d = beta - alpha;
    let one_minus_r = -(-kk * d * t).exp_m1();
    let xi = if d * kk * t > 1e-12 {
        alpha * beta * one_minus_r / (d + alpha * one_minus_r)
    } else {
        alpha * alpha * kk * t / (1.0 + alpha * kk * t)
    };
    // Not f64::clamp, which panics on a NaN bound: a NaN stays NaN, for
    // the chemistry's check to name the cell and species.
    if xi.is_nan() || alpha.is_nan() {
        f64::NAN
    } else {
        xi.max(0.0).min(alpha)
    }
}

/// Exact relaxation of `x` toward `target` with e-folding time `tau` (s)
/// over `t`: x <- target + (x - target) exp(-t/tau); `tau` <= 0 or infinite
/// leaves x unchanged.
pub fn relax(x: f64, target: f64, tau: f64, t: f64) -> f64 {
    if !(tau > 0.0 && tau.is_finite()) {
        return x;
    }
    target + (x - target) * (-t / tau).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small explicit steps of the rate law (a second implementation).
    fn march(mut a0: f64, a: f64, mut b0: f64, b: f64, k: f64, t: f64) -> f64 {
        let n = 200_000;
        let h = t / n as f64;
        let mut xi = 0.0;
        for _ in 0..n {
            // Midpoint (RK2) step of d xi/dt = k A B.
            let r1 = k * a0 * b0;
            let (am, bm) = (a0 - a * r1 * h / 2.0, b0 - b * r1 * h / 2.0);
            let d = k * am * bm * h;
            xi += d;
            a0 -= a * d;
            b0 -= b * d;
        }
        xi
    }

    #[test]
    fn extent_matches_a_fine_explicit_integration() {
        for &(a0, a, b0, b, k, t) in &[
            (3.0e-7, 1.0, 4.0e-8, 1.0, 2.0e4, 3600.0),
            (4.0e-8, 1.0, 3.0e-7, 1.0, 2.0e4, 3600.0),
            (1.0e-7, 1.0, 1.0e-7, 1.0, 5.0e4, 900.0),
            (8.0e-7, 2.0, 1.6e-6, 1.0, 1.0e3, 7200.0),
        ] {
            let exact = second_order_extent(a0, a, b0, b, k, t);
            let stepped = march(a0, a, b0, b, k, t);
            assert!(
                (exact / stepped - 1.0).abs() < 1e-6,
                "{a0} {b0}: {exact} vs {stepped}"
            );
        }
    }

    #[test]
    fn extent_composes_over_steps_and_stops_at_the_limiting_reactant() {
        // Two half steps equal one whole step (the property dt-independence rests on).
        let (a0, b0, k, t) = (3.0e-7, 4.0e-8, 2.0e4, 1800.0);
        let whole = second_order_extent(a0, 1.0, b0, 1.0, k, 2.0 * t);
        let x1 = second_order_extent(a0, 1.0, b0, 1.0, k, t);
        let x2 = second_order_extent(a0 - x1, 1.0, b0 - x1, 1.0, k, t);
        assert!(((x1 + x2) / whole - 1.0).abs() < 1e-12);
        assert!(second_order_extent(a0, 1.0, b0, 1.0, 1e12, 1e6) <= b0);
        assert_eq!(second_order_extent(0.0, 1.0, b0, 1.0, k, t), 0.0);
    }

    #[test]
    fn non_finite_inputs_give_nan_or_zero_not_a_panic() {
        // An infinite reactant makes the extent limit NaN (inf - inf).
        let xi = second_order_extent(f64::INFINITY, 1.0, f64::INFINITY, 1.0, 1.0, 1.0);
        assert!(xi.is_nan());
        assert!(second_order_extent(f64::INFINITY, f64::INFINITY, 1.0, 1.0, 1.0, 1.0).is_nan());
        assert_eq!(second_order_extent(f64::NAN, 1.0, 1.0, 1.0, 1.0, 1.0), 0.0);
        let xi = second_order_extent(1e-7, 1.0, 1e-7, 1.0, f64::INFINITY, 1.0);
        assert!(xi.is_nan() || (0.0..=1e-7).contains(&xi));
    }
}
