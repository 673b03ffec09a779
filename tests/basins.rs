//! Must show "Basins": in the stagnant regime the Hengyang basin floor has
//! more calm hours (< 1 m/s) and a higher surface concentration of what
//! Hengyang emits than the same run on flat terrain. Nothing differs
//! between the runs but the terrain: the same regime, seed, source, grid.
//!
//! `cargo test --release --test basins -- --ignored --nocapture` prints the
//! figures (Hengyang on ETOPO5 terrain, inputs/terrain_etopo5.nc).

mod common;
use common::*;

/// Hengyang (configs/default.toml `sites`).
const HENGYANG: (f64, f64) = (112.57, 26.89);
const HOURS: usize = 120;
const DT: f64 = 900.0;

struct Outcome {
    diag: Vec<String>,
    calm_hours: usize,
    mean_tracer: f64,
    speeds: Vec<f64>,
}

fn run(terrain: &str, regime: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    write_city_totals(
        &dir.path().join("source.csv"),
        &format!(
            "Hengyang,{},{},5,residential_commercial,TRACER,2000,test\n",
            HENGYANG.0, HENGYANG.1
        ),
    );
    // A sub-domain of the default case's Lambert grid (same cone and
    // spacing) centred on Hengyang.
    let text = format!(
        r#"
[run]
name = "basin"
start = "2023-01-19T12:00:00Z"
hours = {HOURS}
dt_s = {DT}
[grid]
projection = "lambert"
truelat1 = 22.0
truelat2 = 30.0
stand_lon = 111.0
centre_lon = {lon}
centre_lat = {lat}
nx = 24
ny = 24
dx = 12000.0
dy = 12000.0
layer_tops_m = [30, 80, 150, 250, 400, 600, 850, 1150, 1500, 2000, 2600, 3300, 4200, 5200]
[species]
names = ["TRACER"]
[emissions]
city_totals = ["source.csv"]
[met]
kind = "diagnostic"
regime = {regime}
terrain = {terrain}
[output]
dir = "out"
"#,
        lon = HENGYANG.0,
        lat = HENGYANG.1
    );
    let c = case(&text, dir.path());
    let mut s = airshed::simulation::Simulation::from_case(&c).unwrap();
    let (fi, fj) = s.model.grid.index_of(HENGYANG.0, HENGYANG.1);
    let (i, j) = (fi.round() as usize, fj.round() as usize);
    let per_hour = (3600.0 / DT) as usize;
    let mut out = Outcome {
        diag: vec![],
        calm_hours: 0,
        mean_tracer: 0.0,
        speeds: vec![],
    };
    for _ in 0..HOURS {
        for _ in 0..per_hour {
            s.step().unwrap();
        }
        let (u, v) = s.model.met_now.centre_wind(0, j, i);
        let speed = u.hypot(v);
        {
            let m = &s.model.met_now;
            let g = &s.model.grid;
            // Mass divergence of the surface layer at the cell, 1/s.
            let fx = m.u_face[[0, j, i + 1]] - m.u_face[[0, j, i]];
            let fy = m.v_face[[0, j + 1, i]] - m.v_face[[0, j, i]];
            out.diag.push(format!(
                "h{} pblh {:.0} kz0 {:.2} div {:.1e}",
                out.speeds.len(),
                m.pblh[[j, i]],
                m.kz[[0, j, i]],
                fx / g.dx + fy / g.dy
            ));
        }
        out.speeds.push(speed);
        if speed < 1.0 {
            out.calm_hours += 1;
        }
        out.mean_tracer +=
            s.model.state.mass[[0, 0, j, i]] / s.model.grid.volume(0, j, i) * 1e9 / HOURS as f64;
    }
    out
}

fn etopo5() -> String {
    let f = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/terrain_etopo5.nc");
    format!(
        r#"{{ shape = "file", file = "{}", variable = "elevation", radius_km = 60.0 }}"#,
        f.display()
    )
}

#[test]
#[ignore = "fails today (docs/numerics.md, Basins): on ETOPO5 at 12 km the Hengyang basin opens north along the Xiang below any pass, so no cold pool forms there; the stagnant regime is calm on flat ground too (120 of 120 h both); and night-time drainage converging on the floor (-5e-5 1/s in the 30 m layer) lifts the surface tracer: 18.5 vs 29.3 ug/m3"]
fn the_hengyang_basin_floor_is_calmer_and_more_polluted_than_flat_ground() {
    let basin = run(&etopo5(), r#""stagnant""#);
    let flat = run(r#"{ shape = "flat" }"#, r#""stagnant""#);
    for (a, b) in basin.diag.iter().zip(&flat.diag).step_by(6) {
        println!("ETOPO5 {a} | flat {b}");
    }
    println!(
        "stagnant regime, {HOURS} h, at Hengyang: calm hours (< 1 m/s) basin {} vs flat {}; mean surface tracer basin {:.1} vs flat {:.1} ug/m3 (ratio {:.2})",
        basin.calm_hours,
        flat.calm_hours,
        basin.mean_tracer,
        flat.mean_tracer,
        basin.mean_tracer / flat.mean_tracer
    );
    println!(
        "speeds basin {:?}",
        basin
            .speeds
            .iter()
            .map(|s| (s * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    println!(
        "speeds flat {:?}",
        flat.speeds
            .iter()
            .map(|s| (s * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    assert!(basin.calm_hours > flat.calm_hours);
    assert!(basin.mean_tracer > flat.mean_tracer);
}
