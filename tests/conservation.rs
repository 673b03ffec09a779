//! Mass is sacred: closed-domain conservation, open-domain budget closure
//! with every process on, and bit-identical results whatever the thread count.

mod common;
use common::*;
use std::io::Write;

const CLOSED: &str = r#"
[run]
name = "closed"
start = "2023-07-01T00:00:00Z"
hours = 1
dt_s = 300
[grid]
projection = "cartesian"
nx = 24
ny = 20
dx = 3000.0
dy = 3000.0
layer_tops_m = [50, 150, 400, 800, 1500]
lateral = "periodic"
[species]
names = ["PM25", "SO2", "NH3"]
[met]
kind = "analytic"
flow = "rotation"
period_s = 86400
pblh_day_m = 1200
pblh_night_m = 150
[physics]
horizontal_kh_m2s = 200.0
dry_deposition = false
wet_deposition = false
[boundary]
initial_ugm3 = { PM25 = 20.0, SO2 = 5.0, NH3 = 1.0 }
[output]
dir = "out"
"#;

#[test]
fn closed_periodic_domain_conserves_mass_over_1000_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = sim(CLOSED, dir.path());
    // Make the initial field non-uniform so every process moves mass.
    for tr in 0..3 {
        for ((k, j, i), v) in m
            .model
            .state
            .mass
            .index_axis_mut(ndarray::Axis(0), tr)
            .indexed_iter_mut()
        {
            *v *= 1.0 + ((i * 7 + j * 3 + k + tr) % 11) as f64 / 5.0;
        }
    }
    reset_budget(&mut m);
    let before = m.model.state.totals();
    for _ in 0..1000 {
        m.step().unwrap();
    }
    let after = m.model.state.totals();
    for (s, (a, b)) in after.iter().zip(&before).enumerate() {
        let rel = (a - b) / b;
        println!("closed domain, 1000 steps, tracer {s}: relative mass change {rel:.2e}");
        assert!(rel.abs() < 1e-12, "tracer {s}: relative change {rel}");
    }
}

/// An open domain with every process on: stacks with plume rise, a city
/// inventory, background inflow, rain and dry deposition.
fn open_case(dir: &std::path::Path, threads: usize) -> String {
    let mut f = std::fs::File::create(dir.join("stacks.csv")).unwrap();
    writeln!(
        f,
        "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units"
    )
    .unwrap();
    writeln!(
        f,
        "plant,0.15,0.12,150,6,18,430,stationary_combustion,SO2,300,g s-1"
    )
    .unwrap();
    writeln!(
        f,
        "plant,0.15,0.12,150,6,18,430,stationary_combustion,PM25,40,g s-1"
    )
    .unwrap();
    let mut f = std::fs::File::create(dir.join("city.csv")).unwrap();
    writeln!(f, "city,lon,lat,radius_km,sector,species,t_per_yr,source").unwrap();
    writeln!(f, "Testville,0.3,0.25,8,mobile,NH3,5000,test").unwrap();
    writeln!(f, "Testville,0.3,0.25,8,dust,PM25,20000,test").unwrap();
    format!(
        r#"
[run]
name = "open"
start = "2023-01-20T06:00:00Z"
hours = 12
dt_s = 900
threads = {threads}
[grid]
projection = "cartesian"
nx = 30
ny = 26
dx = 2000.0
dy = 2000.0
layer_tops_m = [40, 120, 300, 600, 1000, 1600, 2500]
[species]
names = ["PM25", "SO2", "NH3"]
[met]
kind = "analytic"
flow = "shear"
u_ms = 6.0
v_ms = 2.5
pblh_day_m = 1400
pblh_night_m = 120
precip_mm_h = 1.5
[emissions]
points = ["stacks.csv"]
city_totals = ["city.csv"]
[boundary]
background_ugm3 = {{ PM25 = 35.0, SO2 = 8.0, NH3 = 4.0 }}
initial_ugm3 = {{ PM25 = 20.0 }}
[output]
dir = "out"
interval_hours = 3
"#
    )
}

#[test]
fn open_domain_budget_closes_to_round_off() {
    let dir = tempfile::tempdir().unwrap();
    let text = open_case(dir.path(), 0);
    let c = case(&text, dir.path());
    let summary = {
        let _g = IO_LOCK.lock().unwrap();
        airshed::run::run_case(
            &c,
            &airshed::run::RunOptions {
                output_dir: Some(dir.path().join("out")),
                progress: false,
            },
        )
        .unwrap()
    };
    for b in &summary.budget {
        let x = &b.budget;
        println!(
            "open domain {}: emitted {:.3e} dry {:.3e} wet {:.3e} in {:.3e} out {:.3e} top in/out {:.2e}/{:.2e} residual/throughput {:.1e}",
            b.species, x.emitted_kg, x.dry_deposited_kg, x.wet_deposited_kg, x.lateral_in_kg, x.lateral_out_kg, x.top_in_kg, x.top_out_kg, b.relative_residual
        );
        assert!(
            b.relative_residual < 1e-9,
            "{}: residual {}",
            b.species,
            b.relative_residual
        );
        // Every path of the budget is exercised.
        assert!(
            x.emitted_kg > 0.0
                && x.dry_deposited_kg > 0.0
                && x.wet_deposited_kg > 0.0
                && x.lateral_in_kg > 0.0
                && x.lateral_out_kg > 0.0
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let text = open_case(dir.path(), 0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut m = sim(&text, dir.path());
            for _ in 0..24 {
                m.step().unwrap();
            }
            m.model.close_budget();
            (m.model.state.mass.clone(), m.model.budget.tracers.clone())
        })
    };
    let (m1, b1) = run(1);
    let (m2, b2) = run(2);
    let same = m1
        .iter()
        .zip(m2.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same, "concentrations differ between 1 and 2 threads");
    assert_eq!(b1, b2, "budgets differ between 1 and 2 threads");
}

#[test]
fn a_well_mixed_background_stays_exactly_uniform() {
    // Uniform mixing ratio inside and flowing in, sheared wind, diurnal Kz,
    // horizontal diffusion, no sources or sinks: nothing may change.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[run]
name = "mixed"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 900
[grid]
projection = "lambert"
truelat1 = 22.0
truelat2 = 30.0
stand_lon = 111.0
centre_lon = 112.0
centre_lat = 27.0
nx = 20
ny = 16
dx = 12000.0
dy = 12000.0
layer_tops_m = [40, 120, 300, 700, 1500, 3000]
[species]
names = ["PM25", "SO2"]
[met]
kind = "analytic"
flow = "shear"
u_ms = 7.0
v_ms = -3.0
pblh_day_m = 1200
pblh_night_m = 150
[physics]
dry_deposition = false
wet_deposition = false
[boundary]
background_ugm3 = { PM25 = 25.0, SO2 = 6.0 }
initial_ugm3 = { PM25 = 25.0, SO2 = 6.0 }
[output]
dir = "out"
"#;
    let mut m = sim(text, dir.path());
    let ratio = |m: &airshed::simulation::Simulation, tr: usize| -> Vec<f64> {
        let state = &m.model.state;
        state
            .tracer(tr)
            .iter()
            .zip(state.air_mass.iter())
            .map(|(t, a)| t / a)
            .collect()
    };
    let r0: Vec<f64> = (0..2).map(|tr| ratio(&m, tr)[0]).collect();
    for _ in 0..48 {
        m.step().unwrap();
    }
    for tr in 0..2 {
        let worst = ratio(&m, tr)
            .iter()
            .map(|r| (r - r0[tr]).abs() / r0[tr])
            .fold(0.0, f64::max);
        println!(
            "well-mixed background, tracer {tr}: largest relative departure after 12 h {worst:.1e}"
        );
        assert!(worst < 1e-12, "tracer {tr}: departure {worst}");
    }
}
