//! Diagnostic wind model benchmark: one first guess plus mass-consistent
//! adjustment on a 200 x 200 x 20 grid (4 km, an 800 m Gaussian massif in
//! stable winter air) — the work per hour of meteorology, since the
//! diagnostic model solves once per hour and interpolates between.
//!
//!     cargo bench --bench met

use airshed::config::{GridSpec, TerrainShape, TerrainSpec};
use airshed::grid::Grid;
use airshed::met::diagnostic::{DiagnosticWind, Forcing};
use airshed::met::terrain::Terrain;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array3;
use std::hint::black_box;

fn diagnostic_wind(c: &mut Criterion) {
    let g = Grid::new(&GridSpec::cartesian(
        200,
        200,
        4000.0,
        &[
            30., 80., 150., 250., 400., 600., 850., 1150., 1500., 1900., 2400., 3000., 3600.,
            4300., 5000., 6000., 7000., 8000., 9000., 10000.,
        ],
    ));
    let terrain = TerrainSpec::Hill(TerrainShape {
        height_m: 800.0,
        radius_km: 60.0,
        centre: None,
    });
    let model = DiagnosticWind::new(&g, Terrain::from_spec(&g, &terrain, 60_000.0));
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
    let (_, report) = model.solve(&forcing, &rho).unwrap();
    println!("diagnostic wind 200x200x20: {report:?}");
    let mut group = c.benchmark_group("diagnostic_wind");
    group.sample_size(10);
    group.bench_function("solve_200x200x20_per_met_hour", |b| {
        b.iter(|| black_box(model.solve(&forcing, &rho).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, diagnostic_wind);
criterion_main!(benches);
