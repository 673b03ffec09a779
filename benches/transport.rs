//! Transport benchmarks on a 200 x 200 x 20 grid with 10 tracers (10
//! untagged species), plus a STREAM-style triad measured in the same run so speed can
//! be quoted against memory bandwidth, and each process of the full
//! transport step alone (`process_*`). `scripts/bandwidth.sh` runs this and
//! prints every step's share of the one-pass bound (16 B per cell-tracer).

use airshed::budget::Budget;
use airshed::config::Case;
use airshed::parallel::Serial;
use airshed::processes::advection::{
    face_weights_line, face_weights_rows, ppm_line_weighted, ppm_rows_weighted, LineEnds, PpmEdges,
    RowEnds, Scratch,
};
use airshed::processes::Boundary;
use airshed::simulation::Simulation;
use airshed::state::TracerSet;
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
names = ["PM25", "BC", "OC", "SO2", "NOX", "HNO3", "NH3", "SO4", "NO3", "VOC"]
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

/// Switch every process but the transport ones off (chemistry has its own
/// group below; before issue 10 it ran inside the transport group too).
const ADVECTION_ONLY: &str = "[physics]
vertical_diffusion = false
horizontal_kh_m2s = 0.0
dry_deposition = false
wet_deposition = false
[chemistry]
enabled = false
[output]";

/// The transport processes only: chemistry off.
const NO_CHEMISTRY: &str = "[chemistry]
enabled = false
[output]";

/// The bench case's Simulation with 10 species, one tag each, a non-uniform
/// field so the limiter does real work, and inflow on every tracer.
fn bench_sim(text: &str) -> Simulation {
    let case =
        Case::from_str(text, std::path::Path::new("benches/bench.toml")).expect("bench case");
    let tracers = TracerSet::new(case.species.clone());
    let mut sim = Simulation::build(&case, tracers, None, Box::new(Serial)).expect("bench model");
    for ((t, k, j, i), v) in sim.model.state.mass.indexed_iter_mut() {
        *v = 1e3 * (1.0 + ((i * 13 + j * 7 + k * 3 + t) % 17) as f64 / 4.0);
    }
    sim.model.boundary = Boundary {
        lateral: std::array::from_fn(|_| vec![1e-8; NTRACERS]),
        top: vec![1e-9; NTRACERS],
    };
    sim.model.budget = Budget::new(&sim.model.state.totals());
    sim
}

fn transport(c: &mut Criterion) {
    let cells = (NX * NX * NZ * NTRACERS) as u64;
    let mut g = c.benchmark_group("transport_200x200x20_10tracers");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cells));
    for (name, text) in [
        ("advection_step", CASE.replace("[output]", ADVECTION_ONLY)),
        // The same with the fourth-order PPM edges instead of the default.
        (
            "advection_step_fourth_order",
            CASE.replace(
                "[output]",
                &ADVECTION_ONLY.replace("[physics]", "[physics]\nppm_edges = \"fourth_order\""),
            ),
        ),
        (
            "full_transport_step",
            CASE.replace("[output]", NO_CHEMISTRY),
        ),
    ] {
        let mut sim = bench_sim(&text);
        // The step's met once; each iteration advances the same state one
        // more step through the Simulation's process list.
        let met = sim.met_for_step().expect("analytic met");
        g.bench_function(name, |b| {
            b.iter(|| {
                sim.run_processes(&met).unwrap();
                black_box(sim.model.state.mass[[0, 0, 0, 0]])
            })
        });
    }
    // Each process of the full transport step alone, on the same case
    // (`scripts/bandwidth.sh` lists them against the one-pass bound).
    let mut sim = bench_sim(&CASE.replace("[output]", NO_CHEMISTRY));
    let met = sim.met_for_step().expect("analytic met");
    let names: Vec<&'static str> = sim.processes.iter().map(|p| p.name()).collect();
    for name in names {
        g.bench_function(format!("process_{}", name.replace(' ', "_")), |b| {
            b.iter(|| {
                sim.run_some_processes(&met, |n| n == name).unwrap();
                black_box(sim.model.state.mass[[0, 0, 0, 0]])
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
            r#"names = ["PM25", "BC", "OC", "SO2", "NOX", "HNO3", "NH3", "SO4", "NO3", "VOC"]"#,
            r#"names = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "VOC"]"#,
        )
        .replace(
            "[boundary]",
            "[boundary]\ninitial_ugm3 = { SO2 = 10.0, NOX = 30.0, NH3 = 8.0, PM25 = 30.0 }",
        );
    let chemistry_only = text.replace(
        "[output]",
        "[physics]\nadvection = false\nvertical_diffusion = false\nhorizontal_kh_m2s = 0.0\ndry_deposition = false\nwet_deposition = false\n[output]",
    );
    let mut g = c.benchmark_group("chemistry_200x200x20_9species");
    g.sample_size(10);
    g.throughput(Throughput::Elements((NX * NX * NZ) as u64));
    for (name, text) in [("chemistry_step", chemistry_only), ("full_step", text)] {
        let case =
            Case::from_str(&text, std::path::Path::new("benches/bench.toml")).expect("bench case");
        let mut sim = Simulation::from_case(&case).expect("bench model");
        assert!(sim.processes.iter().any(|p| p.name() == "chemistry"));
        let met = sim.met_for_step().expect("analytic met");
        g.bench_function(name, |b| {
            b.iter(|| {
                sim.run_processes(&met).unwrap();
                black_box(sim.model.state.mass[[0, 0, 0, 0]])
            })
        });
    }
    g.finish();
}

/// The PPM kernels alone, on one thread, on a 200 x 200 plane that stays in
/// cache: a y- or z-sweep (`ppm_rows`, 200 rows of 200 lanes) and an
/// x-sweep (`ppm_line`, 200 lines of 200 cells), default edges. Each lane
/// or line carries a uniform air flux (Courant 0.1-0.8, either sign) over
/// uniform air, so repeated sweeps translate a field with many extrema
/// (the limiter's work) without drifting. `scripts/bandwidth.sh` turns
/// these into the compute floor of the advection step: what its three
/// sweeps cost with every value already in cache.
fn kernels(c: &mut Criterion) {
    const N: usize = 200;
    let field = |p: usize, q: usize| 1e3 * (1.0 + ((p * 13 + q * 7) % 17) as f64 / 4.0);
    let courant = |q: usize| (((q * 7) % 15) as f64 / 10.0 - 0.7).clamp(-0.8, 0.8);
    let air = ndarray::Array2::<f64>::from_elem((N, N), 1e6);
    let inv = air.mapv(|a| 1.0 / a);
    let flux = ndarray::Array2::from_shape_fn((N + 1, N), |(_, q)| 1e6 * courant(q));
    let (mut h, mut gw) = (
        ndarray::Array2::zeros((N + 1, N)),
        ndarray::Array2::zeros((N + 1, N)),
    );
    face_weights_rows(
        &inv.view(),
        &flux.view(),
        &mut h.view_mut(),
        &mut gw.view_mut(),
    );
    let mut g = c.benchmark_group("ppm_kernel_in_cache_200x200");
    g.sample_size(20);
    g.throughput(Throughput::Elements((N * N) as u64));
    let mut s = Scratch::default();
    let mut mass = ndarray::Array2::from_shape_fn((N, N), |(p, q)| field(p, q));
    g.bench_function("rows", |b| {
        b.iter(|| {
            ppm_rows_weighted(
                &mut mass.view_mut(),
                &inv.view(),
                &flux.view(),
                (&h.view(), &gw.view()),
                RowEnds::Periodic,
                PpmEdges::Cw84Limited,
                &mut s,
            );
            black_box(mass[[0, 0]])
        })
    });
    // Lines: line j carries lane j's flux along it.
    let lines: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = (0..N)
        .map(|j| {
            let fl = vec![1e6 * courant(j); N + 1];
            let (mut h, mut g) = (vec![0.0; N + 1], vec![0.0; N + 1]);
            face_weights_line(inv.row(0).as_slice().expect("row"), &fl, &mut h, &mut g);
            (fl, h, g)
        })
        .collect();
    let inv_line = vec![1e-6; N];
    let mut mass = ndarray::Array2::from_shape_fn((N, N), |(p, q)| field(q, p));
    g.bench_function("line", |b| {
        b.iter(|| {
            for (j, (fl, h, g)) in lines.iter().enumerate() {
                let mut row = mass.row_mut(j);
                ppm_line_weighted(
                    row.as_slice_mut().expect("row"),
                    &inv_line,
                    fl,
                    (h, g),
                    LineEnds::Periodic,
                    PpmEdges::Cw84Limited,
                    &mut s,
                );
            }
            black_box(mass[[0, 0]])
        })
    });
    g.finish();
}

criterion_group!(benches, triad, transport, chemistry, kernels);
criterion_main!(benches);
