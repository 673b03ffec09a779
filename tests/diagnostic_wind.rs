//! The diagnostic wind model: mass consistency, minimal adjustment, flow
//! around and over a Gaussian hill by Froude number, and a stagnant basin.

mod common;
use airshed::config::{GridSpec, MetSpec, TerrainShape, TerrainSpec};
use airshed::grid::Grid;
use airshed::met::diagnostic::{mass_divergence, DiagnosticWind, Forcing, DIVERGENCE_TOLERANCE};
use airshed::met::terrain::Terrain;
use common::*;
use ndarray::Array3;

fn cartesian(n: usize, dx: f64, tops: &[f64]) -> Grid {
    Grid::new(&GridSpec::cartesian(n, n, dx, tops))
}

const TOPS: [f64; 10] = [20., 50., 100., 170., 260., 380., 540., 750., 1000., 1300.];

fn forcing(u10: f64, n: f64) -> Forcing {
    Forcing {
        u10,
        v10: 0.0,
        surface_wind: None,
        first_guess_winds: None,
        cold_pool: None,
        brunt_vaisala: n,
        slope_dtheta: 0.0,
        mixing_height: 1000.0,
        theta: 290.0,
        z0: 0.1,
    }
}

fn density(g: &Grid) -> Array3<f64> {
    Array3::from_shape_fn((g.nz, g.ny, g.nx), |(k, _, _)| {
        1.2 * (-g.z_mid[k] / 8500.0).exp()
    })
}

fn hill(g: &Grid, height: f64, radius_km: f64) -> Terrain {
    let spec = TerrainSpec::Hill(TerrainShape {
        height_m: height,
        radius_km,
        centre: None,
    });
    Terrain::from_spec(g, &spec, 2.0 * radius_km * 1000.0)
}

#[test]
fn a_divergence_free_first_guess_over_flat_ground_is_left_exactly_alone() {
    let g = cartesian(30, 1000.0, &TOPS);
    let model = DiagnosticWind::new(&g, Terrain::from_spec(&g, &TerrainSpec::Flat, 2000.0));
    let f = forcing(3.0, 0.01);
    let first = model.first_guess(&f);
    let (adjusted, report) = model.solve(&f, &density(&g)).unwrap();
    println!("flat: {report:?}");
    assert_eq!(report.iterations, 0);
    assert_eq!(first.u_face, adjusted.u_face);
    assert_eq!(first.v_face, adjusted.v_face);
}

#[test]
fn the_adjusted_field_is_mass_consistent_to_the_stated_tolerance() {
    let g = cartesian(41, 500.0, &TOPS);
    let rho = density(&g);
    let model = DiagnosticWind::new(&g, hill(&g, 400.0, 3.0));
    for (u, n) in [(3.0, 0.02), (10.0, 0.002)] {
        let f = forcing(u, n);
        let (wind, report) = model.solve(&f, &rho).unwrap();
        let div = mass_divergence(&g, &wind, &rho);
        let worst = div.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        println!("hill, U {u} N {n}: {report:?}, recomputed {worst:e} /s");
        assert!(report.max_divergence_before > 1e-6);
        assert!(worst <= 1.01 * DIVERGENCE_TOLERANCE, "divergence {worst}");
        // Nothing crosses the lid, so the transport model's continuity-
        // diagnosed vertical flux at the top is zero too.
        assert!(wind
            .w_top
            .index_axis(ndarray::Axis(0), g.nz - 1)
            .iter()
            .all(|&w| w == 0.0));
    }
}

/// Uphill wind on the upwind slope (lowest layer, centre rows, between 2 and
/// 0.5 e-folding radii from the crest) over the upstream wind, and the
/// largest cross-flow speed / upstream speed on the upwind side.
fn over_and_around(g: &Grid, wind: &airshed::met::diagnostic::Wind, r_cells: usize) -> (f64, f64) {
    let c = g.nx / 2;
    let upstream = wind.u_face[[0, c, 1]];
    let (mut uphill, mut n) = (0.0, 0.0);
    for j in c - 1..=c + 1 {
        for i in c - 2 * r_cells..=c - r_cells / 2 {
            uphill += wind.u_face[[0, j, i]];
            n += 1.0;
        }
    }
    let mut deflection: f64 = 0.0;
    for j in c - 2 * r_cells..=c + 2 * r_cells {
        for i in c - 2 * r_cells..c {
            deflection = deflection.max(wind.v_face[[0, j, i]].abs() / upstream);
        }
    }
    (uphill / n / upstream, deflection)
}

#[test]
fn low_froude_flow_goes_around_a_gaussian_hill_and_high_froude_flow_goes_over() {
    let g = cartesian(41, 500.0, &TOPS);
    let rho = density(&g);
    let model = DiagnosticWind::new(&g, hill(&g, 400.0, 3.0));
    // Bulk Froude number U / (N H): 3 / (0.02 * 400) = 0.375 and 10 / (0.002 * 400) = 12.5.
    let (low, _) = model.solve(&forcing(3.0, 0.02), &rho).unwrap();
    let (high, _) = model.solve(&forcing(10.0, 0.002), &rho).unwrap();
    let (over_low, around_low) = over_and_around(&g, &low, 6);
    let (over_high, around_high) = over_and_around(&g, &high, 6);
    println!(
        "Fr 0.375: upslope/upstream wind {over_low:.3}, flank deflection {around_low:.3}; \
         Fr 12.5: {over_high:.3}, {around_high:.3}"
    );
    assert!(
        over_low < 0.5,
        "stable flow should not climb the slope: {over_low}"
    );
    assert!(
        around_low > 0.5,
        "stable flow should turn sideways: {around_low}"
    );
    assert!(
        over_high > 0.9,
        "neutral flow should climb the slope: {over_high}"
    );
    assert!(
        around_high < 0.2,
        "neutral flow should hardly turn: {around_high}"
    );
}

/// Mean surface tracer (ug/m3) over the 5 x 5 cells around the centre at
/// the end of a 12-hour night with a ground source there.
fn night_accumulation(met: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    write_city_totals(
        &dir.path().join("source.csv"),
        "town,0.18,0.18,1.5,residential_commercial,TRACER,2000,test\n",
    );
    let text = format!(
        r#"
[run]
name = "basin"
start = "2023-01-20T18:00:00Z"
hours = 12
dt_s = 300
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
{met}
[output]
dir = "out"
"#
    );
    let c = case(&text, dir.path());
    let mut model = airshed::simulation::Simulation::from_case(&c).unwrap();
    let steps = (12.0 * 3600.0 / 300.0) as usize;
    for _ in 0..steps {
        model.step().unwrap();
    }
    let g = &model.model.grid;
    let (c0, half) = (g.nx / 2, 2);
    let mut sum = 0.0;
    for j in c0 - half..=c0 + half {
        for i in c0 - half..=c0 + half {
            sum += model.model.state.mass[[0, 0, j, i]] / g.volume(0, j, i) * 1e9;
        }
    }
    model.model.close_budget();
    assert!(model.model.budget.worst_relative_residual() < 1e-9);
    sum / ((2 * half + 1) * (2 * half + 1)) as f64
}

#[test]
fn a_calm_basin_at_night_accumulates_far_faster_than_windy_flat_ground() {
    let basin = night_accumulation(
        r#"[met]
kind = "diagnostic"
regime = "stagnant"
calm_fraction = 1.0
terrain = { shape = "basin", height_m = 600.0, radius_km = 10.0 }"#,
    );
    let flat = night_accumulation(
        r#"[met]
kind = "analytic"
flow = "uniform"
u_ms = 3.0
pblh_day_m = 1000
pblh_night_m = 250"#,
    );
    println!("12 h night, surface tracer near the source: basin {basin:.1}, flat 3 m/s {flat:.1} ug/m3, ratio {:.1}", basin / flat);
    assert!(basin > 3.0 * flat, "ratio {}", basin / flat);
}

#[test]
fn the_regime_generator_honours_the_calm_fraction_and_says_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[run]
name = "regime"
start = "2023-01-20T00:00:00Z"
hours = 24
dt_s = 600
[grid]
projection = "cartesian"
nx = 12
ny = 12
dx = 4000.0
dy = 4000.0
layer_tops_m = [50, 150, 400, 1000]
[species]
names = ["TRACER"]
[met]
kind = "diagnostic"
regime = "winter"
calm_fraction = 0.4
seed = 7
[output]
dir = "out"
"#;
    let c = case(text, dir.path());
    let grid = Grid::new(&c.grid);
    let MetSpec::Regime(spec) = &c.met else {
        panic!("a regime case")
    };
    let met = airshed::met::regime::RegimeMet::new(&grid, spec, c.run.start, 0.1, 24).unwrap();
    use airshed::met::MetSource;
    assert!(met.synthetic() && met.description().contains("SYNTHETIC"));
    let hours = 6000;
    let winds: Vec<(f64, f64)> = (0..hours).map(|h| met.synoptic_wind(h)).collect();
    let calm = winds.iter().filter(|(u, v)| u.hypot(*v) < 0.5).count() as f64 / hours as f64;
    // Non-calm winter winds blow from the north-north-east on average.
    let (se, sn) = winds
        .iter()
        .filter(|(u, v)| u.hypot(*v) >= 0.5)
        .fold((0.0, 0.0), |(a, b), (u, v)| (a + u, b + v));
    let from = airshed::met::stats::direction_from(se, sn);
    println!("winter regime: calm fraction {calm:.3} (asked 0.4), resultant from {from:.0} deg");
    assert!((calm - 0.4).abs() < 0.05);
    assert!((from - 20.0).abs() < 10.0);
    // Same seed, same sequence.
    let again = airshed::met::regime::RegimeMet::new(&grid, spec, c.run.start, 0.1, 24).unwrap();
    assert_eq!(again.synoptic_wind(123), winds[123]);
}

#[test]
fn station_winds_are_spread_by_inverse_distance_squared_and_drive_a_run() {
    use airshed::met::stations::Stations;
    let dir = tempfile::tempdir().unwrap();
    let g = cartesian(20, 2000.0, &TOPS);
    // Stations on two cell centres: a westerly and a northerly, 3 m/s each.
    let (w, e) = (
        (g.lon[[10, 3]], g.lat[[10, 3]]),
        (g.lon[[10, 15]], g.lat[[10, 15]]),
    );
    let mut csv = String::from("hour,station,lon,lat,speed_ms,direction_deg\n");
    for h in 0..=3 {
        csv += &format!(
            "{h},west,{},{},3.0,270\n{h},east,{},{},3.0,0\n",
            w.0, w.1, e.0, e.1
        );
    }
    let path = dir.path().join("stations.csv");
    std::fs::write(&path, &csv).unwrap();
    let st = Stations::load(&path, 3).unwrap();
    let (u, v) = st.wind_field(&g, 1);
    assert!((u[[10, 3]] - 3.0).abs() < 1e-9 && v[[10, 3]].abs() < 1e-9);
    assert!(u[[10, 15]].abs() < 1e-9 && (v[[10, 15]] + 3.0).abs() < 1e-9);
    // Half-way between, equal weights: the mean of the two reports.
    assert!((u[[10, 9]] - 1.5).abs() < 1e-3 && (v[[10, 9]] + 1.5).abs() < 1e-3);
    // Bad reports are refused with the line and the column.
    std::fs::write(
        dir.path().join("bad.csv"),
        csv.replace("3.0,0\n", "3.0,400\n"),
    )
    .unwrap();
    let err = Stations::load(&dir.path().join("bad.csv"), 3)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.csv") && err.contains("direction_deg"),
        "{err}"
    );
    let err = Stations::load(&path, 5).unwrap_err().to_string();
    assert!(err.contains("hour 4"), "{err}");
    // A run driven by them closes its budget and says where its winds came from.
    let text = r#"
[run]
name = "stations"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "cartesian"
nx = 20
ny = 20
dx = 2000.0
dy = 2000.0
layer_tops_m = [20, 50, 100, 170, 260, 380, 540, 750, 1000, 1300]
[species]
names = ["SO2"]
[met]
kind = "diagnostic"
regime = "winter"
stations = "stations.csv"
terrain = { shape = "hill", height_m = 300.0, radius_km = 5.0 }
[boundary]
background_ugm3 = { SO2 = 5.0 }
initial_ugm3 = { SO2 = 5.0 }
[output]
dir = "out"
"#;
    let s = run_in(&case(text, dir.path()), dir.path()).unwrap();
    println!("station-driven run: {}", s.meteorology);
    assert!(s.meteorology.contains("station winds") && s.synthetic_meteorology);
    assert!(s.budget[0].relative_residual.abs() < 1e-9);
}

#[test]
fn terrain_can_come_from_a_netcdf_file() {
    let dir = tempfile::tempdir().unwrap();
    let g = cartesian(12, 1000.0, &TOPS);
    let path = dir.path().join("terrain.nc");
    {
        let mut f = netcdf::create(&path).unwrap();
        f.add_dimension("Time", 1).unwrap();
        f.add_dimension("south_north", 12).unwrap();
        f.add_dimension("west_east", 12).unwrap();
        let h: Vec<f64> = (0..144).map(|c| (100 + 10 * (c % 12)) as f64).collect();
        f.add_variable::<f64>("HGT", &["Time", "south_north", "west_east"])
            .unwrap()
            .put_values(&h, ..)
            .unwrap();
    }
    let t = Terrain::from_file(&g, &path, "HGT", 3000.0).unwrap();
    assert_eq!(t.height[[5, 7]], 170.0);
    // A uniform eastward rise of 10 m per 1 km cell.
    assert!((t.grad_x[[5, 7]] - 0.01).abs() < 1e-12 && t.grad_y[[5, 7]] == 0.0);
    let small = cartesian(10, 1000.0, &TOPS);
    let err = Terrain::from_file(&small, &path, "HGT", 3000.0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("terrain.nc") && err.contains("HGT") && err.contains("model grid"),
        "{err}"
    );
}

/// Largest difference between two winds' face values, m/s.
fn max_difference(a: &airshed::met::diagnostic::Wind, b: &airshed::met::diagnostic::Wind) -> f64 {
    let d = |x: &Array3<f64>, y: &Array3<f64>| {
        x.iter()
            .zip(y)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
    };
    d(&a.u_face, &b.u_face)
        .max(d(&a.v_face, &b.v_face))
        .max(d(&a.w_top, &b.w_top))
}

#[test]
fn multigrid_needs_far_fewer_iterations_than_line_preconditioning_for_the_same_wind() {
    use airshed::met::diagnostic::Preconditioner;
    // 100 x 100 columns of 2 km over a 400 m hill: the horizontal coupling
    // across the domain is what the vertical-line preconditioner leaves to
    // CG (O(n) iterations), multigrid takes it on (O(1)).
    let g = cartesian(100, 2000.0, &TOPS);
    let rho = density(&g);
    let mut model = DiagnosticWind::new(&g, hill(&g, 400.0, 20.0));
    // Stable night air (Fr = 3 / (0.02 * 400) < 1) with cooled slopes: the
    // adjustment is mostly horizontal, around the hill.
    let f = Forcing {
        slope_dtheta: -3.0,
        mixing_height: 300.0,
        ..forcing(3.0, 0.02)
    };
    model.preconditioner = Preconditioner::VerticalLines;
    let (lines, by_lines) = model.solve(&f, &rho).unwrap();
    model.preconditioner = Preconditioner::Multigrid;
    let (mg, by_mg) = model.solve(&f, &rho).unwrap();
    let diff = max_difference(&lines, &mg);
    println!(
        "100x100x10 hill: vertical lines {by_lines:?}\n  multigrid {by_mg:?}\n  largest wind difference {diff:e} m/s"
    );
    assert!(by_mg.iterations <= 20, "{}", by_mg.iterations);
    assert!(5 * by_mg.iterations <= by_lines.iterations);
    for r in [by_lines, by_mg] {
        assert!(r.max_divergence_after <= 1.01 * DIVERGENCE_TOLERANCE);
    }
    // Both meet the divergence tolerance; a residual divergence eps spread
    // over the domain's width L changes the wind by at most about eps L.
    let width = g.nx as f64 * 2000.0;
    assert!(diff < DIVERGENCE_TOLERANCE * width, "{diff}");
}

#[test]
fn the_next_hour_starts_from_the_previous_multiplier_and_gets_the_same_wind() {
    let g = cartesian(60, 2000.0, &TOPS);
    let rho = density(&g);
    let terrain = || hill(&g, 400.0, 12.0);
    let mut warm = DiagnosticWind::new(&g, terrain());
    let mut cold = DiagnosticWind::new(&g, terrain());
    cold.warm_start = false;
    let hours = [forcing(5.0, 0.01), forcing(5.3, 0.011), forcing(5.6, 0.012)];
    let (mut warm_its, mut cold_its) = (0, 0);
    for (h, f) in hours.iter().enumerate() {
        let (a, ra) = warm.solve_next(f, &rho).unwrap();
        let (b, rb) = cold.solve_next(f, &rho).unwrap();
        let diff = max_difference(&a, &b);
        println!("hour {h}: warm {ra:?}, cold {rb:?}, largest wind difference {diff:e} m/s");
        assert_eq!(ra.warm_start, h > 0);
        assert!(!rb.warm_start);
        assert!(ra.max_divergence_after <= 1.01 * DIVERGENCE_TOLERANCE);
        assert!(diff < DIVERGENCE_TOLERANCE * g.nx as f64 * 2000.0, "{diff}");
        if h > 0 {
            warm_its += ra.iterations;
            cold_its += rb.iterations;
        }
    }
    assert!(warm_its < cold_its, "warm {warm_its}, cold {cold_its}");
    assert_eq!(warm.totals.hours, 3);
    assert_eq!(warm.totals.warm_starts, 2);
}
