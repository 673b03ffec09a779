//! A stagnant regime over a basin and over flat ground, nothing else
//! different: the same calm synoptic wind, the same heat flux, the same
//! passive tracer source on the basin floor / the same point of the plain.
//! The basin must hold a cold pool (colder floor, shallower mixing by day)
//! and the tracer must build up more in it. Expected figures are derived
//! here from the regime's lapse rates and the slab model, not read back.
//!
//! `cargo test --release --test cold_pool -- --nocapture` prints the figures.

mod common;
use airshed::config::{TerrainShape, TerrainSpec};
use airshed::met::pbl::{ENTRAINMENT_RATIO, MIN_MIXING_HEIGHT};
use airshed::met::regime::Regime;
use airshed::met::terrain::Terrain;
use airshed::met::{CP_DRY, GRAVITY};
use common::*;

/// Hours of the run: from 18 UTC, two nights and two days (the Cartesian
/// grid sits at longitude ~0.2 E, so solar time is UTC + 0.01 h).
const HOURS: usize = 48;
const DT: f64 = 300.0;
/// The centre cell: the basin floor, and the same point of the plain.
const C: usize = 20;

struct Outcome {
    /// Surface-layer temperature (K), mixing height (m) and density (kg/m3)
    /// at the centre, and the mean surface tracer over the 5 x 5 cells around
    /// it (ug/m3), at each hour 0..=HOURS.
    t: Vec<f64>,
    h: Vec<f64>,
    rho: Vec<f64>,
    tracer: Vec<f64>,
    lon: f64,
    grid: airshed::grid::Grid,
}

fn run(terrain: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    write_city_totals(
        &dir.path().join("source.csv"),
        "town,0.18,0.18,1.5,residential_commercial,TRACER,2000,test\n",
    );
    let text = format!(
        r#"
[run]
name = "pool"
start = "2023-01-20T18:00:00Z"
hours = {HOURS}
dt_s = {DT}
[grid]
projection = "cartesian"
nx = 41
ny = 41
dx = 1000.0
dy = 1000.0
layer_tops_m = [20, 50, 100, 170, 260, 380, 540, 750, 1000, 1300, 1700, 2200]
[species]
names = ["TRACER"]
[emissions]
city_totals = ["source.csv"]
[met]
kind = "diagnostic"
regime = "stagnant"
calm_fraction = 1.0
terrain = {terrain}
[output]
dir = "out"
"#
    );
    let c = case(&text, dir.path());
    let mut s = airshed::simulation::Simulation::from_case(&c).unwrap();
    let per_hour = (3600.0 / DT) as usize;
    let mut out = Outcome {
        t: vec![],
        h: vec![],
        rho: vec![],
        tracer: vec![],
        lon: 0.0,
        grid: s.model.grid.clone(),
    };
    out.lon = out.grid.lon[[C, C]];
    for hour in 0..=HOURS {
        if hour > 0 {
            for _ in 0..per_hour {
                s.step().unwrap();
            }
        }
        let m = &s.model.met_now;
        let g = &s.model.grid;
        out.t.push(m.temperature[[0, C, C]]);
        out.h.push(m.pblh[[C, C]]);
        out.rho.push(m.density[[0, C, C]]);
        let mut sum = 0.0;
        for j in C - 2..=C + 2 {
            for i in C - 2..=C + 2 {
                sum += s.model.state.mass[[0, 0, j, i]] / g.volume(0, j, i) * 1e9;
            }
        }
        out.tracer.push(sum / 25.0);
    }
    s.model.close_budget();
    assert!(s.model.budget.worst_relative_residual() < 1e-9);
    out
}

#[test]
fn a_stagnant_basin_holds_a_cold_pool_that_shallows_mixing_and_traps_a_tracer() {
    let basin = run(r#"{ shape = "basin", height_m = 600.0, radius_km = 10.0 }"#);
    let flat = run(r#"{ shape = "flat" }"#);
    let regime = Regime::of(airshed::config::RegimeName::Stagnant);
    let (gamma_day, gamma_night) = (
        regime.lapse_day_k_per_km / 1000.0,
        regime.lapse_night_k_per_km / 1000.0,
    );
    // The pool's depth at the floor: the depth below the basin's lowest
    // pass (search radius twice the basin radius), less U/N for the calm
    // 0.3 m/s wind (the dividing streamline, Sheppard 1956).
    let spec = TerrainSpec::Basin(TerrainShape {
        height_m: 600.0,
        radius_km: 10.0,
        centre: None,
    });
    let terrain = Terrain::from_spec(&basin.grid, &spec, 20_000.0);
    assert_eq!(
        terrain.height[[C, C]],
        0.0,
        "the floor is at sea level, as the plain"
    );

    // Night: local midnight, hour 6.
    let n = 6;
    let brunt = (GRAVITY / flat.t[n] * gamma_night).sqrt();
    let depth = terrain.pool_depth[[C, C]] - 0.3 / brunt;
    // Over the plain the nocturnal inversion is the stable layer, here the
    // 50 m floor of the mixing height (calm: Zilitinkevich's height is less).
    assert_eq!(flat.h[n], MIN_MIXING_HEIGHT);
    // Both surfaces sit below the free atmosphere's profile (gradient
    // gamma_day) by (gamma_night - gamma_day) times the depth of their
    // inversion: 50 m on the plain, the pool depth in the basin.
    let expected_night = -(gamma_night - gamma_day) * (depth - MIN_MIXING_HEIGHT);
    let night = basin.t[n] - flat.t[n];
    println!(
        "midnight: floor {:.2} K, plain {:.2} K, difference {night:.2} K (expected {expected_night:.2} K from a {depth:.0} m pool); mixing heights {:.0} / {:.0} m",
        basin.t[n], flat.t[n], basin.h[n], flat.h[n]
    );

    // Day: local noon, hour 18. The heat put in since sunrise under the
    // regime's half-sine flux, and the mixed layer it grows from the floor
    // into the pool's stratification (encroachment, Carson 1973):
    // rho cp gamma_night h^2 / 2 = (1 + 2A) E (entraining slab).
    let d = 18;
    let solar = (18.0 + d as f64 + basin.lon / 15.0).rem_euclid(24.0);
    let since = solar - 6.0;
    let heat = regime.heat_flux_wm2 * 12.0 / std::f64::consts::PI
        * (1.0 - (std::f64::consts::PI * since / 12.0).cos())
        * 3600.0;
    // The regime grows mixed layers in sea-level air at the surface
    // temperature, which the plain's lowest layer (10 m, free atmosphere by
    // day) gives back: T_s = T(10 m) - (gamma_day - g/cp) 10 m.
    let z0 = 10.0;
    let t_s = flat.t[d] - (gamma_day - GRAVITY / CP_DRY) * z0;
    let rho = airshed::met::regime::SEA_LEVEL_PRESSURE / (airshed::met::R_DRY * t_s);
    let h_pool =
        (2.0 * (1.0 + 2.0 * ENTRAINMENT_RATIO) * heat / (rho * CP_DRY * gamma_night)).sqrt();
    let depth = terrain.pool_depth[[C, C]] - 0.3 / (GRAVITY / t_s * gamma_night).sqrt();
    // The pool survives the day: its heat deficit rho cp gamma_night D^2 / 2
    // exceeds the day's whole input E(sunset) (Whiteman & McKee 1982).
    let whole_day = regime.heat_flux_wm2 * 24.0 / std::f64::consts::PI * 3600.0;
    let deficit = rho * CP_DRY * gamma_night * depth * depth / 2.0;
    // Floor: the mixed layer's temperature is the pool's at h_pool less the
    // entrainment jump A gamma_night h_pool / (1 + 2A) (Tennekes 1973), so
    // that its heat gain is E; the plain follows the free atmosphere. Layer
    // 0's centre is 10 m above ground.
    let jump = ENTRAINMENT_RATIO * gamma_night * h_pool / (1.0 + 2.0 * ENTRAINMENT_RATIO);
    let expected_day = gamma_day * (depth - z0) - gamma_night * (depth - h_pool) - jump;
    let day = basin.t[d] - flat.t[d];
    println!(
        "noon: floor {:.2} K, plain {:.2} K, difference {day:.2} K (expected {expected_day:.2} K); mixing height floor {:.0} m (expected {h_pool:.0} m), plain {:.0} m",
        basin.t[d], flat.t[d], basin.h[d], flat.h[d]
    );
    for hour in 0..=HOURS {
        println!(
            "hour {hour:2}: T floor {:.2} plain {:.2} K, h floor {:.0} plain {:.0} m, tracer basin {:.1} plain {:.1} ug/m3",
            basin.t[hour], flat.t[hour], basin.h[hour], flat.h[hour], basin.tracer[hour], flat.tracer[hour]
        );
    }
    // Means over hours (a, b]: each sample is an hourly instant.
    let mean = |v: &[f64], a: usize, b: usize| v[a + 1..=b].iter().sum::<f64>() / (b - a) as f64;
    let factor = |a: usize, b: usize| mean(&basin.tracer, a, b) / mean(&flat.tracer, a, b);
    let (whole, day1, day2) = (factor(0, HOURS), factor(12, 24), factor(36, 48));
    let (night1, night2) = (factor(0, 12), factor(24, 36));
    println!(
        "tracer near the source, basin / plain: 48 h mean {whole:.2} ({:.1} / {:.1} ug/m3); nights {night1:.2}, {night2:.2}; days {day1:.2}, {day2:.2}; at hour 12 (sunrise) {:.2}, at the end {:.2}",
        mean(&basin.tracer, 0, HOURS),
        mean(&flat.tracer, 0, HOURS),
        basin.tracer[12] / flat.tracer[12],
        basin.tracer[HOURS] / flat.tracer[HOURS]
    );
    assert!(
        (night - expected_night).abs() < 0.05,
        "{night} vs {expected_night}"
    );
    assert!(deficit > whole_day, "{deficit} vs {whole_day}");
    assert!((day - expected_day).abs() < 0.05, "{day} vs {expected_day}");
    // The pool persists through the spell: the second midnight and noon
    // (same forcing) hold the same structure.
    let again = (
        basin.t[n + 24] - flat.t[n + 24],
        basin.t[d + 24] - flat.t[d + 24],
    );
    assert!((again.0 - expected_night).abs() < 0.05, "{again:?}");
    assert!((again.1 - expected_day).abs() < 0.05, "{again:?}");
    assert_eq!(basin.h[d + 24], basin.h[d]);
    assert!(
        (basin.h[d] - h_pool).abs() < 1.0,
        "{} vs {h_pool}",
        basin.h[d]
    );
    assert!(basin.h[d] < 0.5 * flat.h[d]);
    // By day the pool's capping inversion holds mixing below half the
    // plain's depth (and its winds stay cut off below the dividing
    // streamline), so the day's near-source tracer is at least twice the
    // plain's; the pool's stock carries over, so the two days together
    // outweigh the nights, when drainage into the floor lifts the tracer
    // out of the lowest layer.
    assert!(day1 > 2.0 && day2 > 2.0, "days {day1}, {day2}");
    assert!(whole > 1.0, "48 h {whole}");
}
