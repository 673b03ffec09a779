//! Secondary inorganic PM2.5: rate constants against the published
//! values, box-model behaviour, regimes, temperature dependence, element
//! budgets, and the diurnal shape.

mod common;
use airshed::processes::chemistry::{
    air_number_density, k_no2_oh, k_so2_oh, kp_nh4no3, partition, Inorganic,
};
use common::*;

#[test]
fn rate_constants_match_the_cb6r5_table_at_298_k() {
    // CMAQ CB6r5 mechanism table values at 298 K and 1 atm: R52 9.3422e-13, R45 1.0589e-11.
    let m = air_number_density(101_325.0, 298.0);
    let (so2, no2) = (k_so2_oh(298.0, m), k_no2_oh(298.0, m));
    println!("k(SO2+OH) = {so2:.4e} (table 9.3422e-13), k(NO2+OH) = {no2:.4e} (table 1.0589e-11)");
    assert!((so2 / 9.3422e-13 - 1.0).abs() < 5e-3);
    assert!((no2 / 1.0589e-11 - 1.0).abs() < 5e-3);
}

#[test]
fn kp_follows_mozurkewich_at_several_temperatures() {
    // ln Kp = 118.87 - 24084/T - 6.025 ln T, evaluated independently.
    for (t, want) in [
        (263.15, 1.974166e-3),
        (278.15, 0.1967067),
        (288.15, 3.209316),
        (298.15, 43.11401),
        (308.15, 486.1287),
    ] {
        let k = kp_nh4no3(t);
        assert!((k / want - 1.0).abs() < 1e-6, "T {t}: {k} vs {want}");
    }
}

fn box_case(species: &str, chemistry: &str, start: &str) -> String {
    let initial: Vec<&str> = [
        ("SO2", "SO2 = 20.0"),
        ("NOX", "NOX = 40.0"),
        ("NH3", "NH3 = 10.0"),
        ("O3", "O3 = 80.0"),
        ("H2O2", "H2O2 = 1.4"),
    ]
    .iter()
    .filter(|(n, _)| species.contains(&format!("\"{n}\"")))
    .map(|(_, v)| *v)
    .collect();
    let initial = initial.join(", ");
    format!(
        r#"
[run]
name = "box"
start = "{start}"
hours = 48
dt_s = 900
[grid]
projection = "latlon"
nx = 4
ny = 4
dx = 0.1
dy = 0.1
centre_lon = 112.5
centre_lat = 27.0
layer_tops_m = [500.0]
lateral = "periodic"
[species]
names = [{species}]
[met]
kind = "analytic"
flow = "calm"
surface_temperature_k = 288.15
[physics]
horizontal_kh_m2s = 0.0
vertical_diffusion = false
dry_deposition = false
wet_deposition = false
[chemistry]
{chemistry}
[boundary]
initial_ugm3 = {{ {initial} }}
[output]
dir = "out"
"#
    )
}

#[test]
fn so2_decays_with_the_lifetime_one_over_k_oh() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = sim(
        &box_case(
            r#""SO2", "SO4""#,
            "oh_cm3 = 1.0e6\nso2_uptake_gamma = 0.0",
            "2023-01-20T00:00:00Z",
        ),
        dir.path(),
    );
    let so2_0 = m.model.state.totals()[0];
    let met = m.model.met.at(0.0).unwrap();
    let (t, p) = (met.temperature[[0, 0, 0]], met.pressure[[0, 0, 0]]);
    let k = k_so2_oh(t, air_number_density(p, t));
    for _ in 0..96 {
        m.step().unwrap();
    }
    let expected = so2_0 * (-k * 1.0e6 * 86_400.0).exp();
    let got = m.model.state.totals()[0];
    println!("SO2 at OH = 1e6 cm-3: lifetime {:.2} days; after 24 h {got:.6e} kg vs exp(-k OH t) {expected:.6e}", 1.0 / (k * 1.0e6) / 86_400.0);
    assert!((got / expected - 1.0).abs() < 1e-12);
    // Sulfur is conserved: SO4 gained the SO2 lost, in moles.
    let so4 = m.model.state.totals()[1];
    assert!(((so2_0 - got) / 64.066 - so4 / 96.06).abs() < 1e-12 * so2_0 / 64.066);
}

#[test]
fn ammonia_and_nitric_acid_limited_regimes() {
    let air = 1.0; // moles of air: ppb = 1e9 x mole fraction
    let ppb = 1e-9;
    let t = 278.15; // Kp = 0.197 ppb^2
                    // Ammonia-limited: 2 ppb NH3, 20 ppb HNO3 -> nearly all NH3 into particles.
    let e = partition(
        Inorganic {
            nh3: 2.0 * ppb,
            hno3: 20.0 * ppb,
            ..Default::default()
        },
        air,
        kp_nh4no3(t),
    );
    assert!(
        e.nh3 < 0.02 * ppb && (e.no3 - (2.0 * ppb - e.nh3)).abs() < 1e-20,
        "{e:?}"
    );
    assert!(e.hno3 > 18.0 * ppb);
    // Nitric-acid-limited: the mirror image.
    let e = partition(
        Inorganic {
            nh3: 20.0 * ppb,
            hno3: 2.0 * ppb,
            ..Default::default()
        },
        air,
        kp_nh4no3(t),
    );
    assert!(e.hno3 < 0.02 * ppb && e.nh3 > 18.0 * ppb, "{e:?}");
    // Below the product Kp nothing condenses.
    let e = partition(
        Inorganic {
            nh3: 0.3 * ppb,
            hno3: 0.3 * ppb,
            ..Default::default()
        },
        air,
        kp_nh4no3(t),
    );
    assert_eq!(e.no3, 0.0);
    // Sulfate takes ammonia first: with 6 ppb sulfate, 10 ppb NH3 and 10 ppb
    // HNO3, only ~0 ppb NH3 is left for nitrate... (2 x 6 > 10).
    let e = partition(
        Inorganic {
            sulfate: 6.0 * ppb,
            nh3: 10.0 * ppb,
            hno3: 10.0 * ppb,
            ..Default::default()
        },
        air,
        kp_nh4no3(t),
    );
    assert_eq!(e.no3, 0.0);
    assert!((e.nh4 - 10.0 * ppb).abs() < 1e-20);
}

#[test]
fn nitrate_moves_to_the_gas_as_it_warms() {
    let ppb = 1e-9;
    let mut last = f64::INFINITY;
    println!("particle fraction of total nitrate, 10 ppb NH3 + 10 ppb HNO3:");
    for t in [263.15, 273.15, 283.15, 293.15, 303.15, 313.15] {
        let e = partition(
            Inorganic {
                nh3: 10.0 * ppb,
                hno3: 10.0 * ppb,
                ..Default::default()
            },
            1.0,
            kp_nh4no3(t),
        );
        let frac = e.no3 / (e.no3 + e.hno3);
        println!("  {:.0} C: {frac:.3}", t - 273.15);
        // Falls with temperature until none condenses (product below Kp).
        assert!(
            frac < last || (frac == 0.0 && last == 0.0),
            "the particle fraction must fall with temperature"
        );
        last = frac;
    }
    // Winter (5 C) keeps most nitrate in particles, summer (30 C) loses most.
    let winter = partition(
        Inorganic {
            nh3: 10.0 * ppb,
            hno3: 10.0 * ppb,
            ..Default::default()
        },
        1.0,
        kp_nh4no3(278.15),
    );
    let summer = partition(
        Inorganic {
            nh3: 10.0 * ppb,
            hno3: 10.0 * ppb,
            ..Default::default()
        },
        1.0,
        kp_nh4no3(303.15),
    );
    assert!(
        winter.no3 > 0.9 * 10.0 * ppb && summer.no3 < 0.5 * 10.0 * ppb,
        "{winter:?} {summer:?}"
    );
}

const ALL: &str = r#""SO2", "SO4", "NOX", "HNO3", "NH3", "NH4", "NO3""#;

#[test]
fn sulfur_and_nitrogen_are_conserved_through_chemistry() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = sim(
        &box_case(ALL, "oh_peak_cm3 = 8.0e6", "2023-07-01T00:00:00Z"),
        dir.path(),
    );
    let mol = |m: &airshed::simulation::Simulation, names: &[&str]| -> f64 {
        let totals = m.model.state.totals();
        names
            .iter()
            .map(|n| {
                let s = m.model.state.tracers.species_index(n).unwrap();
                totals[s] / m.model.state.tracers.species[s].molar_mass
            })
            .sum()
    };
    let sulfur = |m: &airshed::simulation::Simulation| mol(m, &["SO2", "SO4"]);
    let oxn = |m: &airshed::simulation::Simulation| mol(m, &["NOX", "HNO3", "NO3"]);
    let redn = |m: &airshed::simulation::Simulation| mol(m, &["NH3", "NH4"]);
    let (s0, o0, r0) = (sulfur(&m), oxn(&m), redn(&m));
    for _ in 0..192 {
        m.step().unwrap();
    }
    let (ds, dox, dred) = (
        (sulfur(&m) - s0) / s0,
        (oxn(&m) - o0) / o0,
        (redn(&m) - r0) / r0,
    );
    println!("closed box, 48 h: relative change of S {ds:.1e}, oxidised N {dox:.1e}, reduced N {dred:.1e}");
    assert!(ds.abs() < 1e-12 && dox.abs() < 1e-12 && dred.abs() < 1e-12);
    // Secondary mass formed, and the budget's chemistry term accounts for it.
    m.model.close_budget();
    for b in &m.model.budget.tracers {
        assert!(b.relative_residual() < 1e-12);
    }
    let so4 = m.model.state.totals()[m.model.state.tracers.species_index("SO4").unwrap()];
    assert!(so4 > 0.0);
}

#[test]
fn diurnal_box_makes_sulfate_by_day_and_nitrate_follows_temperature() {
    let dir = tempfile::tempdir().unwrap();
    // Start at local midnight (UTC+7.5 h at 112.5 E).
    let mut m = sim(
        &box_case(
            ALL,
            "oh_peak_cm3 = 5.0e6\nso2_uptake_gamma = 0.0",
            "2023-01-19T16:30:00Z",
        ),
        dir.path(),
    );
    let idx = |n: &str| m.model.state.tracers.species_index(n).unwrap();
    let (so4, no3, nh4) = (idx("SO4"), idx("NO3"), idx("NH4"));
    let mut last = m.model.state.totals();
    println!("hour  SO4 kg      NO3 kg      NH4 kg");
    let mut made_by_day = 0.0;
    for hour in 0..48 {
        for _ in 0..4 {
            m.step().unwrap();
        }
        let now = m.model.state.totals();
        let local = (hour + 1) % 24;
        let made = now[so4] - last[so4];
        println!(
            "{:>4} {:.4e} {:.4e} {:.4e}",
            hour + 1,
            now[so4],
            now[no3],
            now[nh4]
        );
        if !(7..=18).contains(&local) {
            assert!(
                made.abs() < 1e-9 * now[so4].max(1e-30),
                "hour {local}: sulfate made at night ({made})"
            );
        } else {
            made_by_day += made;
        }
        last = now;
    }
    assert!(made_by_day > 0.0);
    assert!(
        last[nh4] > 0.0 && last[no3] > 0.0,
        "ammonium nitrate forms in a cool January box"
    );
}

/// Moles of a species in the box.
fn moles_of(m: &airshed::simulation::Simulation, name: &str) -> f64 {
    let t = &m.model.state.tracers;
    let s = t.species_index(name).unwrap();
    total_of(m, |n| n == name) / (t.species[s].molar_mass * 1e-3)
}

fn fog_box(dt: u32, relaxation_hours: f64) -> String {
    box_case(
        r#""SO2", "SO4", "H2O2""#,
        &format!(
            "oh_cm3 = 0.0\nso2_uptake_gamma = 0.0\nh2o2_ppb = 1.0\nh2o2_relaxation_hours = {relaxation_hours}"
        ),
        // H2O2 is replenished by day only: the relaxation runs at local noon.
        if relaxation_hours > 0.0 {
            "2023-01-20T04:30:00Z"
        } else {
            "2023-01-20T16:30:00Z"
        },
    )
    .replace("dt_s = 900", &format!("dt_s = {dt}"))
    .replace(
        "surface_temperature_k = 288.15",
        "surface_temperature_k = 288.15\ncloud_water_gkg = 0.3",
    )
}

#[test]
fn fog_box_converts_the_same_so2_whatever_the_step_and_conserves_h2o2_plus_sulfate() {
    use airshed::processes::chemistry::k_aqueous_h2o2;
    // The rate coefficient against a hand evaluation (Python) of the cited
    // constants, with CMAQ hlconst's H_H2O2 = 8.3e4 M/atm: 280 K,
    // 3.75e-4 L water per m3 air, pH 4.5 -> 24468.34 m3 mol-1 s-1.
    assert!((k_aqueous_h2o2(280.0, 3.75e-4, 4.5) / 24468.34 - 1.0).abs() < 1e-6);
    let (acid, clean) = (
        k_aqueous_h2o2(280.0, 3.75e-4, 3.5),
        k_aqueous_h2o2(280.0, 3.75e-4, 5.5),
    );
    assert!((acid / clean - 1.0).abs() < 0.2, "{acid} {clean}");
    assert_eq!(k_aqueous_h2o2(280.0, 0.0, 4.5), 0.0);

    // The review's fog box: 0.3 g/kg water, 1 ppb H2O2, ~7 ppb SO2, 1 h.
    let dir = tempfile::tempdir().unwrap();
    let mut converted = vec![];
    for relax in [0.0, 24.0] {
        for dt in [60u32, 300, 900] {
            let mut m = sim(&fog_box(dt, relax), dir.path());
            let (so2_0, h2o2_0) = (moles_of(&m, "SO2"), moles_of(&m, "H2O2"));
            for _ in 0..3600 / dt {
                m.step().unwrap();
            }
            let (so2, so4, h2o2) = (
                moles_of(&m, "SO2"),
                moles_of(&m, "SO4"),
                moles_of(&m, "H2O2"),
            );
            let frac = 1.0 - so2 / so2_0;
            println!(
                "fog box dt {dt:>3} s, H2O2 relaxation {relax} h: {:.2} % of SO2 converted in 1 h",
                100.0 * frac
            );
            assert!(((so2_0 - so2) / so4 - 1.0).abs() < 1e-9, "sulfur");
            if relax == 0.0 {
                // Without replenishment H2O2 + sulfate formed is conserved.
                assert!(((h2o2 + so4) / h2o2_0 - 1.0).abs() < 1e-9);
                // Second implementation: RK4 in small steps of
                // d[SO2]/dt = d[H2O2]/dt = -k [SO2][H2O2].
                let met = m.model.met.at(0.0).unwrap();
                let rho = met.density[[0, 0, 0]];
                let k = k_aqueous_h2o2(met.temperature[[0, 0, 0]], 0.3e-3 * rho, 4.5);
                let vol: f64 = m.model.state.air_mass.sum() / rho;
                let (mut a, mut b) = (so2_0 / vol, h2o2_0 / vol);
                let h = 0.1;
                for _ in 0..36_000 {
                    let f = |a: f64, b: f64| -k * a * b;
                    let k1 = f(a, b);
                    let k2 = f(a + h * k1 / 2.0, b + h * k1 / 2.0);
                    let k3 = f(a + h * k2 / 2.0, b + h * k2 / 2.0);
                    let k4 = f(a + h * k3, b + h * k3);
                    let d = h * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0;
                    a += d;
                    b += d;
                }
                assert!((so2 / vol / a - 1.0).abs() < 1e-6, "{} vs {a}", so2 / vol);
            }
            converted.push(frac);
        }
    }
    // Agreement across dt = 60, 300 and 900 s within 2 % (the review found
    // 54 % at 900 s against 97-98 % at <= 300 s with H2O2 reset each step).
    for set in converted.chunks(3) {
        let (lo, hi) = set
            .iter()
            .fold((1.0f64, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        assert!(hi / lo - 1.0 < 0.02, "{set:?}");
    }
}

fn night_box(gamma: f64, so4_ugm3: f64, o3_ugm3: f64) -> String {
    box_case(
        r#""NOX", "HNO3", "O3", "N2O5", "CLNO2", "SO4""#,
        &format!("oh_cm3 = 0.0\nn2o5_gamma = {gamma}\nclno2_yield = 0.34"),
        "2023-01-20T16:30:00Z",
    )
    .replace(
        "surface_temperature_k = 288.15",
        "surface_temperature_k = 278.15\nrelative_humidity = 0.8",
    )
    .replace("O3 = 80.0", &format!("O3 = {o3_ugm3}, SO4 = {so4_ugm3}"))
}

/// Runs a night box for `hours`; returns (HNO3 moles made, model).
fn run_night(
    text: &str,
    dir: &std::path::Path,
    hours: usize,
) -> (f64, airshed::simulation::Simulation) {
    let mut m = sim(text, dir);
    for _ in 0..hours * 4 {
        m.step().unwrap();
    }
    (moles_of(&m, "HNO3"), m)
}

#[test]
fn night_box_nitrate_scales_with_gamma_and_surface_and_stops_when_ozone_is_titrated() {
    use airshed::processes::chemistry::aerosol_water::{uptake_rate, Wet};
    use airshed::processes::chemistry::k_no2_o3;
    use airshed::processes::chemistry::night::n2o5_share;
    use airshed::species::diffusivity_at;
    // The rate constants the reference below shares with the model, pinned
    // to independent values: k1(298 K) as JPL 19-5 tabulates it (3.5e-17);
    // K(NO2 + NO3 <-> N2O5) of JPL 19-5, 5.8e-27 exp(10840/T), evaluated by
    // hand (Python) at 298 K (3.641e-11) and 278.15 K (4.883e-10), and the
    // N2O5 share at 1e11 NO2 cm-3 there (0.97993). The uptake rate is
    // pinned in `chemistry::aerosol_water`'s unit tests.
    assert!((k_no2_o3(298.0) / 3.5e-17 - 1.0).abs() < 0.01);
    assert!(
        (airshed::processes::chemistry::night::k_eq_n2o5(298.0) / 3.6413e-11 - 1.0).abs() < 1e-4
    );
    assert!(
        (airshed::processes::chemistry::night::k_eq_n2o5(278.15) / 4.8827e-10 - 1.0).abs() < 1e-4
    );
    assert!((n2o5_share(278.15, 1e11) - 0.97993).abs() < 1e-5);
    let dir = tempfile::tempdir().unwrap();
    let (gamma, so4) = (0.002, 10.0);
    let (base, mut m) = run_night(&night_box(gamma, so4, 80.0), dir.path(), 3);
    let (double_gamma, _) = run_night(&night_box(2.0 * gamma, so4, 80.0), dir.path(), 3);
    let (double_area, _) = run_night(&night_box(gamma, 2.0 * so4, 80.0), dir.path(), 3);
    // Second implementation: the same rate laws integrated by RK4 in 1 s
    // steps, with the wet surface derived by hand: 10 ug/m3 of sulfate
    // (1770 kg/m3, 0.5 um) at RH 80 % with kappa 0.61 grows by
    // (1 + 0.61 x 0.8/0.2)^(1/3) = 1.5096 in diameter, so
    // S = 6 x 10e-9/1770/0.5e-6 x 1.5096^2 = 1.5449e-4 m2/m3.
    let met = m.model.met.at(0.0).unwrap();
    let (t, p, rho) = (
        met.temperature[[0, 0, 0]],
        met.pressure[[0, 0, 0]],
        met.density[[0, 0, 0]],
    );
    let s_wet = 6.0 * 10e-9 / 1770.0 / 0.5e-6 * 1.5096f64.powi(2);
    let reference = |gamma: f64, s: f64| {
        let per_ugm3 = |ug: f64, molar: f64| ug * 1e-9 / (molar * 1e-3) * 6.022e23 * 1e-6;
        let (mut no2, mut o3, mut res, mut hno3) =
            (per_ugm3(40.0, 46.0055), per_ugm3(80.0, 47.997), 0.0, 0.0);
        let k1 = k_no2_o3(t);
        // Wet particles of the hand-derived surface and 3.44 x the dry
        // volume (kappa growth); N2O5 diffusivity from the species table.
        let dry = 10e-9 / 1770.0 * s / s_wet;
        let wet = Wet {
            dry_volume: dry,
            water_volume: 2.44 * dry,
            surface: s,
        };
        let d = diffusivity_at(0.888e-5, t, p);
        let kh = uptake_rate(gamma, t, 108.01, d, &wet);
        let h = 1.0;
        for _ in 0..3 * 3600 {
            let f = |no2: f64, o3: f64, res: f64| {
                let form = k1 * no2 * o3;
                let up = kh * n2o5_share(t, no2) * res;
                (-2.0 * form, -form, form - up, (2.0 - 0.34) * up)
            };
            let a = f(no2, o3, res);
            let b = f(no2 + h * a.0 / 2.0, o3 + h * a.1 / 2.0, res + h * a.2 / 2.0);
            let c = f(no2 + h * b.0 / 2.0, o3 + h * b.1 / 2.0, res + h * b.2 / 2.0);
            let d = f(no2 + h * c.0, o3 + h * c.1, res + h * c.2);
            no2 += h * (a.0 + 2.0 * b.0 + 2.0 * c.0 + d.0) / 6.0;
            o3 += h * (a.1 + 2.0 * b.1 + 2.0 * c.1 + d.1) / 6.0;
            res += h * (a.2 + 2.0 * b.2 + 2.0 * c.2 + d.2) / 6.0;
            hno3 += h * (a.3 + 2.0 * b.3 + 2.0 * c.3 + d.3) / 6.0;
        }
        hno3
    };
    let vol = m.model.state.air_mass.sum() / rho;
    let per_box = vol * 1e6 / 6.022e23;
    let r1 = reference(gamma, s_wet) * per_box;
    println!(
        "night box, 3 h, gamma {gamma}, S {s_wet:.3e} m2/m3: HNO3 {base:.4e} mol (RK4 reference {r1:.4e}); x2 gamma {:.3}, x2 sulfate {:.3} (reference {:.3})",
        double_gamma / base,
        double_area / base,
        reference(2.0 * gamma, s_wet) / reference(gamma, s_wet)
    );
    assert!((base / r1 - 1.0).abs() < 0.03, "{base} vs {r1}");
    let r2 = reference(2.0 * gamma, s_wet) / reference(gamma, s_wet);
    assert!((double_gamma / base / r2 - 1.0).abs() < 0.03);
    assert!((double_area / base / r2 - 1.0).abs() < 0.03);
    // Titration: 2 ug/m3 of O3 (1 ppb) against 400 ug/m3 of NO2 (O3
    // lifetime ~3 h) through a 12 h winter night from 18:30 local time:
    // the nitrogen moved out of NOx is exactly 2 per O3 consumed, and the
    // nitrate stops at the 2 x O3 the ozone allowed.
    let text = night_box(0.05, 40.0, 2.0)
        .replace("NOX = 40.0", "NOX = 400.0")
        .replace("2023-01-20T16:30:00Z", "2023-01-20T10:30:00Z");
    let (_, m) = run_night(&text, dir.path(), 10);
    let o3_0 = 2e-9 * m.model.state.air_mass.sum() / rho / 47.997e-3;
    let n_moved = |m: &airshed::simulation::Simulation| {
        2.0 * moles_of(m, "N2O5") + moles_of(m, "HNO3") + moles_of(m, "CLNO2")
    };
    let o3 = moles_of(&m, "O3");
    let products = moles_of(&m, "HNO3") + moles_of(&m, "CLNO2");
    println!(
        "titration box: O3 left after 10 h {:.2e} of start; N moved {:.9} x 2 x O3 consumed; products {:.4} of 2 x O3 at start",
        o3 / o3_0,
        n_moved(&m) / (2.0 * (o3_0 - o3)),
        products / (2.0 * o3_0)
    );
    assert!(o3 < 0.05 * o3_0);
    assert!((n_moved(&m) / (2.0 * (o3_0 - o3)) - 1.0).abs() < 1e-6);
    assert!(products <= 2.0 * o3_0 && products > 0.9 * 2.0 * o3_0);
}

#[test]
fn haze_box_forms_aerosol_water_sulfate_at_the_rate_the_uptake_range_implies() {
    // RH 90 %, 50 ug/m3 of particles (20 SO4, 10 NO3, 8 NH4, 12 OC) and
    // 20 ug/m3 SO2 at night (no OH, no cloud), 278 K.
    let dir = tempfile::tempdir().unwrap();
    let text = |gamma: f64| {
        box_case(
            r#""SO2", "SO4", "NO3", "NH4", "OC""#,
            &format!("oh_cm3 = 0.0\nso2_uptake_gamma = {gamma}"),
            "2023-01-20T16:30:00Z",
        )
        .replace(
            "surface_temperature_k = 288.15",
            "surface_temperature_k = 278.15\nrelative_humidity = 0.9",
        )
        .replace(
            "SO2 = 20.0",
            "SO2 = 20.0, SO4 = 20.0, NO3 = 10.0, NH4 = 8.0, OC = 12.0",
        )
    };
    let rate = |gamma: f64| {
        let mut m = sim(&text(gamma), dir.path());
        let vol = m.model.state.air_mass.sum() / m.model.met.at(0.0).unwrap().density[[0, 0, 0]];
        let so4_0 = total_of(&m, |n| n == "SO4");
        for _ in 0..4 {
            m.step().unwrap();
        }
        (total_of(&m, |n| n == "SO4") - so4_0) / vol * 1e9
    };
    let (lo, mid, hi) = (rate(1e-5), rate(5e-5), rate(1e-4));
    // Hand estimate for the default (Python, from the module's cited
    // formulas, at the layer's 276.5 K and 982.5 hPa): organic matter
    // 1.6 x OC; dry volume 20/1770 + 10/1770 + 8/1770 + 19.2/1300 ug/m3 per
    // kg/m3 = 3.624e-11 m3/m3; water (kappa-Koehler at a_w 0.9, kappa 0.61
    // SO4/NH4, 0.67 NO3, 0.1 OM) 1.342e-10; diameter growth 1.6755; wet
    // surface 6 V g^2 / D (0.5 um inorganics, 0.3 um OC) = 1.552e-3 m2/m3;
    // volume-to-surface radius 0.329 um; D(SO2) = 1.148e-5 m2/s;
    // c(SO2) = 302.3 m/s; k = S / (a/D + 4/(c gamma)) = 5.866e-6 s-1; in
    // 1 h SO2 loses 2.090 %, i.e. 0.6266 ug/m3 of SO4.
    println!(
        "haze box (RH 90 %, 50 ug/m3, 20 ug/m3 SO2, 278 K): aerosol-water sulfate {mid:.3} ug/m3/h at gamma 5e-5; {lo:.3} at 1e-5, {hi:.3} at 1e-4"
    );
    assert!((mid / 0.6266 - 1.0).abs() < 0.01, "{mid}");
    assert!(lo < mid && mid < hi);
    // The published uptake range (1e-5 to 1e-4) spans 0.13-1.25 ug/m3/h here.
    assert!(lo > 0.1 && hi < 1.3, "{lo} {hi}");
    // Below the efflorescence humidity (dry particles) nothing forms.
    let dry = text(5e-5).replace("relative_humidity = 0.9", "relative_humidity = 0.3");
    let mut m = sim(&dry, dir.path());
    let so4_0 = total_of(&m, |n| n == "SO4");
    m.step().unwrap();
    assert_eq!(total_of(&m, |n| n == "SO4"), so4_0);
}

#[test]
fn kp_is_a_product_of_partial_pressures_so_mixing_ratios_scale_with_pressure() {
    use airshed::processes::chemistry::kp_ppb2;
    // Kp(nbar^2) = p_NH3 p_HNO3 with p_i = x_i p: at 900 hPa the ppb
    // product at equilibrium is Kp / 0.9^2 = 1.2346 Kp.
    let t = 278.15;
    assert!((kp_ppb2(t, 0.3, 0.9e5, false) / kp_nh4no3(t) - 1.0 / 0.81).abs() < 1e-12);
    let air = 1.0;
    let e = partition(
        Inorganic {
            nh3: 5e-9,
            hno3: 5e-9,
            ..Default::default()
        },
        air,
        kp_ppb2(t, 0.3, 0.9e5, false),
    );
    // Partial pressures in nbar: ppb x p/bar.
    let (p_nh3, p_hno3) = (e.nh3 * 1e9 * 0.9, e.hno3 * 1e9 * 0.9);
    assert!((p_nh3 * p_hno3 / kp_nh4no3(t) - 1.0).abs() < 1e-9);
    // The metastable branch uses the aqueous fit: above the DRH it pulls
    // nitrate in, and below it the fit exceeds the solid value and is
    // capped there (Mozurkewich's factor 1.22 at 5 C, 70 %, by hand).
    assert_eq!(kp_ppb2(t, 0.7, 1e5, true), kp_nh4no3(t));
    assert!(kp_ppb2(t, 0.9, 1e5, true) < kp_nh4no3(t));
}

/// Sum of a species' tracers whose names pass `keep`.
fn total_of(m: &airshed::simulation::Simulation, keep: impl Fn(&str) -> bool) -> f64 {
    let t = m.model.state.totals();
    (0..m.model.state.tracers.species.len())
        .filter(|&s| keep(m.model.state.tracers.species[s].name))
        .map(|s| t[m.model.state.tracers.index(s, 0)])
        .sum()
}

#[test]
fn soa_forms_from_oxidised_voc_with_the_cmaq_yields_and_partitions_as_pankow() {
    use airshed::processes::soa::{absorbing_mass, cstar, CLASSES};
    let dir = tempfile::tempdir().unwrap();
    let species = r#""TERP", "SVTRP1", "ATRP1", "SVTRP2", "ATRP2", "OC""#;
    let text = box_case(species, "oh_cm3 = 2.0e6", "2023-01-20T00:00:00Z").replace(
        "initial_ugm3 = {  }",
        "initial_ugm3 = { TERP = 20.0, OC = 4.0 }",
    );
    let mut m = sim(&text, dir.path());
    let met = m.model.met.at(0.0).unwrap();
    let (t, rho) = (met.temperature[[0, 0, 0]], met.density[[0, 0, 0]]);
    let terp0 = total_of(&m, |n| n == "TERP");
    for _ in 0..24 {
        m.step().unwrap();
    }
    let class = &CLASSES[3];
    let k = (class.k_oh)(t);
    let terp = total_of(&m, |n| n == "TERP");
    assert!((terp / (terp0 * (-k * 2.0e6 * 21_600.0).exp()) - 1.0).abs() < 1e-12);
    // Products carry alpha1 + alpha2 = 0.5935 of what reacted.
    let products = total_of(&m, |n| n.starts_with("SVTRP") || n.starts_with("ATRP"));
    let alpha = class.products[0].alpha + class.products[1].alpha;
    assert!((products / (alpha * (terp0 - terp)) - 1.0).abs() < 1e-12);
    // The particle split solves the Pankow equation with M = SOA + 1.6 OC.
    let volume: f64 = m.model.state.air_mass.sum() / rho;
    let ug = |n: &str| total_of(&m, |s| s == n) * 1e9 / volume;
    let (c1, c2) = (ug("SVTRP1") + ug("ATRP1"), ug("SVTRP2") + ug("ATRP2"));
    let cs = [cstar(&class.products[0], t), cstar(&class.products[1], t)];
    let mass = absorbing_mass(&[c1, c2], &cs, 1.6 * ug("OC"));
    let soa = ug("ATRP1") + ug("ATRP2");
    println!(
        "monoterpene SOA at {t:.1} K after 6 h at OH 2e6: {soa:.3} ug/m3 of {:.3} ug/m3 products (M {mass:.3})",
        c1 + c2
    );
    assert!((soa + 1.6 * ug("OC") - mass).abs() < 1e-6 * mass);
    assert!((ug("ATRP1") - c1 * mass / (mass + cs[0])).abs() < 1e-6 * c1);
    // Colder air holds less in the gas: more SOA from the same products.
    let cold = absorbing_mass(
        &[c1, c2],
        &[
            cstar(&class.products[0], t - 20.0),
            cstar(&class.products[1], t - 20.0),
        ],
        1.6 * ug("OC"),
    );
    assert!(cold > mass * 1.2, "cold M {cold} vs {mass}");
}

#[test]
fn a_48_hour_box_with_constant_emissions_makes_sulfate_and_soa_by_day_and_nitrate_at_night() {
    let dir = tempfile::tempdir().unwrap();
    write_city_totals(
        &dir.path().join("src.csv"),
        "box,112.5,27.0,30,industrial_process,SO2,20000,test\n\
         box,112.5,27.0,30,mobile,NOX,30000,test\n\
         box,112.5,27.0,30,agriculture,NH3,15000,test\n\
         box,112.5,27.0,30,solvent_use,ARO,15000,test\n\
         box,112.5,27.0,30,residential_commercial,OC,3000,test\n",
    );
    let species = r#""SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "ARO", "SVARO1", "AARO1", "SVARO2", "AARO2", "OC", "O3", "N2O5""#;
    let text = box_case(
        species,
        "oh_peak_cm3 = 5.0e6\nozone_ppb = 40.0\nso2_uptake_gamma = 0.0",
        "2023-01-19T16:30:00Z",
    )
    .replace(
        "[output]",
        "[emissions]\ncity_totals = [\"src.csv\"]\n[output]",
    );
    let mut m = sim(&text, dir.path());
    let series = |m: &airshed::simulation::Simulation| {
        [
            total_of(m, |n| n == "SO4"),
            total_of(m, |n| n == "NO3"),
            total_of(m, |n| n == "NH4"),
            total_of(m, |n| n.starts_with("AARO")),
            total_of(m, |n| n == "HNO3" || n == "NO3"),
            total_of(m, |n| n.starts_with("SVARO") || n.starts_with("AARO")),
        ]
    };
    let mut last = series(&m);
    let (mut night_nitrate, mut day_soa) = (0.0, 0.0);
    println!("hour   SO4 kg     NO3 kg     NH4 kg     SOA kg");
    for hour in 0..48 {
        for _ in 0..4 {
            m.step().unwrap();
        }
        let now = series(&m);
        let local = (hour + 1) % 24;
        println!(
            "{:>4} {:.4e} {:.4e} {:.4e} {:.4e}",
            hour + 1,
            now[0],
            now[1],
            now[2],
            now[3]
        );
        let daylight = (7..=18).contains(&local);
        if daylight {
            day_soa += now[5] - last[5];
        } else {
            // No OH in the dark: no new sulfate and no new organic products...
            assert!(
                now[0] - last[0] <= 1e-9 * now[0].max(1e-30),
                "sulfate at night, hour {local}"
            );
            assert!(
                now[5] - last[5] <= 1e-9 * now[5].max(1e-30),
                "SOA products at night, hour {local}"
            );
            // ...but N2O5 keeps making nitric acid and nitrate.
            if (1..=6).contains(&local) {
                night_nitrate += now[4] - last[4];
            }
        }
        last = now;
    }
    assert!(day_soa > 0.0 && night_nitrate > 0.0);
    assert!(last[3] > 0.0 && last[1] > 0.0 && last[2] > 0.0);
}

#[test]
fn above_the_drh_the_aqueous_kp_pulls_nitrate_into_humid_particles() {
    use airshed::processes::chemistry::{drh_nh4no3, kp_nh4no3_humid};
    // DRH 61.7 % at 25 C (Seinfeld & Pandis Table 10.1: 61.8 %).
    assert!((drh_nh4no3(298.15) - 0.6173).abs() < 1e-3);
    // Mozurkewich's factor, evaluated independently (Python): 0.4227 at
    // 25 C and 80 %, 0.2935 at 5 C and 90 %; the solid value below the DRH.
    let ratio = |t: f64, rh: f64| kp_nh4no3_humid(t, rh) / kp_nh4no3(t);
    assert!((ratio(298.15, 0.8) - 0.42272).abs() < 1e-4);
    assert!((ratio(278.15, 0.9) - 0.29353).abs() < 1e-4);
    assert_eq!(ratio(298.15, 0.5), 1.0);
    // At 20 C with 5 ppb each of NH3 and HNO3, humid air holds more nitrate.
    let t = 293.15;
    let air = air_number_density(101_325.0, t) * 1e6 / 6.022e23;
    let c = Inorganic {
        nh3: 5.0e-9 * air,
        hno3: 5.0e-9 * air,
        ..Default::default()
    };
    let f = |rh: f64| {
        let e = partition(c, air, kp_nh4no3_humid(t, rh));
        e.no3 / (e.no3 + e.hno3)
    };
    println!(
        "particle nitrate share at 20 C: RH 50 % {:.3}, 70 % {:.3}, 85 % {:.3}, 95 % {:.3}",
        f(0.5),
        f(0.7),
        f(0.85),
        f(0.95)
    );
    assert!(f(0.5) <= f(0.7) && f(0.7) < f(0.85) && f(0.85) < f(0.95));
}

#[test]
fn cloud_dims_the_oh_as_chang_et_al_prescribe() {
    use airshed::processes::chemistry::below_cloud_factor;
    // 0.1 kg/m2 of liquid water (tau 15) at cos(zenith) 0.6, by hand (Python):
    // tr = (5 - e^-15) / (4 + 0.42 * 15) = 0.48544, factor 1.6 tr mu = 0.46602.
    assert!((below_cloud_factor(0.1, 0.6) - 0.46602).abs() < 1e-5);
    assert_eq!(below_cloud_factor(0.0, 0.6), 1.0);
    assert!(below_cloud_factor(0.5, 0.6) < below_cloud_factor(0.1, 0.6));
}

#[test]
fn runs_report_soa_bc_oc_and_other_in_the_netcdf_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let species =
        r#""PM25", "BC", "OC", "SO2", "SO4", "TERP", "SVTRP1", "ATRP1", "SVTRP2", "ATRP2""#;
    let text = box_case(species, "oh_cm3 = 3.0e6", "2023-01-20T00:00:00Z")
        .replace(
            "initial_ugm3 = { SO2 = 20.0 }",
            "initial_ugm3 = { SO2 = 20.0, PM25 = 5.0, BC = 2.0, OC = 4.0, TERP = 20.0 }",
        )
        .replace("hours = 48", "hours = 6");
    let s = run_in(&case(&text, dir.path()), dir.path()).unwrap();
    let c = &s.pm25_composition_percent;
    println!("composition: {c:?}");
    for key in ["PM25", "BC", "OC", "SO4", "SOA"] {
        assert!(c.contains_key(key), "{key} missing from {c:?}");
    }
    assert!(c["SOA"] > 0.0 && c["SO4"] > 0.0);
    assert!((c.values().sum::<f64>() - 100.0).abs() < 1e-9);
    let f = netcdf::open(&s.output_file).unwrap();
    let read = |n: &str| -> Vec<f32> { f.variable(n).unwrap().get_values::<f32, _>(..).unwrap() };
    let (soa, a1, a2) = (read("SOA_TOTAL"), read("ATRP1"), read("ATRP2"));
    let worst = soa
        .iter()
        .zip(a1.iter().zip(&a2))
        .map(|(s, (x, y))| (s - (x + y)).abs() / s.max(1e-12))
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "SOA_TOTAL vs its products: {worst}");
}

#[test]
fn fresh_no_titrates_ozone_where_it_is_emitted_and_only_with_chemistry_on() {
    // A dark box with an NOx source and 40 ppb of O3 (no N2O5 carried, so
    // no night path): each kg of NOx (as NO2) removes 0.9 x 47.997/46.0055
    // = 0.93897 kg of O3 while O3 lasts (NO + O3 -> NO2 + O2).
    let dir = tempfile::tempdir().unwrap();
    write_city_totals(
        &dir.path().join("src.csv"),
        "box,112.5,27.0,30,mobile,NOX,3000,test\n",
    );
    let text = |chemistry: &str| {
        box_case(r#""NOX", "HNO3", "O3""#, chemistry, "2023-01-20T16:30:00Z").replace(
            "[output]",
            "[emissions]\ncity_totals = [\"src.csv\"]\n[output]",
        )
    };
    let o3_lost = |text: String| {
        let mut m = sim(&text, dir.path());
        let o3_0 = total_of(&m, |n| n == "O3");
        for _ in 0..4 {
            m.step().unwrap();
        }
        let emitted =
            m.model.budget.tracers[m.model.state.tracers.species_index("NOX").unwrap()].emitted_kg;
        (o3_0 - total_of(&m, |n| n == "O3"), emitted)
    };
    let (lost, emitted) = o3_lost(text("oh_cm3 = 0.0"));
    println!(
        "titration at emission: {lost:.4e} kg O3 per {emitted:.4e} kg NOx = {:.5} (0.9 x 47.997/46.0055 = 0.93897)",
        lost / emitted
    );
    assert!((lost / emitted - 0.93897).abs() < 1e-4);
    let (off, _) = o3_lost(text("enabled = false"));
    assert_eq!(off, 0.0);
}

#[test]
fn at_sunrise_the_reservoir_returns_nox_and_ozone_and_clno2_photolyses() {
    use airshed::processes::chemistry::cos_zenith;
    // A box from local 10:30 with 4 ug/m3 N2O5 and 3 ug/m3 ClNO2, no OH:
    // the first step returns the reservoir as 2 NO2 and 0.8 O3 per N2O5
    // (NO3 photolysis branching 0.9 / 0.1); ClNO2 decays as
    // exp(-J sum(cos SZA dt)) with J = 3e-4 s-1 at overhead sun.
    let dir = tempfile::tempdir().unwrap();
    let text = box_case(
        r#""NOX", "HNO3", "O3", "N2O5", "CLNO2""#,
        "oh_cm3 = 0.0\nozone_recovery_hours = 0.0",
        "2023-01-20T03:00:00Z",
    )
    .replace("O3 = 80.0", "O3 = 80.0, N2O5 = 4.0, CLNO2 = 3.0");
    let mut m = sim(&text, dir.path());
    let moles = |m: &airshed::simulation::Simulation, n: &str| moles_of(m, n);
    let (nox0, o30, n2o50, cl0) = (
        moles(&m, "NOX"),
        moles(&m, "O3"),
        moles(&m, "N2O5"),
        moles(&m, "CLNO2"),
    );
    // Each cell's own sun (the box spans 0.4 degrees): the expected ClNO2
    // left is the air-mass-weighted mean of exp(-J dose) over the cells.
    let g = m.model.grid.clone();
    let air = m.model.state.air_mass.clone();
    for _ in 0..4 {
        m.step().unwrap();
    }
    let (mut kept, mut total) = (0.0, 0.0);
    for ((j, i), _) in g.lat.indexed_iter() {
        let mut dose = 0.0;
        for step in 0..4 {
            let utc = 3.0 + (step as f64 + 0.5) * 0.25;
            let solar = (utc + g.lon[[j, i]] / 15.0).rem_euclid(24.0);
            dose += cos_zenith(g.lat[[j, i]], 20.0, solar).max(0.0) * 900.0;
        }
        kept += air[[0, j, i]] * (-3e-4 * dose).exp();
        total += air[[0, j, i]];
    }
    let expected = kept / total;
    let (nox, o3, n2o5, cl) = (
        moles(&m, "NOX"),
        moles(&m, "O3"),
        moles(&m, "N2O5"),
        moles(&m, "CLNO2"),
    );
    println!(
        "sunrise box: N2O5 left {n2o5:.1e}; NOx gained {:.6} x (2 N2O5 + ClNO2 lost); O3 gained {:.6} x 0.8 N2O5; ClNO2 left {:.5} (mean exp(-J dose) {:.5})",
        (nox - nox0) / (2.0 * n2o50 + cl0 - cl),
        (o3 - o30) / (0.8 * n2o50),
        cl / cl0,
        expected
    );
    assert_eq!(n2o5, 0.0);
    assert!(((nox - nox0) / (2.0 * n2o50 + cl0 - cl) - 1.0).abs() < 1e-9);
    assert!(((o3 - o30) / (0.8 * n2o50) - 1.0).abs() < 1e-9);
    assert!((cl / cl0 / expected - 1.0).abs() < 1e-9);
}
