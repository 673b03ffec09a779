//! Met statistics at sites: wind rose, calms, resultant wind and mixing
//! height percentiles, on analytic meteorology with known answers.

mod common;
use common::*;

fn site_case(flow: &str, u: f64, v: f64, site_lon: f64) -> String {
    // Cartesian grid placed at 0E 0N: 40 x 40 cells of 2 km, so sites lie
    // within 0..0.72 degrees.
    format!(
        r#"
sites = [{{ name = "A", lon = {site_lon}, lat = 0.3 }}]
[run]
name = "sites"
start = "2023-01-20T00:00:00Z"
hours = 48
dt_s = 900
[grid]
projection = "cartesian"
nx = 40
ny = 40
dx = 2000.0
dy = 2000.0
layer_tops_m = [50, 200, 800]
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "{flow}"
u_ms = {u}
v_ms = {v}
pblh_day_m = 900
pblh_night_m = 250
[output]
dir = "out"
"#
    )
}

fn run_sites(text: &str) -> Result<airshed::simulation::RunSummary, airshed::Error> {
    let dir = tempfile::tempdir().unwrap();
    let c = case(text, dir.path());
    run_in(&c, dir.path())
}

#[test]
fn a_steady_north_north_easterly_fills_one_sector_of_the_rose() {
    let s = run_sites(&site_case("uniform", -1.0, -2.3, 0.3)).unwrap();
    let site = &s.sites[0];
    println!("steady wind: {site:?}");
    assert_eq!(site.samples, 48);
    assert_eq!(site.calm_fraction, 0.0);
    // From atan2(1, 2.3) = 23.5 degrees, speed 2.51 m/s: sector NNE, class 2-4.
    assert!((site.resultant_direction_deg - 23.5).abs() < 0.1);
    assert!((site.mean_speed_ms - 2.508).abs() < 1e-3);
    assert_eq!(site.wind_rose[1][1], 1.0);
    let total: f64 = site.wind_rose.iter().flatten().sum();
    assert!((total - 1.0).abs() < 1e-12);
    // Diurnal mixing height between the night and day values.
    assert!(
        (site.mixing_height_p10_m - 250.0).abs() < 1e-9,
        "{}",
        site.mixing_height_p10_m
    );
    assert!(
        site.mixing_height_p50_m >= 250.0
            && site.mixing_height_p90_m <= 900.0
            && site.mixing_height_p90_m > site.mixing_height_p50_m
    );
}

#[test]
fn calm_flow_is_all_calm() {
    let s = run_sites(&site_case("calm", 0.0, 0.0, 0.3)).unwrap();
    let site = &s.sites[0];
    assert_eq!(site.calm_fraction, 1.0);
    assert!(site.wind_rose.iter().flatten().all(|&f| f == 0.0));
}

#[test]
fn a_site_outside_the_grid_is_refused() {
    let err = run_sites(&site_case("uniform", 1.0, 0.0, 5.0)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("sites[0] (A)"), "{err}");
}
