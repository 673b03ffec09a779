//! The domain-decomposition seam: a run split into subdomains, each a rank
//! (here a thread with `LocalComm`) that exchanges halos and reduces through
//! the `Comm` trait, gives results bit-identical to the undivided run, for
//! advection alone and for the full step (emissions with plume rise,
//! advection, both diffusions, chemistry, dry and wet deposition).

mod common;
use airshed::config::Case;
use airshed::grid::{Edge, Grid};
use airshed::parallel::decomp::{split, Subdomain};
use airshed::parallel::local::LocalComm;
use airshed::processes::advection::HALO_WIDTH;
use airshed::simulation::Simulation;
use airshed::state::TracerSet;

use ndarray::{s, Array4};
use std::io::Write;

/// An open 36 x 28 x 6 domain in a rotating (so spatially varying) wind,
/// with background inflow, initial values, two stacks (one each side of
/// the x split), rain, fog and daylight chemistry. `physics` replaces the
/// physics table.
fn case_text(dir: &std::path::Path, physics: &str) -> String {
    let mut f = std::fs::File::create(dir.join("stacks.csv")).unwrap();
    writeln!(
        f,
        "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units"
    )
    .unwrap();
    for (name, lon, lat) in [("west", 0.05, 0.08), ("east", 0.22, 0.15)] {
        for (sp, rate) in [
            ("SO2", 300.0),
            ("NOX", 200.0),
            ("NH3", 50.0),
            ("PM25", 40.0),
        ] {
            writeln!(
                f,
                "{name},{lon},{lat},120,6,18,430,stationary_combustion,{sp},{rate},g s-1"
            )
            .unwrap();
        }
    }
    format!(
        r#"
[run]
name = "split"
start = "2023-06-20T09:00:00Z"
hours = 2
dt_s = 600
[grid]
projection = "cartesian"
nx = 36
ny = 28
dx = 1000.0
dy = 1000.0
layer_tops_m = [40, 120, 300, 700, 1500, 3000]
[species]
names = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4"]
[met]
kind = "analytic"
flow = "rotation"
period_s = 40000
pblh_day_m = 1200
pblh_night_m = 200
precip_mm_h = 0.4
cloud_water_gkg = 0.2
[emissions]
points = ["stacks.csv"]
[boundary]
background_ugm3 = {{ PM25 = 12.0, SO2 = 4.0, NOX = 6.0, NH3 = 3.0 }}
north_ugm3 = {{ PM25 = 30.0, SO4 = 9.0 }}
west_ugm3 = {{ NOX = 15.0 }}
south_ugm3 = {{ NH3 = 0.5 }}
east_ugm3 = {{ PM25 = 5.0, NO3 = 7.0 }}
initial_ugm3 = {{ PM25 = 20.0, SO2 = 8.0, NOX = 10.0, NH3 = 5.0 }}
[chemistry]
ozone_ppb = 40.0
{physics}
[output]
dir = "out"
"#
    )
}

fn steps(case: &Case) -> u64 {
    case.clock().steps
}

/// The undivided run's final masses and per-species budgets.
fn undivided(case: &Case) -> (Array4<f64>, Vec<airshed::budget::TracerBudget>) {
    let mut sim = Simulation::from_case(case).unwrap();
    for _ in 0..steps(case) {
        sim.step().unwrap();
    }
    let mass = sim.model.state.mass.clone();
    let summary = sim.finish().unwrap();
    (mass, summary.budget.into_iter().map(|b| b.budget).collect())
}

/// The same run on `px` x `py` ranks (threads), each with its part of the
/// domain; returns the assembled masses and the reduced budgets.
fn divided(case: &Case, px: usize, py: usize) -> (Array4<f64>, Vec<airshed::budget::TracerBudget>) {
    let whole = Grid::new(&case.grid);
    let parts: Vec<Subdomain> = split(&whole, px, py, HALO_WIDTH);
    let neighbours: Vec<[Option<usize>; 4]> = parts.iter().map(|p| p.neighbours).collect();
    let comms = LocalComm::group(&neighbours);
    let results: Vec<(Subdomain, Array4<f64>, Vec<airshed::budget::TracerBudget>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .cloned()
                .zip(comms)
                .map(|(part, comm)| {
                    scope.spawn(move || {
                        let tracers = TracerSet::new(case.species.clone());
                        let mut sim =
                            Simulation::build(case, tracers, Some(&part), Box::new(comm)).unwrap();
                        for _ in 0..steps(case) {
                            sim.step().unwrap();
                        }
                        let mass = sim.model.state.mass.clone();
                        let summary = sim.finish().unwrap();
                        let budget = summary.budget.into_iter().map(|b| b.budget).collect();
                        (part, mass, budget)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let ntr = results[0].1.dim().0;
    let mut mass = Array4::zeros((ntr, whole.nz, whole.ny, whole.nx));
    for (part, m, _) in &results {
        mass.slice_mut(s![.., .., part.j.0..part.j.1, part.i.0..part.i.1])
            .assign(m);
    }
    // Every rank holds the reduced budget; rank 0's stands for all.
    (mass, results[0].2.clone())
}

fn assert_bit_identical(label: &str, a: &Array4<f64>, b: &Array4<f64>) {
    assert_eq!(a.dim(), b.dim());
    let differing = a
        .iter()
        .zip(b.iter())
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    let worst = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs() / x.abs().max(1e-300))
        .fold(0.0, f64::max);
    println!(
        "{label}: {} of {} cell-tracer values differ (largest relative difference {worst:.1e})",
        differing,
        a.len()
    );
    assert_eq!(
        differing, 0,
        "{label}: the divided run is not bit-identical"
    );
}

fn assert_budgets_agree(
    label: &str,
    a: &[airshed::budget::TracerBudget],
    b: &[airshed::budget::TracerBudget],
) {
    for (x, y) in a.iter().zip(b) {
        let scale = x.throughput();
        for (p, q) in [
            (x.final_kg, y.final_kg),
            (x.emitted_kg, y.emitted_kg),
            (x.chemistry_kg, y.chemistry_kg),
            (x.dry_deposited_kg, y.dry_deposited_kg),
            (x.wet_deposited_kg, y.wet_deposited_kg),
            (x.lateral_in_kg, y.lateral_in_kg),
            (x.lateral_out_kg, y.lateral_out_kg),
            (x.top_in_kg, y.top_in_kg),
            (x.top_out_kg, y.top_out_kg),
        ] {
            // Same terms, summed in another order: round-off only.
            assert!(
                (p - q).abs() <= 1e-12 * scale,
                "{label}: budget term {p} vs {q}"
            );
        }
        assert!(
            y.relative_residual() < 1e-12,
            "{label}: divided budget residual"
        );
    }
}

const ADVECTION_ONLY: &str = "[physics]
vertical_diffusion = false
horizontal_kh_m2s = 0.0
dry_deposition = false
wet_deposition = false
[chemistry]
enabled = false";

/// Both PPM edge rules read the same four cells per edge, so the same
/// 3-cell halos serve both.
#[test]
fn two_subdomains_advect_bit_identically_to_the_undivided_run() {
    let dir = tempfile::tempdir().unwrap();
    for edges in ["cw84_limited", "fourth_order"] {
        let text = case_text(dir.path(), "")
            .replace("[chemistry]\nozone_ppb = 40.0", ADVECTION_ONLY)
            .replace("[physics]", &format!("[physics]\nppm_edges = \"{edges}\""));
        let case = common::case(&text, dir.path());
        let (whole, wb) = undivided(&case);
        for (px, py) in [(2, 1), (1, 2)] {
            let (split, sb) = divided(&case, px, py);
            let label = format!("advection alone, {edges} edges, {px} x {py} subdomains");
            assert_bit_identical(&label, &whole, &split);
            assert_budgets_agree(&label, &wb, &sb);
        }
    }
}

#[test]
fn two_subdomains_take_the_full_step_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let case = common::case(&case_text(dir.path(), ""), dir.path());
    let (whole, wb) = undivided(&case);
    let (split, sb) = divided(&case, 2, 1);
    assert_bit_identical("full step, 2 x 1 subdomains", &whole, &split);
    assert_budgets_agree("full step, 2 x 1 subdomains", &wb, &sb);
    // Four ranks meet at a corner: still the same bits.
    let (split, _) = divided(&case, 2, 2);
    assert_bit_identical("full step, 2 x 2 subdomains", &whole, &split);
}

#[test]
fn subdomains_face_each_other_through_halos_and_keep_the_open_edges() {
    let dir = tempfile::tempdir().unwrap();
    let case = common::case(&case_text(dir.path(), ""), dir.path());
    let whole = Grid::new(&case.grid);
    let parts = split(&whole, 2, 1, HALO_WIDTH);
    let halo = Edge::Halo { width: HALO_WIDTH };
    assert_eq!(
        (parts[0].edges.west, parts[0].edges.east),
        (Edge::Open, halo)
    );
    assert_eq!(
        (parts[1].edges.west, parts[1].edges.east),
        (halo, Edge::Open)
    );
    assert_eq!(parts[0].neighbours[1], Some(1));
    // A window's metrics and coordinates are the whole grid's, bit for bit.
    let g = parts[1].grid(&whole);
    assert_eq!(g.origin, (18, 0));
    assert_eq!(g.lon[[3, 2]].to_bits(), whole.lon[[3, 20]].to_bits());
    assert_eq!(
        g.cell_of(whole.lon[[5, 25]], whole.lat[[5, 25]]),
        Some((7, 5))
    );
}
