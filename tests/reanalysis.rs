//! Coarse lat-lon meteorology regridded to a Lambert model grid: winds
//! interpolated and rotated, thermodynamics interpolated, checked against
//! hand values of closed-form fields.

mod common;
use airshed::config::{GridSpec, Lateral, ProjectionSpec};
use airshed::grid::Grid;
use airshed::met::reanalysis::ReanalysisMet;
use airshed::met::MetSource;
use std::path::Path;

/// The run start the files' times count from.
fn start() -> airshed::time::StartTime {
    airshed::time::parse_start("2023-01-20T00:00:00Z").unwrap()
}

const HEIGHTS: [f64; 5] = [10.0, 100.0, 500.0, 1500.0, 3000.0];

/// u = 2 + 0.3 (lon - 110) + 0.002 z + 0.5 t_h, v = -1 + 0.2 (lat - 24),
/// T = 290 - 0.0065 z, p = 1e5 exp(-z / 8000); latitudes stored north to south.
fn write(path: &Path, lon0: f64) {
    let mut f = netcdf::create(path).unwrap();
    let (lons, lats): (Vec<f64>, Vec<f64>) = (
        (0..13).map(|i| lon0 + 0.5 * i as f64).collect(),
        (0..13).map(|j| 30.0 - 0.5 * j as f64).collect(),
    );
    for (n, len) in [("time", 2), ("level", 5), ("lat", 13), ("lon", 13)] {
        f.add_dimension(n, len).unwrap();
    }
    let mut put1 = |name: &str, dim: &str, v: &[f64]| {
        f.add_variable::<f64>(name, &[dim])
            .unwrap()
            .put_values(v, ..)
            .unwrap();
    };
    put1("time", "time", &[0.0, 3.0]);
    put1("lon", "lon", &lons);
    put1("lat", "lat", &lats);
    put1("height", "level", &HEIGHTS);
    let field = |fun: &dyn Fn(f64, f64, f64, f64) -> f64| {
        let mut out = Vec::new();
        for t in [0.0, 3.0] {
            for z in HEIGHTS {
                for lat in &lats {
                    for lon in &lons {
                        out.push(fun(t, z, *lat, *lon));
                    }
                }
            }
        }
        out
    };
    let d4 = ["time", "level", "lat", "lon"];
    for (name, vals) in [
        (
            "u",
            field(&|t, z, _, lon| 2.0 + 0.3 * (lon - 110.0) + 0.002 * z + 0.5 * t),
        ),
        ("v", field(&|_, _, lat, _| -1.0 + 0.2 * (lat - 24.0))),
        ("temperature", field(&|_, z, _, _| 290.0 - 0.0065 * z)),
        ("pressure", field(&|_, z, _, _| 1e5 * (-z / 8000.0).exp())),
    ] {
        f.add_variable::<f64>(name, &d4)
            .unwrap()
            .put_values(&vals, ..)
            .unwrap();
    }
    f.add_variable::<f64>("sensible_heat_flux", &["time", "lat", "lon"])
        .unwrap()
        .put_values(&vec![100.0; 2 * 13 * 13], ..)
        .unwrap();
}

fn lambert(centre_lon: f64) -> Grid {
    Grid::new(&GridSpec {
        projection: ProjectionSpec::Lambert {
            truelat1: 25.0,
            truelat2: 40.0,
            stand_lon: 110.0,
            centre_lon,
            centre_lat: 27.0,
        },
        nx: 10,
        ny: 8,
        dx: 20000.0,
        dy: 20000.0,
        layer_tops_m: vec![30.0, 80.0, 150.0, 400.0],
        lateral: Lateral::Open,
    })
}

#[test]
fn lat_lon_winds_are_interpolated_and_rotated_into_a_lambert_grid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("era.nc");
    write(&path, 110.0);
    let g = lambert(113.0);
    let mut met = ReanalysisMet::open(&path, &g, start(), 0.1, 3.0 * 3600.0).unwrap();
    let m = met.at(0.0).unwrap();
    // Cone constant of the 25/40 secant cone (Snyder 1987 eq. 15-3), by hand.
    let (p1, p2) = (25f64.to_radians(), 40f64.to_radians());
    let q = std::f64::consts::FRAC_PI_4;
    let cone = (p1.cos() / p2.cos()).ln() / ((q + p2 / 2.0).tan() / (q + p1 / 2.0).tan()).ln();
    let mut worst: f64 = 0.0;
    for k in 0..4 {
        let z = g.z_mid[k];
        for j in 0..8 {
            for i in 0..=10 {
                let (lon, lat) = g.lonlat_at(i as f64 - 0.5, j as f64);
                let (e, n) = (
                    2.0 + 0.3 * (lon - 110.0) + 0.002 * z,
                    -1.0 + 0.2 * (lat - 24.0),
                );
                let a = (cone * (lon - 110.0)).to_radians();
                let u = e * a.cos() - n * a.sin();
                worst = worst.max((m.u_face[[k, j, i]] - u).abs());
            }
        }
        let p = 1e5 * (-z / 8000.0).exp();
        assert!((m.pressure[[k, 3, 4]] / p - 1.0).abs() < 1e-9);
        assert!((m.temperature[[k, 3, 4]] - (290.0 - 0.0065 * z)).abs() < 1e-9);
    }
    println!("reanalysis regrid: largest face-wind error {worst:.2e} m/s (cone {cone:.5})");
    assert!(worst < 1e-6, "{worst}");
    // No PBLH or u* in the file: both come from the profile and similarity.
    assert!(m.pblh.iter().all(|&h| h >= 50.0) && m.ustar.iter().all(|&u| u > 0.01));
    // Half-way in time, u has grown by 0.75 m/s east (rotated).
    let later = met.at(1.5 * 3600.0).unwrap();
    let (lon, _) = g.lonlat_at(3.5, 2.0);
    let a = (cone * (lon - 110.0)).to_radians();
    assert!((later.u_face[[1, 2, 4]] - m.u_face[[1, 2, 4]] - 0.75 * a.cos()).abs() < 1e-9);
}

#[test]
fn a_model_domain_outside_the_source_grid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("era.nc");
    write(&path, 110.0);
    let err = ReanalysisMet::open(&path, &lambert(117.0), start(), 0.1, 3600.0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("era.nc") && err.contains("enclosing the model domain"),
        "{err}"
    );
}

#[test]
fn coarse_winds_can_be_re_diagnosed_over_the_model_terrain() {
    use airshed::met::adjusted::TerrainAdjustedMet;
    use airshed::met::diagnostic::DIVERGENCE_TOLERANCE;
    use airshed::met::terrain::Terrain;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("era.nc");
    write(&path, 110.0);
    let g = lambert(113.0);
    let hill = airshed::config::TerrainSpec::Hill(airshed::config::TerrainShape {
        height_m: 600.0,
        radius_km: 30.0,
        centre: None,
    });
    let coarse = ReanalysisMet::open(&path, &g, start(), 0.1, 3.0 * 3600.0).unwrap();
    let plain = ReanalysisMet::open(&path, &g, start(), 0.1, 3.0 * 3600.0)
        .unwrap()
        .at(0.0)
        .unwrap();
    let terrain = Terrain::build(&g, &hill).unwrap();
    let mut met = TerrainAdjustedMet::new(coarse, &g, terrain);
    let m = met.at(0.0).unwrap();
    let r = met.last_report;
    println!("coarse winds over a 600 m hill: {r:?}");
    assert!(
        r.max_divergence_after <= DIVERGENCE_TOLERANCE
            && r.max_divergence_before > r.max_divergence_after
    );
    assert!(!met.synthetic() && met.description().contains("re-diagnosed"));
    // Thermodynamics are the coarse data's; winds change near the hill.
    assert_eq!(m.temperature, plain.temperature);
    let change = m
        .u_face
        .iter()
        .zip(plain.u_face.iter())
        .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
    assert!(change > 0.1, "largest change {change}");
}

#[test]
fn cases_run_on_coarse_met_directly_and_re_diagnosed_over_terrain() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("era.nc"), 110.0);
    for met in [
        "kind = \"reanalysis\"\nfile = \"era.nc\"",
        "kind = \"diagnostic\"\nfile = \"era.nc\"\nterrain = { shape = \"hill\", height_m = 600.0, radius_km = 30.0 }",
    ] {
        let text = format!(
            r#"
[run]
name = "coarse"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "lambert"
truelat1 = 25.0
truelat2 = 40.0
stand_lon = 110.0
centre_lon = 113.0
centre_lat = 27.0
nx = 10
ny = 8
dx = 20000.0
dy = 20000.0
layer_tops_m = [30, 80, 150, 400]
[species]
names = ["SO2"]
[met]
{met}
[boundary]
background_ugm3 = {{ SO2 = 5.0 }}
initial_ugm3 = {{ SO2 = 5.0 }}
[output]
dir = "out"
"#
        );
        let s = common::run_in(&common::case(&text, dir.path()), dir.path()).unwrap();
        println!("{}: residual {:e}", s.meteorology, s.budget[0].relative_residual);
        assert!(!s.synthetic_meteorology);
        assert!(s.budget[0].relative_residual.abs() < 1e-9);
    }
    // Coarse winds and a regime together are refused.
    let text = "[run]\nname = \"x\"\nstart = \"2023-01-20T00:00:00Z\"\nhours = 1\ndt_s = 600\n[grid]\nprojection = \"cartesian\"\nnx = 4\nny = 4\ndx = 1000.0\ndy = 1000.0\nlayer_tops_m = [50]\n[species]\nnames = [\"SO2\"]\n[met]\nkind = \"diagnostic\"\nfile = \"era.nc\"\nregime = \"winter\"\n[output]\ndir = \"out\"\n";
    let err = airshed::config::Case::from_str(text, &dir.path().join("case.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("met.file") && err.contains("not both"),
        "{err}"
    );
}
