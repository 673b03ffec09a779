//! Inflow per side (`[boundary] west_ugm3`, `east_ugm3`, `south_ugm3`,
//! `north_ugm3`): it enters only where the wind blows into the domain,
//! reaches the analytic steady state downwind, never shows upwind, closes
//! the budget and feeds the one `boundary` tag.

mod common;
use airshed::simulation::Simulation;
use airshed::state::{Tag, TagKind, TracerSet};
use common::*;

/// A Cartesian box of `nx` x `ny` 1-km cells and one 100-m layer under a
/// uniform wind (`u`, `v`) at constant density, advection alone, carrying
/// TRACER with the given `[boundary]` lines.
fn box_case(nx: usize, ny: usize, u: f64, v: f64, hours: f64, boundary: &str) -> String {
    format!(
        r#"
[run]
name = "sides"
start = "2023-01-01T00:00:00Z"
hours = {hours}
dt_s = 60
[grid]
projection = "cartesian"
nx = {nx}
ny = {ny}
dx = 1000.0
dy = 1000.0
layer_tops_m = [100.0]
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = {u}
v_ms = {v}
constant_density = true
[physics]
horizontal_kh_m2s = 0.0
vertical_diffusion = false
dry_deposition = false
wet_deposition = false
[boundary]
{boundary}
[output]
dir = "out"
"#
    )
}

/// Concentration (ug/m3) of tracer `tr` in layer 0, cell (j, i).
fn ugm3(s: &Simulation, tr: usize, j: usize, i: usize) -> f64 {
    let st = &s.model.state;
    let g = &s.model.grid;
    let volume = g.area[[j, i]] * g.dz[0];
    st.mass[[tr, 0, j, i]] / volume * 1e9
}

#[test]
fn inflow_from_the_north_alone_fills_the_domain_and_the_other_sides_never_enter() {
    // Wind from the north (v = -5 m/s, u = 0): air enters through the north
    // side only, leaves through the south, and no air crosses west or east.
    // The steady solution of dc/dt + v dc/dy = 0 with c = c_N at the inflow
    // edge is c = c_N everywhere; the south (outflow) and the west and east
    // (no normal flow) values must never appear. The steady inflow is, by
    // hand, c_N |v| (nx dx) H (the air-mass flux times the inflow mixing
    // ratio; the density cancels): 30e-9 kg/m3 x 5 m/s x 12,000 m x 100 m
    // = 0.18 kg/s, 648 kg an hour.
    let dir = tempfile::tempdir().unwrap();
    let (nx, ny, v, c_n) = (12, 20, -5.0, 30.0);
    let text = box_case(
        nx,
        ny,
        0.0,
        v,
        5.0,
        "north_ugm3 = { TRACER = 30.0 }\nsouth_ugm3 = { TRACER = 90.0 }\n\
         west_ugm3 = { TRACER = 60.0 }\neast_ugm3 = { TRACER = 75.0 }",
    );
    let mut s = sim(&text, dir.path());
    // Crossing time 20 km / 5 m/s = 4000 s; 4 h is 3.6 crossings.
    for _ in 0..240 {
        s.step().unwrap();
    }
    reset_budget(&mut s);
    for _ in 0..60 {
        s.step().unwrap();
    }
    s.model.close_budget();
    let mut worst = 0.0f64;
    for j in 0..ny {
        for i in 0..nx {
            worst = worst.max((ugm3(&s, 0, j, i) - c_n).abs() / c_n);
        }
    }
    println!("north inflow only, after 5 h: largest relative departure from c_N {worst:.1e}");
    assert!(worst < 1e-9, "departure {worst}");
    // Over the last hour, in and out are both the analytic flux.
    let expected = c_n * 1e-9 * v.abs() * (nx as f64 * 1000.0) * 100.0 * 3600.0;
    let b = &s.model.budget.tracers[0];
    println!(
        "north inflow, last hour: in {:.6e} kg, out {:.6e} kg, analytic {expected:.6e} kg",
        b.lateral_in_kg, b.lateral_out_kg
    );
    assert!(((b.lateral_in_kg - expected) / expected).abs() < 1e-12);
    assert!(((b.lateral_out_kg - expected) / expected).abs() < 1e-9);
}

#[test]
fn oblique_wind_takes_the_north_value_downwind_of_the_north_side_and_nothing_elsewhere() {
    // Wind toward the south-east (u = 4, v = -3 m/s): air enters through the
    // north and the west sides. Only the north side carries TRACER (the
    // west takes the background, 0; the east and south, outflow sides, have
    // large values that must never enter). The steady solution is c_N
    // where the trajectory back from a cell meets the north side, i.e.
    // x > (u/|v|) (y_top - y), and 0 where it meets the west side. PPM
    // smears the dividing line over a few cells; away from it the analytic
    // values must hold.
    let dir = tempfile::tempdir().unwrap();
    let (nx, ny, u, v, c_n) = (30, 30, 4.0, -3.0, 30.0);
    let text = box_case(
        nx,
        ny,
        u,
        v,
        6.0,
        "north_ugm3 = { TRACER = 30.0 }\nsouth_ugm3 = { TRACER = 90.0 }\n\
         east_ugm3 = { TRACER = 75.0 }",
    );
    let mut s = sim(&text, dir.path());
    for _ in 0..360 {
        s.step().unwrap();
    }
    let slope = u / -v;
    let (mut fed, mut dry, mut max) = (0.0f64, 0.0f64, 0.0f64);
    for j in 0..ny {
        for i in 0..nx {
            let c = ugm3(&s, 0, j, i);
            max = max.max(c);
            // Cell centre (km from the west side) and its distance below the north side.
            let (x, below) = (i as f64 + 0.5, ny as f64 - (j as f64 + 0.5));
            // Signed distance (km) from the dividing line, positive on the north-fed side.
            let d = (x - slope * below) / (1.0 + slope * slope).sqrt();
            if d > 4.0 {
                fed = fed.max((c - c_n).abs() / c_n);
            } else if d < -4.0 {
                dry = dry.max(c / c_n);
            }
        }
    }
    println!(
        "oblique wind, 6 h: north-fed cells (> 4 km from the dividing line) within {fed:.1e} of c_N, \
         west-fed cells at most {dry:.1e} c_N, largest {max:.6} ug/m3"
    );
    assert!(fed < 1e-4, "north-fed cells depart {fed}");
    assert!(dry < 1e-3, "west-fed cells hold {dry} of c_N");
    // The outflow sides' 75 and 90 never enter: nothing exceeds c_N.
    assert!(max <= c_n * (1.0 + 1e-12), "largest {max}");
}

#[test]
fn side_inflow_closes_the_budget_and_all_of_it_is_the_boundary_tag() {
    // A rotating wind enters through every side, each with its own value,
    // and the top with the background; initial values zero. With chemistry
    // off the boundary tag must hold all of it, every other tag nothing,
    // and the budget (net inflow = burden change) closes to round-off.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[run]
name = "sides"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "cartesian"
nx = 24
ny = 20
dx = 3000.0
dy = 3000.0
layer_tops_m = [50, 150, 400, 800, 1500]
[species]
names = ["PM25", "SO2"]
[met]
kind = "analytic"
flow = "rotation"
period_s = 30000
pblh_day_m = 1000
pblh_night_m = 150
[physics]
horizontal_kh_m2s = 200.0
[chemistry]
enabled = false
[boundary]
background_ugm3 = { PM25 = 10.0, SO2 = 2.0 }
north_ugm3 = { PM25 = 40.0, SO2 = 12.0 }
south_ugm3 = { PM25 = 60.0 }
west_ugm3 = { SO2 = 20.0 }
east_ugm3 = { PM25 = 25.0, SO2 = 0.0 }
[output]
dir = "out"
"#;
    let c = case(text, dir.path());
    // The fallback: a species a side does not name takes the background.
    assert_eq!(c.boundary.sides_ugm3[0], vec![10.0, 20.0], "west");
    assert_eq!(c.boundary.sides_ugm3[1], vec![25.0, 0.0], "east");
    assert_eq!(c.boundary.sides_ugm3[2], vec![60.0, 2.0], "south");
    assert_eq!(c.boundary.sides_ugm3[3], vec![40.0, 12.0], "north");
    let tags = vec![
        Tag::plain("A", TagKind::Emissions),
        Tag::plain("other", TagKind::Other),
        Tag::plain("boundary", TagKind::Boundary),
        Tag::plain("initial", TagKind::Initial),
    ];
    let tracers = TracerSet::tagged(c.species.clone(), tags);
    let mut s = Simulation::build(&c, tracers, None, Box::new(airshed::parallel::Serial)).unwrap();
    for _ in 0..18 {
        s.step().unwrap();
    }
    s.model.close_budget();
    let t = &s.model.state.tracers;
    for sp in 0..2 {
        let mut in_kg = 0.0;
        for tr in t.tracers_of(sp) {
            let m = s.model.state.tracer(tr).sum();
            let b = &s.model.budget.tracers[tr];
            let rel = b.residual().abs() / (b.lateral_in_kg + b.top_in_kg).max(1e-30);
            println!(
                "species {sp} tag {:?}: burden {m:.4e} kg, lateral in {:.4e} kg, top in {:.4e} kg, residual/inflow {rel:.1e}",
                t.tag_of(tr), b.lateral_in_kg, b.top_in_kg
            );
            if t.tag_of(tr) == Some(t.boundary_tag) {
                assert!(m > 0.0 && b.lateral_in_kg > 0.0);
                assert!(rel < 1e-12, "residual {rel}");
                in_kg += b.lateral_in_kg;
            } else {
                assert_eq!(
                    m,
                    0.0,
                    "tag {:?} of species {sp} holds inflow",
                    t.tag_of(tr)
                );
            }
        }
        assert!(in_kg > 0.0);
    }
}

#[test]
fn side_tables_are_checked_like_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let base = box_case(6, 6, 1.0, 0.0, 1.0, "");
    for (lines, key, expected) in [
        (
            "north_ugm3 = { O3 = 40.0 }",
            "boundary.north_ugm3.O3",
            "a species listed in species.names",
        ),
        (
            "west_ugm3 = { TRACER = -1.0 }",
            "boundary.west_ugm3.TRACER",
            "a concentration in ug/m3",
        ),
        (
            "east_ugm3 = { TRACER = 1e6 }",
            "boundary.east_ugm3.TRACER",
            "a concentration in ug/m3",
        ),
        (
            "northeast_ugm3 = { TRACER = 1.0 }",
            "northeast_ugm3",
            "unknown field",
        ),
    ] {
        let text = base.replace("[boundary]\n", &format!("[boundary]\n{lines}\n"));
        let err = airshed::config::Case::from_str(&text, &dir.path().join("case.toml"))
            .err()
            .unwrap_or_else(|| panic!("{lines} accepted"))
            .to_string();
        println!("{lines}: {err}");
        assert!(
            err.contains(key) && err.contains(expected),
            "{lines}: {err}"
        );
    }
}
