//! Advection accuracy on the standard tests, with positivity and
//! monotonicity asserted at every step. Figures print with --nocapture and
//! are tabulated in docs/numerics.md.

mod common;
use airshed::processes::advection::{ppm_sweep, LineEnds, Scratch};
use common::*;
use std::f64::consts::PI;

/// Advect a periodic profile once around a unit domain at Courant `c`,
/// checking bounds every step. Returns (L1, L2, Linf).
fn one_period(n: usize, c: f64, f: impl Fn(f64) -> f64) -> (f64, f64, f64) {
    let x: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
    let exact: Vec<f64> = x.iter().map(|&x| f(x)).collect();
    let (lo, hi) = exact
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let air = vec![1.0; n];
    let flux = vec![c; n + 1];
    let mut mass = exact.clone();
    let mut s = Scratch::default();
    let steps = (n as f64 / c).round() as usize;
    for step in 0..steps {
        ppm_sweep(&air, &flux, &mut mass, LineEnds::Periodic, &mut s);
        let (mn, mx) = mass
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(
            mn >= lo - 1e-14 && mn >= 0.0,
            "step {step}: new minimum {mn} below {lo}"
        );
        assert!(mx <= hi + 1e-14, "step {step}: new maximum {mx} above {hi}");
    }
    let total: f64 = mass.iter().sum::<f64>() - exact.iter().sum::<f64>();
    assert!(total.abs() < 1e-12 * n as f64, "mass changed by {total}");
    norms(&mass, &exact)
}

fn convergence(name: &str, f: impl Fn(f64) -> f64 + Copy) -> Vec<(usize, (f64, f64, f64))> {
    let rows: Vec<_> = [50, 100, 200]
        .iter()
        .map(|&n| (n, one_period(n, 0.5, f)))
        .collect();
    println!("1-D {name}, Courant 0.5, one period:");
    for w in rows.windows(2) {
        let order = (w[0].1 .0 / w[1].1 .0).log2();
        println!(
            "  n={:>3} L1={:.3e} L2={:.3e} Linf={:.3e} | n={} L1 order {:.2}",
            w[0].0, w[0].1 .0, w[0].1 .1, w[0].1 .2, w[1].0, order
        );
    }
    let l = rows.last().unwrap();
    println!(
        "  n={:>3} L1={:.3e} L2={:.3e} Linf={:.3e}",
        l.0, l.1 .0, l.1 .1, l.1 .2
    );
    rows
}

#[test]
fn gaussian_converges_at_second_order() {
    let rows = convergence("Gaussian (sigma 0.05)", |x| {
        (-(x - 0.5).powi(2) / (2.0 * 0.05f64.powi(2))).exp()
    });
    let order = (rows[1].1 .0 / rows[2].1 .0).log2();
    assert!(order > 1.8, "L1 order {order} between n=100 and n=200");
    assert!(rows[2].1 .0 < 4e-3, "L1 at n=200 is {}", rows[2].1 .0);
}

#[test]
fn square_wave_converges_without_oscillation() {
    let rows = convergence("square wave", |x| {
        if (0.25..0.75).contains(&x) {
            1.0
        } else {
            0.0
        }
    });
    assert!(
        rows.windows(2).all(|w| w[1].1 .0 < w[0].1 .0),
        "L1 must fall with resolution"
    );
    let order = (rows[0].1 .0 / rows[2].1 .0).log2() / 2.0;
    // Discontinuities limit any scheme to order < 1 in L1 (Godunov).
    assert!(order > 0.6, "mean L1 order {order}");
    assert!(rows[2].1 .0 < 0.05, "L1 at n=200 is {}", rows[2].1 .0);
}

/// No negative mixing ratio and no new maximum above `peak` (2-D tests).
fn assert_within(m: &airshed::simulation::Simulation, peak: f64, step: usize) {
    let r = mixing_ratio_layer0(m);
    let (mn, mx) = r
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(mn >= -1e-15, "step {step}: negative mixing ratio {mn}");
    assert!(
        mx <= peak * (1.0 + 1e-12),
        "step {step}: new maximum {mx} > {peak}"
    );
}

/// Run one revolution of solid-body rotation on a 100 x 100 periodic grid,
/// checking bounds every step. Returns (L1, L2, peak ratio).
fn rotate(init: impl Fn(f64, f64) -> f64) -> (f64, f64, f64) {
    let n = 100;
    let period = 6280.0;
    let dir = tempfile::tempdir().unwrap();
    let steps = 628;
    let mut m = sim(
        &flow_case(n, "rotation", period, period / steps as f64),
        dir.path(),
    );
    set_mixing_ratio(&mut m, |i, j| init(i as f64 + 0.5, j as f64 + 0.5));
    let start = mixing_ratio_layer0(&m);
    let peak = start.iter().cloned().fold(0.0, f64::max);
    for step in 0..steps {
        m.step().unwrap();
        assert_within(&m, peak, step);
    }
    let end = mixing_ratio_layer0(&m);
    let (l1, l2, _) = norms(&end, &start);
    (l1, l2, end.iter().cloned().fold(0.0, f64::max) / peak)
}

#[test]
fn rotating_cone_keeps_its_peak() {
    // Cone of radius 15 cells, height 1, centred 25 cells from the axis.
    let (l1, l2, peak) = rotate(|x, y| (1.0 - ((x - 50.0).hypot(y - 75.0)) / 15.0).max(0.0));
    println!("rotation, cone: L1={l1:.3e} L2={l2:.3e} peak retained={peak:.3}");
    assert!(peak > 0.8, "peak retained {peak}");
    assert!(l1 < 0.1 && l2 < 0.1, "L1 {l1} L2 {l2}");
}

#[test]
fn zalesak_slotted_cylinder() {
    // Zalesak (1979), J. Comput. Phys. 31, 335: radius 15, slot 5 wide, 25 long.
    let (l1, l2, peak) = rotate(|x, y| {
        let inside = (x - 50.0).hypot(y - 75.0) < 15.0;
        let slot = (x - 50.0).abs() < 2.5 && y < 85.0;
        if inside && !slot {
            1.0
        } else {
            0.0
        }
    });
    println!("rotation, Zalesak slotted cylinder: L1={l1:.3e} L2={l2:.3e} peak retained={peak:.3}");
    assert!(peak > 0.99, "peak retained {peak}");
    assert!(l1 < 0.4 && l2 < 0.4, "L1 {l1} L2 {l2}");
}

#[test]
fn leveque_deformation_returns_the_initial_state() {
    // LeVeque (1996) swirling flow: the field deforms and returns at t = T.
    let n = 100;
    let period = 1500.0;
    let dir = tempfile::tempdir().unwrap();
    let steps = 600;
    let mut m = sim(
        &flow_case(n, "deformation", period, period / steps as f64),
        dir.path(),
    );
    // Cosine bell of radius 0.15 centred at (0.5, 0.75).
    set_mixing_ratio(&mut m, |i, j| {
        let (x, y) = ((i as f64 + 0.5) / n as f64, (j as f64 + 0.5) / n as f64);
        let r = (x - 0.5).hypot(y - 0.75) / 0.15;
        if r < 1.0 {
            0.5 * (1.0 + (PI * r).cos())
        } else {
            0.0
        }
    });
    let start = mixing_ratio_layer0(&m);
    let mass0: f64 = m.model.state.totals()[0];
    for step in 0..steps {
        m.step().unwrap();
        assert_within(&m, 1.0, step);
    }
    let end = mixing_ratio_layer0(&m);
    let (l1, l2, li) = norms(&end, &start);
    let dm = (m.model.state.totals()[0] - mass0) / mass0;
    println!("LeVeque deformation, 100x100, T=1.5 (scaled): L1={l1:.3e} L2={l2:.3e} Linf={li:.3e} mass change {dm:.1e}");
    assert!(
        l1 < 0.15 && l2 < 0.15 && li < 0.3,
        "L1 {l1} L2 {l2} Linf {li}"
    );
    assert!(dm.abs() < 1e-12);
}

/// The dispatched kernels (AVX-512 or AVX2 where the CPU has them) and the
/// baseline build perform the same IEEE operations in the same order: the
/// results must agree to the last bit, on rough data with mixed flow signs.
#[test]
fn vector_and_portable_kernels_are_bit_identical() {
    use airshed::processes::advection::{portable, ppm_line, ppm_rows, RowEnds};
    use ndarray::Array2;
    let (n, l) = (37, 23);
    let val = |a: usize, b: usize| 1.0 + ((a * 7919 + b * 104729) % 1009) as f64 / 97.0;
    let mass0 = Array2::from_shape_fn((n, l), |(p, q)| {
        val(p, q) * if (p + q) % 5 == 0 { 1e-3 } else { 1.0 }
    });
    let inv = Array2::from_shape_fn((n, l), |(p, q)| 1.0 / (0.5 + val(q, p) / 20.0));
    let flux = Array2::from_shape_fn((n + 1, l), |(p, q)| 0.3 * ((p * 3 + q) as f64).sin());
    let (lo, hi) = (vec![0.7; l], vec![1.3; l]);
    for ends in [
        RowEnds::Periodic,
        RowEnds::Open {
            low: &lo,
            high: &hi,
        },
    ] {
        let (mut a, mut b) = (mass0.clone(), mass0.clone());
        let (mut s1, mut s2) = (Scratch::default(), Scratch::default());
        let ea = ppm_rows(&mut a.view_mut(), &inv.view(), &flux.view(), ends, &mut s1);
        let eb = portable::ppm_rows(&mut b.view_mut(), &inv.view(), &flux.view(), ends, &mut s2);
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "rows kernels differ"
        );
        assert_eq!(ea, eb);
    }
    for ends in [
        LineEnds::Periodic,
        LineEnds::Open {
            low: 0.7,
            high: 1.3,
        },
    ] {
        let col = |m: &Array2<f64>| m.column(3).to_vec();
        let (mut a, mut b) = (col(&mass0), col(&mass0));
        let (inv1, fl1) = (col(&inv), flux.column(3).to_vec());
        let (mut s1, mut s2) = (Scratch::default(), Scratch::default());
        let ea = ppm_line(&mut a, &inv1, &fl1, ends, &mut s1);
        let eb = portable::ppm_line(&mut b, &inv1, &fl1, ends, &mut s2);
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "line kernels differ"
        );
        assert_eq!(ea, eb);
    }
}
