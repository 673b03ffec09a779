//! The steady plume kernel against closed forms and quadrature: the
//! centreline and crosswind profile, the mass flux through a downwind plane
//! (reflections at the ground and a lid, near the well-mixed switch, a
//! penetrated part), meander limits and flux, the terrain two-state
//! must-show, area and line sources, and determinism across thread counts.

use airshed::plume::kernel::{
    add_hour, add_sources, effective_speed, Footprint, Penetrated, PlumeHour, PlumeSpec,
    ReceptorSet, Terrain, MEANDER_TIME_SCALE_S,
};
use airshed::plume::terrain::StratifiedProfile;
use std::f64::consts::PI;
use std::sync::Arc;

/// Linear sigmas (σy, σz) = (ay x, az x).
fn linear(ay: f64, az: f64) -> impl Fn(f64) -> (f64, f64) + Sync {
    move |x: f64| (ay * x, az * x)
}

/// A point source at the origin, wind from the west (blowing to +x).
fn spec(height: f64, u: f64, zi: f64) -> PlumeSpec {
    PlumeSpec {
        x: 0.0,
        y: 0.0,
        footprint: Footprint::Point,
        base_elevation: 0.0,
        height,
        mixing_height: zi,
        penetrated: None,
        u,
        wind_dir_deg: 270.0,
        sigma_v: 0.5,
        meander: false,
        terrain: Terrain::Flat,
    }
}

fn flat_receptors(pts: &[(f64, f64, f64)]) -> ReceptorSet {
    ReceptorSet {
        x: pts.iter().map(|p| p.0).collect(),
        y: pts.iter().map(|p| p.1).collect(),
        elevation: vec![0.0; pts.len()],
        hill_height: vec![0.0; pts.len()],
        flagpole: pts.iter().map(|p| p.2).collect(),
    }
}

fn run(
    hour: &PlumeHour,
    sig: &(impl Fn(f64) -> (f64, f64) + Sync),
    rec: &ReceptorSet,
    q: f64,
) -> Vec<f64> {
    let mut out = vec![0.0; rec.len()];
    add_hour(hour, sig, rec, q, &mut out);
    out
}

/// Composite Simpson weights for n (even) intervals on [a, b].
fn simpson(a: f64, b: f64, n: usize) -> Vec<(f64, f64)> {
    assert!(n % 2 == 0);
    let h = (b - a) / n as f64;
    (0..=n)
        .map(|k| {
            let w = if k == 0 || k == n {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            (a + k as f64 * h, w * h / 3.0)
        })
        .collect()
}

/// ∫∫ u χ dy dz over the plane x = x0 (rate-normalised, kernel in µg/m³
/// per g/s so divide by 1e6), via Simpson over y in ±y_half and z in
/// [0, z_top] (split at `z_cut`, where a lid cuts a part off).
fn plane_flux_split(
    hour: &PlumeHour,
    sig: &(impl Fn(f64) -> (f64, f64) + Sync),
    x0: f64,
    y_half: f64,
    z_cut: f64,
    z_top: f64,
) -> f64 {
    let ys = simpson(-y_half, y_half, 400);
    let mut zs = simpson(0.0, z_cut, 400);
    if z_top > z_cut {
        // Just above the cut, so the point at the lid counts on its side.
        zs.extend(simpson(z_cut * (1.0 + 1e-12), z_top, 400));
    }
    let mut pts = Vec::new();
    for &(y, _) in &ys {
        for &(z, _) in &zs {
            pts.push((x0, y, z));
        }
    }
    let c = run(hour, sig, &flat_receptors(&pts), 1.0);
    let mut sum = 0.0;
    let mut k = 0;
    for &(_, wy) in &ys {
        for &(_, wz) in &zs {
            sum += wy * wz * c[k];
            k += 1;
        }
    }
    sum * hour.speed() / 1e6
}

fn plane_flux(
    hour: &PlumeHour,
    sig: &(impl Fn(f64) -> (f64, f64) + Sync),
    x0: f64,
    y_half: f64,
    z_top: f64,
) -> f64 {
    plane_flux_split(hour, sig, x0, y_half, z_top, z_top)
}

#[test]
fn centreline_and_crosswind_profile_match_the_closed_form() {
    let (h, u) = (50.0, 4.0);
    let sig = linear(0.08, 0.06);
    let hour = PlumeHour::new(&spec(h, u, f64::INFINITY)).unwrap();
    let x = 1000.0;
    let (sy, sz) = (80.0, 60.0);
    let ys = [0.0, 50.0, -120.0, 300.0];
    let pts: Vec<_> = ys
        .iter()
        .map(|&y| (x, y, 0.0))
        .chain([(x, 0.0, 30.0)])
        .collect();
    let c = run(&hour, &sig, &flat_receptors(&pts), 2.5);
    // Ground level, Q = 2.5 g/s: Q/(π u σy σz) exp(−H²/2σz²) exp(−y²/2σy²), in µg/m³.
    for (k, &y) in ys.iter().enumerate() {
        let want = 2.5e6 / (PI * u * sy * sz)
            * (-h * h / (2.0 * sz * sz)).exp()
            * (-y * y / (2.0 * sy * sy)).exp();
        assert!(
            (c[k] / want - 1.0).abs() < 1e-12,
            "y {y}: {} vs {want}",
            c[k]
        );
    }
    // At z = 30 m: Q/(2π u σy σz) [exp(−(z−H)²/2σz²) + exp(−(z+H)²/2σz²)].
    let want = 2.5e6 / (2.0 * PI * u * sy * sz)
        * ((-(20.0f64).powi(2) / (2.0 * sz * sz)).exp()
            + (-(80.0f64).powi(2) / (2.0 * sz * sz)).exp());
    assert!((c[4] / want - 1.0).abs() < 1e-12);
    // Upwind: nothing without meander.
    let up = run(&hour, &sig, &flat_receptors(&[(-500.0, 0.0, 0.0)]), 1.0);
    assert_eq!(up[0], 0.0);
}

#[test]
fn mass_flux_through_a_downwind_plane_equals_the_rate() {
    let sig = linear(0.08, 0.06);
    // (height, lid, plane x): σz = 0.06 x.
    let cases = [
        (50.0, f64::INFINITY, 1000.0),        // ground only, σz = 60
        (200.0, 800.0, 1000.0),               // ground + lid, images (σz/zi = 0.075)
        (200.0, 800.0, 5000.0),               // cosine series (0.375)
        (30.0, 0.06 * 3000.0 / 2.3, 3000.0),  // σz/zi = 2.3, just below the well-mixed switch
        (30.0, 0.06 * 3000.0 / 2.45, 3000.0), // 2.45, just above it: 1/zi
    ];
    for (h, zi, x0) in cases {
        let hour = PlumeHour::new(&spec(h, 3.0, zi)).unwrap();
        let (sy, sz) = sig(x0);
        let z_top = if zi.is_finite() { zi } else { h + 12.0 * sz };
        let f = plane_flux(&hour, &sig, x0, 12.0 * sy, z_top);
        assert!((f - 1.0).abs() < 1e-6, "h {h} zi {zi} x {x0}: flux {f}");
    }
    // A penetrated part above the lid (no lid above it) plus the direct part.
    let mut s = spec(80.0, 3.0, 400.0);
    s.penetrated = Some(Penetrated {
        fraction: 0.3,
        height: 600.0,
        lid: f64::INFINITY,
    });
    let hour = PlumeHour::new(&s).unwrap();
    let f = plane_flux_split(
        &hour,
        &sig,
        2000.0,
        12.0 * 160.0,
        400.0,
        600.0 + 12.0 * 120.0,
    );
    assert!((f - 1.0).abs() < 1e-6, "penetrated: flux {f}");
}

#[test]
fn meander_tends_to_the_radial_state_in_calm_and_to_the_plume_in_wind() {
    let sig = linear(0.1, 0.05);
    let (h, sv) = (30.0, 0.4);
    // ū = 0: ũ = √2 σv and f_r = 1: radially symmetric Q/(2π r ũ) F_z(σz(r)).
    let mut s = spec(h, effective_speed(0.0, sv), f64::INFINITY);
    s.sigma_v = sv;
    s.meander = true;
    let hour = PlumeHour::new(&s).unwrap();
    let r = 800.0;
    let pts: Vec<_> = [0.0f64, 40.0, 135.0, 180.0, 290.0]
        .iter()
        .map(|d| (r * d.to_radians().cos(), r * d.to_radians().sin(), 0.0))
        .collect();
    let c = run(&hour, &sig, &flat_receptors(&pts), 1.0);
    let sz = 0.05 * r;
    let ut = (2.0f64).sqrt() * sv;
    let want = 1e6 / (2.0 * PI * r * ut) * 2.0 * (-h * h / (2.0 * sz * sz)).exp()
        / ((2.0 * PI).sqrt() * sz);
    for v in &c {
        assert!((v / want - 1.0).abs() < 1e-12, "{v} vs {want}");
    }
    // Strong wind: within f_r of the coherent plume; upwind only f_r·random.
    let u_mean = 20.0;
    let mut s = spec(h, effective_speed(u_mean, sv), f64::INFINITY);
    s.sigma_v = sv;
    s.meander = true;
    let hour = PlumeHour::new(&s).unwrap();
    let ut = effective_speed(u_mean, sv);
    let x = 1000.0;
    let c = run(
        &hour,
        &sig,
        &flat_receptors(&[(x, 0.0, 0.0), (-x, 0.0, 0.0)]),
        1.0,
    );
    let (sy, sz) = (100.0, 50.0);
    let coherent = 1e6 / (PI * ut * sy * sz) * (-h * h / (2.0 * sz * sz)).exp();
    // f_r = (2σv² + ū²(1 − e^{−t/T_r}))/ũ², t = r/ũ, T_r = 24 h (hand formula).
    let fr = (2.0 * sv * sv + u_mean * u_mean * (1.0 - (-x / ut / 86400.0).exp())) / (ut * ut);
    assert!(fr < 2e-3);
    assert!((hour.random_fraction(x) / fr - 1.0).abs() < 1e-12);
    assert!(
        (c[0] / coherent - 1.0).abs() < 2.0 * fr,
        "{} vs {coherent}",
        c[0]
    );
    let random = 1e6 / (2.0 * PI * x * ut) * 2.0 * (-h * h / (2.0 * sz * sz)).exp()
        / ((2.0 * PI).sqrt() * sz);
    assert!((c[1] / (fr * random) - 1.0).abs() < 1e-12);
    assert_eq!(MEANDER_TIME_SCALE_S, 86400.0);
}

#[test]
fn meander_states_each_carry_the_emission_rate() {
    let sig = linear(0.1, 0.05);
    let mut s = spec(40.0, effective_speed(1.0, 0.5), 500.0);
    s.sigma_v = 0.5;
    s.meander = true;
    let hour = PlumeHour::new(&s).unwrap();
    let u = hour.speed();
    // Random state: radial flux through a cylinder r = 1500 m, lid 500 m.
    let r = 1500.0;
    let thetas = 64;
    let zs = simpson(0.0, 500.0, 400);
    let mut radial = 0.0;
    for k in 0..thetas {
        let th = 2.0 * PI * k as f64 / thetas as f64;
        for &(z, wz) in &zs {
            let (fr, random, coherent) =
                hour.components(&sig, r * th.cos(), r * th.sin(), 0.0, 0.0, z);
            // The total is the weighted sum of the two states.
            let total = hour.chi_over_q(&sig, r * th.cos(), r * th.sin(), 0.0, 0.0, z);
            assert!((total - (fr * random + (1.0 - fr) * coherent)).abs() <= 1e-15 * total.abs());
            radial += u * random * r * (2.0 * PI / thetas as f64) * wz;
        }
    }
    assert!((radial - 1.0).abs() < 1e-6, "random state flux {radial}");
    // Coherent state: flux through the plane x = 1500 m.
    let ys = simpson(-1800.0, 1800.0, 400);
    let mut plane = 0.0;
    for &(y, wy) in &ys {
        for &(z, wz) in &zs {
            let (_, _, coherent) = hour.components(&sig, 1500.0, y, 0.0, 0.0, z);
            plane += u * coherent * wy * wz;
        }
    }
    assert!((plane - 1.0).abs() < 1e-6, "coherent state flux {plane}");
}

/// Hc for uniform N and u solves ½u² = N²(H − Hc)²/2: Hc = H − u/N.
#[test]
fn dividing_streamline_of_uniform_flow_is_hill_minus_u_over_n() {
    let p = StratifiedProfile::uniform(1.5, 0.03).unwrap();
    assert!((p.dividing_streamline(400.0) - (400.0 - 50.0)).abs() < 1e-9);
    assert_eq!(p.dividing_streamline(40.0), 0.0);
}

/// Must show: in stable flow a plume below the dividing streamline
/// impinges on the hill (horizontal state, the receptor at plume height
/// sees the centreline), while one above it passes over (half weight to
/// the terrain-following state, which passes 100 m above the receptor).
#[test]
fn plume_below_the_dividing_streamline_impinges_and_above_passes_over() {
    let sig = linear(0.04, 0.005); // σz = 10 m at 2 km: a thin stable plume
    let (he, u, x) = (100.0, 2.0, 2000.0);
    // Receptor on a hill at the plume's height: elevation 100 m, hill 150 m.
    let rec = ReceptorSet {
        x: vec![x],
        y: vec![0.0],
        elevation: vec![100.0],
        hill_height: vec![150.0],
        flagpole: vec![0.0],
    };
    let conc = |profile: StratifiedProfile| {
        let mut s = spec(he, u, f64::INFINITY);
        s.terrain = Terrain::Elevated(Some(Arc::new(profile)));
        run(&PlumeHour::new(&s).unwrap(), &sig, &rec, 1.0)[0]
    };
    // Strongly stratified: Hc = 150 − 1/0.05 = 130 m, 3σz above the plume.
    let below = conc(StratifiedProfile::uniform(1.0, 0.05).unwrap());
    // Weakly stratified: Hc = 150 − 4/0.01 < 0, so 0: the plume is above it.
    let above = conc(StratifiedProfile::uniform(4.0, 0.01).unwrap());
    let (sy, sz) = (80.0, 10.0);
    // Centreline at plume height: 1/(2π u σy σz) (1 + exp(−2he²/σz²)).
    let centre = 1e6 / (2.0 * PI * u * sy * sz) * (1.0 + (-2.0 * he * he / (sz * sz)).exp());
    // φ = ½[erf((Hc − he)/√2σz) + erf((Hc + he)/√2σz)] ≈ Φ(3) = 0.99865.
    let phi = 0.998_650_1;
    let f = 0.5 * (1.0 + phi);
    assert!(
        (below / (f * centre) - 1.0).abs() < 1e-5,
        "{below} vs {}",
        f * centre
    );
    assert!(
        (above / (0.5 * centre) - 1.0).abs() < 1e-9,
        "{above} vs {}",
        0.5 * centre
    );
    assert!(
        below > 1.9 * above,
        "impinging {below} vs passing over {above}"
    );
    // Unstable/neutral hours (no profile): Hc = 0, the same as passing over.
    let mut s = spec(he, u, f64::INFINITY);
    s.terrain = Terrain::Elevated(None);
    let neutral = run(&PlumeHour::new(&s).unwrap(), &sig, &rec, 1.0)[0];
    assert!((neutral / above - 1.0).abs() < 1e-12);
    // Flat treatment: the receptor is at ground level, 100 m below the plume.
    let mut s = spec(he, u, f64::INFINITY);
    s.terrain = Terrain::Flat;
    let flat = run(&PlumeHour::new(&s).unwrap(), &sig, &rec, 1.0)[0];
    assert!(flat < 1e-15 * centre);
}

fn area_spec(footprint: Footprint, height: f64, wind: f64) -> PlumeSpec {
    PlumeSpec {
        footprint,
        wind_dir_deg: wind,
        ..spec(height, 2.0, f64::INFINITY)
    }
}

#[test]
fn area_source_converges_to_the_point_kernel_far_away() {
    let sig = |x: f64| (0.08 * x / (1.0 + 1e-4 * x).sqrt(), 0.06 * x);
    let sq = Footprint::Polygon(vec![
        (-10.0, -10.0),
        (-10.0, 10.0),
        (10.0, 10.0),
        (10.0, -10.0),
    ]);
    let area = PlumeHour::new(&area_spec(sq, 5.0, 250.0)).unwrap();
    let point = PlumeHour::new(&area_spec(Footprint::Point, 5.0, 250.0)).unwrap();
    // Downwind direction for wind from 250°: towards 70°.
    let (ex, ey) = (70f64.to_radians().sin(), 70f64.to_radians().cos());
    let pts: Vec<_> = [2000.0, 8000.0]
        .iter()
        .map(|&d| (d * ex + 30.0 * ey, d * ey - 30.0 * ex, 0.0))
        .collect();
    let rec = flat_receptors(&pts);
    let ca = run(&area, &sig, &rec, 1.0);
    let cp = run(&point, &sig, &rec, 1.0);
    for k in 0..2 {
        let rel = (ca[k] / cp[k] - 1.0).abs();
        assert!(
            rel < [2e-3, 2e-4][k],
            "{}: area {} point {} rel {rel}",
            pts[k].0,
            ca[k],
            cp[k]
        );
    }
}

#[test]
fn area_and_line_source_flux_through_a_downwind_plane_equals_the_rate() {
    let sig = linear(0.1, 0.05);
    let src = |shape| airshed::plume::sources::Source {
        name: "a".into(),
        x: 100.0,
        y: -50.0,
        elevation: 0.0,
        shape,
        rates: vec![],
    };
    let area = src(airshed::plume::sources::Shape::Area {
        x_len: 200.0,
        y_len: 100.0,
        angle_deg: 30.0,
        height: 2.0,
    });
    let line = src(airshed::plume::sources::Shape::Line {
        x_end: 400.0,
        y_end: 250.0,
        width: 12.0,
        height: 1.0,
    });
    for s in [area, line] {
        // Wind from the west: the plane x = 1500 m lies downwind of it all.
        let hour = PlumeHour::new(&area_spec(Footprint::of(&s), 2.0, 270.0)).unwrap();
        let f = plane_flux(&hour, &sig, 1500.0, 1200.0, 2.0 + 12.0 * 0.05 * 1500.0);
        assert!((f - 1.0).abs() < 1e-6, "{:?}: flux {f}", s.shape);
    }
}

/// Near the source the Gauss-Legendre panels agree with a brute-force
/// double integral of the point kernel over the area (midpoint rule,
/// 1 m cells, from 1 m upwind of the receptor).
#[test]
fn area_source_near_field_matches_brute_force_integration() {
    let sig = linear(0.1, 0.05);
    let sq = Footprint::Polygon(vec![(0.0, 0.0), (0.0, 100.0), (100.0, 100.0), (100.0, 0.0)]);
    let hour = PlumeHour::new(&area_spec(sq, 3.0, 270.0)).unwrap();
    let point = PlumeHour::new(&area_spec(Footprint::Point, 3.0, 270.0)).unwrap();
    for &(rx, ry) in &[(150.0, 50.0), (130.0, 110.0)] {
        let c = hour.chi_over_q(&sig, rx, ry, 0.0, 0.0, 0.0);
        // Sum of point kernels over 0.25 m cells (the point kernel at the
        // cell centre, source moved there).
        let n = 400;
        let d = 100.0 / n as f64;
        let mut sum = 0.0;
        for i in 0..n {
            let sx = (i as f64 + 0.5) * d;
            if rx - sx < 1.0 {
                continue;
            }
            for j in 0..n {
                let sy = (j as f64 + 0.5) * d;
                sum += point.chi_over_q(&sig, rx - sx, ry - sy, 0.0, 0.0, 0.0) * d * d;
            }
        }
        let want = sum / (100.0 * 100.0);
        assert!((c / want - 1.0).abs() < 2e-3, "({rx}, {ry}): {c} vs {want}");
    }
}

#[test]
fn results_are_identical_for_any_thread_count_and_either_entry_point() {
    let sig = linear(0.1, 0.05);
    let rec = flat_receptors(
        &(0..3000)
            .map(|k| {
                (
                    (k % 60) as f64 * 50.0 - 500.0,
                    (k / 60) as f64 * 40.0 - 1000.0,
                    0.0,
                )
            })
            .collect::<Vec<_>>(),
    );
    let hours: Vec<_> = (0..5)
        .map(|k| {
            let mut s = spec(20.0 + 10.0 * k as f64, 1.0 + k as f64, 600.0);
            s.meander = true;
            s.wind_dir_deg = 200.0 + 17.0 * k as f64;
            (
                PlumeHour::new(&s).unwrap(),
                linear(0.1, 0.05),
                1.0 + k as f64,
            )
        })
        .collect();
    let one = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut out = vec![0.0; rec.len()];
            for (h, sg, q) in &hours {
                add_hour(h, sg, &rec, *q, &mut out);
            }
            out
        })
    };
    let a = one(1);
    let b = one(3);
    let mut c = vec![0.0; rec.len()];
    add_sources(&hours, &rec, &mut c);
    assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
    assert!(a.iter().zip(&c).all(|(p, q)| p.to_bits() == q.to_bits()));
    let _ = sig;
}
