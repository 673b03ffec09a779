//! Vertical diffusion with dry deposition as its lower boundary (one column
//! pass): the same answer as diffusion followed by the exact exponential
//! decay of the lowest layer, the decay checked against the deposition
//! velocity from the resistance formulas, and the deposited mass booked.

mod common;
use airshed::land_use::LandUse;
use airshed::processes::deposition::{deposition_velocity, DryDeposition};
use airshed::processes::diffusion::VerticalDiffusion;
use common::*;

fn case_text(vertical: bool, dry: bool) -> String {
    format!(
        r#"
[run]
name = "vmix"
start = "2023-07-01T10:00:00Z"
hours = 1
dt_s = 900
[grid]
projection = "cartesian"
nx = 7
ny = 5
dx = 2000.0
dy = 2000.0
layer_tops_m = [40, 100, 200, 400, 800, 1500]
[species]
names = ["PM25", "SO4", "SO2", "TRACER"]
[met]
kind = "analytic"
flow = "calm"
pblh_day_m = 900
[physics]
advection = false
horizontal_kh_m2s = 0.0
wet_deposition = false
vertical_diffusion = {vertical}
dry_deposition = {dry}
[chemistry]
enabled = false
[output]
dir = "out"
"#
    )
}

/// The case's Simulation with a non-uniform field in every tracer.
fn build(text: &str, dir: &std::path::Path) -> airshed::simulation::Simulation {
    let mut s = sim(text, dir);
    let air = s.model.state.air_mass.clone();
    for ((t, k, j, i), v) in s.model.state.mass.indexed_iter_mut() {
        *v = air[[k, j, i]] * 1e-9 * (1.0 + ((3 * i + 5 * j + 7 * k + t) % 11) as f64 / 5.0);
    }
    reset_budget(&mut s);
    s
}

#[test]
fn fused_column_pass_is_diffusion_then_exact_surface_decay() {
    let dir = tempfile::tempdir().unwrap();
    let mut fused = build(&case_text(true, true), dir.path());
    let names: Vec<&str> = fused.processes.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        ["emissions", "vertical diffusion and dry deposition"]
    );
    // The same state through diffusion alone, and then deposition alone.
    let mut split = build(&case_text(true, true), dir.path());
    let land = LandUse::from_name(
        &common::case(&case_text(true, true), dir.path())
            .physics
            .land_use,
    )
    .unwrap();
    split.processes = vec![
        Box::new(VerticalDiffusion {
            theta: Some(1.0),
            dry_deposition: None,
        }),
        Box::new(VerticalDiffusion {
            theta: None,
            dry_deposition: Some(DryDeposition {
                default_land_use: land,
            }),
        }),
    ];
    let mut diffused = build(&case_text(true, false), dir.path());
    let met = fused.met_for_step().unwrap();
    fused.run_processes(&met).unwrap();
    split.run_processes(&met).unwrap();
    diffused.run_processes(&met).unwrap();
    assert!(
        fused.model.state.mass == split.model.state.mass,
        "the fused pass differs from diffusion then deposition"
    );
    let g = &fused.model.grid;
    let (f, d) = (&fused.model.state.mass, &diffused.model.state.mass);
    // Above the lowest layer deposition changes nothing.
    for ((t, k, j, i), &v) in f.indexed_iter() {
        if k > 0 {
            assert_eq!(v, d[[t, k, j, i]]);
        }
    }
    // Particles (no surface or pressure dependence): the lowest layer keeps
    // exp(-v_d dt / dz0) of the diffused mass, v_d from the resistance model.
    let tracers = &fused.model.state.tracers;
    let m = &met.mid;
    for name in ["PM25", "SO4"] {
        let s = tracers.species_index(name).unwrap();
        let sp = tracers.species[s];
        for j in 0..g.ny {
            for i in 0..g.nx {
                let vd = deposition_velocity(
                    &sp,
                    g.z_mid[0],
                    m.z0[[j, i]],
                    m.ustar[[j, i]],
                    m.obukhov[[j, i]],
                    m.temperature[[0, j, i]],
                );
                assert!(vd > 1e-5, "{name}: v_d {vd}");
                let expect = d[[s, 0, j, i]] * (-vd * 900.0 / g.dz[0]).exp();
                let got = f[[s, 0, j, i]];
                assert!(
                    (got - expect).abs() <= 1e-13 * expect,
                    "{name} at ({j}, {i}): {got} vs {expect}"
                );
            }
        }
    }
    // The deposited mass is what left the lowest layer, and the books close.
    let totals = fused.model.state.totals();
    fused.model.budget.close(&totals);
    for (t, b) in fused.model.budget.tracers.iter().enumerate() {
        let left: f64 = (0..g.ny)
            .flat_map(|j| (0..g.nx).map(move |i| (j, i)))
            .map(|(j, i)| d[[t, 0, j, i]] - f[[t, 0, j, i]])
            .sum();
        assert!(
            (b.dry_deposited_kg - left).abs() <= 1e-12 * left.abs().max(1e-300),
            "tracer {t}: booked {} vs {left}",
            b.dry_deposited_kg
        );
        assert!(b.relative_residual() < 1e-12, "tracer {t}: residual");
        let name = tracers.species[t].name;
        assert_eq!(left > 0.0, name != "TRACER", "{name} deposits {left}");
    }
}

#[test]
fn dry_deposition_and_vertical_diffusion_switch_off_alone() {
    let dir = tempfile::tempdir().unwrap();
    let names = |text: String| -> Vec<&'static str> {
        sim(&text, dir.path())
            .processes
            .iter()
            .map(|p| p.name())
            .collect()
    };
    assert_eq!(
        names(case_text(false, true)),
        ["emissions", "dry deposition"]
    );
    assert_eq!(
        names(case_text(true, false)),
        ["emissions", "vertical diffusion"]
    );
    assert_eq!(names(case_text(false, false)), ["emissions"]);
    // Diffusion without deposition books nothing deposited and keeps mass.
    let mut s = build(&case_text(true, false), dir.path());
    let before = s.model.state.totals();
    s.step().unwrap();
    for (t, (a, b)) in before.iter().zip(s.model.state.totals()).enumerate() {
        assert!((a - b).abs() <= 1e-13 * a, "tracer {t}: {a} -> {b}");
        assert_eq!(s.model.budget.tracers[t].dry_deposited_kg, 0.0);
    }
    // Deposition alone changes only the lowest layer.
    let mut s = build(&case_text(false, true), dir.path());
    let start = s.model.state.mass.clone();
    s.step().unwrap();
    for ((t, k, j, i), &v) in s.model.state.mass.indexed_iter() {
        if k > 0 {
            assert_eq!(v, start[[t, k, j, i]]);
        }
    }
    assert!(s.model.budget.tracers[0].dry_deposited_kg > 0.0);
}
