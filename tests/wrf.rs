//! The WRF reader on files with wrfout's exact names, dimensions, staggering
//! and attributes, written by scripts/make-wrfout.py with closed-form fields
//! (see that script's notes), checked against hand-computed values.

mod common;
use airshed::config::{GridSpec, Lateral, ProjectionSpec};
use airshed::grid::Grid;
use airshed::met::wrf::{read_header, WrfMet};
use airshed::met::{MetSource, CP_DRY, GRAVITY, KARMAN};
use airshed::time::parse_start;
use common::*;
use std::path::{Path, PathBuf};

fn make_wrfout(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-wrfout.py");
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args(args)
        .status()
        .expect("python3 runs (see scripts/install-deps.sh for ncgen)");
    assert!(status.success(), "make-wrfout.py failed");
    out
}

/// The script's w levels (gaps of 40 m growing 1.6x) and mass levels.
fn wrf_mass_heights(nz: usize) -> Vec<f64> {
    let (mut zw, mut gap) = (vec![0.0], 40.0);
    for _ in 0..nz {
        zw.push(zw.last().unwrap() + gap);
        gap *= 1.6;
    }
    (0..nz).map(|k| 0.5 * (zw[k] + zw[k + 1])).collect()
}

fn lambert_grid(nx: usize, ny: usize, dx: f64, tops: &[f64]) -> Grid {
    Grid::new(&GridSpec {
        projection: ProjectionSpec::Lambert {
            truelat1: 30.0,
            truelat2: 60.0,
            stand_lon: 112.0,
            centre_lon: 113.0,
            centre_lat: 27.0,
        },
        nx,
        ny,
        dx,
        dy: dx,
        layer_tops_m: tops.to_vec(),
        lateral: Lateral::Open,
    })
}

const TOPS: [f64; 4] = [30.0, 80.0, 150.0, 250.0];

/// Model heights clipped to WRF's lowest mass level (values are held below it).
fn clipped(z: f64) -> f64 {
    z.max(wrf_mass_heights(4)[0])
}

#[test]
fn on_its_own_grid_wrf_winds_are_the_face_winds_and_fields_match_hand_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_wrfout(dir.path(), "wrfout_d01", &[]);
    let h = read_header(&path).unwrap();
    assert_eq!((h.west_east, h.south_north, h.bottom_top), (6, 5, 4));
    let grid = lambert_grid(6, 5, 12000.0, &TOPS);
    let start = parse_start("2023-01-20T00:00:00Z").unwrap();
    let mut met = WrfMet::open(&[path], &grid, start, 7200.0, 0.1).unwrap();
    assert!(met.same_grid());
    let m = met.at(0.0).unwrap();
    let mut worst: f64 = 0.0;
    for k in 0..4 {
        let z = clipped(grid.z_mid[k]);
        for j in 0..5 {
            for i in 0..=6 {
                // U is staggered in x: face i of the model is U's index i.
                let hand = 2.0 + 0.5 * i as f64 + 0.01 * z;
                worst = worst.max((m.u_face[[k, j, i]] - hand).abs());
            }
        }
        for j in 0..=5 {
            for i in 0..6 {
                let hand = -1.0 + 0.3 * j as f64 + 0.002 * z;
                worst = worst.max((m.v_face[[k, j, i]] - hand).abs());
            }
        }
        let p = 1e5 * (-z / 8000.0).exp();
        let t = (290.0 + 0.005 * z) * (p / 1e5).powf(2.0 / 7.0);
        assert!((m.pressure[[k, 2, 3]] / p - 1.0).abs() < 1e-5, "p {k}");
        assert!((m.temperature[[k, 2, 3]] - t).abs() < 1e-3, "T {k}");
        // Bolton saturation pressure by hand.
        let e = 0.005 * p / 0.627;
        let es = 611.2 * (17.67 * (t - 273.15) / (t - 273.15 + 243.5)).exp();
        assert!((m.rh[[k, 2, 3]] - (e / es).min(1.0)).abs() < 1e-4);
        assert!((m.cloud_water[[k, 1, 1]] - 1e-4).abs() < 1e-9);
        assert_eq!(m.cloud_water[[k, 2, 2]], 0.0);
    }
    println!("same-grid winds: largest error {worst:.2e} m/s");
    assert!(worst < 1e-4, "wind error {worst}");
    // Surface: rain 0.5 + 1.0 mm per hour; LU_INDEX 17 is water, 12 croplands
    // (winter SFZ0 5 cm); L from UST and HFX.
    assert!((m.precip[[3, 3]] - 1.5).abs() < 1e-5);
    assert!((m.z0[[0, 0]] - 1e-4).abs() < 1e-12);
    assert!((m.z0[[2, 2]] - 0.05).abs() < 1e-12);
    assert!((m.pblh[[2, 2]] - 800.0).abs() < 1e-3);
    let l = -m.density[[0, 2, 2]] * CP_DRY * m.temperature[[0, 2, 2]] * 0.3f64.powi(3)
        / (KARMAN * GRAVITY * 50.0);
    assert!((m.obukhov[[2, 2]] / l - 1.0).abs() < 1e-5);
    // Half an hour in, U has grown by 0.25 * 0.5.
    let half = met.at(1800.0).unwrap();
    assert!((half.u_face[[1, 2, 2]] - m.u_face[[1, 2, 2]] - 0.125).abs() < 1e-5);
}

#[test]
fn regridded_winds_are_destaggered_and_rotated_to_hand_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_wrfout(dir.path(), "wrfout_d01", &[]);
    let wrf = read_header(&path).unwrap().mass_grid();
    let start = parse_start("2023-01-20T00:00:00Z").unwrap();
    // A lat-lon model grid inside the WRF domain: its winds are earth-relative.
    let grid = Grid::new(&GridSpec {
        projection: ProjectionSpec::LatLon {
            sw_lon: 112.9,
            sw_lat: 26.93,
        },
        nx: 4,
        ny: 3,
        dx: 0.08,
        dy: 0.08,
        layer_tops_m: TOPS.to_vec(),
        lateral: Lateral::Open,
    });
    let mut met = WrfMet::open(&[path], &grid, start, 3600.0, 0.1).unwrap();
    assert!(!met.same_grid());
    let m = met.at(0.0).unwrap();
    // Cone constant of the 30/60 secant cone (Snyder 1987 eq. 15-3), by hand.
    let (p1, p2) = (30f64.to_radians(), 60f64.to_radians());
    let cone = (p1.cos() / p2.cos()).ln()
        / ((std::f64::consts::FRAC_PI_4 + p2 / 2.0).tan()
            / (std::f64::consts::FRAC_PI_4 + p1 / 2.0).tan())
        .ln();
    let mut worst: f64 = 0.0;
    for k in 0..4 {
        let z = clipped(grid.z_mid[k]);
        for j in 0..3 {
            for i in 0..=4 {
                let (lon, lat) = grid.lonlat_at(i as f64 - 0.5, j as f64);
                let (wi, wj) = wrf.index_of(lon, lat);
                // Destaggered: mass point wi lies between U points wi and wi + 1.
                let u = 2.0 + 0.5 * (wi + 0.5) + 0.01 * z;
                let v = -1.0 + 0.3 * (wj + 0.5) + 0.002 * z;
                let a = (cone * (lon - 112.0)).to_radians();
                let east = u * a.cos() + v * a.sin();
                worst = worst.max((m.u_face[[k, j, i]] - east).abs());
            }
        }
    }
    println!("regridded, rotated winds: largest error {worst:.2e} m/s (cone {cone:.5})");
    assert!(worst < 2e-3, "error {worst}");
}

#[test]
fn missing_variables_and_unsupported_projections_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let grid = lambert_grid(6, 5, 12000.0, &TOPS);
    let start = parse_start("2023-01-20T00:00:00Z").unwrap();
    let no_q = make_wrfout(dir.path(), "no_q.nc", &["--drop", "QVAPOR"]);
    let err = WrfMet::open(&[no_q], &grid, start, 3600.0, 0.1)
        .err()
        .unwrap();
    let text = err.to_string();
    println!("{text}");
    assert!(text.contains("no_q.nc") && text.contains("QVAPOR") && err.exit_code() == 3);
    let merc = make_wrfout(dir.path(), "merc.nc", &["--map-proj", "3"]);
    let text = WrfMet::open(&[merc], &grid, start, 3600.0, 0.1)
        .err()
        .unwrap()
        .to_string();
    println!("{text}");
    assert!(text.contains("MAP_PROJ") && text.contains("Mercator"));
    let short = make_wrfout(dir.path(), "short.nc", &["--times", "2"]);
    let text = WrfMet::open(&[short], &grid, start, 7200.0, 0.1)
        .err()
        .unwrap()
        .to_string();
    assert!(
        text.contains("Times") && text.contains("covering the run"),
        "{text}"
    );
}

#[test]
fn a_case_runs_on_wrf_meteorology_with_a_closed_budget() {
    let dir = tempfile::tempdir().unwrap();
    make_wrfout(
        dir.path(),
        "wrfout_d01_2023-01-20_00:00:00",
        &["--times", "4"],
    );
    let text = r#"
[run]
name = "wrf"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "lambert"
truelat1 = 30.0
truelat2 = 60.0
stand_lon = 112.0
centre_lon = 113.0
centre_lat = 27.0
nx = 6
ny = 5
dx = 12000.0
dy = 12000.0
layer_tops_m = [30, 80, 150, 250]
[species]
names = ["SO2"]
[met]
kind = "wrf"
files = ["wrfout_d01_2023-01-20_00:00:00"]
[boundary]
background_ugm3 = { SO2 = 5.0 }
initial_ugm3 = { SO2 = 5.0 }
[output]
dir = "out"
"#;
    let c = case(text, dir.path());
    let s = run_in(&c, dir.path()).unwrap();
    assert!(!s.synthetic_meteorology && s.meteorology.contains("WRF"));
    let b = &s.budget[0];
    println!(
        "WRF-driven run: relative residual {:e}",
        b.relative_residual
    );
    assert!(b.relative_residual.abs() < 1e-9);
}
