//! Transport benchmarks on a 200 x 200 x 20 grid with 10 tracers (5 species
//! x 2 tags), plus a STREAM-style triad measured in the same run so speed can
//! be quoted against memory bandwidth. `scripts/bandwidth.sh` runs this and
//! prints the ratios.

use airshed::budget::Budget;
use airshed::config::Case;
use airshed::grid::Grid;
use airshed::met::MetFields;
use airshed::processes::advection::Advection;
use airshed::processes::{Boundary, Process, StepContext};
use airshed::run::Model;
use airshed::state::{State, TracerSet};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;

const CASE: &str = r#"
[run]
name = "bench"
start = "2023-01-20T04:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "cartesian"
nx = 200
ny = 200
dx = 4000.0
dy = 4000.0
layer_tops_m = [30, 80, 150, 250, 400, 600, 850, 1150, 1500, 1900, 2400, 3000, 3600, 4300, 5000, 6000, 7000, 8000, 9000, 10000]
[species]
names = ["PM25", "SO2", "NOX", "NH3", "VOC"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 5.0
v_ms = 3.0
pblh_day_m = 1200
pblh_night_m = 200
precip_mm_h = 0.5
[boundary]
background_ugm3 = { PM25 = 10.0, SO2 = 3.0 }
[output]
dir = "out"
"#;

pub const NX: usize = 200;
pub const NZ: usize = 20;
pub const NTRACERS: usize = 10;

/// The met at the start, middle and end of a 600 s step.
fn step_mets(m: &mut Model) -> [MetFields; 3] {
    [0.0, 300.0, 600.0].map(|t| m.met.at(t).expect("analytic met"))
}

/// One 600 s step's context (grid and boundary borrowed, not the model).
fn step_ctx<'a>(
    grid: &'a Grid,
    boundary: &'a Boundary,
    mets: &'a [MetFields; 3],
) -> StepContext<'a> {
    StepContext {
        grid,
        met_start: &mets[0],
        met_mid: &mets[1],
        met_end: &mets[2],
        dt: 600.0,
        time: 0.0,
        step_index: 0,
        boundary,
    }
}

fn bench_model() -> Model {
    let case =
        Case::from_str(CASE, std::path::Path::new("benches/bench.toml")).expect("bench case");
    let mut m = Model::from_case(&case).expect("bench model");
    let met = m.met.at(0.0).unwrap();
    let species = m.state.tracers.species.clone();
    let tracers = TracerSet {
        species,
        tags: vec!["local".into(), "regional".into()],
    };
    m.state = State::new(&m.grid, tracers, &met.density);
    // A non-uniform field so the limiter does real work.
    for ((t, k, j, i), v) in m.state.mass.indexed_iter_mut() {
        *v = 1e3 * (1.0 + ((i * 13 + j * 7 + k * 3 + t) % 17) as f64 / 4.0);
    }
    m.boundary = Boundary {
        lateral: vec![1e-8; NTRACERS],
        top: vec![1e-9; NTRACERS],
    };
    m.budget = Budget::new(&m.state.totals());
    m
}

fn transport(c: &mut Criterion) {
    let mut m = bench_model();
    let mets = step_mets(&mut m);
    let cells = (NX * NX * NZ * NTRACERS) as u64;
    let mut g = c.benchmark_group("transport_200x200x20_10tracers");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cells));
    // Each iteration advances the same state one more step: no copies timed.
    let mut state = m.state.clone();
    let ctx = step_ctx(&m.grid, &m.boundary, &mets);
    let mut advection: Vec<Box<dyn Process>> = vec![Box::new(Advection::new(0.9))];
    for (name, processes) in [
        ("advection_step", &mut advection),
        ("full_transport_step", &mut m.processes),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                for p in processes.iter_mut() {
                    p.apply(&ctx, &mut state, &mut m.budget).unwrap();
                }
                black_box(state.mass[[0, 0, 0, 0]])
            })
        });
    }
    g.finish();
}

/// STREAM triad a = b + s c over arrays far larger than cache, on all threads.
fn triad(c: &mut Criterion) {
    let n = 1 << 25; // 32 Mi doubles = 256 MiB per array
    let b: Vec<f64> = vec![1.0; n];
    let cc: Vec<f64> = vec![2.0; n];
    let mut a: Vec<f64> = vec![0.0; n];
    let mut g = c.benchmark_group("stream");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((3 * 8 * n) as u64));
    g.bench_function("triad", |bch| {
        bch.iter(|| {
            a.par_chunks_mut(1 << 16)
                .zip(b.par_chunks(1 << 16))
                .zip(cc.par_chunks(1 << 16))
                .for_each(|((a, b), c)| {
                    for i in 0..a.len() {
                        a[i] = b[i] + 3.0 * c[i];
                    }
                });
            black_box(a[7])
        })
    });
    g.finish();
}

/// Chemistry cost per cell and its share of a full step, with the default
/// case's nine species (secondary inorganic chemistry active).
fn chemistry(c: &mut Criterion) {
    let text = CASE
        .replace(
            r#"names = ["PM25", "SO2", "NOX", "NH3", "VOC"]"#,
            r#"names = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "VOC"]"#,
        )
        .replace(
            "[boundary]",
            "[boundary]\ninitial_ugm3 = { SO2 = 10.0, NOX = 30.0, NH3 = 8.0, PM25 = 30.0 }",
        );
    let case =
        Case::from_str(&text, std::path::Path::new("benches/bench.toml")).expect("bench case");
    let mut m = Model::from_case(&case).expect("bench model");
    let mets = step_mets(&mut m);
    let ctx = step_ctx(&m.grid, &m.boundary, &mets);
    let mut g = c.benchmark_group("chemistry_200x200x20_9species");
    g.sample_size(10);
    g.throughput(Throughput::Elements((NX * NX * NZ) as u64));
    let mut state = m.state.clone();
    let chem = m
        .processes
        .iter()
        .position(|p| p.name() == "chemistry")
        .expect("chemistry active");
    g.bench_function("chemistry_step", |b| {
        b.iter(|| {
            m.processes[chem]
                .apply(&ctx, &mut state, &mut m.budget)
                .unwrap();
            black_box(state.mass[[0, 0, 0, 0]])
        })
    });
    g.bench_function("full_step", |b| {
        b.iter(|| {
            for p in m.processes.iter_mut() {
                p.apply(&ctx, &mut state, &mut m.budget).unwrap();
            }
            black_box(state.mass[[0, 0, 0, 0]])
        })
    });
    g.finish();
}

criterion_group!(benches, triad, transport, chemistry);
criterion_main!(benches);
