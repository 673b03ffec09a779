//! Helpers shared by the integration tests.
#![allow(dead_code)]

use airshed::config::Case;
use airshed::simulation::Simulation;
use std::path::Path;

/// Parse a case from TOML text as if it lived at `dir/case.toml`.
pub fn case(text: &str, dir: &Path) -> Case {
    Case::from_str(text, &dir.join("case.toml"))
        .unwrap_or_else(|e| panic!("test case invalid: {e}"))
}

/// The case's Simulation (standard processes and hooks, no sinks).
pub fn sim(text: &str, dir: &Path) -> Simulation {
    Simulation::from_case(&case(text, dir)).unwrap_or_else(|e| panic!("model build failed: {e}"))
}

/// Error norms of `a` against exact `b`, normalised by the exact field:
/// L1 = sum|a-b| / sum|b|, L2 = sqrt(sum (a-b)^2 / sum b^2), Linf = max|a-b| / max|b|.
pub fn norms(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (mut e1, mut n1, mut e2, mut n2, mut ei, mut ni) = (0.0, 0.0, 0.0, 0.0, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let d = (x - y).abs();
        e1 += d;
        n1 += y.abs();
        e2 += d * d;
        n2 += y * y;
        ei = ei.max(d);
        ni = ni.max(y.abs());
    }
    (e1 / n1, (e2 / n2).sqrt(), ei / ni)
}

/// A 2-D single-layer Cartesian periodic case driven by an analytic flow,
/// with every process but advection off, stepping `dt_s` (which must divide
/// an hour).
pub fn flow_case(n: usize, flow: &str, period_s: f64, dt_s: f64) -> String {
    format!(
        r#"
[run]
name = "flow"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = {dt_s}
[grid]
projection = "cartesian"
nx = {n}
ny = {n}
dx = 1000.0
dy = 1000.0
layer_tops_m = [100.0]
lateral = "periodic"
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "{flow}"
period_s = {period_s}
constant_density = true
[physics]
horizontal_kh_m2s = 0.0
vertical_diffusion = false
dry_deposition = false
wet_deposition = false
[output]
dir = "out"
"#
    )
}

/// Mixing ratios (tracer / air) of the lowest layer of tracer 0, flattened.
pub fn mixing_ratio_layer0(s: &Simulation) -> Vec<f64> {
    let t = s.model.state.tracer(0);
    let a = &s.model.state.air_mass;
    let (_, ny, nx) = a.dim();
    let mut out = Vec::with_capacity(ny * nx);
    for j in 0..ny {
        for i in 0..nx {
            out.push(t[[0, j, i]] / a[[0, j, i]]);
        }
    }
    out
}

/// Set tracer 0 of layer 0 from a mixing-ratio function of cell (i, j),
/// and restart the budget from that state.
pub fn set_mixing_ratio(s: &mut Simulation, f: impl Fn(usize, usize) -> f64) {
    let state = &mut s.model.state;
    let (_, ny, nx) = state.air_mass.dim();
    for j in 0..ny {
        for i in 0..nx {
            let air = state.air_mass[[0, j, i]];
            state.mass[[0, 0, j, i]] = f(i, j) * air;
        }
    }
    reset_budget(s);
}

/// Restart the budget from the current state (after a test edits it).
pub fn reset_budget(s: &mut Simulation) {
    s.model.budget = airshed::budget::Budget::new(&s.model.state.totals());
}

/// Serialise tests that spawn the binary or touch NetCDF files.
pub static IO_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What to write into a test met file.
pub struct MetSpec {
    pub nx: usize,
    pub ny: usize,
    pub nz: usize,
    pub hours: usize,
    /// Variables to leave out.
    pub skip: Vec<&'static str>,
    /// Change a variable's values: (name, record, values of that record).
    pub edit: fn(&str, usize, &mut Vec<f64>),
    /// Write `u` with one cell too many along x.
    pub wrong_u_dims: bool,
}

impl MetSpec {
    pub fn new(nx: usize, ny: usize, nz: usize, hours: usize) -> Self {
        MetSpec {
            nx,
            ny,
            nz,
            hours,
            skip: vec![],
            edit: |_, _, _| {},
            wrong_u_dims: false,
        }
    }
}

/// Write a CF-NetCDF met file in the documented format (classic CDF-5).
pub fn write_met(path: &Path, spec: &MetSpec) {
    let (nx, ny, nz, nt) = (spec.nx, spec.ny, spec.nz, spec.hours + 1);
    let mut f = netcdf::create_with(path, netcdf::Options::_64BIT_DATA).unwrap();
    f.add_dimension("time", nt).unwrap();
    f.add_dimension("z", nz).unwrap();
    f.add_dimension("y", ny).unwrap();
    f.add_dimension("x", nx).unwrap();
    f.add_dimension("x_bad", nx + 1).unwrap();
    let three = ["u", "v", "temperature", "pressure"];
    let two = ["pblh", "ustar", "obukhov_length", "precip"];
    f.add_variable::<f64>("time", &["time"]).unwrap();
    for name in three.iter().chain(&two) {
        if spec.skip.contains(name) {
            continue;
        }
        let dims: &[&str] = if three.contains(name) {
            if *name == "u" && spec.wrong_u_dims {
                &["time", "z", "y", "x_bad"]
            } else {
                &["time", "z", "y", "x"]
            }
        } else {
            &["time", "y", "x"]
        };
        f.add_variable::<f64>(name, dims).unwrap();
    }
    f.enddef().unwrap();
    let times: Vec<f64> = (0..nt).map(|t| t as f64).collect();
    f.variable_mut("time")
        .unwrap()
        .put_values(&times, ..)
        .unwrap();
    for t in 0..nt {
        for name in three.iter().chain(&two) {
            if spec.skip.contains(name) {
                continue;
            }
            let nxx = if *name == "u" && spec.wrong_u_dims {
                nx + 1
            } else {
                nx
            };
            let n = if three.contains(name) {
                nz * ny * nxx
            } else {
                ny * nx
            };
            let base = match *name {
                "u" => 2.0 + t as f64 * 0.5,
                "v" => -1.0,
                "temperature" => 280.0,
                "pressure" => 95_000.0,
                "pblh" => 800.0,
                "ustar" => 0.3,
                "obukhov_length" => -100.0,
                _ => 0.0,
            };
            let mut vals = vec![base; n];
            (spec.edit)(name, t, &mut vals);
            let ext: Vec<std::ops::Range<usize>> = if three.contains(name) {
                vec![t..t + 1, 0..nz, 0..ny, 0..nxx]
            } else {
                vec![t..t + 1, 0..ny, 0..nx]
            };
            f.variable_mut(name)
                .unwrap()
                .put_values(&vals, ext.as_slice())
                .unwrap();
        }
    }
    f.close().unwrap();
}

/// A NetCDF-met case on a small Cartesian grid (nx=8, ny=6, nz=3).
pub fn netcdf_case(hours: usize, extra: &str) -> String {
    format!(
        r#"
[run]
name = "ncmet"
start = "2023-01-20T00:00:00Z"
hours = {hours}
dt_s = 600
[grid]
projection = "cartesian"
nx = 8
ny = 6
dx = 3000.0
dy = 3000.0
layer_tops_m = [60, 250, 1000]
[species]
names = ["PM25", "SO2"]
[met]
kind = "netcdf"
file = "met.nc"
[boundary]
background_ugm3 = {{ PM25 = 10.0 }}
{extra}
[output]
dir = "out"
"#
    )
}

/// Run a case end to end with outputs in `dir/out`, one test at a time
/// through the output lock.
pub fn run_in(c: &Case, dir: &Path) -> airshed::Result<airshed::simulation::RunSummary> {
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    airshed::run::run_case(
        c,
        &airshed::run::RunOptions {
            output_dir: Some(dir.join("out")),
            progress: false,
        },
    )
}

/// Writes a city-totals inventory CSV at `path`: the header, then `rows`
/// (`city,lon,lat,radius_km,sector,species,t_per_yr,source` lines).
pub fn write_city_totals(path: &Path, rows: &str) {
    std::fs::write(
        path,
        format!("city,lon,lat,radius_km,sector,species,t_per_yr,source\n{rows}"),
    )
    .unwrap();
}

/// What the `airshed` binary did: exit code (-1 if killed by a signal),
/// its output and how long it took.
#[allow(dead_code)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: std::time::Duration,
}

/// `airshed <command> dir/case.toml` with `case_text` written there (`run`
/// quietly), one binary at a time.
#[allow(dead_code)]
pub fn airshed(dir: &Path, command: &str, case_text: &str) -> Outcome {
    std::fs::write(dir.join("case.toml"), case_text).unwrap();
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_airshed"));
    cmd.arg(command).arg(dir.join("case.toml"));
    if command == "run" {
        cmd.arg("--quiet");
    }
    let started = std::time::Instant::now();
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
