//! Bad input gets a clear error, a distinct exit code, no panic, and no
//! output file. Each case runs the real binary.

mod common;
use common::*;
use std::path::Path;

fn run_binary(dir: &Path, case_text: &str) -> Outcome {
    airshed(dir, "run", case_text)
}

/// Assert the exit code, that the message names `file` and `field`, that
/// nothing panicked and that no output (final or temporary) was left.
fn assert_refused(dir: &Path, o: &Outcome, code: i32, file: &str, field: &str) {
    assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
    assert_eq!(o.code, code, "exit code; stderr: {}", o.stderr);
    assert!(
        o.stderr.contains(file),
        "message should name the file {file:?}: {}",
        o.stderr
    );
    assert!(
        o.stderr.contains(field),
        "message should name {field:?}: {}",
        o.stderr
    );
    let out = dir.join("out");
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "output left behind: {left:?}");
    println!("refused as expected (exit {code}): {}", o.stderr.trim());
}

fn met_case(spec: MetSpec, hours: usize) -> (tempfile::TempDir, Outcome) {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_met(&dir.path().join("met.nc"), &spec);
    }
    let o = run_binary(dir.path(), &netcdf_case(hours, ""));
    (dir, o)
}

#[test]
fn good_met_file_runs() {
    let (dir, o) = met_case(MetSpec::new(8, 6, 3, 3), 3);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dir.path().join("out/ncmet.nc").exists());
    assert!(dir.path().join("out/ncmet.summary.json").exists());
    assert!(
        o.stderr.trim().is_empty(),
        "stderr should be clean: {}",
        o.stderr
    );
}

#[test]
fn missing_met_variable() {
    let mut spec = MetSpec::new(8, 6, 3, 3);
    spec.skip = vec!["pblh"];
    let (dir, o) = met_case(spec, 3);
    assert_refused(dir.path(), &o, 3, "met.nc", "pblh");
}

#[test]
fn wrong_met_dimensions() {
    let mut spec = MetSpec::new(8, 6, 3, 3);
    spec.wrong_u_dims = true;
    let (dir, o) = met_case(spec, 3);
    assert_refused(dir.path(), &o, 3, "met.nc", "field `u`: dimensions");
}

#[test]
fn nan_in_met() {
    let mut spec = MetSpec::new(8, 6, 3, 3);
    spec.edit = |name, _, v| {
        if name == "temperature" {
            v[5] = f64::NAN;
        }
    };
    let (dir, o) = met_case(spec, 3);
    assert_refused(dir.path(), &o, 3, "met.nc", "temperature");
}

#[test]
fn nan_in_a_later_met_record_leaves_no_partial_output() {
    let mut spec = MetSpec::new(8, 6, 3, 4);
    spec.edit = |name, t, v| {
        if name == "u" && t == 3 {
            v[0] = f64::NAN;
        }
    };
    let (dir, o) = met_case(spec, 4);
    assert_refused(dir.path(), &o, 3, "met.nc", "record 3");
}

#[test]
fn zero_obukhov_length_and_negative_rain() {
    let mut spec = MetSpec::new(8, 6, 3, 3);
    spec.edit = |name, _, v| {
        if name == "obukhov_length" {
            v[2] = 0.0;
        }
    };
    let (dir, o) = met_case(spec, 3);
    assert_refused(dir.path(), &o, 3, "met.nc", "obukhov_length");
    let mut spec = MetSpec::new(8, 6, 3, 3);
    spec.edit = |name, _, v| {
        if name == "precip" {
            v[2] = -1.0;
        }
    };
    let (dir, o) = met_case(spec, 3);
    assert_refused(dir.path(), &o, 3, "met.nc", "precip");
}

#[test]
fn met_file_too_short_for_the_run() {
    let (dir, o) = met_case(MetSpec::new(8, 6, 3, 2), 3);
    assert_refused(dir.path(), &o, 3, "met.nc", "time");
}

/// Run an analytic case with one emission file holding `contents`.
fn emission_case(kind: &str, file: &str, contents: &str) -> (tempfile::TempDir, Outcome) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), contents).unwrap();
    let o = run_binary(dir.path(), &emission_case_text(kind, file));
    (dir, o)
}

const STACK_HEADER: &str =
    "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units\n";

#[test]
fn negative_emission_rates_are_refused() {
    let (dir, o) = emission_case(
        "points",
        "stacks.csv",
        &format!("{STACK_HEADER}p,112.8,27.8,100,4,12,400,industrial_process,SO2,-5,g s-1\n"),
    );
    assert_refused(dir.path(), &o, 3, "stacks.csv", "line 2, rate");
    let (dir, o) = emission_case(
        "city_totals",
        "city.csv",
        "city,lon,lat,radius_km,sector,species,t_per_yr,source\nX,112.8,27.8,10,dust,PM25,-100,t\n",
    );
    assert_refused(dir.path(), &o, 3, "city.csv", "t_per_yr");
}

#[test]
fn non_finite_coordinates_are_refused() {
    let (dir, o) = emission_case(
        "points",
        "stacks.csv",
        &format!("{STACK_HEADER}p,NaN,27.8,100,4,12,400,mobile,SO2,5,g s-1\n"),
    );
    assert_refused(dir.path(), &o, 3, "stacks.csv", "line 2, lon");
}

#[test]
fn unknown_sector_is_refused() {
    let (dir, o) = emission_case(
        "points",
        "stacks.csv",
        &format!("{STACK_HEADER}p,112.8,27.8,100,4,12,400,steelmaking,SO2,5,g s-1\n"),
    );
    assert_refused(dir.path(), &o, 3, "stacks.csv", "sector");
    assert!(
        o.stderr.contains("industrial_process"),
        "message should list the allowed sectors"
    );
}

#[test]
fn unknown_unit_is_refused() {
    let (dir, o) = emission_case(
        "points",
        "stacks.csv",
        &format!("{STACK_HEADER}p,112.8,27.8,100,4,12,400,mobile,SO2,5,lb/day\n"),
    );
    assert_refused(dir.path(), &o, 3, "stacks.csv", "units");
}

#[test]
fn negative_gridded_emission_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut f =
            netcdf::create_with(dir.path().join("area.nc"), netcdf::Options::_64BIT_DATA).unwrap();
        f.add_dimension("y", 10).unwrap();
        f.add_dimension("x", 10).unwrap();
        let mut v = f.add_variable::<f64>("so2_power", &["y", "x"]).unwrap();
        v.put_attribute("species", "SO2").unwrap();
        v.put_attribute("sector", "stationary_combustion").unwrap();
        v.put_attribute("units", "t yr-1").unwrap();
        f.enddef().unwrap();
        let mut vals = vec![10.0; 100];
        vals[42] = -1.0;
        f.variable_mut("so2_power")
            .unwrap()
            .put_values(&vals, ..)
            .unwrap();
        f.close().unwrap();
    }
    let o = run_binary(dir.path(), &emission_case_text("gridded", "area.nc"));
    assert_refused(dir.path(), &o, 3, "area.nc", "so2_power[0,4,2]");
}

fn emission_case_text(kind: &str, file: &str) -> String {
    format!(
        r#"
[run]
name = "emis"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "latlon"
nx = 10
ny = 10
dx = 0.1
dy = 0.1
centre_lon = 112.5
centre_lat = 27.5
layer_tops_m = [50, 200, 800]
[species]
names = ["PM25", "SO2"]
[met]
kind = "analytic"
u_ms = 2.0
[emissions]
{kind} = ["{file}"]
[output]
dir = "out"
"#
    )
}

#[test]
fn unknown_key_and_missing_field_in_the_case_file() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        emission_case_text("points", "x.csv").replace("dt_s = 600", "dt_s = 600\ntimestep = 5");
    let o = run_binary(dir.path(), &text);
    assert_refused(dir.path(), &o, 2, "case.toml", "timestep");
    let text = emission_case_text("points", "x.csv").replace("nx = 10\n", "");
    let o = run_binary(dir.path(), &text);
    assert_refused(dir.path(), &o, 2, "case.toml", "nx");
    let text = emission_case_text("points", "x.csv").replace(
        "layer_tops_m = [50, 200, 800]",
        "layer_tops_m = [50, 20, 800]",
    );
    let o = run_binary(dir.path(), &text);
    assert_refused(dir.path(), &o, 2, "case.toml", "grid.layer_tops_m");
}

#[test]
fn grid_larger_than_memory_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let text = emission_case_text("points", "x.csv")
        .replace("nx = 10", "nx = 100000")
        .replace("ny = 10", "ny = 100000")
        .replace("dx = 0.1", "dx = 0.0001")
        .replace("dy = 0.1", "dy = 0.0001");
    let o = run_binary(dir.path(), &text);
    assert_refused(dir.path(), &o, 4, "case.toml", "GiB");
}
