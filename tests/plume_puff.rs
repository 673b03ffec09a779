//! Gaussian puffs (`plume::puff`) and plume-in-grid
//! (`processes::plume_in_grid`): a single puff against the closed form, a
//! puff train against the steady plume, a day with six calm hours that
//! conserves mass and carries the calm's mass over a receptor, and the
//! Eulerian model with and without puffs.

mod common;
use airshed::plume::puff::{PuffMet, PuffSet};
use airshed::plume::Floors;
use airshed::state::{Tag, TagKind, TracerSet};
use std::f64::consts::PI;

/// Taylor's (1921) sigma^2 for an exponential autocorrelation, typed here
/// independently of the model's stepping.
fn taylor(sv: f64, tl: f64, t: f64) -> f64 {
    2.0 * sv * sv * tl * tl * (t / tl - 1.0 + (-t / tl).exp())
}

fn uniform(u: f64, v: f64, sv: f64, sw: f64, tly: f64, tlz: f64, h: f64) -> PuffMet {
    PuffMet {
        u,
        v,
        sigma_v: sv,
        sigma_w: sw,
        tl_y: tly,
        tl_z: tlz,
        mixing_height: h,
    }
}

#[test]
fn a_single_puff_moves_grows_and_samples_as_the_closed_form() {
    // One puff in a wind of (2, 1) m/s and one in a calm, both released
    // with zero size at 60 m, stepped 60 x 10 s; no lid, no deposition.
    let (sv, sw, tly, tlz, h) = (0.6, 0.3, 400.0, 150.0, 60.0);
    let mut windy = PuffSet::new(1, Floors::default(), None);
    let mut calm = PuffSet::new(1, Floors::default(), None);
    windy.release(0.0, 0.0, h, 0.0, 0.0, vec![1000.0]);
    calm.release(0.0, 0.0, h, 0.0, 0.0, vec![1000.0]);
    for _ in 0..60 {
        windy.step(
            10.0,
            |_, _, _| uniform(2.0, 1.0, sv, sw, tly, tlz, f64::INFINITY),
            &[0.0],
        );
        calm.step(
            10.0,
            |_, _, _| uniform(0.0, 0.0, sv, sw, tly, tlz, f64::INFINITY),
            &[0.0],
        );
    }
    let t = 600.0;
    let (sy, sz) = (taylor(sv, tly, t).sqrt(), taylor(sw, tlz, t).sqrt());
    for (set, (x0, y0)) in [(&windy, (1200.0, 600.0)), (&calm, (0.0, 0.0))] {
        let p = &set.puffs[0];
        println!(
            "puff at ({:.3}, {:.3}), sigma_y {:.4} (closed form {sy:.4}), sigma_z {:.4} ({sz:.4})",
            p.x, p.y, p.sigma_y, p.sigma_z
        );
        assert!((p.x - x0).abs() < 1e-9 && (p.y - y0).abs() < 1e-9);
        assert!((p.sigma_y / sy - 1.0).abs() < 1e-9, "{} vs {sy}", p.sigma_y);
        assert!((p.sigma_z / sz - 1.0).abs() < 1e-9, "{} vs {sz}", p.sigma_z);
        // Ground-level concentration 100 m east and 50 m south of the
        // centre: M / (2 pi sy^2) exp(-r^2 / 2 sy^2) x 2 exp(-H^2 / 2 sz^2)
        // / (sqrt(2 pi) sz), the ground's image doubling the direct term.
        let (dx, dy) = (100.0, -50.0);
        let want = 1000.0 / (2.0 * PI * sy * sy)
            * (-(dx * dx + dy * dy) / (2.0 * sy * sy)).exp()
            * 2.0
            * (-(h * h) / (2.0 * sz * sz)).exp()
            / ((2.0 * PI).sqrt() * sz);
        let got = set.concentration(x0 + dx, y0 + dy, 0.0)[0];
        assert!((got / want - 1.0).abs() < 1e-8, "{got} vs {want}");
    }
}

#[test]
fn a_train_of_puffs_reproduces_the_steady_plume() {
    // Q = 1 kg/s released as a puff every 5 s into u = 4 m/s; after 1500 s
    // the train reaches 6 km. At x = 1 km the steady Gaussian plume with
    // the sigmas of travel time x/u (typed here):
    //   C = Q / (2 pi u sy sz) exp(-y^2 / 2 sy^2) 2 exp(-H^2 / 2 sz^2).
    let (u, sv, sw, tly, tlz, h, q, dt) = (4.0, 0.5, 0.25, 300.0, 100.0, 40.0, 1.0, 5.0);
    let mut set = PuffSet::new(1, Floors::default(), None);
    let met = |_: f64, _: f64, _: f64| uniform(u, 0.0, sv, sw, tly, tlz, f64::INFINITY);
    let x = 1000.0;
    let t = x / u;
    let (sy, sz) = (taylor(sv, tly, t).sqrt(), taylor(sw, tlz, t).sqrt());
    let steady = |y: f64| {
        q / (2.0 * PI * u * sy * sz)
            * (-(y * y) / (2.0 * sy * sy)).exp()
            * 2.0
            * (-(h * h) / (2.0 * sz * sz)).exp()
    };
    let mut sums = [0.0; 2];
    let n_avg = 40;
    for n in 0..300 {
        set.release(0.0, 0.0, h, 0.0, 0.0, vec![q * dt]);
        set.step(dt, met, &[0.0]);
        if n >= 300 - n_avg {
            sums[0] += set.step_mean_concentration(x, 0.0, 0.0)[0];
            sums[1] += set.step_mean_concentration(x, sy, 0.0)[0];
        }
    }
    for (got, y) in [(sums[0] / n_avg as f64, 0.0), (sums[1] / n_avg as f64, sy)] {
        let want = steady(y);
        println!(
            "y = {y:.1} m: puff train {got:.4e} kg/m3, steady plume {want:.4e}, ratio {:.4}",
            got / want
        );
        assert!((got / want - 1.0).abs() < 0.03, "{got} vs {want}");
    }
}

#[test]
fn a_day_with_six_calm_hours_conserves_mass_and_carries_the_calm_over_the_receptor() {
    // 24 h, 30 s sub-steps, one puff per sub-step from a 30 m release of
    // 1 kg/s on two tags (0.7 and 0.3). Wind 3 m/s from the west except in
    // hours 9-14 (calm, turbulence below the floors). Dry deposition
    // 0.002 m/s. Puffs whose centre leaves the 20 km box are carried out.
    let dt = 30.0;
    let steps_per_hour = 120;
    let domain = airshed::plume::puff::DomainBox {
        x_min: -10_000.0,
        x_max: 10_000.0,
        y_min: -10_000.0,
        y_max: 10_000.0,
    };
    let mut set = PuffSet::new(2, Floors::default(), Some(domain));
    let vd = [0.002, 0.002];
    let receptor = (500.0, 0.0);
    let mut hourly = [0.0; 24];
    for (hour, mean) in hourly.iter_mut().enumerate() {
        let calm = (9..15).contains(&hour);
        let met = move |_: f64, _: f64, _: f64| {
            if calm {
                uniform(0.0, 0.0, 0.1, 0.01, 1000.0, 100.0, 300.0)
            } else {
                uniform(3.0, 0.0, 0.5, 0.3, 300.0, 100.0, 800.0)
            }
        };
        for _ in 0..steps_per_hour {
            set.release(0.0, 0.0, 30.0, 1.0, 1.0, vec![0.7 * dt, 0.3 * dt]);
            set.step(dt, met, &vd);
            let c = set.step_mean_concentration(receptor.0, receptor.1, 0.0);
            *mean += (c[0] + c[1]) / steps_per_hour as f64;
            // Finite everywhere: a 2 km lattice over the box at 0 and 50 m.
            if set.puffs.len() % 7 == 0 {
                for ix in -5..=5 {
                    for iy in -5..=5 {
                        for z in [0.0, 50.0] {
                            let c = set.concentration(2000.0 * ix as f64, 2000.0 * iy as f64, z);
                            assert!(c.iter().all(|v| v.is_finite() && *v >= 0.0), "{c:?}");
                        }
                    }
                }
            }
        }
        assert!(mean.is_finite());
    }
    let ug = |c: f64| c * 1e9;
    for (h, c) in hourly.iter().enumerate() {
        println!("hour {h:2}: {:10.2} ug/m3 at 500 m east", ug(*c));
    }
    // The first hour after the calm is larger than the hour before it
    // (same wind and turbulence: the difference is the calm's stored mass).
    assert!(
        hourly[15] > 1.2 * hourly[8],
        "after the calm {} ug/m3, before {}",
        ug(hourly[15]),
        ug(hourly[8])
    );
    // Mass books: emitted = in puffs + deposited + carried out, per tag.
    for (s, (gap, emitted)) in set.imbalance().into_iter().enumerate() {
        println!(
            "tag {s}: emitted {emitted:.6e} kg, in puffs {:.6e}, deposited {:.6e}, carried out {:.6e}, relative gap {:.2e}",
            set.in_puffs()[s], set.deposited[s], set.carried_out[s], gap / emitted
        );
        assert!((emitted - 24.0 * 3600.0 * [0.7, 0.3][s]).abs() < 1e-9 * emitted);
        assert!(gap.abs() <= 1e-12 * emitted, "tag {s}: {gap}");
        assert!(set.deposited[s] > 0.0 && set.carried_out[s] > 0.0);
    }
}

/// The stack CSV of the plume-in-grid case: "Steel" (flagged) in cell
/// (2, 3), "Other" in cell (6, 2); both cold 30 m stacks (no rise).
fn pig_text(pig: &str) -> String {
    format!(
        r#"
[run]
name = "pig"
start = "2023-01-20T00:00:00Z"
hours = 6
dt_s = 600
[grid]
projection = "cartesian"
nx = 10
ny = 6
dx = 4000.0
dy = 4000.0
layer_tops_m = [50, 150, 400, 900, 1800]
lateral = "periodic"
[species]
names = ["PM25"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 3.0
v_ms = 0.5
pblh_day_m = 900
pblh_night_m = 250
surface_temperature_k = 280.0
[emissions]
points = ["stacks.csv"]
{pig}
[boundary]
initial_ugm3 = {{ PM25 = 5.0 }}
[physics]
dry_deposition = false
wet_deposition = false
[output]
dir = "out"
"#
    )
}

fn pig_case(dir: &std::path::Path, pig: &str) -> airshed::config::Case {
    let c = common::case(&pig_text(pig), dir);
    let g = airshed::grid::Grid::new(&c.grid);
    let (lon_s, lat_s) = g.lonlat_at(2.0, 3.0);
    let (lon_o, lat_o) = g.lonlat_at(6.0, 2.0);
    std::fs::write(
        dir.join("stacks.csv"),
        format!(
            "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units\n\
             Steel,{lon_s},{lat_s},30,2,5,270,industrial_process,PM25,1,kg s-1\n\
             Other,{lon_o},{lat_o},30,2,5,270,industrial_process,PM25,0.5,kg s-1\n"
        ),
    )
    .unwrap();
    c
}

/// The case's Simulation with tags steel, other, boundary, initial; the
/// stacks routed to their tags by name.
fn tagged(c: &airshed::config::Case) -> airshed::simulation::Simulation {
    let tags = vec![
        Tag::plain("steel", TagKind::Emissions),
        Tag::plain("other", TagKind::Emissions),
        Tag::plain("boundary", TagKind::Boundary),
        Tag::plain("initial", TagKind::Initial),
    ];
    let grid = airshed::grid::Grid::new(&c.grid);
    let mut inventory =
        airshed::emissions::Inventory::load(&c.emissions, &grid, &["PM25"]).unwrap();
    for p in &mut inventory.points {
        p.tag = if p.name == "Steel" { 0 } else { 1 };
    }
    airshed::simulation::Simulation::with_inventory(
        c,
        TracerSet::tagged(c.species.clone(), tags),
        inventory,
        None,
        Box::new(airshed::parallel::Serial),
    )
    .unwrap()
}

/// Per tracer: grid mass + mass held in puffs, kg.
fn totals(s: &airshed::simulation::Simulation) -> Vec<f64> {
    let mut t = s.model.state.totals();
    for p in &s.processes {
        for stack in p.puffs() {
            for (&tr, m) in stack.tracers.iter().zip(stack.puffs.in_puffs()) {
                t[tr] += m;
            }
        }
    }
    t
}

/// Highest surface concentration, kg/m3, at a lattice of points (8 x 8 per
/// cell) over the stack cell (2, 3) and its eight neighbours: the grid's
/// surface cell value where the point lies, plus every puff's mean over
/// the last step at that point.
fn near_source_peak(s: &airshed::simulation::Simulation) -> f64 {
    let g = &s.model.grid;
    let c: Vec<ndarray::Array3<f64>> = (0..s.model.state.tracers.len())
        .map(|tr| s.model.state.concentration(g, tr))
        .collect();
    let mut peak = 0.0f64;
    for a in 0..24 {
        for b in 0..24 {
            // Fractional cell index of the point: cells 1..=3 in x, 2..=4 in y.
            let fi = 0.5 + (a as f64 + 0.5) / 8.0;
            let fj = 1.5 + (b as f64 + 0.5) / 8.0;
            let (i, j) = ((fi + 0.5).floor() as usize, (fj + 0.5).floor() as usize);
            let mut v: f64 = c.iter().map(|c| c[[0, j, i]]).sum();
            for p in &s.processes {
                for stack in p.puffs() {
                    v += stack.surface_concentration(fi, fj).iter().sum::<f64>();
                }
            }
            peak = peak.max(v);
        }
    }
    peak
}

#[test]
fn plume_in_grid_keeps_every_tags_mass_and_resolves_the_near_source_peak() {
    // The same periodic case (nothing leaves; no deposition or chemistry)
    // with the Steel stack injected into its cell and followed as puffs.
    // Total mass (grid + puffs) per tag must agree to round-off at every
    // hour. The near-source peak is what the model says a surface monitor
    // at a point near the stack sees: without puffs the cell mean of the
    // cell holding the point (the grid cannot say more), with puffs that
    // plus the puffs' concentration at the point. A 30 m plume reaches the
    // ground within a few hundred metres, far narrower than the 4 km cell
    // it would be diluted into, so the peak is higher with puffs.
    let dir = tempfile::tempdir().unwrap();
    let plain = pig_case(dir.path(), "");
    let with = pig_case(dir.path(), r#"plume_in_grid = ["Steel"]"#);
    let mut a = tagged(&plain);
    let mut b = tagged(&with);
    assert!(b.processes.iter().any(|p| p.name() == "plume-in-grid"));
    assert!(!a.processes.iter().any(|p| p.name() == "plume-in-grid"));
    let names = ["steel", "other", "boundary", "initial"];
    for hour in 1..=6 {
        for _ in 0..6 {
            a.step().unwrap();
            b.step().unwrap();
        }
        let (ta, tb) = (totals(&a), totals(&b));
        let held: f64 = b.model.budget.tracers.iter().map(|t| t.in_puffs_kg).sum();
        for (tr, (x, y)) in ta.iter().zip(&tb).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                "hour {hour}, tag {}: {x} kg without puffs, {y} with",
                names[tr]
            );
        }
        let (pa, pb) = (near_source_peak(&a), near_source_peak(&b));
        println!(
            "hour {hour}: steel {:.6e} kg (grid + puffs, {held:.3e} kg in puffs); near-source peak {:.1} ug/m3 without puffs, {:.1} with",
            tb[0],
            pa * 1e9,
            pb * 1e9
        );
        assert!(pb > 1.5 * pa, "hour {hour}: {pb} vs {pa}");
        assert!(held > 0.0);
    }
    // The puffs held some mass and handed the rest to the grid.
    let stack = &b.processes.iter().find_map(|p| p.puffs().first()).unwrap();
    assert!(stack.puffs.handed_off[0] > 0.0);
    let s = b.finish().unwrap();
    println!(
        "summary budget: in puffs {:.4e} kg, residual {:.2e}",
        s.budget[0].budget.in_puffs_kg, s.budget[0].relative_residual
    );
    assert!(s.budget[0].budget.in_puffs_kg > 0.0);
    assert!(s.budget[0].relative_residual < 1e-12);
}

#[test]
fn plume_in_grid_refuses_unknown_stacks_bad_limits_and_divided_runs() {
    let dir = tempfile::tempdir().unwrap();
    let c = pig_case(dir.path(), r#"plume_in_grid = ["Nowhere"]"#);
    let err = airshed::simulation::Simulation::from_case(&c)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("emissions.plume_in_grid") && err.contains("Nowhere"),
        "{err}"
    );
    for (extra, key) in [
        (
            "plume_in_grid_max_age_hours = 0",
            "plume_in_grid_max_age_hours",
        ),
        (
            "plume_in_grid_max_age_hours = 100",
            "plume_in_grid_max_age_hours",
        ),
        (
            "plume_in_grid_handoff_sigma_fraction = -1",
            "plume_in_grid_handoff_sigma_fraction",
        ),
        ("plume_in_grid = \"every\"", "plume_in_grid"),
        ("plume_in_grid = []", "plume_in_grid"),
    ] {
        let text = pig_text(&format!("plume_in_grid = \"all\"\n{extra}").replace(
            "plume_in_grid = \"all\"\nplume_in_grid =",
            "plume_in_grid =",
        ));
        let err = airshed::config::Case::from_str(&text, &dir.path().join("case.toml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        println!("{extra}: {err}");
        assert!(err.contains(&format!("emissions.{key}")), "{extra}: {err}");
    }
    // A divided run is refused when it is built.
    use airshed::parallel::decomp::split;
    let c = pig_case(dir.path(), r#"plume_in_grid = "all""#);
    let whole = airshed::grid::Grid::new(&c.grid);
    let parts = split(&whole, 2, 1, airshed::processes::advection::HALO_WIDTH);
    let err = airshed::simulation::Simulation::build(
        &c,
        TracerSet::new(c.species.clone()),
        Some(&parts[0]),
        Box::new(airshed::parallel::Serial),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("emissions.plume_in_grid") && err.contains("undivided"),
        "{err}"
    );
}
