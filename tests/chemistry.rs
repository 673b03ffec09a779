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
        &box_case(r#""SO2", "SO4""#, "oh_cm3 = 1.0e6", "2023-01-20T00:00:00Z"),
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
        t,
        0.0,
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
        t,
        0.0,
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
        t,
        0.0,
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
        t,
        0.0,
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
            t,
            0.0,
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
        278.15,
        0.0,
    );
    let summer = partition(
        Inorganic {
            nh3: 10.0 * ppb,
            hno3: 10.0 * ppb,
            ..Default::default()
        },
        1.0,
        303.15,
        0.0,
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
        &box_case(ALL, "oh_peak_cm3 = 5.0e6", "2023-01-19T16:30:00Z"),
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

#[test]
fn night_time_n2o5_turns_no2_into_nitric_acid_at_twice_the_no2_plus_o3_rate() {
    use airshed::processes::chemistry::k_no2_o3;
    let dir = tempfile::tempdir().unwrap();
    // Local midnight at 112.5 E is 16:30 UTC: six dark hours follow.
    let mut m = sim(
        &box_case(
            r#""NOX", "HNO3""#,
            "ozone_ppb = 40.0",
            "2023-01-20T16:30:00Z",
        ),
        dir.path(),
    );
    let nox0 = m.model.state.totals()[0];
    let met = m.model.met.at(0.0).unwrap();
    let (t, p) = (met.temperature[[0, 0, 0]], met.pressure[[0, 0, 0]]);
    let o3 = 40e-9 * air_number_density(p, t);
    for _ in 0..24 {
        m.step().unwrap();
    }
    let expected = nox0 * (-2.0 * k_no2_o3(t) * o3 * 6.0 * 3600.0).exp();
    let (nox, hno3) = (m.model.state.totals()[0], m.model.state.totals()[1]);
    println!(
        "night N2O5 path, O3 40 ppb at {t:.1} K: NO2 lifetime {:.1} h; NO2 after 6 h {:.4} of start (hand {:.4})",
        1.0 / (2.0 * k_no2_o3(t) * o3) / 3600.0,
        nox / nox0,
        expected / nox0
    );
    assert!((nox / expected - 1.0).abs() < 1e-12);
    // Nitrogen is conserved in moles, and the JPL value at 298 K is 3.5e-17.
    assert!(((nox0 - nox) / 46.0055 - hno3 / 63.0128).abs() < 1e-12 * nox0 / 46.0055);
    assert!((k_no2_o3(298.0) / 3.52e-17 - 1.0).abs() < 0.01);
    // By day the path is off: no NO2 loss without OH from noon with OH fixed at 0.
    let mut day = sim(
        &box_case(
            r#""NOX", "HNO3""#,
            "ozone_ppb = 40.0\noh_cm3 = 0.0",
            "2023-01-20T04:30:00Z",
        ),
        dir.path(),
    );
    let before = day.model.state.totals()[0];
    for _ in 0..8 {
        day.step().unwrap();
    }
    assert_eq!(day.model.state.totals()[0], before);
}

#[test]
fn cloud_water_oxidises_so2_by_h2o2_at_the_hand_computed_rate() {
    use airshed::processes::chemistry::k_aqueous_h2o2;
    // Reference value evaluated by hand (Python) from the cited constants:
    // 280 K, 3.75e-4 L water per m3 air, pH 4.5 -> 25870.36 m3 mol-1 s-1.
    assert!((k_aqueous_h2o2(280.0, 3.75e-4, 4.5) / 25870.36 - 1.0).abs() < 1e-6);
    // The H2O2 path hardly depends on pH: within 20 % from pH 3.5 to 5.5
    // (only through the dissolved S(IV) share and 1 + 13[H+]).
    let (acid, clean) = (
        k_aqueous_h2o2(280.0, 3.75e-4, 3.5),
        k_aqueous_h2o2(280.0, 3.75e-4, 5.5),
    );
    assert!((acid / clean - 1.0).abs() < 0.2, "{acid} {clean}");
    assert_eq!(k_aqueous_h2o2(280.0, 0.0, 4.5), 0.0);

    // A foggy night box: SO2 goes to sulfate with no OH at all. 1 ug/m3 of
    // SO2 (0.4 ppb) stays below the H2O2, so the rate law alone decides.
    let dir = tempfile::tempdir().unwrap();
    let text = box_case(
        r#""SO2", "SO4""#,
        "oh_cm3 = 0.0\nh2o2_ppb = 1.0",
        "2023-01-20T16:30:00Z",
    )
    .replace(
        "surface_temperature_k = 288.15",
        "surface_temperature_k = 288.15\ncloud_water_gkg = 0.3",
    );
    let mut m = sim(&text.replace("SO2 = 20.0", "SO2 = 1.0"), dir.path());
    let so2_0 = m.model.state.totals()[0];
    let met = m.model.met.at(0.0).unwrap();
    let (t, rho) = (met.temperature[[0, 0, 0]], met.density[[0, 0, 0]]);
    let k1 = k_aqueous_h2o2(t, 0.3e-3 * rho, 4.5) * 1e-9 * rho / 0.0289644;
    for _ in 0..4 {
        m.step().unwrap();
    }
    let expected = so2_0 * (-k1 * 3600.0).exp();
    let (so2, so4) = (m.model.state.totals()[0], m.model.state.totals()[1]);
    println!(
        "fog, 0.3 g/kg, 1 ppb H2O2, {t:.1} K: SO2 lifetime {:.1} min; after 1 h {:.4} of start (hand {:.4})",
        1.0 / k1 / 60.0,
        so2 / so2_0,
        expected / so2_0
    );
    assert!((so2 / expected - 1.0).abs() < 1e-9);
    assert!(((so2_0 - so2) / 64.066 - so4 / 96.06).abs() < 1e-12 * so2_0 / 64.066);
    // 20 ug/m3 (7.6 ppb) titrates the H2O2: one step makes exactly 1 ppb of sulfate.
    let mut rich = sim(&text, dir.path());
    rich.step().unwrap();
    let air_moles: f64 = rich.model.state.air_mass.sum() / 0.0289644;
    let made = rich.model.state.totals()[1] / 96.06e-3;
    println!(
        "titration: {:.6} ppb sulfate in one step (H2O2 1 ppb)",
        made / air_moles * 1e9
    );
    assert!((made / (1e-9 * air_moles) - 1.0).abs() < 1e-9);
    // Without liquid water nothing happens.
    let mut dry = sim(
        &box_case(
            r#""SO2", "SO4""#,
            "oh_cm3 = 0.0\nh2o2_ppb = 1.0",
            "2023-01-20T16:30:00Z",
        ),
        dir.path(),
    );
    dry.step().unwrap();
    assert_eq!(dry.model.state.totals()[1], 0.0);
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
    std::fs::write(
        dir.path().join("src.csv"),
        "city,lon,lat,radius_km,sector,species,t_per_yr,source\n\
         box,112.5,27.0,30,industrial_process,SO2,20000,test\n\
         box,112.5,27.0,30,mobile,NOX,30000,test\n\
         box,112.5,27.0,30,agriculture,NH3,15000,test\n\
         box,112.5,27.0,30,solvent_use,ARO,15000,test\n\
         box,112.5,27.0,30,residential_commercial,OC,3000,test\n",
    )
    .unwrap();
    let species = r#""SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "ARO", "SVARO1", "AARO1", "SVARO2", "AARO2", "OC""#;
    let text = box_case(
        species,
        "oh_peak_cm3 = 5.0e6\nozone_ppb = 40.0",
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
            if local >= 1 && local <= 6 {
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
        let e = partition(c, air, t, rh);
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
