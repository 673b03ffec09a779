//! Diagnostic wind model benchmark: one first guess plus mass-consistent
//! adjustment on a 200 x 200 x 20 grid (4 km, an 800 m Gaussian massif in
//! stable winter air) — the work per hour of meteorology, since the
//! diagnostic model solves once per hour and interpolates between — with
//! the vertical-line and the multigrid preconditioner back to back. Before
//! timing, it prints iterations and seconds per met hour of hour-by-hour
//! sequences (cold vertical lines, cold multigrid, warm multigrid): 24
//! regime hours on that grid, and 48 hours of the default case
//! (configs/default.toml, 55 x 71 x 14 over ETOPO5 terrain).
//!
//!     cargo bench --bench met

use airshed::config::{Case, GridSpec, MetSpec, TerrainShape, TerrainSpec};
use airshed::grid::Grid;
use airshed::met::diagnostic::{DiagnosticWind, Forcing, Preconditioner};
use airshed::met::regime::RegimeMet;
use airshed::met::terrain::Terrain;
use airshed::met::MetSource;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array3;
use std::hint::black_box;
use std::path::Path;

const TOPS: [f64; 20] = [
    30., 80., 150., 250., 400., 600., 850., 1150., 1500., 1900., 2400., 3000., 3600., 4300., 5000.,
    6000., 7000., 8000., 9000., 10000.,
];

/// Solve `hours` met hours of a regime case in order and print the
/// adjustment's iterations and seconds per hour for each solver.
fn hour_by_hour(label: &str, case: &Case, hours: usize) {
    let grid = Grid::new(&case.grid);
    let MetSpec::Regime(spec) = &case.met else {
        panic!("{label}: a regime case")
    };
    let surface = case.land_cover.as_ref().map(|lc| {
        airshed::land_cover::LandCover::load(&grid, lc)
            .unwrap()
            .surface(case.run.start.day_of_year as f64)
    });
    for (name, pre, warm) in [
        ("vertical lines, cold", Preconditioner::VerticalLines, false),
        ("multigrid, cold", Preconditioner::Multigrid, false),
        ("multigrid, warm", Preconditioner::Multigrid, true),
    ] {
        let mut met = RegimeMet::new(
            &grid,
            spec,
            case.run.start,
            case.physics.kz_min_m2s,
            hours + 1,
        )
        .unwrap()
        .with_surface(surface.clone())
        .with_solver(pre, warm);
        for h in 0..hours {
            met.at(h as f64 * 3600.0).unwrap();
        }
        let t = met.solve_totals().unwrap();
        println!(
            "{label}, {name}: {} hours, {:.1} iterations and {:.3} s per met hour",
            t.hours,
            t.iterations as f64 / t.hours as f64,
            t.seconds / t.hours as f64
        );
    }
}

fn diagnostic_wind(c: &mut Criterion) {
    let g = Grid::new(&GridSpec::cartesian(200, 200, 4000.0, &TOPS));
    let terrain = TerrainSpec::Hill(TerrainShape {
        height_m: 800.0,
        radius_km: 60.0,
        centre: None,
    });
    let mut model = DiagnosticWind::new(&g, Terrain::from_spec(&g, &terrain, 60_000.0));
    let rho = Array3::from_shape_fn((g.nz, g.ny, g.nx), |(k, _, _)| {
        1.2 * (-g.z_mid[k] / 8500.0).exp()
    });
    let forcing = Forcing {
        u10: -1.0,
        v10: -2.8,
        surface_wind: None,
        first_guess_winds: None,
        cold_pool: None,
        brunt_vaisala: 0.015,
        slope_dtheta: -3.0,
        mixing_height: 300.0,
        theta: 280.0,
        z0: 0.1,
    };
    for pre in [Preconditioner::VerticalLines, Preconditioner::Multigrid] {
        model.preconditioner = pre;
        let (_, report) = model.solve(&forcing, &rho).unwrap();
        println!("diagnostic wind 200x200x20, {pre:?}: {report:?}");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        r#"
[run]
name = "met-bench"
start = "2023-01-20T00:00:00Z"
hours = 24
dt_s = 600
[grid]
projection = "cartesian"
nx = 200
ny = 200
dx = 4000.0
dy = 4000.0
layer_tops_m = {TOPS:?}
[species]
names = ["TRACER"]
[met]
kind = "diagnostic"
regime = "winter"
terrain = {{ shape = "hill", height_m = 800.0, radius_km = 60.0 }}
[output]
dir = "out"
"#
    );
    let case = Case::from_str(&text, &dir.join("met-bench.toml")).unwrap();
    hour_by_hour("200x200x20 winter regime over a massif", &case, 24);
    let default = Case::load(&dir.join("configs/default.toml")).unwrap();
    hour_by_hour("default case 55x71x14", &default, 48);

    let mut group = c.benchmark_group("diagnostic_wind");
    group.sample_size(10);
    for (name, pre) in [
        ("vertical_lines", Preconditioner::VerticalLines),
        ("multigrid", Preconditioner::Multigrid),
    ] {
        model.preconditioner = pre;
        let model = &model;
        group.bench_function(format!("solve_200x200x20_per_met_hour/{name}"), |b| {
            b.iter(|| black_box(model.solve(&forcing, &rho).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, diagnostic_wind);
criterion_main!(benches);
